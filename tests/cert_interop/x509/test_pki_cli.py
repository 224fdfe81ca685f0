"""`huren pki` through click's CliRunner."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cert_interop.pki_cli import pki_group, uscc_is_valid
from cert_interop.x509 import parse_certificate, parse_crl, verify_signature

from .conftest import Made


def run(*args: str | Path) -> Result:
    result = CliRunner().invoke(pki_group, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("alg", ["rsa", "ec", "sm2"])
def test_hierarchy_writes_a_verifiable_chain(alg: str, tmp_path: Path) -> None:
    out = tmp_path / "pki"
    result = run("hierarchy", "--alg", alg, "--out", out, "--cn-prefix", "Trial", "--days", "30")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["algorithm"] == alg
    names = {p.name for p in out.iterdir()}
    assert names == {
        f"{n}.{e}" for n in ("root", "intermediate", "leaf", "revoked") for e in ("pem", "key")
    } | {"intermediate.crl", "root.crl"}
    for key in out.glob("*.key"):
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    root = parse_certificate((out / "root.pem").read_bytes())
    inter = parse_certificate((out / "intermediate.pem").read_bytes())
    leaf = parse_certificate((out / "leaf.pem").read_bytes())
    revoked = parse_certificate((out / "revoked.pem").read_bytes())
    crl = parse_crl((out / "intermediate.crl").read_bytes())
    assert verify_signature(inter, root.public_key) and verify_signature(leaf, inter.public_key)
    assert verify_signature(crl, inter.public_key)
    assert crl.entry(revoked.serial_number) is not None and crl.entry(leaf.serial_number) is None
    assert summary["serials"]["leaf"] == format(leaf.serial_number, "x")
    assert root.subject.common_name == f"Trial Root CA ({alg.upper()})"
    assert (leaf.not_after - leaf.not_before).days == 30


def test_dual_sm2(tmp_path: Path) -> None:
    result = run("hierarchy", "--alg", "sm2", "--out", tmp_path, "--dual")
    assert result.exit_code == 0, result.output
    sign = parse_certificate((tmp_path / "leaf.pem").read_bytes())
    enc = parse_certificate((tmp_path / "leaf-enc.pem").read_bytes())
    assert sign.key_usage == {"digital_signature", "non_repudiation"}
    assert enc.key_usage == {"key_encipherment", "data_encipherment", "key_agreement"}
    assert sign.subject == enc.subject
    assert stat.S_IMODE((tmp_path / "leaf-enc.key").stat().st_mode) == 0o600


def test_hierarchy_refusals(tmp_path: Path) -> None:
    assert_one_line_error(run("hierarchy", "--alg", "rsa", "--out", tmp_path, "--dual"), "sm2")
    assert_one_line_error(run("hierarchy", "--alg", "dsa", "--out", tmp_path), "--alg")
    assert_one_line_error(run("hierarchy", "--out", tmp_path), "--alg")
    assert_one_line_error(
        run("hierarchy", "--alg", "ec", "--out", tmp_path, "--credit-code", "91350100M000100Y44"),
        "credit code",
    )
    assert_one_line_error(run("hierarchy", "--alg", "ec", "--out", tmp_path, "--days", "0"))
    assert run("hierarchy", "--alg", "ec", "--out", tmp_path).exit_code == 0
    assert_one_line_error(run("hierarchy", "--alg", "ec", "--out", tmp_path), "--force")
    assert run("hierarchy", "--alg", "ec", "--out", tmp_path, "--force").exit_code == 0
    assert_one_line_error(run("nope"))


def test_show_text_and_json(hierarchies: dict[str, Made]) -> None:
    made = hierarchies["sm2"]
    text = run("show", made.out / "leaf.pem")
    assert text.exit_code == 0, text.output
    assert "SM2-with-SM3" in text.stdout
    assert "extension 1.2.156.10260.4.1.4: 91350100M000100Y43" in text.stdout
    as_json = json.loads(run("show", made.out / "leaf.pem", "--json").stdout)
    assert as_json["type"] == "certificate"
    assert as_json["serial_number"] == format(made.h.leaf.serial_number, "x")
    assert as_json["ocsp_urls"] == ["http://127.0.0.1/pki/sm2/ocsp"]
    crl = json.loads(run("show", made.out / "intermediate.crl", "--json").stdout)
    assert crl["type"] == "crl"
    assert crl["revoked"][0]["serial_number"] == format(made.h.revoked.serial_number, "x")
    der = made.out / "leaf.der"
    der.write_bytes(made.h.leaf.der)
    assert json.loads(run("show", der, "--json").stdout)["subject"] == made.h.leaf.subject.rfc4514
    crl_der = made.out / "crl.der"
    crl_der.write_bytes(made.h.crl.der)
    assert "CRL" in run("show", crl_der).stdout


def test_show_refusals(tmp_path: Path) -> None:
    assert_one_line_error(run("show", tmp_path / "missing.pem"), "missing.pem")
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"\x30\x03\x02\x01\x01")
    assert_one_line_error(run("show", junk), "cannot parse")
    big = tmp_path / "big.der"
    big.write_bytes(b"\x30" * (2 << 20))
    assert_one_line_error(run("show", big), "larger")


def test_uscc_check() -> None:
    for good in ("91350100M000100Y43", "91110108551385082Q", "91440300708461136T"):
        assert uscc_is_valid(good)
    for bad in ("91350100M000100Y44", "9135", "91350100M000100YI3", ""):
        assert not uscc_is_valid(bad)
