"""`huren ca` end to end through the `huren` group (config.cli:cli) with click's CliRunner, on a
data directory and database of the test's own (SQLite file or PostgreSQL schema)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cert_interop.x509 import Certificate
from config.cli import cli

from .conftest import ECDSA_PROFILE, NOW, Made, bundle


class Huren:
    def __init__(self, env: dict[str, str | None]) -> None:
        self.env = env

    def __call__(self, *args: str | Path) -> Result:
        result = CliRunner().invoke(cli, [str(a) for a in args], env=self.env)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result


def assert_one_line_error(result: Result, *fragments: str, code: int = 2) -> None:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def huren(db_url: str, tmp_path: Path) -> Huren:
    env: dict[str, str | None] = {
        name: None
        for name in os.environ
        if name.startswith("HUREN_") and not name.startswith("HUREN_TEST_")
    }
    env.update({"HUREN_DATA_DIR": str(tmp_path / "var"), "HUREN_DATABASE_URL": db_url})
    env["HUREN_REVOCATION_ONLINE"] = "false"  # offline CLI checks; online ones: tests/idp
    run = Huren(env)
    upgraded = run("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    profiles = tmp_path / "var" / "ca-profiles"
    profiles.mkdir()
    (profiles / "example-ec-ca.toml").write_text(ECDSA_PROFILE, encoding="utf-8")
    return run


@pytest.fixture
def files(tmp_path: Path, pki: dict[str, Made], ec_company: Certificate) -> dict[str, Path]:
    out = tmp_path / "files"
    out.mkdir()
    sm2, ec = pki["sm2"], pki["ec"]
    items = {
        "sm2-chain.pem": bundle(sm2.h.root, sm2.h.intermediate),
        "sm2-leaf.pem": sm2.h.leaf.pem(),
        "sm2-revoked.pem": sm2.h.revoked.pem(),
        "sm2.crl": sm2.h.crl.pem(),
        "ec-root.der": ec.h.root.der,
        "ec-inter.pem": ec.h.intermediate.pem(),
        "ec-leaf-and-chain.pem": ec_company.pem() + ec.h.intermediate.pem(),
        "ec-company.pem": ec_company.pem(),
        "junk.pem": b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n",
    }
    paths = {}
    for name, data in items.items():
        (out / name).write_bytes(data)
        paths[name] = out / name
    return paths


def test_add_list_verify_disable_enable(huren: Huren, files: dict[str, Path]) -> None:
    added = huren("ca", "add", files["sm2-chain.pem"], "--profile", "default", "--json")
    assert added.exit_code == 0, added.output
    records = json.loads(added.stdout)
    assert [r["role"] for r in records] == ["anchor", "intermediate"]
    root_fp = records[0]["sha256_fingerprint"]

    again = huren("ca", "add", files["sm2-chain.pem"], "--profile", "default")
    assert again.exit_code == 0 and again.stdout.count("already stored:") == 2

    listed = huren("ca", "list")
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert lines[0].split() == [
        "NAME", "SHA-256", "SUBJECT", "ROLE", "PROFILE", "REVOCATION", "ENABLED",
    ]  # fmt: skip
    assert "Huren Test Root CA (SM2)" in lines[1] and root_fp[:16] in lines[1]
    assert "anchor" in lines[1] and "intermediate" in lines[2] and "hard" in lines[1]

    offline = huren("ca", "verify", files["sm2-leaf.pem"])  # hard-fail, no CRL, not online
    assert offline.exit_code == 1 and "reason: revocation_unknown" in offline.stdout
    for name in ("Huren Test Root CA (SM2)", "Huren Test Issuing CA (SM2)"):
        assert huren("ca", "set", name, "--revocation", "soft").exit_code == 0
    ok = huren("ca", "verify", files["sm2-leaf.pem"])
    assert ok.exit_code == 0, ok.output
    assert "soft-fail" in ok.stdout
    assert "valid: yes" in ok.stdout and "ca: Huren Test Issuing CA (SM2)" in ok.stdout
    assert "credit_code: 91350100M000100Y43" in ok.stdout and "profile: default" in ok.stdout

    as_json = huren("ca", "verify", files["sm2-leaf.pem"], "--json")
    doc = json.loads(as_json.stdout)
    assert (
        as_json.exit_code == 0 and doc["valid"] and doc["identity"]["entity_type"] == "legal_person"
    )
    assert len(doc["chain"]) == 3

    disabled = huren("ca", "disable", root_fp[:12], "--reason", "audit finding 7")
    assert disabled.exit_code == 0 and "disabled:" in disabled.stdout
    refused = huren("ca", "verify", files["sm2-leaf.pem"])
    assert refused.exit_code == 1
    assert "valid: no" in refused.stdout and "reason: unknown_ca" in refused.stdout
    assert "audit finding 7" in refused.stdout
    assert len(json.loads(huren("ca", "list", "--json").stdout)) == 1
    everything = json.loads(huren("ca", "list", "--all", "--json").stdout)
    assert [r["enabled"] for r in everything] == [False, True]

    assert huren("ca", "enable", "Huren Test Root CA (SM2)").exit_code == 0
    assert huren("ca", "verify", files["sm2-leaf.pem"]).exit_code == 0


def test_crl_upload_and_revoked_verify(huren: Huren, files: dict[str, Path]) -> None:
    assert huren("ca", "add", files["sm2-chain.pem"], "--profile", "default").exit_code == 0
    unknown = huren("ca", "verify", files["sm2-revoked.pem"], "--json")
    assert unknown.exit_code == 1
    assert json.loads(unknown.stdout)["reason"] == "revocation_unknown"
    uploaded = huren("ca", "crl", "upload", files["sm2.crl"])
    assert uploaded.exit_code == 0, uploaded.output
    assert uploaded.stdout.startswith("stored: CRL of 'Huren Test Issuing CA (SM2)' number 1")
    assert huren("ca", "crl", "upload", files["sm2.crl"]).stdout.startswith("unchanged:")
    revoked = huren("ca", "verify", files["sm2-revoked.pem"], "--json")
    assert revoked.exit_code == 1 and json.loads(revoked.stdout)["reason"] == "revoked"
    listed = huren("ca", "crl", "list", "--json")
    assert [c["crl_number"] for c in json.loads(listed.stdout)] == [1]


def test_file_profile_chain_option_purpose_and_at(huren: Huren, files: dict[str, Path]) -> None:
    added = huren(
        "ca", "add", files["ec-root.der"], "--profile", "example-ec-ca",
        "--name", "EC 根", "--revocation", "soft",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "anchor 'EC 根'" in added.stdout and "revocation soft" in added.stdout
    without = huren("ca", "verify", files["ec-company.pem"])
    assert without.exit_code == 1 and "unknown_ca" in without.stdout
    with_chain = huren("ca", "verify", files["ec-company.pem"], "--chain", files["ec-inter.pem"])
    assert with_chain.exit_code == 0, with_chain.output
    assert (
        "ca: EC 根" in with_chain.stdout
        and "organization_name: 测试投标有限公司" in with_chain.stdout
    )
    bundled = huren("ca", "verify", files["ec-leaf-and-chain.pem"], "--json")
    assert bundled.exit_code == 0 and json.loads(bundled.stdout)["profile"] == "example-ec-ca"
    wrong = huren("ca", "verify", files["ec-leaf-and-chain.pem"], "--purpose", "encrypt")
    assert wrong.exit_code == 1 and "wrong_key_usage" in wrong.stdout
    later = (NOW.replace(year=NOW.year + 20)).isoformat()
    expired = huren("ca", "verify", files["ec-leaf-and-chain.pem"], "--at", later)
    assert expired.exit_code == 1 and "reason: expired" in expired.stdout
    at_z = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert huren("ca", "verify", files["ec-leaf-and-chain.pem"], "--at", at_z).exit_code == 0

    profiles = huren("ca", "profiles", "--json")
    assert profiles.exit_code == 0
    by_name = {p["name"]: p for p in json.loads(profiles.stdout)}
    assert by_name["example-ec-ca"]["used_by"] == ["EC 根"]
    assert by_name["example-ec-ca"]["source"].endswith("example-ec-ca.toml")
    assert by_name["default"]["source"] == "shipped"
    changed = huren("ca", "set", "EC 根", "--profile", "default", "--revocation", "hard")
    assert changed.exit_code == 0 and "profile default, revocation hard" in changed.stdout
    assert_one_line_error(huren("ca", "set", "EC 根"), "nothing to change")
    table = huren("ca", "profiles")
    assert table.exit_code == 0 and "gmt0015-2023" in table.stdout


def test_errors_are_one_line_with_exit_2(
    huren: Huren, files: dict[str, Path], tmp_path: Path
) -> None:
    assert_one_line_error(
        huren("ca", "add", files["sm2-leaf.pem"], "--profile", "default"),
        "not a CA certificate",
    )
    assert_one_line_error(
        huren("ca", "add", files["sm2-chain.pem"], "--profile", "nope"),
        "unknown CA profile 'nope'",
        "gmt0015-2023",
    )
    assert_one_line_error(
        huren("ca", "add", files["ec-inter.pem"], "--profile", "default"),
        "does not chain to a trust anchor",
    )
    assert_one_line_error(huren("ca", "add", files["junk.pem"], "--profile", "default"))
    assert_one_line_error(huren("ca", "add", tmp_path / "missing.pem", "--profile", "default"))
    assert_one_line_error(huren("ca", "add", files["sm2-chain.pem"]), "--profile")
    assert_one_line_error(huren("ca", "disable", "nobody"), "no stored CA")
    assert_one_line_error(huren("ca", "crl", "upload", files["sm2.crl"]), "not a stored CA")
    assert_one_line_error(huren("ca", "verify", files["junk.pem"]))
    assert_one_line_error(
        huren("ca", "verify", files["sm2-leaf.pem"], "--at", "2025-01-01T00:00:00"),
        "UTC offset",
    )
    assert_one_line_error(huren("ca", "verify", files["sm2-leaf.pem"], "--at", "yesterday"))
    assert_one_line_error(
        huren("ca", "verify", files["sm2-leaf.pem"], "--purpose", "decorate"), "decorate"
    )
    broken = tmp_path / "var" / "ca-profiles" / "zz-broken.json"
    broken.write_text("{not json", encoding="utf-8")
    assert_one_line_error(huren("ca", "profiles"), "zz-broken.json")


def test_missing_schema_is_exit_3(tmp_path: Path, files: dict[str, Path]) -> None:
    env: dict[str, str | None] = {
        name: None
        for name in os.environ
        if name.startswith("HUREN_") and not name.startswith("HUREN_TEST_")
    }
    env["HUREN_DATA_DIR"] = str(tmp_path / "fresh")
    result = Huren(env)("ca", "list")
    assert_one_line_error(result, "huren db upgrade", code=3)
    verify = Huren(env)("ca", "verify", files["sm2-leaf.pem"])
    assert_one_line_error(verify, "huren db upgrade", code=3)
