"""`huren seal stamp` with the key on a PKCS#11 token (SoftHSM2), as a separate process.

The key never leaves the token: the CLI signs the PDF's signed attributes through the driver.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cert_interop import keys
from tests.seal.pdf.pdfs import make_pdf
from tests.softhsm_support import OBJECT_LABEL, softhsm_module, softhsm_token

from .conftest import PNG, Operator, Pki, entity

LABEL = "Huren seal"
PIN = "Seal-PIN-2468"


def test_stamp_with_a_softhsm2_token(op: Operator, pki: Pki, tmp_path: Path) -> None:
    module = softhsm_module()
    holder = pki.rsa.issue()
    (tmp_path / "holder.key").write_bytes(keys.dump_private_key(holder.key, "pem", None))
    (tmp_path / "holder.pem").write_bytes(holder.cert.pem())
    hsm = tmp_path / "hsm"
    hsm.mkdir()
    env = softhsm_token(
        hsm, module, tmp_path / "holder.key", tmp_path / "holder.pem", label=LABEL, pin=PIN
    )
    (tmp_path / "holder.key").unlink()

    entity_id = entity(op)
    (op.base / "seal.png").write_bytes(PNG)
    made = op.run(
        "seal",
        "make",
        "--entity",
        entity_id,
        "--type",
        "legal_person",
        "--name",
        "公章",
        "--picture",
        str(op.base / "seal.png"),
        "--cert",
        str(tmp_path / "holder.pem"),
        "--activate",
    )
    assert made.exit_code == 0, made.output
    seal_id = made.output.strip()

    src, dst = tmp_path / "notice.pdf", tmp_path / "notice.sealed.pdf"
    src.write_bytes(make_pdf(4))
    uri = f"pkcs11:token={LABEL.replace(' ', '%20')};object={OBJECT_LABEL}?module-path={module}"
    stamped = subprocess.run(
        [
            sys.executable,
            "-c",
            "from config.cli import main; main()",
            "seal",
            "stamp",
            "--seal",
            seal_id,
            "--key",
            uri,
            "--in",
            str(src),
            "--out",
            str(dst),
            "--page",
            "-1",
            "--x",
            "400",
            "--y",
            "150",
            "--paging",
            "--pin-stdin",
            "--json",
        ],
        input=PIN + "\n",
        capture_output=True,
        text=True,
        env={**env, **op.env},
        timeout=120,
    )
    assert stamped.returncode == 0, stamped.stderr
    assert json.loads(stamped.stdout)["status"] == "stamped"

    verified = op.run("seal", "verify", str(dst), "--json")
    report = json.loads(verified.output)
    assert verified.exit_code == 0 and report["verdict"] == "valid", verified.output[:2000]
    [sig] = report["signatures"]
    assert sig["seal"]["type"] == "legal_person" and sig["document"]["algorithm"] == "rsa"
    assert sig["document"]["paging_seal_pages"] == [1, 2, 3, 4]

    wrong_pin = subprocess.run(
        [
            sys.executable,
            "-c",
            "from config.cli import main; main()",
            "seal",
            "stamp",
            "--seal",
            seal_id,
            "--key",
            uri,
            "--in",
            str(src),
            "--out",
            str(tmp_path / "x.pdf"),
            "--page",
            "1",
            "--x",
            "1",
            "--y",
            "1",
            "--pin-stdin",
        ],
        input="0000\n",
        capture_output=True,
        text=True,
        env={**env, **op.env},
        timeout=120,
    )
    assert wrong_pin.returncode == 2 and "PIN" in wrong_pin.stderr
    assert not (tmp_path / "x.pdf").exists()
