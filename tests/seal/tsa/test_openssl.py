"""Interop with a real peer: ``openssl ts`` writes the queries, reads and verifies our replies.

OpenSSL 3.0 cannot verify SM2 CMS signatures, so SM2 replies are only parsed by it here and
verified with verify_token plus a direct SM2 check of the signed attributes.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms

from cert_interop import signatures
from seal.tsa import (
    TimeStampAuthority,
    TimestampImprintMismatch,
    build_request,
    parse_response,
    verify_token,
)
from seal.tsa.oids import DEFAULT_POLICY
from tests.seal.tsa.conftest import Pki, pki_for

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

DATA = "公共资源交易 bid file\n".encode() * 100


def openssl(*args: str | Path) -> str:
    done = subprocess.run(
        ["openssl", *map(str, args)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout + done.stderr


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "data.bin").write_bytes(DATA)
    return tmp_path


def answer(authority: TimeStampAuthority, d: Path, *query_args: str) -> Path:
    openssl("ts", "-query", "-data", d / "data.bin", *query_args, "-out", d / "req.tsq")
    (d / "resp.tsr").write_bytes(authority.respond((d / "req.tsq").read_bytes()))
    return d / "resp.tsr"


def write_pki(pki: Pki, d: Path) -> None:
    (d / "ca.pem").write_bytes(pki.ca.pem())
    (d / "tsa.pem").write_bytes(pki.cert.pem())


@pytest.mark.parametrize("alg", ["rsa", "ec"])
@pytest.mark.parametrize(
    "query",
    [
        ("-sha256", "-cert", "-no_nonce"),
        ("-sha256", "-cert"),
        ("-sha384", "-cert"),
        ("-sha512",),  # no certReq: the TSA certificate comes from -untrusted
    ],
)
def test_openssl_verifies_our_replies(files: Path, alg: str, query: tuple[str, ...]) -> None:
    pki = pki_for(alg)
    write_pki(pki, files)
    authority = TimeStampAuthority(pki.key, pki.cert, chain=[pki.ca])
    reply = answer(authority, files, *query)
    text = openssl("ts", "-reply", "-in", reply, "-text")
    assert "Status: Granted." in text
    assert f"Policy OID: {DEFAULT_POLICY}" in text
    assert ("Nonce: unspecified" in text) == ("-no_nonce" in query)
    trust = ("-CAfile", files / "ca.pem", "-untrusted", files / "tsa.pem")
    out = openssl("ts", "-verify", "-data", files / "data.bin", "-in", reply, *trust)
    assert "Verification: OK" in out
    # against the query: imprint, nonce and policy all checked by OpenSSL
    out = openssl("ts", "-verify", "-queryfile", files / "req.tsq", "-in", reply, *trust)
    assert "Verification: OK" in out


def test_openssl_refuses_a_tampered_reply(files: Path) -> None:
    pki = pki_for("rsa")
    write_pki(pki, files)
    reply = answer(TimeStampAuthority(pki.key, pki.cert), files, "-sha256", "-cert")
    (files / "other.bin").write_bytes(DATA + b"!")
    done = subprocess.run(
        ["openssl", "ts", "-verify", "-data", str(files / "other.bin"), "-in", str(reply),
         "-CAfile", str(files / "ca.pem"), "-untrusted", str(files / "tsa.pem")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "Verification: FAILED" in done.stdout + done.stderr


@pytest.mark.parametrize("hash_flag", ["-sm3", "-sha256"])
def test_sm2_replies_parse_in_openssl_and_verify_here(files: Path, hash_flag: str) -> None:
    pki = pki_for("sm2")
    authority = TimeStampAuthority(pki.key, pki.cert, chain=[pki.ca])
    reply = answer(authority, files, hash_flag, "-cert")
    text = openssl("ts", "-reply", "-in", reply, "-text")
    assert "Status: Granted." in text
    hash_name = hash_flag[1:]
    digest = hashlib.new(hash_name, DATA).digest()
    token = parse_response(reply.read_bytes()).token
    assert token is not None
    info = verify_token(token, digest, hash_name)
    assert info.tsa_certificate.der == pki.cert.der
    (si,) = cms.ContentInfo.load(token)["content"]["signer_infos"]
    signed = b"\x31" + si["signed_attrs"].dump()[1:]
    assert signatures.verify(pki.cert.public_key, "sm2-sm3", si["signature"].native, data=signed)


def test_openssl_reads_our_rejections(files: Path) -> None:
    pki = pki_for("ec")
    reply = answer(TimeStampAuthority(pki.key, pki.cert), files, "-sha1", "-cert")
    text = openssl("ts", "-reply", "-in", reply, "-text")
    assert "Status: Rejected." in text
    assert "unrecognized or unsupported algorithm identifier" in text
    policy = answer(
        TimeStampAuthority(pki.key, pki.cert), files, "-sha256", "-tspolicy", "1.2.3.4.5"
    )
    text = openssl("ts", "-reply", "-in", policy, "-text")
    assert "Status: Rejected." in text
    assert "requested TSA policy is not supported" in text


TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = {d}/serial
crypto_device = builtin
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = {ess}
"""


@pytest.mark.parametrize("alg", ["rsa", "ec"])
@pytest.mark.parametrize("ess", ["sha256", "sha1"])  # signingCertificateV2, signingCertificate
def test_our_verifier_accepts_tokens_of_openssl_as_tsa(files: Path, alg: str, ess: str) -> None:
    from cert_interop.keys import dump_private_key

    pki = pki_for(alg)
    write_pki(pki, files)
    (files / "key.pem").write_bytes(dump_private_key(pki.key))
    (files / "serial").write_text("01\n")
    (files / "tsa.cnf").write_text(TSA_CONFIG.format(d=files, ess=ess))
    digest = hashlib.sha256(DATA).digest()
    (files / "req.tsq").write_bytes(build_request(digest, "sha256", nonce=31337))
    openssl(
        "ts", "-reply", "-config", files / "tsa.cnf", "-queryfile", files / "req.tsq",
        "-inkey", files / "key.pem", "-signer", files / "tsa.pem", "-out", files / "resp.tsr",
    )  # fmt: skip
    token = parse_response((files / "resp.tsr").read_bytes()).token
    assert token is not None
    info = verify_token(token, digest, "sha256", nonce=31337, policy="1.2.3.4.1")
    assert info.tsa_certificate.der == pki.cert.der
    assert info.serial == 2  # OpenSSL stamps the serial file's value plus one
    with pytest.raises(TimestampImprintMismatch):
        verify_token(token, hashlib.sha256(b"other").digest(), "sha256")
