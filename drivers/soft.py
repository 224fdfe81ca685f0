"""Soft token: one private key and its certificate in files, the PIN being the file password.

Two layouts:

- a PKCS#12 file (``.p12`` / ``.pfx``) read with ``cryptography`` (RSA and NIST EC keys; SM2
  PKCS#12 is not readable by ``cryptography`` — export SM2 keys as PKCS#8 instead);
- a PKCS#8 key file (PEM or DER, usually encrypted) plus a certificate file (PEM or DER), read
  through ``cert_interop.keys`` so SM2 keys (PBES2 with SM4 too) work.

This is what a trial platform key or a developer's test certificate uses; the key lives in this
process's memory while the token is open. A PIN given for a file that is not encrypted is
ignored (the file is what it is; whether keys at rest must be encrypted is the operator's rule).
"""

from __future__ import annotations

import threading
from pathlib import Path

from asn1crypto import keys as _akeys
from asn1crypto import pem as _apem
from asn1crypto import pkcs12 as _apkcs12
from cryptography.exceptions import UnsupportedAlgorithm as _CryUnsupported
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import Encoding, pkcs12

from cert_interop import keys as _keys
from cert_interop import sm2 as _sm2
from cert_interop.errors import CertInteropError
from cert_interop.errors import DecryptionFailed as _CiDecryptionFailed
from cert_interop.x509 import Certificate, key_identifier, parse_certificate, public_key_info
from drivers._common import (
    BaseToken,
    check_key_id,
    decrypt_request,
    sign_request,
    usage_of,
)
from drivers.api import DecryptMechanism, SignMechanism, TokenCertificate
from drivers.errors import (
    DecryptionFailed,
    KeyNotFound,
    PinRequired,
    TokenError,
    TokenFileInvalid,
    TokenNotFound,
    UnsupportedMechanism,
    WrongPin,
)

__all__ = ["MAX_FILE_BYTES", "SoftToken"]

MAX_FILE_BYTES = 1024 * 1024
PKCS12_SUFFIXES = (".p12", ".pfx")


def _read(path: Path, what: str) -> bytes:
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise TokenNotFound(f"{what} {path} does not exist", f"{_zh(what)} {path} 不存在") from None
    except OSError as exc:
        raise TokenNotFound(
            f"{what} {path} cannot be read: {exc.strerror}", f"无法读取{_zh(what)} {path}"
        ) from None
    if size > MAX_FILE_BYTES:
        raise TokenFileInvalid(f"{what} {path} is too large", f"{_zh(what)} {path} 过大")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TokenNotFound(
            f"{what} {path} cannot be read: {exc.strerror}", f"无法读取{_zh(what)} {path}"
        ) from None


def _zh(what: str) -> str:
    return {"key file": "密钥文件", "certificate file": "证书文件"}.get(what, "文件")


def _password(pin: str | None) -> bytes | None:
    return None if pin is None else pin.encode("utf-8")


def _is_pfx(data: bytes) -> bool:
    """Whether ``data`` is structurally a PKCS#12 PFX, so a failed open means a wrong password
    rather than a wrong file."""
    try:
        pfx = _apkcs12.Pfx.load(data, strict=True)
        return bool(pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native)
    except Exception:  # asn1crypto raises many types on garbage
        return False


def _is_encrypted_pkcs8(data: bytes) -> bool:
    """Whether a key file is password-protected (EncryptedPrivateKeyInfo or legacy
    ``Proc-Type: 4,ENCRYPTED`` PEM), so a missing PIN can be told from a broken file."""
    der = data
    if data.lstrip()[:10] == b"-----BEGIN":
        try:
            kind, headers, der = _apem.unarmor(data.strip())
        except Exception:
            return False
        if kind == "ENCRYPTED PRIVATE KEY" or "ENCRYPTED" in headers.get("Proc-Type", ""):
            return True
    try:
        info = _akeys.EncryptedPrivateKeyInfo.load(der, strict=True)
        return bool(info["encryption_algorithm"]["algorithm"].dotted)
    except Exception:
        return False


class SoftToken(BaseToken):
    """A :class:`drivers.api.Token` over one key and its certificate held in memory."""

    def __init__(self, key: _keys.PrivateKey, certificate: bytes, *, label: str) -> None:
        """Use :meth:`open_pkcs12` or :meth:`open_key_file`; this checks that the certificate
        belongs to the key."""
        try:
            cert = parse_certificate(certificate)
        except CertInteropError as exc:
            raise TokenFileInvalid(
                f"the certificate cannot be read: {exc}", "证书文件无法解析"
            ) from None
        if public_key_info(cert.public_key) != public_key_info(key.public_key()):
            raise TokenFileInvalid(
                "the certificate does not belong to the private key", "证书与私钥不匹配"
            )
        self._lock = threading.Lock()
        self._key: _keys.PrivateKey | None = key
        self._cert: Certificate = cert
        self._key_id = key_identifier(cert.public_key)
        self._entry = TokenCertificate(
            label=label or cert.subject.common_name or "key",
            key_id=self._key_id,
            certificate=cert.der,
            key_algorithm=cert.key_algorithm,
            usage=usage_of(cert, True, not isinstance(key, ec.EllipticCurvePrivateKey)),
        )

    @classmethod
    def open_pkcs12(cls, path: str | Path, pin: str | None) -> SoftToken:
        """Open a PKCS#12 file; ``pin`` is its password."""
        path = Path(path)
        data = _read(path, "key file")
        try:
            loaded = pkcs12.load_pkcs12(data, _password(pin))
        except _CryUnsupported as exc:
            raise UnsupportedMechanism(
                f"{path} uses an algorithm this build cannot read ({exc}); "
                "SM2 keys must be given as a PKCS#8 key file and a certificate file",
                "该 PKCS#12 文件使用了不支持的算法；SM2 密钥请使用 PKCS#8 私钥文件和证书文件",
            ) from None
        except (ValueError, TypeError):
            if not _is_pfx(data):
                raise TokenFileInvalid(
                    f"{path} is not a PKCS#12 file", f"{path} 不是 PKCS#12 文件"
                ) from None
            if pin is None:
                raise PinRequired() from None
            raise WrongPin() from None
        if loaded.key is None or loaded.cert is None:
            raise TokenFileInvalid(
                f"{path} holds no private key with its certificate",
                f"{path} 中没有私钥及其证书",
            )
        key = loaded.key
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise UnsupportedMechanism(
                f"{path} holds a {type(key).__name__}; only RSA, EC and SM2 keys are supported",
                "仅支持 RSA、EC 和 SM2 密钥",
            )
        name = loaded.cert.friendly_name
        label = name.decode("utf-8", "replace") if name else ""
        return cls(key, loaded.cert.certificate.public_bytes(Encoding.DER), label=label)

    @classmethod
    def open_key_file(
        cls, key_path: str | Path, cert_path: str | Path, pin: str | None
    ) -> SoftToken:
        """Open a PKCS#8 key file (PEM/DER, encrypted with ``pin``) and its certificate file."""
        key_path, cert_path = Path(key_path), Path(cert_path)
        key_data = _read(key_path, "key file")
        cert_data = _read(cert_path, "certificate file")
        encrypted = _is_encrypted_pkcs8(key_data)
        if encrypted and pin is None:
            raise PinRequired()
        try:
            key = _keys.load_private_key(key_data, _password(pin) if encrypted else None)
        except _CiDecryptionFailed:
            raise WrongPin() from None
        except CertInteropError as exc:
            if encrypted:  # cryptography and Tongsuo report a bad password in many ways
                raise WrongPin() from None
            raise TokenFileInvalid(
                f"{key_path} is not a private key file: {exc}", f"{key_path} 不是私钥文件"
            ) from None
        return cls(key, cert_data, label="")

    # --- Token -----------------------------------------------------------------------------

    def certificates(self) -> list[TokenCertificate]:
        self._live()
        return [self._entry]

    def sign(
        self,
        key_id: bytes,
        data: bytes | None = None,
        *,
        digest: bytes | None = None,
        mechanism: SignMechanism | None = None,
    ) -> bytes:
        key = self._find(key_id)
        mechanism = sign_request(self._entry.key_algorithm, data, digest, mechanism)
        with self._lock:
            if isinstance(key, _sm2.Sm2PrivateKey):
                if data is not None:
                    return _sm2.sign(key, data)
                assert digest is not None
                return _sm2.sign_digest(key, digest)
            hashing: hashes.HashAlgorithm | Prehashed = (
                hashes.SHA256() if data is not None else Prehashed(hashes.SHA256())
            )
            message = data if data is not None else digest
            assert message is not None
            if isinstance(key, ec.EllipticCurvePrivateKey):
                return key.sign(message, ec.ECDSA(hashing))
            pad: padding.AsymmetricPadding = (
                padding.PKCS1v15()
                if mechanism == "rsa-pkcs1-sha256"
                else padding.PSS(padding.MGF1(hashes.SHA256()), 32)
            )
            return key.sign(message, pad, hashing)

    def decrypt(self, key_id: bytes, blob: bytes, *, mechanism: DecryptMechanism) -> bytes:
        key = self._find(key_id)
        blob = decrypt_request(self._entry.key_algorithm, blob, mechanism)
        with self._lock:
            if isinstance(key, _sm2.Sm2PrivateKey):
                try:
                    return _sm2.decrypt(key, blob, mode="asn1" if blob[0] == 0x30 else "c1c3c2")
                except CertInteropError:
                    raise DecryptionFailed() from None
            if not isinstance(key, rsa.RSAPrivateKey):  # pragma: no cover - decrypt_request
                raise UnsupportedMechanism()
            pad: padding.AsymmetricPadding
            if mechanism == "rsa-pkcs1":
                pad = padding.PKCS1v15()
            else:
                h: hashes.HashAlgorithm = (
                    hashes.SHA256() if mechanism == "rsa-oaep-sha256" else hashes.SHA1()  # noqa: S303
                )
                pad = padding.OAEP(padding.MGF1(h), h, None)
            try:
                return key.decrypt(blob, pad)
            except ValueError:
                raise DecryptionFailed() from None

    def close(self) -> None:
        with self._lock:
            self._key = None

    # --- helpers ---------------------------------------------------------------------------

    def _live(self) -> _keys.PrivateKey:
        key = self._key
        if key is None:
            raise TokenError("the key file has been closed", "密钥文件已关闭")
        return key

    def _find(self, key_id: bytes) -> _keys.PrivateKey:
        key = self._live()
        if check_key_id(key_id) != self._key_id:
            raise KeyNotFound()
        return key
