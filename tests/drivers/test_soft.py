"""Soft tokens: PKCS#12 files (RSA, EC) and PKCS#8 key + certificate files (SM2 too)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from cert_interop import keys, sm2
from cert_interop.sm3 import sm3
from cert_interop.x509 import key_identifier
from drivers import (
    DecryptionFailed,
    KeyNotFound,
    PinRequired,
    Token,
    TokenError,
    TokenFileInvalid,
    TokenNotFound,
    UnsupportedMechanism,
    WrongPin,
    open_token,
)
from drivers.soft import SoftToken
from tests.drivers.conftest import Issued

PASSWORD = "文件密码-2024"
CEK = bytes(range(16, 48))
SHA1 = hashes.SHA1()  # noqa: S303 - the RFC 3560 default OAEP hash


def _p12(path: Path, item: Issued, password: str | None, name: bytes | None = b"bidder") -> Path:
    key = item.key
    assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode())
        if password
        else serialization.NoEncryption()
    )
    cert = x509.load_der_x509_certificate(item.cert.der)
    path.write_bytes(pkcs12.serialize_key_and_certificates(name, key, cert, None, enc))
    return path


def _key_files(tmp_path: Path, item: Issued, password: str | None) -> tuple[Path, Path]:
    key_path, cert_path = tmp_path / "key.pem", tmp_path / "cert.pem"
    key_path.write_bytes(
        keys.dump_private_key(item.key, "pem", password.encode() if password else None)
    )
    cert_path.write_bytes(item.cert.pem())
    return key_path, cert_path


def _rsa_pub(item: Issued) -> rsa.RSAPublicKey:
    pub = x509.load_der_x509_certificate(item.cert.der).public_key()
    assert isinstance(pub, rsa.RSAPublicKey)
    return pub


# --- PKCS#12 ---------------------------------------------------------------------------------


def test_pkcs12_rsa_sign_and_decrypt(tmp_path: Path, issued: dict[str, Issued]) -> None:
    item = issued["rsa"]
    path = _p12(tmp_path / "platform.p12", item, PASSWORD)
    with SoftToken.open_pkcs12(path, PASSWORD) as tok:
        assert isinstance(tok, Token)
        [entry] = tok.certificates()
        assert entry.label == "bidder"
        assert entry.key_id == key_identifier(item.cert.public_key)
        assert (entry.key_algorithm, entry.usage) == ("rsa", "both")
        assert entry.certificate == item.cert.der
        pub = _rsa_pub(item)
        data = b"bid file digest"
        digest = hashlib.sha256(data).digest()
        for sig in (
            tok.sign(entry.key_id, data),
            tok.sign(entry.key_id, digest=digest, mechanism="rsa-pkcs1-sha256"),
        ):
            pub.verify(sig, data, padding.PKCS1v15(), hashes.SHA256())
        pss = padding.PSS(padding.MGF1(hashes.SHA256()), 32)
        for sig in (
            tok.sign(entry.key_id, data, mechanism="rsa-pss-sha256"),
            tok.sign(entry.key_id, digest=digest, mechanism="rsa-pss-sha256"),
        ):
            pub.verify(sig, data, pss, hashes.SHA256())
        for mechanism, pad in (
            ("rsa-oaep-sha256", padding.OAEP(padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)),
            ("rsa-oaep-sha1", padding.OAEP(padding.MGF1(SHA1), SHA1, None)),
            ("rsa-pkcs1", padding.PKCS1v15()),
        ):
            blob = pub.encrypt(CEK, pad)
            assert tok.decrypt(entry.key_id, blob, mechanism=mechanism) == CEK  # type: ignore[arg-type]
        with pytest.raises(DecryptionFailed):
            tok.decrypt(entry.key_id, b"\x01" * 256, mechanism="rsa-oaep-sha256")
        with pytest.raises(UnsupportedMechanism):
            tok.sign(entry.key_id, data, mechanism="ecdsa-sha256")
        with pytest.raises(UnsupportedMechanism):
            tok.decrypt(entry.key_id, b"x", mechanism="sm2")
        with pytest.raises(KeyNotFound):
            tok.sign(b"\x01", data)
    with pytest.raises(TokenError, match="closed"):
        tok.certificates()


def test_pkcs12_ec(tmp_path: Path, issued: dict[str, Issued]) -> None:
    item = issued["ec"]
    path = _p12(tmp_path / "ec.pfx", item, PASSWORD, name=None)
    with open_token(f"file:{path}", pin=PASSWORD) as tok:
        [entry] = tok.certificates()
        assert entry.label == "ec-sign"  # no friendly name: the subject CN
        assert entry.usage == "sign"
        sig = tok.sign(entry.key_id, b"challenge")
        pub = x509.load_der_x509_certificate(item.cert.der).public_key()
        assert isinstance(pub, ec.EllipticCurvePublicKey)
        pub.verify(sig, b"challenge", ec.ECDSA(hashes.SHA256()))


def test_pkcs12_wrong_or_missing_password(tmp_path: Path, issued: dict[str, Issued]) -> None:
    path = _p12(tmp_path / "p.p12", issued["rsa"], PASSWORD)
    with pytest.raises(WrongPin) as err:
        SoftToken.open_pkcs12(path, "not-the-password")
    assert err.value.retries_left is None
    assert "not-the-password" not in str(err.value)
    assert err.value.message_zh == "PIN 码错误"
    with pytest.raises(PinRequired):
        SoftToken.open_pkcs12(path, None)


def test_pkcs12_unencrypted_ignores_pin(tmp_path: Path, issued: dict[str, Issued]) -> None:
    path = _p12(tmp_path / "plain.p12", issued["rsa"], None)
    with SoftToken.open_pkcs12(path, None) as tok:
        assert tok.certificates()


def test_pkcs12_garbage_and_missing(tmp_path: Path) -> None:
    garbage = tmp_path / "x.p12"
    garbage.write_bytes(b"\x30\x03\x02\x01\x03 not a pfx")
    with pytest.raises(TokenFileInvalid):
        SoftToken.open_pkcs12(garbage, PASSWORD)
    with pytest.raises(TokenNotFound) as err:
        SoftToken.open_pkcs12(tmp_path / "missing.p12", PASSWORD)
    assert "missing.p12" in str(err.value) and "不存在" in err.value.message_zh


# --- PKCS#8 key + certificate (SM2) ----------------------------------------------------------


def test_sm2_sign(tmp_path: Path, issued: dict[str, Issued]) -> None:
    item = issued["sm2"]
    key_path, cert_path = _key_files(tmp_path, item, PASSWORD)
    pub = item.cert.public_key
    assert isinstance(pub, sm2.Sm2PublicKey)
    with open_token(f"file:{key_path}?cert={cert_path}", pin=PASSWORD) as tok:
        [entry] = tok.certificates()
        assert (entry.key_algorithm, entry.usage) == ("sm2", "sign")
        data = "投标文件".encode()
        sig = tok.sign(entry.key_id, data)
        assert sig[0] == 0x30  # DER
        assert sm2.verify(pub, sig, data, fmt="der")
        e = sm3(sm2.z_value(pub) + data)
        sig2 = tok.sign(entry.key_id, digest=e, mechanism="sm2-sm3")
        assert sm2.verify(pub, sig2, data, fmt="der")
        with pytest.raises(UnsupportedMechanism):
            tok.sign(entry.key_id, data, mechanism="rsa-pkcs1-sha256")


@pytest.mark.parametrize("mode", ["asn1", "c1c3c2"])
def test_sm2_decrypt(tmp_path: Path, issued: dict[str, Issued], mode: str) -> None:
    item = issued["sm2-enc"]
    key_path, cert_path = _key_files(tmp_path, item, PASSWORD)
    pub = item.cert.public_key
    assert isinstance(pub, sm2.Sm2PublicKey)
    with SoftToken.open_key_file(key_path, cert_path, PASSWORD) as tok:
        [entry] = tok.certificates()
        assert entry.usage == "encrypt"
        blob = sm2.encrypt(pub, CEK, mode=mode)  # type: ignore[arg-type]
        assert tok.decrypt(entry.key_id, blob, mechanism="sm2") == CEK
        with pytest.raises(DecryptionFailed):
            tok.decrypt(entry.key_id, blob[:-1] + bytes([blob[-1] ^ 1]), mechanism="sm2")
        with pytest.raises(DecryptionFailed):
            tok.decrypt(entry.key_id, b"\x05garbage", mechanism="sm2")


def test_key_file_wrong_or_missing_password(tmp_path: Path, issued: dict[str, Issued]) -> None:
    for name in ("sm2", "ec"):
        key_path, cert_path = _key_files(tmp_path, issued[name], PASSWORD)
        with pytest.raises(WrongPin):
            SoftToken.open_key_file(key_path, cert_path, "wrong")
        with pytest.raises(PinRequired):
            SoftToken.open_key_file(key_path, cert_path, None)


def test_key_file_unencrypted(tmp_path: Path, issued: dict[str, Issued]) -> None:
    key_path, cert_path = _key_files(tmp_path, issued["ec"], None)
    with SoftToken.open_key_file(key_path, cert_path, "ignored") as tok:
        assert tok.certificates()[0].label == "ec-sign"  # the subject CN


def test_certificate_of_another_key(tmp_path: Path, issued: dict[str, Issued]) -> None:
    key_path, _ = _key_files(tmp_path, issued["sm2"], PASSWORD)
    other = tmp_path / "other.pem"
    other.write_bytes(issued["sm2-enc"].cert.pem())
    with pytest.raises(TokenFileInvalid, match="does not belong"):
        SoftToken.open_key_file(key_path, other, PASSWORD)


def test_not_a_key_file(tmp_path: Path, issued: dict[str, Issued]) -> None:
    _, cert_path = _key_files(tmp_path, issued["rsa"], None)
    junk = tmp_path / "junk.pem"
    junk.write_text("hello")
    with pytest.raises(TokenFileInvalid):
        SoftToken.open_key_file(junk, cert_path, None)
    with pytest.raises(TokenFileInvalid):
        SoftToken.open_key_file(cert_path, junk, None)  # a certificate is not a key
    with pytest.raises(TokenNotFound):
        SoftToken.open_key_file(tmp_path / "nokey.pem", cert_path, None)
