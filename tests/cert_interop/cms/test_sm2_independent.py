"""SM2 SignedData and EnvelopedData checked by parties other than our own code.

OpenSSL 3.0's `cms` cannot process SM2 (see test_openssl.py), so each part is checked apart:
- structure: `openssl asn1parse` reads our GM/T 0010 messages and shows the OIDs;
- the messageDigest attribute is SM3 of the content as computed by `gmssl` (pure Python);
- the signature over the DER of the signed attributes verifies with the plain-Python GB/T 32918
  verifier of the x509 tests and with `openssl pkeyutl -verify -rawin -digest sm3` given the
  default user ID (`-pkeyopt distid:1234567812345678`);
- the envelope's content key decrypts with `gmssl`'s SM2 and with `openssl pkeyutl -decrypt`, and
  the content with `gmssl`'s SM4-CBC and with `openssl enc -sm4-cbc`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import cms as acms
from asn1crypto.core import Sequence

from cert_interop import cms, keys, sm2
from cert_interop.cms import oids
from tests.cert_interop.x509.test_certificates import _independent_sm2_verify

from .conftest import Party

gmssl_sm2 = pytest.importorskip("gmssl.sm2")
gmssl_sm3 = pytest.importorskip("gmssl.sm3")
gmssl_sm4 = pytest.importorskip("gmssl.sm4")
gmssl_func = pytest.importorskip("gmssl.func")
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")

CONTENT = "国密投标文件 SM2/SM3/SM4\n".encode() * 200


def _gm_sm3(data: bytes) -> bytes:
    return bytes.fromhex(gmssl_sm3.sm3_hash(gmssl_func.bytes_to_list(data)))


def _signer_info(message: bytes) -> acms.SignerInfo:
    sd = acms.ContentInfo.load(message)["content"].parse(acms.SignedData)
    return sd["signer_infos"][0]


@pytest.fixture(scope="module")
def sm2p(parties: dict[str, Party]) -> Party:
    return parties["sm2"]


@needs_openssl
def test_openssl_asn1parse_reads_our_structures(sm2p: Party, tmp_path: Path) -> None:
    signed = tmp_path / "s.der"
    signed.write_bytes(cms.sign(CONTENT, None, [(sm2p.key, sm2p.cert, sm2p.chain)]))
    env = tmp_path / "e.der"
    env.write_bytes(cms.encrypt(CONTENT, None, [sm2p.enc_cert]))
    for path, expected in (
        (signed, [oids.GM_SIGNED_DATA, oids.GM_DATA, "sm3", oids.SM2_SIGN, "messageDigest"]),
        (env, [oids.GM_ENVELOPED_DATA, oids.GM_DATA, oids.SM2_ENCRYPT, "sm4-cbc"]),
    ):
        res = subprocess.run(
            ["openssl", "asn1parse", "-inform", "DER", "-in", path, "-i"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        for fragment in expected:
            assert fragment in res.stdout, (fragment, res.stdout[:2000])


@pytest.mark.parametrize("detached", [False, True])
def test_signature_verifies_independently(sm2p: Party, detached: bool) -> None:
    message = cms.sign(CONTENT, None, [(sm2p.key, sm2p.cert)], detached=detached)
    si = _signer_info(message)
    attrs = {a["type"].dotted: a["values"][0] for a in si["signed_attrs"]}
    assert bytes(attrs[oids.ATTR_MESSAGE_DIGEST].native) == _gm_sm3(CONTENT)
    signed_attrs = b"\x31" + bytes(si["signed_attrs"].dump())[1:]
    sig = bytes(si["signature"].native)
    xy = sm2p.cert.public_key.xy  # type: ignore[union-attr]
    assert _independent_sm2_verify(xy, sig, signed_attrs)
    assert not _independent_sm2_verify(xy, sig, signed_attrs + b"\0")


@needs_openssl
def test_openssl_pkeyutl_verifies_the_signature(sm2p: Party, tmp_path: Path) -> None:
    si = _signer_info(cms.sign(CONTENT, None, [(sm2p.key, sm2p.cert)]))
    (tmp_path / "attrs.der").write_bytes(b"\x31" + bytes(si["signed_attrs"].dump())[1:])
    (tmp_path / "sig.der").write_bytes(bytes(si["signature"].native))
    (tmp_path / "pub.pem").write_bytes(keys.dump_public_key(sm2p.cert.public_key))
    base = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", tmp_path / "pub.pem", "-rawin",
            "-digest", "sm3", "-sigfile", tmp_path / "sig.der"]  # fmt: skip
    ok = subprocess.run(
        [*base, "-in", tmp_path / "attrs.der", "-pkeyopt", "distid:1234567812345678"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert ok.returncode == 0 and "Success" in ok.stdout, ok.stdout + ok.stderr
    # without the default ID (OpenSSL's empty ID) it must fail: the Z value is really applied
    bad = subprocess.run(
        [*base, "-in", tmp_path / "attrs.der"], capture_output=True, timeout=30, check=False
    )
    assert bad.returncode != 0


def _envelope_parts(env: bytes) -> tuple[bytes, bytes, bytes]:
    """(SM2-encrypted key, SM4 IV, ciphertext) of a one-recipient GM/T 0010 envelope."""
    ed = acms.ContentInfo.load(env)["content"].parse(acms.EnvelopedData)
    ek = bytes(ed["recipient_infos"][0].chosen["encrypted_key"].native)
    eci = ed["encrypted_content_info"]
    iv = bytes(eci["content_encryption_algorithm"]["parameters"].parse().native)
    return ek, iv, bytes(eci["encrypted_content"].native)


def test_gmssl_opens_our_envelope(sm2p: Party) -> None:
    ek, iv, ct = _envelope_parts(cms.encrypt(CONTENT, None, [sm2p.enc_cert]))
    # GM/T 0009 SM2Cipher {x, y, C3, C2} → C1 || C3 || C2 without the 04 prefix (gmssl mode 1)
    parsed = Sequence.load(ek)
    x, y = parsed[0].native, parsed[1].native
    c3, c2 = parsed[2].native, parsed[3].native
    c1c3c2 = x.to_bytes(32, "big") + y.to_bytes(32, "big") + c3 + c2
    d_hex = sm2.private_key_to_hex(sm2p.enc_key)  # type: ignore[arg-type]
    peer = gmssl_sm2.CryptSM2(private_key=d_hex, public_key="", mode=1)
    cek = peer.decrypt(c1c3c2)
    assert len(cek) == 16
    sm4 = gmssl_sm4.CryptSM4()
    sm4.set_key(cek, gmssl_sm4.SM4_DECRYPT)
    assert bytes(sm4.crypt_cbc(iv, ct)) == CONTENT  # PKCS#7 padding removed by gmssl


@needs_openssl
def test_openssl_opens_our_envelope(sm2p: Party, tmp_path: Path) -> None:
    ek, iv, ct = _envelope_parts(cms.encrypt(CONTENT, None, [sm2p.enc_cert]))
    (tmp_path / "ek.der").write_bytes(ek)
    (tmp_path / "ct.bin").write_bytes(ct)
    cek = subprocess.run(
        ["openssl", "pkeyutl", "-decrypt", "-inkey", sm2p.enc_key_path, "-in",
         tmp_path / "ek.der"],
        capture_output=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert len(cek) == 16
    plain = subprocess.run(
        ["openssl", "enc", "-d", "-sm4-cbc", "-K", cek.hex(), "-iv", iv.hex(), "-in",
         tmp_path / "ct.bin"],
        capture_output=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    assert plain == CONTENT
