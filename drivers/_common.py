"""What every backend shares: argument checks, the context-manager base, signature and SM2
ciphertext encodings, certificate → key usage. Kept out of ``api.py`` so the protocol stays a
protocol."""

from __future__ import annotations

import hashlib
from types import TracebackType
from typing import Literal, Self

from asn1crypto import core as _core
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from cert_interop.x509 import Certificate
from drivers.api import (
    DECRYPT_MECHANISMS,
    SIGN_MECHANISMS,
    DecryptMechanism,
    KeyAlgorithm,
    KeyUsage,
    SignMechanism,
)
from drivers.errors import DecryptionFailed, TokenError, UnsupportedMechanism

SIGN_ALGORITHM: dict[SignMechanism, KeyAlgorithm] = {
    "rsa-pkcs1-sha256": "rsa",
    "rsa-pss-sha256": "rsa",
    "ecdsa-sha256": "ec",
    "sm2-sm3": "sm2",
}
DECRYPT_ALGORITHM: dict[DecryptMechanism, KeyAlgorithm] = {
    "rsa-oaep-sha256": "rsa",
    "rsa-oaep-sha1": "rsa",
    "rsa-pkcs1": "rsa",
    "sm2": "sm2",
}
DEFAULT_SIGN: dict[KeyAlgorithm, SignMechanism] = {
    "rsa": "rsa-pkcs1-sha256",
    "ec": "ecdsa-sha256",
    "sm2": "sm2-sm3",
}

SHA256_DIGEST_INFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
"""DER DigestInfo header for SHA-256: CKM_RSA_PKCS signs DigestInfo, not the bare hash."""

DIGEST_SIZE = 32  # SHA-256 and SM3
MAX_BLOB = 64 * 1024
Sm2CipherForm = Literal["c1c3c2", "c1c2c3", "asn1"]


class BaseToken:
    """Context-manager plumbing shared by the backends."""

    def close(self) -> None:  # pragma: no cover - every backend overrides it
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def check_key_id(key_id: object) -> bytes:
    if not isinstance(key_id, bytes) or not key_id:
        raise TokenError("key id must be non-empty bytes", "密钥标识必须是非空字节串")
    return key_id


def sign_request(
    algorithm: KeyAlgorithm,
    data: bytes | None,
    digest: bytes | None,
    mechanism: SignMechanism | None,
) -> SignMechanism:
    """Validate the arguments of ``Token.sign`` and return the mechanism to use.

    Raises ``UnsupportedMechanism`` when the mechanism does not fit the key, so a backend never
    asks a device for ECDSA with an RSA key (SoftHSM2 answers that with a bare general error).
    """
    if (data is None) == (digest is None):
        raise TokenError("give either data or digest, not both", "请只提供待签名数据或摘要之一")
    if data is not None and not isinstance(data, bytes):
        raise TokenError("data to sign must be bytes", "待签名数据必须是字节串")
    if digest is not None and (not isinstance(digest, bytes) or len(digest) != DIGEST_SIZE):
        raise TokenError(
            "a digest is 32 bytes (SHA-256, or SM3(Z || M) for SM2)",
            "摘要长度必须为 32 字节（SHA-256，SM2 为 SM3(Z || M)）",
        )
    if mechanism is None:
        return DEFAULT_SIGN[algorithm]
    if mechanism not in SIGN_MECHANISMS:
        raise UnsupportedMechanism(f"unknown signature mechanism {mechanism!r}")
    if SIGN_ALGORITHM[mechanism] != algorithm:
        raise UnsupportedMechanism(
            f"{mechanism} cannot be used with an {algorithm.upper()} key",
            f"{algorithm.upper()} 密钥不支持 {mechanism} 算法",
        )
    return mechanism


def decrypt_request(algorithm: KeyAlgorithm, blob: object, mechanism: DecryptMechanism) -> bytes:
    """Validate the arguments of ``Token.decrypt``; return the blob."""
    if mechanism not in DECRYPT_MECHANISMS:
        raise UnsupportedMechanism(f"unknown decryption mechanism {mechanism!r}")
    if DECRYPT_ALGORITHM[mechanism] != algorithm:
        raise UnsupportedMechanism(
            f"{mechanism} cannot be used with an {algorithm.upper()} key",
            f"{algorithm.upper()} 密钥不支持 {mechanism} 算法",
        )
    if not isinstance(blob, bytes) or not blob or len(blob) > MAX_BLOB:
        raise DecryptionFailed("the encrypted key must be non-empty bytes", "密文不能为空")
    return blob


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def raw_to_der_signature(raw: bytes) -> bytes:
    """PKCS#11 returns ECDSA / SM2 signatures as r || s; X.509, CMS and JOSE-less callers want
    the DER SEQUENCE."""
    if not raw or len(raw) % 2:
        raise TokenError("the token returned a malformed signature", "USBKey 返回的签名格式错误")
    half = len(raw) // 2
    return encode_dss_signature(
        int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
    )


def usage_of(cert: Certificate, can_sign: bool, can_decrypt: bool) -> KeyUsage:
    """The certificate's key usage decides (Chinese CAs issue separate signing and encryption
    certificates); without one, fall back to what the key itself allows."""
    if cert.key_usage is not None:
        can_sign = bool(cert.key_usage & {"digital_signature", "non_repudiation"})
        can_decrypt = bool(
            cert.key_usage & {"key_encipherment", "data_encipherment", "key_agreement"}
        )
    if can_sign and not can_decrypt:
        return "sign"
    if can_decrypt and not can_sign:
        return "encrypt"
    return "both"


class _Sm2Cipher(_core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """GM/T 0009 SM2Cipher."""

    _fields = [  # noqa: RUF012 - asn1crypto's declaration style
        ("x", _core.Integer),
        ("y", _core.Integer),
        ("hash", _core.OctetString),
        ("ciphertext", _core.OctetString),
    ]


def sm2_cipher_parts(blob: bytes) -> tuple[int, int, bytes, bytes]:
    """(x, y, C3, C2) of a GM/T 0009 ASN.1 ciphertext (starts 0x30) or of C1C3C2 bytes with the
    uncompressed C1 (starts 0x04), the two forms a CMS producer writes."""
    try:
        if blob[:1] == b"\x30":
            parsed = _Sm2Cipher.load(blob, strict=True)
            x, y = int(parsed["x"].native), int(parsed["y"].native)
            c3, c2 = bytes(parsed["hash"].native), bytes(parsed["ciphertext"].native)
        elif blob[:1] == b"\x04" and len(blob) > 65 + DIGEST_SIZE:
            x, y = int.from_bytes(blob[1:33], "big"), int.from_bytes(blob[33:65], "big")
            c3, c2 = blob[65 : 65 + DIGEST_SIZE], blob[65 + DIGEST_SIZE :]
        else:
            raise ValueError("neither ASN.1 nor C1C3C2")
    except (ValueError, TypeError, KeyError) as exc:
        raise DecryptionFailed(
            "the SM2 ciphertext is neither GM/T 0009 ASN.1 nor C1C3C2",
            "SM2 密文格式错误（应为 GM/T 0009 ASN.1 或 C1C3C2）",
        ) from exc
    if len(c3) != DIGEST_SIZE or not c2 or x < 0 or y < 0 or x.bit_length() > 256:
        raise DecryptionFailed("malformed SM2 ciphertext", "SM2 密文格式错误")
    return x, y, c3, c2


def sm2_cipher_encode(parts: tuple[int, int, bytes, bytes], form: Sm2CipherForm) -> bytes:
    """Write SM2 ciphertext parts in the form a device expects."""
    x, y, c3, c2 = parts
    if form == "asn1":
        return bytes(_Sm2Cipher({"x": x, "y": y, "hash": c3, "ciphertext": c2}).dump())
    c1 = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    return c1 + c3 + c2 if form == "c1c3c2" else c1 + c2 + c3
