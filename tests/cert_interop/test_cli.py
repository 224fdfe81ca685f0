"""`huren crypto` through click's CliRunner: exit codes, one-line errors and binary-safe output."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cert_interop import cli as cli_mod
from cert_interop import keys, sm2, sm3, sm4
from cert_interop.cli import crypto_group

SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_ABCD16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
SM4_KEY = "0123456789abcdeffedcba9876543210"
SM4_CT = "681edf34d206965e86b3e94f536e4246"
BINARY = bytes(range(256)) * 3 + b"\0\r\n\x1a\xff"


def run(*args: str | Path, stdin: bytes | None = None) -> Result:
    result = CliRunner().invoke(crypto_group, [str(a) for a in args], input=stdin)
    # nothing ever escapes as an exception: only clean exits
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.fixture(scope="module")
def keypair() -> tuple[str, str]:
    result = run("sm2", "keygen")
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    return lines["private"], lines["public"]


@pytest.fixture
def message(tmp_path: Path) -> Path:
    path = tmp_path / "msg.bin"
    path.write_bytes(BINARY)
    return path


# ---------------------------------------------------------------------------------------------
# sm2 keygen / sign / verify


def test_keygen_prints_hex_lines(keypair: tuple[str, str]) -> None:
    private, public = keypair
    assert len(private) == 64 and int(private, 16) > 0
    assert len(public) == 130 and public.startswith("04")
    key = sm2.private_key_from_hex(private)
    assert sm2.public_key_to_hex(key.public_key()) == public


def test_keygen_writes_pem_files_private_0600(tmp_path: Path, message: Path) -> None:
    key_file, pub_file = tmp_path / "k.pem", tmp_path / "p.pem"
    result = run("sm2", "keygen", "--out-key", key_file, "--out-pub", pub_file)
    assert result.exit_code == 0 and result.stdout == ""
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert pub_file.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert keys.key_algorithm(keys.load_private_key(key_file.read_bytes())) == "sm2"

    # a key file by plain path and by @path; the public key from its PEM file
    for key_arg in (str(key_file), f"@{key_file}"):
        sig = run("sm2", "sign", "--key", key_arg, "--in", message)
        assert sig.exit_code == 0, sig.output
        ok = run("sm2", "verify", "--pub", pub_file, "--in", message, "--sig", sig.stdout.strip())
        assert (ok.exit_code, ok.stdout) == (0, "OK\n")


def test_keygen_hex_files_and_existing_file_tightened(tmp_path: Path) -> None:
    key_file = tmp_path / "k.hex"
    key_file.write_text("old")
    key_file.chmod(0o644)
    result = run("sm2", "keygen", "--out-key", key_file, "--format", "hex")
    assert result.exit_code == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    private = key_file.read_text().strip()
    assert len(private) == 64
    public = result.stdout.removeprefix("public: ").strip()
    assert sm2.public_key_to_hex(sm2.private_key_from_hex(private).public_key()) == public
    # an @file holding a hex key is not a PEM/DER key: one line, exit 2
    assert_one_line_error(run("sm2", "sign", "--key", f"@{key_file}", "--in", key_file))


def test_sign_verify_valid_tampered_wrong_id(keypair: tuple[str, str], message: Path) -> None:
    private, public = keypair
    result = run("sm2", "sign", "--key", private, "--in", message)
    assert result.exit_code == 0, result.output
    sig = result.stdout.strip()
    assert sig.startswith("30")  # DER by default

    ok = run("sm2", "verify", "--pub", public, "--in", message, "--sig", sig)
    assert (ok.exit_code, ok.stdout, ok.stderr) == (0, "OK\n", "")

    tampered = message.with_name("tampered.bin")
    tampered.write_bytes(BINARY[:-1] + b"\xfe")
    bad = run("sm2", "verify", "--pub", public, "--in", tampered, "--sig", sig)
    assert (bad.exit_code, bad.stdout) == (1, "FAIL\n")

    wrong_id = run("sm2", "verify", "--pub", public, "--in", message, "--sig", sig, "--id", "bob")
    assert (wrong_id.exit_code, wrong_id.stdout) == (1, "FAIL\n")

    other = run("sm2", "keygen").stdout.splitlines()[1].removeprefix("public: ")
    wrong_key = run("sm2", "verify", "--pub", other, "--in", message, "--sig", sig)
    assert wrong_key.exit_code == 1


def test_sign_with_id_and_raw_format(keypair: tuple[str, str], message: Path) -> None:
    private, public = keypair
    result = run("sm2", "sign", "--key", private, "--in", message, "--id", "alice@example.cn")
    sig = result.stdout.strip()
    assert run("sm2", "verify", "--pub", public, "--in", message, "--sig", sig).exit_code == 1
    with_id = run(
        "sm2", "verify", "--pub", public, "--in", message, "--sig", sig, "--id", "alice@example.cn"
    )
    assert with_id.exit_code == 0

    raw = run("sm2", "sign", "--key", private, "--in", message, "--format", "raw").stdout.strip()
    assert len(raw) == 128
    for fmt in ("raw", "auto"):
        res = run("sm2", "verify", "--pub", public, "--in", message, "--sig", raw, "--format", fmt)
        assert res.exit_code == 0, (fmt, res.output)
    as_der = run("sm2", "verify", "--pub", public, "--in", message, "--sig", raw, "--format", "der")
    assert (as_der.exit_code, as_der.stdout) == (1, "FAIL\n")


def test_sign_matches_library(keypair: tuple[str, str], message: Path) -> None:
    private, public = keypair
    sig = bytes.fromhex(run("sm2", "sign", "--key", private, "--in", message).stdout)
    assert sm2.verify(sm2.public_key_from_hex(public), sig, BINARY)
    lib_sig = sm2.sign(sm2.private_key_from_hex(private), BINARY)
    ok = run("sm2", "verify", "--pub", public, "--in", message, "--sig", lib_sig.hex())
    assert ok.exit_code == 0


def test_verify_sig_file_binary_or_hex_and_stdin(keypair: tuple[str, str], tmp_path: Path) -> None:
    private, public = keypair
    sig = run("sm2", "sign", "--key", private, "--in", "-", stdin=BINARY).stdout.strip()
    hex_file, bin_file = tmp_path / "sig.hex", tmp_path / "sig.der"
    hex_file.write_text(sig + "\n")
    bin_file.write_bytes(bytes.fromhex(sig))
    for sig_file in (hex_file, bin_file):
        res = run(
            "sm2", "verify", "--pub", public, "--in", "-", "--sig-file", sig_file, stdin=BINARY
        )
        assert (res.exit_code, res.stdout) == (0, "OK\n")


def test_verify_garbage_signatures(keypair: tuple[str, str], message: Path) -> None:
    _, public = keypair
    # hex that is no signature: a signature that does not verify, exit 1
    for junk in ("deadbeef", "00" * 64, "30" + "00" * 70):
        res = run("sm2", "verify", "--pub", public, "--in", message, "--sig", junk)
        assert (res.exit_code, res.stdout) == (1, "FAIL\n"), junk
    # not hex at all: the check cannot run, exit 2
    assert_one_line_error(
        run("sm2", "verify", "--pub", public, "--in", message, "--sig", "zz!"), "--sig"
    )
    assert_one_line_error(run("sm2", "verify", "--pub", public, "--in", message), "--sig")


def test_key_errors_are_one_line(keypair: tuple[str, str], message: Path, tmp_path: Path) -> None:
    _, public = keypair
    assert_one_line_error(run("sm2", "sign", "--key", "00", "--in", message))
    assert_one_line_error(run("sm2", "sign", "--key", "nope-not-hex", "--in", message), "@FILE")
    assert_one_line_error(run("sm2", "verify", "--pub", "04abcd", "--in", message, "--sig", "00"))
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    assert_one_line_error(run("sm2", "sign", "--key", garbage, "--in", message))
    # a public key where a private one is needed
    pub_file = tmp_path / "p.pem"
    pub_file.write_bytes(keys.dump_public_key(sm2.public_key_from_hex(public), "pem"))
    assert_one_line_error(run("sm2", "sign", "--key", pub_file, "--in", message))


def test_rsa_key_refused(tmp_path: Path, message: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "rsa.pem"
    path.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    assert_one_line_error(run("sm2", "sign", "--key", path, "--in", message), "RSA")


def test_encrypted_pkcs8_with_password(tmp_path: Path, message: Path) -> None:
    key = sm2.generate_private_key()
    path = tmp_path / "enc.pem"
    path.write_bytes(keys.dump_private_key(key, "pem", password=b"s3cret"))
    assert_one_line_error(run("sm2", "sign", "--key", path, "--in", message))
    assert_one_line_error(run("sm2", "sign", "--key", path, "--in", message, "--password", "wrong"))
    res = run("sm2", "sign", "--key", path, "--in", message, "--password", "s3cret")
    assert res.exit_code == 0, res.output
    assert sm2.verify(key.public_key(), bytes.fromhex(res.stdout), BINARY)


# ---------------------------------------------------------------------------------------------
# sm2 encrypt / decrypt


@pytest.mark.parametrize("mode", ["c1c3c2", "c1c2c3", "asn1"])
def test_encrypt_decrypt_round_trip(
    mode: str, keypair: tuple[str, str], message: Path, tmp_path: Path
) -> None:
    private, public = keypair
    ct_file = tmp_path / "ct.bin"
    enc = run("sm2", "encrypt", "--pub", public, "--in", message, "--mode", mode, "--out", ct_file)
    assert (enc.exit_code, enc.stdout) == (0, ""), enc.output
    ct = ct_file.read_bytes()
    assert sm2.decrypt(sm2.private_key_from_hex(private), ct, mode=mode) == BINARY

    # raw bytes on stdout, ciphertext from stdin
    dec = run("sm2", "decrypt", "--key", private, "--in", "-", "--mode", mode, stdin=ct)
    assert dec.exit_code == 0, dec.output
    assert dec.stdout_bytes == BINARY

    # encrypt to stdout, decrypt to a file
    enc2 = run("sm2", "encrypt", "--pub", public, "--in", message, "--mode", mode)
    assert enc2.exit_code == 0
    out = tmp_path / "pt.bin"
    ct_file.write_bytes(enc2.stdout_bytes)
    dec2 = run("sm2", "decrypt", "--key", private, "--in", ct_file, "--mode", mode, "--out", out)
    assert dec2.exit_code == 0 and out.read_bytes() == BINARY


def test_decrypt_refusals(keypair: tuple[str, str], message: Path, tmp_path: Path) -> None:
    private, public = keypair
    ct = run("sm2", "encrypt", "--pub", public, "--in", message).stdout_bytes
    wrong_mode = run("sm2", "decrypt", "--key", private, "--in", "-", "--mode", "c1c2c3", stdin=ct)
    assert_one_line_error(wrong_mode)
    other = run("sm2", "keygen").stdout.splitlines()[0].removeprefix("private: ")
    out = tmp_path / "pt.bin"
    wrong_key = run("sm2", "decrypt", "--key", other, "--in", "-", "--out", out, stdin=ct)
    assert_one_line_error(wrong_key)
    assert not out.exists()
    truncated = run("sm2", "decrypt", "--key", private, "--in", "-", stdin=ct[:50])
    assert_one_line_error(truncated)


# ---------------------------------------------------------------------------------------------
# sm3


def test_sm3_vectors_stdin_and_file(tmp_path: Path) -> None:
    assert run("sm3", stdin=b"abc").stdout == SM3_ABC + "\n"
    assert run("sm3", "--in", "-", stdin=b"abc").stdout == SM3_ABC + "\n"
    path = tmp_path / "abcd"
    path.write_bytes(b"abcd" * 16)
    assert run("sm3", "--in", path).stdout == SM3_ABCD16 + "\n"


def test_sm3_streams_a_5mb_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = os.urandom(5 * 1000 * 1000 + 7)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    sizes: list[int] = []

    class Spy(sm3.SM3):
        def update(self, block: bytes) -> None:
            sizes.append(len(block))
            super().update(block)

    monkeypatch.setattr(cli_mod.sm3, "SM3", Spy)
    result = run("sm3", "--in", path)
    assert result.exit_code == 0
    assert result.stdout.strip() == sm3.sm3(data).hex()
    assert len(sizes) >= 5 and max(sizes) <= cli_mod.CHUNK


@pytest.mark.parametrize("key", [b"", b"k", b"key" * 30])
def test_hmac_sm3_matches_library(key: bytes, message: Path) -> None:
    result = run("sm3", "--in", message, "--hmac-key", key.hex())
    assert result.exit_code == 0
    assert result.stdout.strip() == sm3.hmac_sm3(key, BINARY).hex()


def test_sm3_errors(tmp_path: Path) -> None:
    assert_one_line_error(run("sm3", "--in", tmp_path / "missing"), "missing")
    assert_one_line_error(run("sm3", "--hmac-key", "xyz", stdin=b"abc"), "--hmac-key")


# ---------------------------------------------------------------------------------------------
# sm4


def test_sm4_cbc_round_trip_3mb(tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)
    pt, ct, back = tmp_path / "pt", tmp_path / "ct", tmp_path / "back"
    pt.write_bytes(data)
    iv = "00112233445566778899aabbccddeeff"
    enc = run("sm4", "encrypt", "--key", SM4_KEY, "--iv", iv, "--in", pt, "--out", ct)
    assert enc.exit_code == 0, enc.output
    assert ct.read_bytes() == sm4.encrypt_cbc(bytes.fromhex(SM4_KEY), bytes.fromhex(iv), data)
    dec = run("sm4", "decrypt", "--key", SM4_KEY, "--iv", iv, "--in", ct, "--out", back)
    assert dec.exit_code == 0
    assert back.read_bytes() == data
    assert stat.S_IMODE(back.stat().st_mode) == 0o600

    # a wrong key fails on the padding at the end: no partial output, and the earlier good
    # file of that name is left as it was
    wrong = "ff" * 16
    bad = run("sm4", "decrypt", "--key", wrong, "--iv", iv, "--in", ct, "--out", back)
    assert_one_line_error(bad)
    assert back.read_bytes() == data
    fresh = tmp_path / "fresh"
    bad = run("sm4", "decrypt", "--key", wrong, "--iv", iv, "--in", ct, "--out", fresh)
    assert_one_line_error(bad)
    assert not fresh.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_sm4_cbc_stdin_stdout_binary() -> None:
    iv = "00" * 16
    enc = run("sm4", "encrypt", "--key", SM4_KEY, "--iv", iv, "--in", "-", stdin=BINARY)
    assert enc.exit_code == 0 and len(enc.stdout_bytes) % 16 == 0
    dec = run("sm4", "decrypt", "--key", SM4_KEY, "--iv", iv, "--in", "-", stdin=enc.stdout_bytes)
    assert dec.stdout_bytes == BINARY


def test_sm4_standard_vector_via_ecb_decrypt() -> None:
    res = run(
        "sm4", "decrypt", "--mode", "ecb", "--key", SM4_KEY, "--in", "-",
        stdin=bytes.fromhex(SM4_CT),
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert res.stdout_bytes == bytes.fromhex(SM4_KEY)


def test_sm4_gcm_round_trip_with_aad() -> None:
    nonce, aad = "000102030405060708090a0b", "68757265 6e"
    args = ("--mode", "gcm", "--key", SM4_KEY, "--iv", nonce, "--in", "-")
    enc = run("sm4", "encrypt", *args, "--aad", aad, stdin=BINARY)
    assert enc.exit_code == 0, enc.output
    assert len(enc.stdout_bytes) == len(BINARY) + 16
    dec = run("sm4", "decrypt", *args, "--aad", aad, stdin=enc.stdout_bytes)
    assert dec.stdout_bytes == BINARY
    assert_one_line_error(run("sm4", "decrypt", *args, stdin=enc.stdout_bytes))
    tampered = bytes([enc.stdout_bytes[0] ^ 1]) + enc.stdout_bytes[1:]
    assert_one_line_error(run("sm4", "decrypt", *args, "--aad", aad, stdin=tampered))


def test_sm4_usage_errors(message: Path, tmp_path: Path) -> None:
    iv = "00" * 16
    assert_one_line_error(
        run("sm4", "encrypt", "--mode", "ecb", "--key", SM4_KEY, "--in", message), "ECB"
    )
    assert_one_line_error(run("sm4", "encrypt", "--key", SM4_KEY, "--in", message), "--iv")
    assert_one_line_error(
        run("sm4", "encrypt", "--key", "nothex", "--iv", iv, "--in", message), "--key"
    )
    assert_one_line_error(
        run("sm4", "encrypt", "--key", "0011", "--iv", iv, "--in", message), "16 bytes"
    )
    assert_one_line_error(
        run("sm4", "encrypt", "--key", SM4_KEY, "--iv", "00", "--in", message), "--iv"
    )
    assert_one_line_error(
        run("sm4", "encrypt", "--key", SM4_KEY, "--iv", iv, "--in", message, "--out", message),
        "--in",
    )
    assert message.read_bytes() == BINARY
    assert_one_line_error(
        run("sm4", "decrypt", "--key", SM4_KEY, "--iv", iv, "--in", tmp_path / "nope"), "nope"
    )


# ---------------------------------------------------------------------------------------------
# usage errors and speed


def test_usage_errors_are_one_line(message: Path) -> None:
    assert_one_line_error(run("sm2", "sign", "--in", message), "--key")
    assert_one_line_error(run("sm2", "frobnicate"), "frobnicate")
    assert_one_line_error(run("sm2", "encrypt", "--pub", "04", "--in", message, "--mode", "ecb"))
    assert_one_line_error(run("speed", "sm2", "--seconds", "0"))


def test_help_documents_key_forms() -> None:
    res = run("sm2", "sign", "--help")
    assert res.exit_code == 0
    assert "@FILE" in res.stdout


def test_speed_sm2_json() -> None:
    res = run("speed", "sm2", "--seconds", "1", "--json")
    assert res.exit_code == 0, res.output
    figures = json.loads(res.stdout)
    assert figures["sign_per_s"] > 0 and figures["verify_per_s"] > 0
    assert figures["message_bytes"] == 20


def test_speed_sm2_text() -> None:
    res = run("speed", "sm2", "--seconds", "0.2")
    assert res.exit_code == 0
    assert "sign/s" in res.stdout and "sign_per_s: " in res.stdout


def test_verify_with_a_certificate_as_pub(tmp_path: Path, message: Path) -> None:
    """``--pub`` takes the signer's certificate too: what a verifier usually has."""
    from cert_interop.pki_cli import write_hierarchy

    write_hierarchy(tmp_path / "pki", alg="sm2")
    key = tmp_path / "pki" / "leaf.key"
    sig = run("sm2", "sign", "--key", f"@{key}", "--in", message).stdout.strip()
    ok = run(
        "sm2", "verify", "--pub", f"@{tmp_path / 'pki' / 'leaf.pem'}", "--in", message, "--sig", sig
    )
    assert (ok.exit_code, ok.stdout) == (0, "OK\n"), ok.output
    other = run(
        "sm2", "verify", "--pub", f"@{tmp_path / 'pki' / 'root.pem'}", "--in", message, "--sig", sig
    )
    assert (other.exit_code, other.stdout) == (1, "FAIL\n")
