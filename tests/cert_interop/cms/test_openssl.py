"""Interop with `openssl cms` (OpenSSL 3.0 on this machine) in both directions, RSA and ECDSA.

OpenSSL verifies our SignedData (attached, detached, streamed BER, PEM) against the hierarchy's
root and we verify its output (attached, detached, -stream, RSASSA-PSS, -noattr, several signers,
-nocerts, SKI signer ids); OpenSSL decrypts our envelopes (RSA OAEP and PKCS#1 v1.5, EC key
agreement, AES-256-CBC, AES-256-GCM, SM4-CBC with RSA) and we decrypt its own (its defaults:
PKCS#1 v1.5, the SHA-1 KDF for EC; -stream; AES-128).

SM2 is not here: OpenSSL 3.0's `cms` cannot do it. `-encrypt` to an SM2 certificate fails
("illegal zero content": no SM2 key transport in its CMS), `-decrypt` refuses the GM/T 0010
content type ("content type not enveloped data"), and its SM2 signatures use an empty user ID
unless told otherwise, which `cms` cannot be. See test_sm2_independent.py for the SM2 checks.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cert_interop import cms

from .conftest import Party

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")

CONTENT = ("投标报价 ¥1,234,567.00\r\n".encode() + bytes(range(256))) * 300


def openssl(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["openssl", *map(str, args)], input=stdin, capture_output=True, timeout=60, check=False
    )


def _ok(proc: subprocess.CompletedProcess[bytes]) -> bytes:
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    return proc.stdout


@pytest.fixture(params=["rsa", "ec"])
def p(request: pytest.FixtureRequest, parties: dict[str, Party]) -> Party:
    return parties[request.param]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "content.bin").write_bytes(CONTENT)
    return tmp_path


def _verify_args(p: Party) -> list[str | Path]:
    return ["-CAfile", p.out / "root.pem", "-purpose", "any", "-binary"]


# --- OpenSSL reads ours ----------------------------------------------------------------------


def test_openssl_verifies_our_attached_signature(p: Party, files: Path) -> None:
    der = files / "a.p7s"
    der.write_bytes(cms.sign(CONTENT, None, [(p.key, p.cert, p.chain)]))
    out = _ok(openssl("cms", "-verify", "-inform", "DER", "-in", der, *_verify_args(p)))
    assert out == CONTENT


def test_openssl_verifies_our_detached_signature(p: Party, files: Path) -> None:
    der = files / "d.p7s"
    der.write_bytes(cms.sign(CONTENT, None, [(p.key, p.cert, p.chain)], detached=True))
    args = ["cms", "-verify", "-inform", "DER", "-in", der, "-content", files / "content.bin"]
    _ok(openssl(*args, *_verify_args(p), "-out", files / "x"))
    (files / "wrong.bin").write_bytes(CONTENT + b"x")
    args[-1] = files / "wrong.bin"
    assert openssl(*args, *_verify_args(p)).returncode != 0


def test_openssl_verifies_our_streamed_pem_signature(p: Party, files: Path) -> None:
    from .conftest import Pipe

    pem_path = files / "s.pem"
    with open(pem_path, "wb") as fh:
        writer = cms.PemWriter(fh)
        cms.sign(Pipe(CONTENT), writer, [(p.key, p.cert, p.chain)])
        writer.close()
    assert pem_path.read_bytes().startswith(b"-----BEGIN CMS-----")
    out = _ok(openssl("cms", "-verify", "-inform", "PEM", "-in", pem_path, *_verify_args(p)))
    assert out == CONTENT


def test_openssl_verifies_two_signers(parties: dict[str, Party], files: Path) -> None:
    rsa, ec = parties["rsa"], parties["ec"]
    der = files / "two.p7s"
    der.write_bytes(cms.sign(CONTENT, None, [(rsa.key, rsa.cert, rsa.chain), (ec.key, ec.cert)]))
    bundle = files / "roots.pem"
    bundle.write_bytes(rsa.h.root.pem() + ec.h.root.pem() + ec.h.intermediate.pem())
    out = _ok(
        openssl("cms", "-verify", "-inform", "DER", "-in", der, "-CAfile", bundle, "-binary",
                "-purpose", "any")
    )  # fmt: skip
    assert out == CONTENT


@pytest.mark.parametrize("cipher", ["aes-256-cbc", "aes-256-gcm", "sm4-cbc"])
@pytest.mark.parametrize("rsa_padding", ["oaep", "pkcs1v15"])
def test_openssl_decrypts_our_envelopes(
    p: Party, files: Path, cipher: str, rsa_padding: str
) -> None:
    if p.alg == "ec" and (rsa_padding == "pkcs1v15" or cipher == "sm4-cbc"):
        pytest.skip("one EC run per cipher is enough")
    env = files / "e.p7m"
    env.write_bytes(
        cms.encrypt(CONTENT, None, [p.enc_cert], cipher=cipher, rsa_padding=rsa_padding)
    )
    out = _ok(
        openssl("cms", "-decrypt", "-binary", "-inform", "DER", "-in", env,
                "-inkey", p.enc_key_path, "-recip", p.enc_cert_path)
    )  # fmt: skip
    assert out == CONTENT


def test_openssl_decrypts_our_streamed_envelope(p: Party, files: Path) -> None:
    from .conftest import Pipe

    env = files / "s.p7m"
    with open(env, "wb") as fh:
        cms.encrypt(Pipe(CONTENT), fh, [p.enc_cert], cipher="aes-256-gcm")
    out = _ok(
        openssl("cms", "-decrypt", "-binary", "-inform", "DER", "-in", env,
                "-inkey", p.enc_key_path, "-recip", p.enc_cert_path)
    )  # fmt: skip
    assert out == CONTENT


# --- we read OpenSSL's ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["-stream"],
        ["-md", "sha512", "-noattr"],
        ["-md", "sha1"],
        ["-keyid"],
        ["-outform", "PEM"],
    ],
    ids=["attached", "stream", "noattr-sha512", "sha1", "keyid", "pem"],
)
def test_we_verify_openssl_signatures(p: Party, files: Path, extra: list[str]) -> None:
    outform = [] if "-outform" in extra else ["-outform", "DER"]
    signed = _ok(
        openssl("cms", "-sign", "-binary", "-nodetach", "-in", files / "content.bin",
                "-signer", p.out / "leaf.pem", "-inkey", p.key_path, *outform, *extra)
    )  # fmt: skip
    res = cms.verify(signed)
    assert res.valid, res.signers
    assert res.content_length == len(CONTENT)
    tampered = bytearray(signed)
    at = signed.find(CONTENT[:64]) if "-outform" not in extra else -1
    if at >= 0:
        tampered[at + 10] ^= 1
        assert not cms.verify(bytes(tampered)).valid


def test_we_verify_openssl_detached_pss_and_nocerts(parties: dict[str, Party], files: Path) -> None:
    p = parties["rsa"]
    signed = _ok(
        openssl("cms", "-sign", "-binary", "-in", files / "content.bin", "-outform", "DER",
                "-signer", p.out / "leaf.pem", "-inkey", p.key_path,
                "-keyopt", "rsa_padding_mode:pss", "-md", "sha384", "-nocerts")
    )  # fmt: skip
    res = cms.verify(signed, content=CONTENT)
    assert res.signers[0].reason is cms.SignerReason.CERTIFICATE_MISSING
    res = cms.verify(signed, content=CONTENT, certificates=[p.cert])
    assert res.valid and res.signers[0].signature_algorithm == "rsa-pss-sha384"
    assert not cms.verify(signed, content=CONTENT[1:], certificates=[p.cert]).valid


def test_we_verify_openssl_two_signers(parties: dict[str, Party], files: Path) -> None:
    rsa, ec = parties["rsa"], parties["ec"]
    signed = _ok(
        openssl("cms", "-sign", "-binary", "-nodetach", "-stream", "-in", files / "content.bin",
                "-outform", "DER", "-signer", rsa.out / "leaf.pem", "-inkey", rsa.key_path,
                "-signer", ec.out / "leaf.pem", "-inkey", ec.key_path)
    )  # fmt: skip
    res = cms.verify(signed)
    assert res.valid and len(res.signers) == 2


@pytest.mark.parametrize(
    "extra",
    [[], ["-stream"], ["-aes128"], ["-aes-256-gcm"], ["-aes-256-cbc", "-outform", "PEM"]],
    ids=["default", "stream", "aes128", "gcm", "pem"],
)
def test_we_decrypt_openssl_envelopes(p: Party, files: Path, extra: list[str]) -> None:
    outform = [] if "-outform" in extra else ["-outform", "DER"]
    if p.alg == "ec" and not any(x.startswith("-aes") for x in extra):
        # OpenSSL's default content cipher, 3DES, comes with the 3DES key wrap (RFC 3217) for
        # EC recipients; we read 3DES content (RSA runs) but not that wrap
        extra = [*extra, "-aes256"]
    env = _ok(
        openssl("cms", "-encrypt", "-binary", "-in", files / "content.bin", *outform, *extra,
                p.enc_cert_path)
    )  # fmt: skip
    res = cms.decrypt(env, certificate=p.enc_cert, key=p.enc_key)
    assert res.content == CONTENT
    if p.alg == "ec":
        assert res.key_encryption.startswith("ecdh-sha1kdf")  # OpenSSL's default KDF


def test_we_decrypt_openssl_oaep_and_sha256_kdf(parties: dict[str, Party], files: Path) -> None:
    rsa, ec = parties["rsa"], parties["ec"]
    env = _ok(
        openssl("cms", "-encrypt", "-binary", "-in", files / "content.bin", "-outform", "DER",
                "-aes-256-cbc", "-recip", rsa.enc_cert_path, "-keyopt", "rsa_padding_mode:oaep",
                "-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_mgf1_md:sha256",
                "-recip", ec.enc_cert_path, "-keyopt", "ecdh_kdf_md:sha256")
    )  # fmt: skip
    a = cms.decrypt(env, certificate=rsa.enc_cert, key=rsa.enc_key)
    b = cms.decrypt(env, certificate=ec.enc_cert, key=ec.enc_key)
    assert a.content == b.content == CONTENT
    assert (a.key_encryption, b.key_encryption) == ("rsa-oaep-sha256", "ecdh-sha256kdf-aes256-wrap")
