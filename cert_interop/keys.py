"""Load and save keys: PEM or DER, PKCS#8 (encrypted too), SEC1 / PKCS#1 as OpenSSL reads them,
and SubjectPublicKeyInfo.

SM2 keys (id-ecPublicKey on curve 1.2.156.10197.1.301) come back as :class:`Sm2PrivateKey` /
:class:`Sm2PublicKey` (through ``tongsuopy``); RSA and other EC curves as ``cryptography`` keys.
An encrypted SM2 PKCS#8 written here uses PBES2 with SM4-CBC (what Tongsuo chooses).
"""

from __future__ import annotations

from typing import Any, Literal

from cryptography.exceptions import UnsupportedAlgorithm as _CryUnsupported
from cryptography.hazmat.primitives import serialization as _cser
from cryptography.hazmat.primitives.asymmetric import ec as _cec
from cryptography.hazmat.primitives.asymmetric import rsa as _crsa
from tongsuopy.backends.tongsuo import backend as _ts_backend
from tongsuopy.crypto import serialization as _tser

from cert_interop.errors import (
    CertInteropError,
    DecryptionFailed,
    InvalidKey,
    MalformedInput,
    UnsupportedAlgorithm,
)
from cert_interop.sm2 import Sm2PrivateKey, Sm2PublicKey

__all__ = [
    "PrivateKey",
    "PublicKey",
    "dump_private_key",
    "dump_public_key",
    "key_algorithm",
    "load_private_key",
    "load_public_key",
]

PrivateKey = Sm2PrivateKey | _crsa.RSAPrivateKey | _cec.EllipticCurvePrivateKey
PublicKey = Sm2PublicKey | _crsa.RSAPublicKey | _cec.EllipticCurvePublicKey
KeyFormat = Literal["pem", "der"]

_MAX_KEY_BYTES = 64 * 1024


def _is_pem(data: bytes) -> bool:
    return data.lstrip()[:10] == b"-----BEGIN"


def _check_bytes(data: object) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise MalformedInput("key data must be bytes")
    raw = bytes(data)
    if not raw:
        raise MalformedInput("key data is empty")
    if len(raw) > _MAX_KEY_BYTES:
        raise MalformedInput("key data is too large")
    return raw


def _wrap_cryptography_private(key: object) -> PrivateKey:
    if isinstance(key, _crsa.RSAPrivateKey | _cec.EllipticCurvePrivateKey):
        return key
    raise UnsupportedAlgorithm(f"unsupported private key type {type(key).__name__}")


def _wrap_cryptography_public(key: object) -> PublicKey:
    if isinstance(key, _crsa.RSAPublicKey | _cec.EllipticCurvePublicKey):
        return key
    raise UnsupportedAlgorithm(f"unsupported public key type {type(key).__name__}")


def load_private_key(data: bytes, password: bytes | None = None) -> PrivateKey:
    """Load a PEM or DER private key; SM2 → ``Sm2PrivateKey``, RSA / EC → ``cryptography`` keys.

    Wrong password → ``DecryptionFailed``; password given for an unencrypted key, or none for an
    encrypted one → ``MalformedInput``; anything unparseable → ``MalformedInput``.
    """
    raw = _check_bytes(data)
    if password is not None and not isinstance(password, bytes):
        raise MalformedInput("password must be bytes")
    pem = _is_pem(raw)
    # 1. cryptography: RSA and the NIST curves, PBES2 with AES / 3DES.
    cry_error: Exception
    try:
        loaded = (
            _cser.load_pem_private_key(raw, password)
            if pem
            else _cser.load_der_private_key(raw, password)
        )
    except TypeError as exc:  # password given but not encrypted / missing for an encrypted key
        raise MalformedInput(str(exc)) from exc
    except (ValueError, _CryUnsupported) as exc:
        cry_error = exc
    except Exception as exc:  # defensive: never let a parser error escape untyped
        raise MalformedInput("cannot parse private key") from exc
    else:
        return _wrap_cryptography_private(loaded)
    # 2. tongsuopy: the SM2 curve, PBES2 with SM4.
    try:
        native = (
            _tser.load_pem_private_key(raw, password)
            if pem
            else _tser.load_der_private_key(raw, password)
        )
    except TypeError as exc:
        raise MalformedInput(str(exc)) from exc
    except Exception as exc:
        _ts_backend._consume_errors()
        text = f"{cry_error} {exc}"
        if "Curve" in str(cry_error) and isinstance(cry_error, _CryUnsupported):
            raise InvalidKey("SM2 private key rejected") from exc
        if password is not None and ("decrypt" in text.lower() or "password" in text.lower()):
            raise DecryptionFailed("wrong password or corrupt encrypted key") from exc
        if isinstance(cry_error, _CryUnsupported):
            raise UnsupportedAlgorithm(str(cry_error)) from exc
        raise MalformedInput("cannot parse private key") from exc
    try:
        return Sm2PrivateKey(native)
    except CertInteropError:
        raise UnsupportedAlgorithm("unsupported private key (not SM2, RSA or EC)") from None


def load_public_key(data: bytes) -> PublicKey:
    """Load a PEM or DER SubjectPublicKeyInfo (or PKCS#1 RSA); SM2 → ``Sm2PublicKey``."""
    raw = _check_bytes(data)
    pem = _is_pem(raw)
    cry_error: Exception
    try:
        loaded = _cser.load_pem_public_key(raw) if pem else _cser.load_der_public_key(raw)
    except (ValueError, _CryUnsupported) as exc:
        cry_error = exc
    except Exception as exc:
        raise MalformedInput("cannot parse public key") from exc
    else:
        return _wrap_cryptography_public(loaded)
    try:
        native = _tser.load_pem_public_key(raw) if pem else _tser.load_der_public_key(raw)
    except Exception as exc:
        _ts_backend._consume_errors()
        if isinstance(cry_error, _CryUnsupported):
            if "Curve" in str(cry_error):
                raise InvalidKey("SM2 public key rejected") from exc
            raise UnsupportedAlgorithm(str(cry_error)) from exc
        raise MalformedInput("cannot parse public key") from exc
    try:
        return Sm2PublicKey(native)
    except CertInteropError:
        raise UnsupportedAlgorithm("unsupported public key (not SM2, RSA or EC)") from None


def _check_fmt(fmt: str) -> None:
    if fmt not in ("pem", "der"):
        raise MalformedInput("format must be 'pem' or 'der'")


def dump_private_key(
    key: PrivateKey, fmt: KeyFormat = "pem", password: bytes | None = None
) -> bytes:
    """PKCS#8, encrypted with ``password`` when given (best available PBES2 of the backend)."""
    _check_fmt(fmt)
    if password is not None and (not isinstance(password, bytes) or not password):
        raise MalformedInput("password must be non-empty bytes")
    if isinstance(key, Sm2PrivateKey):
        enc: Any = _tser.BestAvailableEncryption(password) if password else _tser.NoEncryption()
        encoding = _tser.Encoding.PEM if fmt == "pem" else _tser.Encoding.DER
        return bytes(key.native.private_bytes(encoding, _tser.PrivateFormat.PKCS8, enc))
    if isinstance(key, _crsa.RSAPrivateKey | _cec.EllipticCurvePrivateKey):
        cenc: _cser.KeySerializationEncryption = (
            _cser.BestAvailableEncryption(password) if password else _cser.NoEncryption()
        )
        cencoding = _cser.Encoding.PEM if fmt == "pem" else _cser.Encoding.DER
        return key.private_bytes(cencoding, _cser.PrivateFormat.PKCS8, cenc)
    raise InvalidKey("not an SM2, RSA or EC private key")


def dump_public_key(key: PublicKey, fmt: KeyFormat = "pem") -> bytes:
    """SubjectPublicKeyInfo."""
    _check_fmt(fmt)
    if isinstance(key, Sm2PublicKey):
        encoding = _tser.Encoding.PEM if fmt == "pem" else _tser.Encoding.DER
        return bytes(key.native.public_bytes(encoding, _tser.PublicFormat.SubjectPublicKeyInfo))
    if isinstance(key, _crsa.RSAPublicKey | _cec.EllipticCurvePublicKey):
        cencoding = _cser.Encoding.PEM if fmt == "pem" else _cser.Encoding.DER
        return key.public_bytes(cencoding, _cser.PublicFormat.SubjectPublicKeyInfo)
    raise InvalidKey("not an SM2, RSA or EC public key")


def key_algorithm(key: PrivateKey | PublicKey) -> Literal["sm2", "rsa", "ec"]:
    if isinstance(key, Sm2PrivateKey | Sm2PublicKey):
        return "sm2"
    if isinstance(key, _crsa.RSAPrivateKey | _crsa.RSAPublicKey):
        return "rsa"
    if isinstance(key, _cec.EllipticCurvePrivateKey | _cec.EllipticCurvePublicKey):
        return "ec"
    raise InvalidKey("not an SM2, RSA or EC key")
