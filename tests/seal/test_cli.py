"""`huren seal` as an operator runs it: entity imported and approved, CA trusted, seal made.

In-process (click's runner) over a real SQLite database and real key files, so the commands,
their exit codes and their output are what a script sees, without a process per command.
"""

from __future__ import annotations

import json

from config.cli import cli
from seal.ses import parse_seal, verify_seal

from .conftest import PNG, Operator, Pki, entity


def test_make_show_suspend_revoke_export(op: Operator, pki: Pki) -> None:
    entity_id = entity(op)
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
    entity_id = entity(op)
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
    entity_id = entity(op)
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


def test_requests_are_listed_made_and_rejected(op: Operator, pki: Pki) -> None:
    """An entity's requests (sent from /account/seals) as an operator handles them."""
    from config.runtime import Runtime
    from config.settings import Settings
    from seal.records import service

    entity_id = entity(op)
    rt = Runtime(Settings.load(op.env))
    asked = [
        service.request(
            rt.sessions,
            rt.seal_directory,
            rt.trust_store,
            service.SealRequest(
                entity_id=entity_id,
                seal_type="contract",
                name=f"测试投标有限公司合同专用章{n}",
                picture=PNG,
                certificates=[pki.sm2.issue().cert],
            ),
            actor="org-admin",
        )
        for n in (1, 2)
    ]
    listed = json.loads(op.run("seal", "list", "--status", "requested", "--json").output)
    assert sorted(s["seal_id"] for s in listed["seals"]) == sorted(a.id for a in asked)

    made = op.run("seal", "make-requested", asked[0].id, "--activate", "--json")
    assert made.exit_code == 0, made.output
    shown = json.loads(made.output)
    assert shown["status"] == "active" and shown["maker"] == "seal-maker"
    assert [h["status"] for h in shown["history"]] == ["requested", "made", "active"]
    out = op.base / "made.esl"
    assert op.run("seal", "export", asked[0].id, "--out", str(out)).exit_code == 0
    assert verify_seal(parse_seal(out.read_bytes())).ok
    again = op.run("seal", "make-requested", asked[0].id)
    assert again.exit_code == 2 and "error: invalid_transition" in again.output

    no_reason = op.run("seal", "reject", asked[1].id)
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    rejected = json.loads(
        op.run("seal", "reject", asked[1].id, "--reason", "名称有误", "--json").output
    )
    assert rejected["status"] == "rejected" and rejected["status_reason"] == "名称有误"
    late = op.run("seal", "make-requested", asked[1].id)
    assert late.exit_code == 2 and "invalid_transition" in late.output
    missing = op.run("seal", "make-requested", "52000000000000")
    assert missing.exit_code == 2 and "seal_not_found" in missing.output
