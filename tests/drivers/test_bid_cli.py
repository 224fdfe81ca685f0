"""`huren bid sign|encrypt|decrypt|verify|inspect` on real key stores: SoftHSM2 tokens (RSA, EC)
made by tests/drivers/conftest.py and soft tokens (key files from `write_hierarchy`, RSA, EC and
SM2). Most runs go through click's CliRunner; the PIN, Ctrl-C and terminal cases run the real
`huren` console script as a subprocess. OpenSSL checks our RSA/EC output."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cert_interop import cms, keys
from cert_interop.pki_cli import write_hierarchy
from config import bid_cli
from config.bid_cli import bid_group
from config.cli import cli
from tests.drivers.conftest import USER_PIN, Issued, SoftHsm

HUREN = str(Path(sys.executable).with_name("huren"))
DATA = ("投标报价 ¥1,234,567.00\r\n".encode() + bytes(range(256))) * 400
KEY_PASSWORD = "bid-pass-1"


@dataclass(frozen=True)
class Party:
    alg: str
    out: Path

    @property
    def sign_key(self) -> str:
        """Soft-token URI of the signing leaf (the SM2 key file is encrypted)."""
        return f"file:{self.out}/leaf.key?cert={self.out}/leaf.pem"

    @property
    def enc_key(self) -> str:
        name = "leaf-enc" if self.alg == "sm2" else "leaf"
        return f"file:{self.out}/{name}.key?cert={self.out}/{name}.pem"

    @property
    def enc_cert(self) -> Path:
        return self.out / ("leaf-enc.pem" if self.alg == "sm2" else "leaf.pem")


@pytest.fixture(scope="module")
def parties(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Party]:
    made: dict[str, Party] = {}
    for alg in ("rsa", "ec", "sm2"):
        out = tmp_path_factory.mktemp(f"bid-{alg}")
        write_hierarchy(out, alg=alg, dual=alg == "sm2")
        if alg == "sm2":  # the bidder's SM2 signing key is password-protected (the PIN)
            key = keys.load_private_key((out / "leaf.key").read_bytes())
            (out / "leaf.key").write_bytes(
                keys.dump_private_key(key, "pem", password=KEY_PASSWORD.encode())
            )
        made[alg] = Party(alg, out)
    return made


@pytest.fixture(scope="module")
def hsm_certs(
    softhsm: SoftHsm, issued: dict[str, Issued], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """PEM files of the certificates on the SoftHSM2 token ``Huren``."""
    out = tmp_path_factory.mktemp("hsm-certs")
    for name in ("rsa", "ec"):
        (out / f"{name}.pem").write_bytes(issued[name].cert.pem())
    return out


def hsm_uri(softhsm: SoftHsm, obj: str | None = "platform", token: str = "Huren") -> str:
    obj_part = f";object={obj}" if obj else ""
    return f"pkcs11:token={token}{obj_part}?module-path={softhsm.module}"


@pytest.fixture
def bid(tmp_path: Path) -> Path:
    path = tmp_path / "投标文件.zip"
    path.write_bytes(DATA)
    return path


def run(*args: str | Path, stdin: bytes | None = None) -> Result:
    result = CliRunner().invoke(bid_group, [str(a) for a in args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def ok(result: Result) -> Result:
    assert result.exit_code == 0, (result.exit_code, result.stderr)
    return result


def one_line_error(result: Result, *fragments: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


def openssl(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl")
    return subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, timeout=120, check=False
    )


def verify_json(*args: str | Path) -> tuple[int, dict[str, Any]]:
    result = run("verify", "--json", *args)
    assert result.exit_code in (0, 1), result.stderr
    return result.exit_code, json.loads(result.stdout)


# --- sign → verify ----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["rsa", "ec", "sm2"])
def test_soft_token_sign_verify(
    parties: dict[str, Party], alg: str, bid: Path, tmp_path: Path
) -> None:
    p = parties[alg]
    sig = tmp_path / "bid.p7s"
    args: list[str | Path] = ["sign", "--key", p.sign_key, "--in", bid, "--out", sig]
    args += ["--chain", p.out / "intermediate.pem"]
    if alg == "sm2":
        ok(run(*args, "--pin-stdin", stdin=f"{KEY_PASSWORD}\n".encode()))
    else:
        ok(run(*args))
    assert cms.verify(sig.read_bytes()).valid
    code, doc = verify_json("--in", sig, "--ca", p.out / "root.pem")
    assert code == 0 and doc["valid"] is True
    assert doc["type"] == "SignedData" and doc["format"] == "DER" and doc["detached"] is False
    assert doc["gm"] is (alg == "sm2") and doc["chain_checked"] is True
    assert doc["content_length"] == len(DATA)
    (signer,) = doc["signers"]
    assert signer["signature_valid"] is True and signer["reason"] == "ok"
    assert signer["algorithm"] == {"rsa": "rsa-pkcs1-sha256", "ec": "ecdsa-sha256"}.get(
        alg, "sm2-sm3"
    )
    assert signer["digest_algorithm"] == ("sm3" if alg == "sm2" else "sha256")
    assert "测试投标有限公司" in signer["subject"] and "Issuing CA" in signer["issuer"]
    assert signer["serial_number"] and signer["signing_time"]
    assert signer["chain"]["checked"] is True and signer["chain"]["valid"] is True
    assert len(doc["certificates"]) == 2  # signer + --chain
    # without --ca: the signature alone, and the report says the chain was not checked
    text = ok(run("verify", "--in", sig)).stdout
    assert "chain not checked" in text and "Verification: OK" in text


@pytest.mark.parametrize("obj", ["platform", "ec-sign"])
def test_softhsm_sign_verify_and_openssl_accepts(
    softhsm: SoftHsm, hsm_certs: Path, obj: str, bid: Path, tmp_path: Path
) -> None:
    sig = tmp_path / "bid.p7s"
    ok(
        run(
            "sign", "--key", hsm_uri(softhsm, obj), "--pin-stdin", "--in", bid, "--out", sig,
            stdin=f"{USER_PIN}\n".encode(),
        )
    )  # fmt: skip
    code, doc = verify_json("--in", sig)
    assert code == 0
    assert doc["signers"][0]["algorithm"] == (
        "rsa-pkcs1-sha256" if obj == "platform" else "ecdsa-sha256"
    )
    assert doc["signers"][0]["chain"] == {
        "checked": False,
        "valid": None,
        "detail": "chain not checked",
    }
    cert = hsm_certs / ("rsa.pem" if obj == "platform" else "ec.pem")
    proc = openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-CAfile", cert,
        "-purpose", "any",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == DATA


def test_detached_signature_and_tampered_content(
    parties: dict[str, Party], bid: Path, tmp_path: Path
) -> None:
    p = parties["ec"]
    sig = tmp_path / "bid.p7s"
    ok(
        run("sign", "--key", p.sign_key, "--detached", "--chain", p.out / "intermediate.pem",
            "--in", bid, "--out", sig)
    )  # fmt: skip
    assert sig.stat().st_size < 8192  # the content is not in it
    code, doc = verify_json("--in", sig, "--content", bid, "--ca", p.out / "root.pem")
    assert code == 0 and doc["detached"] is True
    proc = openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", bid,
        "-CAfile", p.out / "root.pem",
        "-purpose", "any", "-out", tmp_path / "x",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    tampered = tmp_path / "tampered.zip"
    tampered.write_bytes(DATA[:-1] + b"!")
    code, doc = verify_json("--in", sig, "--content", tampered)
    assert code == 1 and doc["valid"] is False
    assert doc["signers"][0]["signature_valid"] is False
    assert doc["signers"][0]["reason"] == "digest_mismatch"
    # a detached signature given without its content cannot be checked: exit 2
    one_line_error(run("verify", "--in", sig), "detached")


def test_tampered_attached_signature_exits_1(
    parties: dict[str, Party], bid: Path, tmp_path: Path
) -> None:
    p = parties["sm2"]
    sig = tmp_path / "bid.p7s"
    ok(
        run("sign", "--key", p.sign_key, "--pin-stdin", "--in", bid, "--out", sig,
            stdin=f"{KEY_PASSWORD}\n".encode())
    )  # fmt: skip
    raw = bytearray(sig.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # inside the content
    sig.write_bytes(bytes(raw))
    out = tmp_path / "content.out"
    result = run("verify", "--in", sig, "--out", out)
    assert result.exit_code == 1, result.output
    assert "Verification: FAILED" in result.stdout and "digest_mismatch" in result.stdout
    assert not out.exists() and leftovers(tmp_path) == []


def test_wrong_ca_fails_the_chain(parties: dict[str, Party], bid: Path, tmp_path: Path) -> None:
    sig = tmp_path / "bid.p7s"
    ok(run("sign", "--key", parties["rsa"].sign_key, "--in", bid, "--out", sig))
    code, doc = verify_json("--in", sig, "--ca", parties["ec"].out / "root.pem")
    assert code == 1
    assert doc["signers"][0]["signature_valid"] is True
    assert doc["signers"][0]["chain"]["checked"] is True
    assert doc["signers"][0]["chain"]["valid"] is False


def test_pem_output_and_inspect(parties: dict[str, Party], bid: Path, tmp_path: Path) -> None:
    p = parties["rsa"]
    sig = tmp_path / "bid.p7s"
    ok(run("sign", "--key", p.sign_key, "--pem", "--in", bid, "--out", sig))
    assert sig.read_bytes().startswith(b"-----BEGIN CMS-----")
    doc = json.loads(ok(run("inspect", "--in", sig, "--json")).stdout)
    assert doc["type"] == "SignedData" and doc["format"] == "PEM"
    assert doc["content_length"] == len(DATA) and doc["detached"] is False
    assert doc["digest_algorithms"] == ["sha256"]
    (signer,) = doc["signers"]
    assert signer["signature_algorithm"] == "rsa-pkcs1-sha256" and signer["signing_time"]
    assert "测试投标有限公司" in signer["subject"]
    code, _ = verify_json("--in", sig)
    assert code == 0


# --- encrypt → decrypt ------------------------------------------------------------------------


def test_two_recipients_bidder_file_and_bid_opening_hsm(
    parties: dict[str, Party], softhsm: SoftHsm, hsm_certs: Path, bid: Path, tmp_path: Path
) -> None:
    """The bidder seals to their own certificate and to the centre's bid-opening certificate
    (on SoftHSM2, which has no RSA-OAEP-SHA-256, hence PKCS#1 v1.5); both can open it."""
    bidder = parties["rsa"]
    env = tmp_path / "bid.p7e"
    ok(
        run("encrypt", "--to", bidder.enc_cert, "--to", hsm_certs / "rsa.pem",
            "--rsa-padding", "pkcs1v15", "--in", bid, "--out", env)
    )  # fmt: skip
    doc = json.loads(ok(run("inspect", "--in", env, "--json")).stdout)
    assert doc["type"] == "AuthEnvelopedData" and doc["content_cipher"] == "aes-256-gcm"
    assert [r["key_encryption"] for r in doc["recipients"]] == ["rsa-pkcs1v15"] * 2
    assert doc["size"] == env.stat().st_size
    own = tmp_path / "own.zip"
    ok(run("decrypt", "--key", bidder.enc_key, "--in", env, "--out", own))
    assert own.read_bytes() == DATA
    assert own.stat().st_mode & 0o777 == 0o600
    # the HSM holds several keys; no object= given: the one the envelope names is used
    opened = tmp_path / "opened.zip"
    ok(
        run("decrypt", "--key", hsm_uri(softhsm, None), "--pin-stdin", "--in", env,
            "--out", opened, stdin=f"{USER_PIN}\n".encode())
    )  # fmt: skip
    assert opened.read_bytes() == DATA
    # OpenSSL opens it too
    proc = openssl(
        "cms", "-decrypt", "-binary", "-inform", "DER", "-in", env,
        "-inkey", bidder.out / "leaf.key", "-recip", bidder.enc_cert,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == DATA


def test_oaep_envelope_on_softhsm_is_a_clear_error(
    softhsm: SoftHsm, hsm_certs: Path, bid: Path, tmp_path: Path
) -> None:
    env = tmp_path / "bid.p7e"
    ok(run("encrypt", "--to", hsm_certs / "rsa.pem", "--in", bid, "--out", env))
    out = tmp_path / "opened.zip"
    result = run(
        "decrypt", "--key", hsm_uri(softhsm), "--pin-stdin", "--in", env, "--out", out,
        stdin=f"{USER_PIN}\n".encode(),
    )  # fmt: skip
    one_line_error(result, "USBKey", "mechanism")
    assert not out.exists() and leftovers(tmp_path) == []


def test_sm2_recipients_get_sm4_and_gm_oids(
    parties: dict[str, Party], issued: dict[str, Issued], bid: Path, tmp_path: Path
) -> None:
    bidder = parties["sm2"]
    centre_key = tmp_path / "centre.key"
    centre_cert = tmp_path / "centre.pem"
    centre_key.write_bytes(keys.dump_private_key(issued["sm2-enc"].key, "pem"))
    centre_cert.write_bytes(issued["sm2-enc"].cert.pem())
    env = tmp_path / "bid.p7e"
    ok(run("encrypt", "--to", bidder.enc_cert, "--to", centre_cert, "--in", bid, "--out", env))
    doc = json.loads(ok(run("inspect", "--in", env, "--json")).stdout)
    assert doc["type"] == "EnvelopedData" and doc["gm"] is True
    assert doc["content_cipher"] == "sm4-cbc"
    assert [r["key_encryption"] for r in doc["recipients"]] == ["sm2", "sm2"]
    for uri in (bidder.enc_key, f"file:{centre_key}?cert={centre_cert}"):
        out = tmp_path / "opened.zip"
        ok(run("decrypt", "--key", uri, "--in", env, "--out", out))
        assert out.read_bytes() == DATA
        out.unlink()


def test_mixed_sm2_and_rsa_recipients(parties: dict[str, Party], bid: Path, tmp_path: Path) -> None:
    env = tmp_path / "bid.p7e"
    ok(
        run("encrypt", "--to", parties["sm2"].enc_cert, "--to", parties["rsa"].enc_cert,
            "--in", bid, "--out", env)
    )  # fmt: skip
    doc = json.loads(ok(run("inspect", "--in", env, "--json")).stdout)
    assert doc["content_cipher"] == "sm4-cbc" and doc["gm"] is False
    for alg in ("sm2", "rsa"):
        out = tmp_path / f"{alg}.zip"
        ok(run("decrypt", "--key", parties[alg].enc_key, "--in", env, "--out", out))
        assert out.read_bytes() == DATA


def test_ec_recipient_openssl_decrypts_token_refuses(
    parties: dict[str, Party], bid: Path, tmp_path: Path
) -> None:
    p = parties["ec"]
    env = tmp_path / "bid.p7e"
    ok(run("encrypt", "--to", p.enc_cert, "--in", bid, "--out", env))
    doc = json.loads(ok(run("inspect", "--in", env, "--json")).stdout)
    assert doc["recipients"][0]["kind"] == "key_agreement"
    assert doc["recipients"][0]["key_encryption"] == "ecdh-sha256kdf-aes256-wrap"
    proc = openssl(
        "cms", "-decrypt", "-binary", "-inform", "DER", "-in", env,
        "-inkey", p.out / "leaf.key", "-recip", p.enc_cert,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == DATA
    out = tmp_path / "opened.zip"
    one_line_error(
        run("decrypt", "--key", p.enc_key, "--in", env, "--out", out), "ECDH", "密钥协商"
    )
    assert not out.exists() and leftovers(tmp_path) == []


# --- failures leave nothing behind ------------------------------------------------------------


def test_wrong_key_for_decrypt(parties: dict[str, Party], bid: Path, tmp_path: Path) -> None:
    env = tmp_path / "bid.p7e"
    ok(run("encrypt", "--to", parties["rsa"].enc_cert, "--in", bid, "--out", env))
    out = tmp_path / "opened.zip"
    out.write_bytes(b"an older file of that name")
    line = one_line_error(
        run("decrypt", "--key", parties["sm2"].enc_key, "--in", env, "--out", out),
        "not a recipient",
        "接收者",
    )
    assert "Traceback" not in line
    assert out.read_bytes() == b"an older file of that name"  # untouched
    assert leftovers(tmp_path) == []


def test_tampered_envelope_fails_midway_without_output(
    parties: dict[str, Party], bid: Path, tmp_path: Path
) -> None:
    p = parties["rsa"]
    env = tmp_path / "bid.p7e"
    ok(run("encrypt", "--to", p.enc_cert, "--in", bid, "--out", env))
    raw = bytearray(env.read_bytes())
    raw[-100] ^= 0x01  # ciphertext near the end: plaintext was already streamed out
    env.write_bytes(bytes(raw))
    out = tmp_path / "opened.zip"
    one_line_error(run("decrypt", "--key", p.enc_key, "--in", env, "--out", out), "解密失败")
    assert not out.exists() and leftovers(tmp_path) == []


def test_input_and_certificate_errors(parties: dict[str, Party], tmp_path: Path) -> None:
    p = parties["rsa"]
    out = tmp_path / "x.p7s"
    one_line_error(
        run("sign", "--key", p.sign_key, "--in", tmp_path / "missing.zip", "--out", out),
        "missing.zip",
    )
    assert not out.exists()
    bad_cert = tmp_path / "bad.pem"
    bad_cert.write_bytes(b"not a certificate")
    (tmp_path / "in.bin").write_bytes(DATA)
    one_line_error(
        run("encrypt", "--to", bad_cert, "--in", tmp_path / "in.bin", "--out", out),
        "bad.pem",
    )
    one_line_error(
        run("encrypt", "--to", tmp_path / "nope.pem", "--in", tmp_path / "in.bin", "--out", out),
        "nope.pem",
    )
    # a key file that does not exist: the driver's bilingual message
    one_line_error(
        run("sign", "--key", f"file:{tmp_path}/no.key?cert={p.out}/leaf.pem",
            "--in", tmp_path / "in.bin", "--out", out),
        "不存在", "does not exist",
    )  # fmt: skip
    one_line_error(
        run("sign", "--key", "https://example.cn/key", "--in", tmp_path / "in.bin", "--out", out),
        "file: or pkcs11:",
    )
    # an unreadable CMS file: exit 2, not 1
    one_line_error(run("verify", "--in", tmp_path / "in.bin"), "文件格式错误")
    one_line_error(run("inspect", "--in", tmp_path / "in.bin"), "文件格式错误")
    one_line_error(run("sign", "--in", tmp_path / "in.bin", "--out", out), "--key")
    one_line_error(run("sign", "--key", p.sign_key, "--pin", "1", "--in", "x", "--out", out))
    assert not out.exists() and leftovers(tmp_path) == []


def test_pin_stdin_needs_a_file_input(parties: dict[str, Party], tmp_path: Path) -> None:
    out = tmp_path / "x.p7s"
    one_line_error(
        run("sign", "--key", parties["sm2"].sign_key, "--pin-stdin", "--in", "-",
            "--out", out, stdin=b"pin\ndata"),
        "--pin-stdin", "--in FILE",
    )  # fmt: skip
    assert not out.exists()


def test_wrong_pin_file_token(parties: dict[str, Party], bid: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.p7s"
    one_line_error(
        run("sign", "--key", parties["sm2"].sign_key, "--pin-stdin", "--in", bid,
            "--out", out, stdin=b"wrong\n"),
        "PIN 码错误", "wrong PIN",
    )  # fmt: skip
    assert not out.exists() and leftovers(tmp_path) == []


def test_ambiguous_token_lists_the_labels(softhsm: SoftHsm, bid: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.p7s"
    one_line_error(
        run("sign", "--key", hsm_uri(softhsm, None), "--pin-stdin", "--in", bid, "--out", out,
            stdin=f"{USER_PIN}\n".encode()),
        "'platform'", "'ec-sign'", "object=", "多个",
    )  # fmt: skip
    assert not out.exists()


def _subprocess(
    args: list[str | Path], stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """The real console script, without a controlling terminal (so no PIN prompt)."""
    return subprocess.run(
        [HUREN, *map(str, args)],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=120,
        start_new_session=True,
        check=False,
    )


def test_wrong_pin_on_the_usbkey_shows_retries(softhsm: SoftHsm, bid: Path, tmp_path: Path) -> None:
    """A subprocess: PKCS#11 logins are per process, so in this one a token may already be
    logged in. SoftHSM2 reports 'tries running low' (CKF_USER_PIN_COUNT_LOW), not a count."""
    out = tmp_path / "x.p7s"
    proc = _subprocess(
        ["bid", "sign", "--key", hsm_uri(softhsm, None, token="Second"), "--pin-stdin",
         "--in", bid, "--out", out],
        stdin=b"000000\n",
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    line = proc.stderr.decode()
    assert line.count("\n") == 1 and line.startswith("error: ")
    assert "PIN 码错误" in line and "wrong PIN" in line and "tries" in line
    assert "000000" not in line and proc.stdout == b""
    assert not out.exists() and leftovers(tmp_path) == []


def test_no_pin_and_no_terminal(parties: dict[str, Party], bid: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.p7s"
    proc = _subprocess(["bid", "sign", "--key", parties["sm2"].sign_key, "--in", bid, "--out", out])
    assert proc.returncode == 2, proc.stderr
    assert "--pin-stdin" in proc.stderr.decode() and not out.exists()


def test_terminal_prompt_for_a_key_file(
    parties: dict[str, Party], bid: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def prompt(label: str) -> str:
        asked.append(label)
        return KEY_PASSWORD

    monkeypatch.setattr(bid_cli, "_terminal_pin", prompt)
    out = tmp_path / "x.p7s"
    ok(run("sign", "--key", parties["sm2"].sign_key, "--in", bid, "--out", out))
    assert len(asked) == 1 and "leaf.key" in asked[0]
    assert cms.verify(out.read_bytes()).valid


def test_usbkey_asks_for_its_pin_on_the_terminal(
    softhsm: SoftHsm, bid: Path, tmp_path: Path
) -> None:
    """The real script on a pseudo-terminal: the token lists its certificates without a PIN,
    asks for it when the key is used, and the signature is made after the hidden prompt."""
    out = tmp_path / "x.p7s"
    args = ["bid", "sign", "--key", hsm_uri(softhsm), "--in", str(bid), "--out", str(out)]
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execv(HUREN, [HUREN, *args])  # noqa: S606 - the script under test
    seen = b""
    sent = False
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1.0)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if not sent and b"PIN" in seen:
                os.write(fd, f"{USER_PIN}\n".encode())
                sent = True
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert sent, seen
    assert os.waitstatus_to_exitcode(status) == 0, seen.decode(errors="replace")
    assert USER_PIN.encode() not in seen  # hidden input
    assert cms.verify(out.read_bytes()).valid


def test_ctrl_c_leaves_no_partial_file(parties: dict[str, Party], tmp_path: Path) -> None:
    out = tmp_path / "bid.p7e"
    proc = subprocess.Popen(
        [HUREN, "bid", "encrypt", "--to", str(parties["rsa"].enc_cert), "--in", "-",
         "--out", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    assert proc.stdin is not None
    try:
        proc.stdin.write(DATA)
        proc.stdin.flush()
        deadline = time.monotonic() + 120
        while not leftovers(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.05)  # wait until the temporary output exists (not a timing check)
        assert leftovers(tmp_path), "the command never started writing"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted" in err.decode()
    assert not out.exists() and leftovers(tmp_path) == []


# --- large files stream -----------------------------------------------------------------------


@pytest.fixture
def big(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "big.zip"
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        for _ in range(30):
            fh.write(block)
    yield path


def test_30_mb_streams_in_constant_memory(
    parties: dict[str, Party], big: Path, tmp_path: Path
) -> None:
    p = parties["rsa"]
    size = big.stat().st_size
    sig, env, opened = tmp_path / "big.p7s", tmp_path / "big.p7e", tmp_path / "opened.zip"
    steps: list[list[str | Path]] = [
        ["sign", "--key", p.sign_key, "--in", big, "--out", sig, "--progress"],
        ["verify", "--in", sig, "--progress"],
        ["encrypt", "--to", p.enc_cert, "--in", big, "--out", env],
        ["decrypt", "--key", p.enc_key, "--in", env, "--out", opened],
    ]
    for step in steps:
        tracemalloc.start()
        try:
            result = run(*step)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert result.exit_code == 0, (step[0], result.stderr)
        assert peak < size // 6, (step[0], peak)  # well below the 30 MB file
        if "--progress" in step:
            assert "signing" in result.stderr or "verifying" in result.stderr
    assert sig.stat().st_size > size  # attached
    assert opened.stat().st_size == size
    assert opened.read_bytes() == big.read_bytes()


def test_registered_in_the_huren_command() -> None:
    result = CliRunner().invoke(cli, ["bid", "--help"])
    assert result.exit_code == 0
    for name in ("sign", "encrypt", "decrypt", "verify", "inspect"):
        assert name in result.stdout
