"""`huren seal` as an operator runs it: entity imported and approved, CA trusted, seal made.

In-process (click's runner) over a real SQLite database and real key files, so the commands,
their exit codes and their output are what a script sees, without a process per command.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cert_interop import keys
from config.cli import cli
from seal.ses import parse_seal, verify_seal

from .conftest import PNG, USCC, Pki


@dataclass
class Operator:
    runner: CliRunner
    env: dict[str, str]
    base: Path

    def run(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(
            cli, list(args), env=self.env, input=input, catch_exceptions=False
        )


@pytest.fixture
def op(tmp_path: Path, pki: Pki) -> Operator:
    maker = pki.sm2.issue(uscc=None, cn="电子印章制作中心")
    (tmp_path / "maker.key").write_bytes(keys.dump_private_key(maker.key, "pem", b"maker-pin"))
    (tmp_path / "maker.pem").write_bytes(maker.cert.pem())
    (tmp_path / "maker.pin").write_text("maker-pin\n")
    uri = (
        f"file:{tmp_path / 'maker.key'}?cert={tmp_path / 'maker.pem'}"
        f"&pin-source={tmp_path / 'maker.pin'}"
    )
    env = {
        "HUREN_DATA_DIR": str(tmp_path / "var"),
        "HUREN_PLATFORM_KEYS": f"seal-maker={uri}",
        "HUREN_SEAL_MAKER": "seal-maker",
        "HUREN_REVOCATION_ONLINE": "false",
    }
    operator = Operator(CliRunner(), env, tmp_path)
    assert operator.run("db", "upgrade").exit_code == 0
    for ca in (pki.sm2, pki.rsa):
        (tmp_path / "ca.pem").write_bytes(ca.cert.pem())
        (tmp_path / "ca.crl").write_bytes(ca.crl())
        assert (
            operator.run("ca", "add", str(tmp_path / "ca.pem"), "--profile", "default").exit_code
            == 0
        )
        assert operator.run("ca", "crl", "upload", str(tmp_path / "ca.crl")).exit_code == 0
    return operator


def _entity(op: Operator) -> str:
    rows = op.base / "entities.jsonl"
    rows.write_text(
        json.dumps(
            {
                "entity_type": "legal_person",
                "entity_name": "测试投标有限公司",
                "uscc": USCC,
                "agent_name": "张三",
                "phone": "13800138000",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    report = op.base / "report.jsonl"
    result = op.run("entity", "import", str(rows), "--report", str(report))
    assert result.exit_code in (0, 1), result.output
    entity_id = str(json.loads(report.read_text().splitlines()[0])["entity_id"])
    approved = op.run("entity", "approve", entity_id)
    assert approved.exit_code == 0, approved.output
    return entity_id


def test_make_show_suspend_revoke_export(op: Operator, pki: Pki) -> None:
    entity_id = _entity(op)
    holder = pki.rsa.issue()
    (op.base / "holder.pem").write_bytes(holder.cert.pem())
    (op.base / "seal.png").write_bytes(PNG)
    made = op.run(
        "seal",
        "make",
        "--entity",
        entity_id,
        "--type",
        "contract",
        "--name",
        "测试投标有限公司合同专用章",
        "--picture",
        str(op.base / "seal.png"),
        "--cert",
        str(op.base / "holder.pem"),
    )
    assert made.exit_code == 0, made.output
    seal_id = made.output.strip()
    assert seal_id.isdigit() and len(seal_id) == 14

    shown = json.loads(op.run("seal", "show", seal_id, "--json").output)
    assert shown["status"] == "made" and shown["type_name"] == "合同专用章"
    assert shown["certificates"][0]["fingerprint"] == holder.cert.sha256_fingerprint

    assert op.run("seal", "activate", seal_id).exit_code == 0
    no_reason = op.run("seal", "suspend", seal_id)
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    suspended = json.loads(op.run("seal", "suspend", seal_id, "--reason", "遗失", "--json").output)
    assert suspended["status"] == "suspended" and suspended["status_reason"] == "遗失"
    assert "revoked" in op.run("seal", "revoke", seal_id, "--reason", "注销").output
    again = op.run("seal", "activate", seal_id)
    assert again.exit_code == 2 and "error: invalid_transition" in again.output

    listed = json.loads(op.run("seal", "list", "--entity", entity_id, "--json").output)
    assert listed["total"] == 1 and listed["seals"][0]["status"] == "revoked"

    out = op.base / "seal.esl"
    assert op.run("seal", "export", seal_id, "--out", str(out)).exit_code == 0
    parsed = parse_seal(out.read_bytes())
    assert parsed.info.seal_id == seal_id and verify_seal(parsed).ok
    assert parsed.signature_algorithm_oid == "1.2.156.10197.1.501"  # the maker is SM2


def test_refusals_are_one_line_with_exit_2(op: Operator, pki: Pki) -> None:
    entity_id = _entity(op)
    stranger = pki.stranger.issue()
    (op.base / "stranger.pem").write_bytes(stranger.cert.pem())
    (op.base / "not-a-picture.png").write_bytes(b"hello")
    (op.base / "seal.png").write_bytes(PNG)
    base = ["seal", "make", "--entity", entity_id, "--type", "contract", "--name", "章"]
    untrusted = op.run(
        *base, "--picture", str(op.base / "seal.png"), "--cert", str(op.base / "stranger.pem")
    )
    assert untrusted.exit_code == 2 and untrusted.output.startswith("error: certificate_")
    bad_picture = op.run(
        *base,
        "--picture",
        str(op.base / "not-a-picture.png"),
        "--cert",
        str(op.base / "stranger.pem"),
    )
    assert bad_picture.exit_code == 2 and "error: invalid_picture" in bad_picture.output
    unknown = op.run("seal", "show", "5200000000000")
    assert unknown.exit_code == 2 and "error: seal_not_found" in unknown.output
    assert json.loads(op.run("seal", "list", "--json").output) == {"total": 0, "seals": []}


def test_without_a_seal_maker_the_operator_is_told_what_to_set(op: Operator, pki: Pki) -> None:
    entity_id = _entity(op)
    env = {k: v for k, v in op.env.items() if k != "HUREN_SEAL_MAKER"}
    (op.base / "seal.png").write_bytes(PNG)
    (op.base / "holder.pem").write_bytes(pki.rsa.issue().cert.pem())
    result = op.runner.invoke(
        cli,
        [
            "seal",
            "make",
            "--entity",
            entity_id,
            "--type",
            "contract",
            "--name",
            "章",
            "--picture",
            str(op.base / "seal.png"),
            "--cert",
            str(op.base / "holder.pem"),
        ],
        env=env,
    )
    assert result.exit_code == 2 and "HUREN_SEAL_MAKER" in result.output
