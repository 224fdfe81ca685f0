"""`huren crypto cms …` and `huren crypto cert …` through click's CliRunner: exit codes 0/1/2,
one-line errors, binary-safe stdin/stdout, files removed when a command fails."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cert_interop import cms, keys
from cert_interop.cli import crypto_group

from .conftest import Party

DATA = bytes(range(256)) * 20 + b"\r\n\x1a\0"


def run(*args: str | Path, stdin: bytes | None = None, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(crypto_group, [str(a) for a in args], input=stdin, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "bid.bin"
    path.write_bytes(DATA)
    return path


def test_sign_verify_attached_via_stdin_and_stdout(party: Party) -> None:
    signed = run(
        "cms", "sign", "--key", party.key_path, "--cert", party.out / "leaf.pem",
        "--chain", party.out / "intermediate.pem", stdin=DATA,
    )  # fmt: skip
    assert signed.exit_code == 0, signed.stderr
    assert cms.verify(signed.stdout_bytes).valid
    ok = run("cms", "verify", "--ca", party.out / "root.pem", stdin=signed.stdout_bytes)
    assert ok.exit_code == 0, ok.output
    assert "Verification: OK" in ok.stdout and "chain: valid" in ok.stdout
    doc = json.loads(
        run(
            "cms", "verify", "--json", "--ca", party.out / "root.pem", stdin=signed.stdout_bytes
        ).stdout
    )
    assert doc["valid"] and doc["signers"][0]["chain"]["valid"]
    assert doc["gm"] is (party.alg == "sm2")


def test_verify_exit_codes(parties: dict[str, Party], data_file: Path, tmp_path: Path) -> None:
    p, other = parties["ec"], parties["rsa"]
    sig = tmp_path / "bid.p7s"
    res = run("cms", "sign", "--key", p.key_path, "--cert", p.out / "leaf.pem", "--detached",
              "--in", data_file, "--out", sig, "--pem")  # fmt: skip
    assert res.exit_code == 0 and sig.read_bytes().startswith(b"-----BEGIN CMS-----")
    assert run("cms", "verify", "--in", sig, "--content", data_file).exit_code == 0
    wrong = tmp_path / "other.bin"
    wrong.write_bytes(DATA + b"!")
    bad = run("cms", "verify", "--in", sig, "--content", wrong)
    assert bad.exit_code == 1 and "digest_mismatch" in bad.stdout and "FAILED" in bad.stdout
    # a valid signature whose chain does not reach the given anchor
    untrusted = run("cms", "verify", "--in", sig, "--content", data_file, "--ca",
                    other.out / "root.pem")  # fmt: skip
    assert untrusted.exit_code == 1 and "chain: INVALID" in untrusted.stdout
    one_line_error(run("cms", "verify", "--in", sig), "detached")
    one_line_error(run("cms", "verify", "--in", data_file), "")
    one_line_error(run("cms", "verify", "--in", tmp_path / "missing.p7s"), "cannot read")


def test_verify_writes_content_and_removes_it_when_invalid(party: Party, tmp_path: Path) -> None:
    signed = cms.sign(DATA, None, [(party.key, party.cert)])
    out = tmp_path / "content.bin"
    res = run("cms", "verify", "--out", out, stdin=signed)
    assert res.exit_code == 0 and out.read_bytes() == DATA
    tampered = bytearray(signed)
    tampered[signed.index(DATA) + 5] ^= 1
    out.unlink()
    res = run("cms", "verify", "--out", out, stdin=bytes(tampered))
    assert res.exit_code == 1 and not out.exists()
    # content to stdout: the report goes to stderr
    res = run("cms", "verify", "--out", "-", stdin=signed)
    assert res.exit_code == 0 and res.stdout_bytes == DATA and "Verification: OK" in res.stderr


def test_encrypt_decrypt(parties: dict[str, Party], data_file: Path, tmp_path: Path) -> None:
    env = tmp_path / "bid.p7m"
    args: list[str | Path] = ["cms", "encrypt", "--in", data_file, "--out", env]
    for p in parties.values():
        args += ["--recipient", p.enc_cert_path]
    assert run(*args).exit_code == 0
    for p in parties.values():
        res = run("cms", "decrypt", "--key", p.enc_key_path, "--cert", p.enc_cert_path,
                  "--in", env)  # fmt: skip
        assert res.exit_code == 0, res.stderr
        assert res.stdout_bytes == DATA
    # PEM, GCM, stdin → stdout
    rsa = parties["rsa"]
    res = run("cms", "encrypt", "--recipient", rsa.enc_cert_path, "--cipher", "aes-256-gcm",
              "--pem", stdin=DATA)  # fmt: skip
    assert res.stdout_bytes.startswith(b"-----BEGIN CMS-----")
    plain = tmp_path / "plain.bin"
    pem = tmp_path / "bid.pem"
    pem.write_bytes(res.stdout_bytes)
    res = run("cms", "decrypt", "--key", rsa.enc_key_path, "--cert", rsa.enc_cert_path,
              "--in", pem, "--out", plain)  # fmt: skip
    assert res.exit_code == 0 and plain.read_bytes() == DATA
    assert plain.stat().st_mode & 0o777 == 0o600


def test_decrypt_failures_leave_no_file(parties: dict[str, Party], tmp_path: Path) -> None:
    sm2p, ecp = parties["sm2"], parties["ec"]
    env = tmp_path / "e.p7m"
    env.write_bytes(cms.encrypt(DATA, None, [sm2p.enc_cert]))
    out = tmp_path / "plain.bin"
    res = run("cms", "decrypt", "--key", ecp.enc_key_path, "--cert", ecp.enc_cert_path,
              "--in", env, "--out", out)  # fmt: skip
    one_line_error(res, "not a recipient")
    assert not out.exists()
    tampered = bytearray(env.read_bytes())
    tampered[-20] ^= 1
    env.write_bytes(bytes(tampered))
    res = run("cms", "decrypt", "--key", sm2p.enc_key_path, "--cert", sm2p.enc_cert_path,
              "--in", env, "--out", out)  # fmt: skip
    one_line_error(res)
    assert not out.exists()
    one_line_error(run("cms", "encrypt", "--recipient", sm2p.out / "leaf.pem", stdin=b"x"),
                   "key usage")  # fmt: skip
    # a failed command removes only regular files: never a device behind --out
    link = tmp_path / "sink"
    link.symlink_to(os.devnull)
    res = run("cms", "decrypt", "--key", ecp.enc_key_path, "--cert", ecp.enc_cert_path,
              "--in", env, "--out", link)  # fmt: skip
    one_line_error(res)
    assert link.is_symlink() and stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_password_stdin(parties: dict[str, Party], data_file: Path, tmp_path: Path) -> None:
    p = parties["sm2"]
    locked = tmp_path / "locked.key"
    locked.write_bytes(keys.dump_private_key(p.key, "pem", password=b"s3cret-PIN"))
    cert = p.out / "leaf.pem"
    res = run("cms", "sign", "--key", locked, "--cert", cert, "--password-stdin",
              "--in", data_file, stdin=b"s3cret-PIN\n")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    assert cms.verify(res.stdout_bytes).valid
    res = run("cms", "sign", "--key", locked, "--cert", cert, "--in", data_file,
              env={"HUREN_KEY_PASSWORD": "s3cret-PIN"})  # fmt: skip
    assert res.exit_code == 0
    one_line_error(
        run("cms", "sign", "--key", locked, "--cert", cert, "--password-stdin", stdin=b"pw\n"),
        "--in FILE",
    )
    res = run("cms", "sign", "--key", locked, "--cert", cert, "--password-stdin",
              "--in", data_file, stdin=b"wrong\n")  # fmt: skip
    one_line_error(res)
    one_line_error(
        run("cms", "sign", "--key", p.key_path, "--cert", parties["rsa"].out / "leaf.pem",
            "--in", data_file),
        "does not belong",
    )  # fmt: skip


def test_cert_show_and_verify(parties: dict[str, Party], tmp_path: Path) -> None:
    p = parties["sm2"]
    show = run("cert", "show", p.out / "leaf.pem", "--json")
    assert show.exit_code == 0 and json.loads(show.stdout)["key_algorithm"] == "sm2"
    base = ["cert", "verify", "--ca", p.out / "root.pem", "--untrusted", p.out / "intermediate.pem"]
    ok = run(*base, p.out / "leaf-enc.pem", "--purpose", "encrypt")
    assert ok.exit_code == 0 and ": OK" in ok.stdout
    assert run(*base, p.out / "leaf-enc.pem", "--purpose", "sign").exit_code == 1
    revoked = run(*base, p.out / "revoked.pem", "--crl", p.out / "intermediate.crl", "--json")
    assert revoked.exit_code == 1 and json.loads(revoked.stdout)["reason"] == "revoked"
    expired = run(*base, p.out / "leaf.pem", "--at", "2099-01-01T00:00:00")
    assert expired.exit_code == 1 and "expired" in expired.stdout
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(p.h.root.pem() + p.h.intermediate.pem())
    assert run("cert", "verify", p.out / "leaf.pem", "--ca", bundle).exit_code == 0
    one_line_error(run(*base, p.out / "leaf.pem", "--at", "yesterday"), "ISO 8601")
    one_line_error(run("cert", "verify", p.out / "leaf.pem", "--ca", tmp_path / "none.pem"))
    one_line_error(run("cert", "verify", bundle, "--ca", bundle), "2 certificates")
