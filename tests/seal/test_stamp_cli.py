"""`huren seal stamp | batch | verify` as an operator or a script runs them.

The verdict joins the document (intact? changed later?), the certificate (trust store), and the
seal (active? bound to the signer?): each is broken on purpose here and must be reported.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from cert_interop import keys
from seal.pdf import PdfSealSigner, Placement, stamp_pdf
from tests.seal.pdf.pdfs import make_pdf

from .conftest import OTHER_USCC, PNG, Leaf, Operator, Pki, entity


def _key_uri(base: Path, name: str, leaf: Leaf) -> str:
    (base / f"{name}.key").write_bytes(keys.dump_private_key(leaf.key, "pem", b"pin-1234"))
    (base / f"{name}.pem").write_bytes(leaf.cert.pem())
    return f"file:{base / (name + '.key')}?cert={base / (name + '.pem')}"


def _seal(
    op: Operator, entity_id: str, *holders: Leaf, activate: bool = True, picture: bytes = PNG
) -> str:
    name = "seal.svg" if picture.lstrip().startswith((b"<?xml", b"<svg")) else "seal.png"
    (op.base / name).write_bytes(picture)
    args = ["seal", "make", "--entity", entity_id, "--type", "contract", "--name", "合同专用章"]
    args += ["--picture", str(op.base / name)]
    for n, holder in enumerate(holders):
        (op.base / f"holder{n}.pem").write_bytes(holder.cert.pem())
        args += ["--cert", str(op.base / f"holder{n}.pem")]
    if activate:
        args.append("--activate")
    made = op.run(*args)
    assert made.exit_code == 0, made.output
    return made.output.strip()


def _stamp(op: Operator, seal_id: str, key: str, src: Path, dst: Path, *extra: str) -> object:
    return op.run(
        "seal",
        "stamp",
        "--seal",
        seal_id,
        "--key",
        key,
        "--in",
        str(src),
        "--out",
        str(dst),
        "--pin-stdin",
        *extra,
        input="pin-1234\n",
    )


def _verify(op: Operator, path: Path) -> tuple[int, dict[str, object]]:
    result = op.run("seal", "verify", str(path), "--json")
    return result.exit_code, json.loads(result.output)


def _problems(report: dict[str, object]) -> set[str]:
    sigs = report["signatures"]
    assert isinstance(sigs, list)
    return {p["code"] for s in sigs for p in s["problems"]}


@pytest.mark.parametrize("alg", ["rsa", "sm2"])
def test_stamp_verify_then_suspend_and_revoke(op: Operator, pki: Pki, alg: str) -> None:
    entity_id = entity(op)
    holder = (pki.rsa if alg == "rsa" else pki.sm2).issue()
    seal_id = _seal(op, entity_id, holder)
    key = _key_uri(op.base, "holder", holder)
    src, dst = op.base / "contract.pdf", op.base / "contract.sealed.pdf"
    src.write_bytes(make_pdf(3, lines={2: [(72, 100, "Party B seal here")]}))

    stamped = _stamp(op, seal_id, key, src, dst, "--keyword", "seal here", "--paging")
    assert stamped.exit_code == 0, stamped.output
    code, report = _verify(op, dst)
    assert code == 0 and report["verdict"] == "valid", json.dumps(report)[:3000]
    [sig] = report["signatures"]
    assert sig["seal"]["seal_id"] == seal_id and sig["seal"]["status"] == "active"
    assert sig["document"]["algorithm"] == ("rsa" if alg == "rsa" else "sm2")
    assert sig["document"]["paging_seal_pages"] == [1, 2, 3]
    assert sig["certificate"]["valid"] is True

    human = op.run("seal", "verify", str(dst))
    assert human.exit_code == 0 and "VALID（有效）" in human.output and seal_id in human.output

    assert op.run("seal", "suspend", seal_id, "--reason", "遗失").exit_code == 0
    code, report = _verify(op, dst)
    assert code == 1 and report["verdict"] == "invalid" and _problems(report) == {"seal_suspended"}
    refused = _stamp(op, seal_id, key, src, op.base / "again.pdf", "--keyword", "seal here")
    assert refused.exit_code == 2 and "seal_not_usable" in refused.output
    assert not (op.base / "again.pdf").exists()

    assert op.run("seal", "revoke", seal_id, "--reason", "注销").exit_code == 0
    code, report = _verify(op, dst)
    assert code == 1 and _problems(report) == {"seal_revoked"}


def test_modified_document_and_foreign_seal_and_expired_certificate(op: Operator, pki: Pki) -> None:
    entity_id = entity(op)
    holder = pki.rsa.issue()
    seal_id = _seal(op, entity_id, holder)
    src = op.base / "a.pdf"
    src.write_bytes(make_pdf(2))
    dst = op.base / "a.sealed.pdf"
    key = _key_uri(op.base, "holder", holder)
    assert (
        _stamp(op, seal_id, key, src, dst, "--page", "1", "--x", "300", "--y", "300").exit_code == 0
    )

    # a later incremental update that changes page content
    w = IncrementalPdfFileWriter(__import__("io").BytesIO(dst.read_bytes()))
    stream = w.add_object(generic.StreamObject(stream_data=b"BT /F1 30 Tf 100 500 Td (x) Tj ET"))
    w.add_stream_to_page(0, stream)
    out = __import__("io").BytesIO()
    w.write(out)
    changed = op.base / "a.changed.pdf"
    changed.write_bytes(out.getvalue())
    code, report = _verify(op, changed)
    assert code == 1 and "modified_after_signing" in _problems(report)

    # a byte flipped inside the signed range
    raw = bytearray(dst.read_bytes())
    raw[200] ^= 0x01
    flipped = op.base / "a.flipped.pdf"
    flipped.write_bytes(bytes(raw))
    code, report = _verify(op, flipped)
    assert code == 1 and "not_intact" in _problems(report)

    # another entity's key refuses to stamp with this seal ...
    stranger = pki.rsa.issue(uscc=OTHER_USCC, cn="另一家公司")
    other_key = _key_uri(op.base, "stranger", stranger)
    refused = _stamp(
        op, seal_id, other_key, src, op.base / "b.pdf", "--page", "1", "--x", "1", "--y", "1"
    )
    assert refused.exit_code == 2 and "signer_not_bound" in refused.output
    # ... and a document forged with the library under this seal's ID is reported
    forged = stamp_pdf(
        make_pdf(1),
        signer=PdfSealSigner(stranger.key, stranger.cert),
        placement=Placement.at(1, 200, 200),
        picture=PNG,
        seal_id=seal_id,
    )
    (op.base / "forged.pdf").write_bytes(forged)
    code, report = _verify(op, op.base / "forged.pdf")
    assert code == 1 and _problems(report) == {"signer_not_bound"}

    # a signature whose certificate has expired (and no timestamp) is not valid
    old = pki.rsa.issue(
        not_before=datetime.now(UTC) - timedelta(days=30),
        not_after=datetime.now(UTC) - timedelta(days=1),
    )
    expired = stamp_pdf(
        make_pdf(1),
        signer=PdfSealSigner(old.key, old.cert),
        placement=Placement.at(1, 200, 200),
        picture=PNG,
        seal_id=seal_id,
    )
    (op.base / "expired.pdf").write_bytes(expired)
    code, report = _verify(op, op.base / "expired.pdf")
    assert code == 1 and {"certificate_invalid", "signer_not_bound"} <= _problems(report)
    [sig] = report["signatures"]
    assert sig["certificate"]["reason"] == "expired"


def test_verify_unsigned_not_a_pdf_and_unreadable(op: Operator) -> None:
    (op.base / "plain.pdf").write_bytes(make_pdf(1))
    code, report = _verify(op, op.base / "plain.pdf")
    assert code == 1 and report["problems"][0]["code"] == "no_signatures"
    (op.base / "note.txt").write_text("not a pdf")
    code, report = _verify(op, op.base / "note.txt")
    assert code == 1 and report["malformed"] and report["problems"][0]["code"] == "malformed"
    missing = op.run("seal", "verify", str(op.base / "nope.pdf"))
    assert missing.exit_code == 2 and missing.output.startswith("error:")


def test_batch_stamps_each_file_with_a_report(op: Operator, pki: Pki) -> None:
    entity_id = entity(op)
    holder = pki.sm2.issue()
    seal_id = _seal(op, entity_id, holder)
    key = _key_uri(op.base, "holder", holder)
    files = []
    for n in range(3):
        path = op.base / f"bid{n}.pdf"
        path.write_bytes(make_pdf(1) if n != 1 else b"%PDF-broken")
        files.append(str(path))
    out_dir = op.base / "out"
    out_dir.mkdir()
    report = op.base / "report.jsonl"
    result = op.run(
        "seal",
        "batch",
        "--seal",
        seal_id,
        "--key",
        key,
        "--out-dir",
        str(out_dir),
        "--report",
        str(report),
        "--page",
        "1",
        "--x",
        "200",
        "--y",
        "200",
        "--pin-stdin",
        *files,
        input="pin-1234\n",
    )
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["stamped", "failed", "stamped"]
    assert lines[1]["error"] and lines[1]["out"] is None
    assert sorted(p.name for p in out_dir.iterdir()) == ["bid0.pdf", "bid2.pdf"]
    for name in ("bid0.pdf", "bid2.pdf"):
        code, verdict = _verify(op, out_dir / name)
        assert code == 0, verdict


def test_stamp_refuses_bad_placement_and_missing_tsa(op: Operator, pki: Pki) -> None:
    entity_id = entity(op)
    holder = pki.rsa.issue()
    seal_id = _seal(op, entity_id, holder)
    key = _key_uri(op.base, "holder", holder)
    src = op.base / "a.pdf"
    src.write_bytes(make_pdf(1))
    nowhere = _stamp(op, seal_id, key, src, op.base / "b.pdf")
    assert nowhere.exit_code == 2 and "--keyword" in nowhere.output
    missing = _stamp(op, seal_id, key, src, op.base / "b.pdf", "--keyword", "不存在的文字")
    assert missing.exit_code == 2 and "error:" in missing.output
    page = _stamp(op, seal_id, key, src, op.base / "b.pdf", "--page", "9", "--x", "1", "--y", "1")
    assert page.exit_code == 2
    no_tsa = _stamp(
        op,
        seal_id,
        key,
        src,
        op.base / "b.pdf",
        "--page",
        "1",
        "--x",
        "1",
        "--y",
        "1",
        "--level",
        "B-T",
    )
    assert no_tsa.exit_code == 2 and "HUREN_TSA_URL" in no_tsa.output
    assert not (op.base / "b.pdf").exists()


def test_b_t_and_b_lt_with_the_platform_tsa(op: Operator, pki: Pki) -> None:
    from tests.seal.tsa.conftest import pki_for

    tsa = pki_for("rsa")
    (op.base / "tsa.key").write_bytes(keys.dump_private_key(tsa.key, "pem", None))
    (op.base / "tsa.pem").write_bytes(tsa.cert.pem())
    env = dict(op.env)
    env["HUREN_PLATFORM_KEYS"] += f" tsa=file:{op.base / 'tsa.key'}?cert={op.base / 'tsa.pem'}"
    env["HUREN_TSA_KEY"] = "tsa"
    op.env = env
    entity_id = entity(op)
    holder = pki.sm2.issue()
    seal_id = _seal(op, entity_id, holder)
    key = _key_uri(op.base, "holder", holder)
    src = op.base / "a.pdf"
    src.write_bytes(make_pdf(2))
    for level in ("B-T", "B-LT"):
        dst = op.base / f"a.{level}.pdf"
        where = ("--page", "1", "--x", "300", "--y", "300", "--level", level)
        stamped = _stamp(op, seal_id, key, src, dst, *where)
        assert stamped.exit_code == 0, stamped.output
        code, report = _verify(op, dst)
        assert code == 0, json.dumps(report)[:2000]
        [sig] = report["signatures"]
        timestamp = sig["document"]["timestamp"]
        assert timestamp["valid"] is True and timestamp["time"]
        assert (report["dss"]["crls"] >= 1) == (level == "B-LT")
    verified = op.run("seal", "verify", str(op.base / "a.B-LT.pdf"))
    assert "timestamp:" in verified.output


def test_demo_seed_makes_a_seal_that_stamps(tmp_path: Path) -> None:
    """`make run`'s demo data include an active seal and the key to try it with."""
    from click.testing import CliRunner

    from config.cli import cli

    env = {"HUREN_DATA_DIR": str(tmp_path / "var"), "HUREN_REVOCATION_ONLINE": "false"}
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade"], env=env).exit_code == 0
    seeded = runner.invoke(cli, ["demo", "seed"], env=env, catch_exceptions=False)
    assert seeded.exit_code == 0 and "demo seal:" in seeded.output
    demo = json.loads((tmp_path / "var" / "demo.json").read_text())
    pki = demo["pki_dir"]
    (tmp_path / "a.pdf").write_bytes(make_pdf(2))
    stamped = runner.invoke(
        cli,
        [
            "seal",
            "stamp",
            "--seal",
            demo["seal_id"],
            "--key",
            f"file:{pki}/leaf.key?cert={pki}/leaf.pem",
            "--in",
            str(tmp_path / "a.pdf"),
            "--out",
            str(tmp_path / "b.pdf"),
            "--page",
            "1",
            "--x",
            "300",
            "--y",
            "300",
        ],
        env=env,
    )
    assert stamped.exit_code == 0, stamped.output
    verified = runner.invoke(cli, ["seal", "verify", str(tmp_path / "b.pdf")], env=env)
    assert verified.exit_code == 0 and "合同专用章" in verified.output
    again = runner.invoke(cli, ["demo", "seed"], env=env)
    assert again.exit_code == 0 and demo["seal_id"] in again.output


def test_a_form_already_signed_by_someone_else_then_sealed(op: Operator, pki: Pki) -> None:
    """The earlier signature stays intact and is reported as not a seal; ours is valid; the
    document as a whole is not 'every signature a valid seal' (exit 1)."""
    from tests.seal.pdf.checks import pyhanko_sign

    entity_id = entity(op)
    holder = pki.rsa.issue()
    seal_id = _seal(op, entity_id, holder)
    author = pki.rsa.issue(uscc=OTHER_USCC, cn="招标代理机构")
    signed_once = pyhanko_sign(make_pdf(3, text_field=True), author.key, author.cert, pki.rsa.cert)
    src, dst = op.base / "form.pdf", op.base / "form.sealed.pdf"
    src.write_bytes(signed_once)
    key = _key_uri(op.base, "holder", holder)
    assert (
        _stamp(op, seal_id, key, src, dst, "--page", "2", "--x", "300", "--y", "300").exit_code == 0
    )
    code, report = _verify(op, dst)
    assert code == 1
    first, second = report["signatures"]
    assert first["document"]["intact"] and not first["document"]["modified_after_signing"]
    assert [p["code"] for p in first["problems"]] == ["no_seal"]
    assert second["verdict"] == "valid" and second["seal"]["seal_id"] == seal_id


def test_an_svg_seal_stamps_as_vector_graphics(op: Operator, pki: Pki) -> None:
    """A seal made with an SVG picture (text as outlines) stamps from the CLI, paging seal too."""
    from tests.seal.pdf.test_svg_picture import SEAL_SVG

    entity_id = entity(op)
    holder = pki.sm2.issue()
    seal_id = _seal(op, entity_id, holder, picture=SEAL_SVG)
    key = _key_uri(op.base, "holder", holder)
    src, dst = op.base / "contract.pdf", op.base / "contract.sealed.pdf"
    src.write_bytes(make_pdf(2))
    stamped = _stamp(op, seal_id, key, src, dst, "--page", "2", "--x", "300", "--y", "200")
    assert stamped.exit_code == 0, stamped.output
    code, report = _verify(op, dst)
    assert code == 0 and report["verdict"] == "valid", json.dumps(report)[:3000]
    assert b"/Subtype /Form" in dst.read_bytes() or b"/Subtype/Form" in dst.read_bytes()
