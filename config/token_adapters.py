"""A key on a ``drivers`` token as ``cert_interop.cms`` wants it: an ``ExternalSigner`` and an
``unwrap`` callable.

``drivers`` and ``cert_interop`` sit on the same floor and never import each other; this module
(floor 3) is where the two meet. The integrator API's platform keys
(:class:`config.crypto_api.TokenPlatformKey`) and the bidder's file tool (``huren bid``) both go
through :class:`TokenKey`. Errors stay the driver's typed ``TokenError`` subclasses (English and
Chinese messages); callers turn them into an HTTP status or a command-line error.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Literal, cast

from cert_interop.x509 import Certificate, parse_certificate
from drivers.api import DecryptMechanism, SignMechanism, Token, TokenCertificate
from drivers.errors import KeyNotFound, UnsupportedMechanism
from drivers.pkcs11 import DEFAULT_MODULE_PATHS

__all__ = [
    "MODULES_ENV",
    "UNWRAP_MECHANISMS",
    "TokenKey",
    "choose_certificate",
    "module_paths",
]

UNWRAP_MECHANISMS: dict[str, DecryptMechanism] = {
    "rsa-oaep-sha256": "rsa-oaep-sha256",
    "rsa-oaep-sha1": "rsa-oaep-sha1",
    "rsa-oaep": "rsa-oaep-sha1",
    "rsa-pkcs1v15": "rsa-pkcs1",
    "rsa-pkcs1": "rsa-pkcs1",
    "sm2": "sm2",
}
"""Key-transport names of :mod:`cert_interop.cms.recipients` → the driver's mechanisms."""

MODULES_ENV = "HUREN_PKCS11_MODULES"
"""Colon-separated PKCS#11 module paths probed when a ``pkcs11:`` URI names no module."""

Use = Literal["sign", "decrypt"]


def module_paths(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """The PKCS#11 modules to probe: ``$HUREN_PKCS11_MODULES`` when set, else the driver's
    list of well-known install locations."""
    env = os.environ if environ is None else environ
    raw = env.get(MODULES_ENV, "")
    listed = tuple(p for p in raw.split(":") if p.strip())
    return listed or DEFAULT_MODULE_PATHS


def _fits(entry: TokenCertificate, use: Use) -> bool:
    if use == "sign":
        return entry.usage in ("sign", "both")
    return entry.usage in ("encrypt", "both")


def choose_certificate(
    entries: Sequence[TokenCertificate],
    use: Use,
    *,
    wanted: Sequence[Certificate] | None = None,
) -> TokenCertificate:
    """The one certificate of a token to ``use``: the only one listed, or the only one whose key
    usage allows the operation (and, with ``wanted``, that is among those certificates — e.g.
    the recipients of an envelope). None or several → ``KeyNotFound`` naming the labels."""
    if not entries:
        raise KeyNotFound(
            "the USBKey or key file holds no certificate with a private key",
            "USBKey 或密钥文件中没有带私钥的证书",
        )
    candidates = list(entries) if len(entries) == 1 else [e for e in entries if _fits(e, use)]
    if wanted is not None and len(candidates) > 1:
        ders = {c.der for c in wanted}
        named = [e for e in candidates if e.certificate in ders]
        candidates = named or candidates
    if len(candidates) == 1:
        return candidates[0]
    labels = ", ".join(repr(e.label) for e in (candidates or entries))
    what, what_zh = ("sign", "签名") if use == "sign" else ("decrypt", "解密")
    if not candidates:
        raise KeyNotFound(
            f"no key on the token may {what} (certificates: {labels})",
            f"USBKey 中没有可用于{what_zh}的密钥（证书：{labels}）",
        )
    raise KeyNotFound(
        f"the token holds several keys that can {what} ({labels}); pick one with "
        "object=LABEL in the pkcs11: URI",
        f"USBKey 中有多个可用于{what_zh}的密钥（{labels}），请在 pkcs11: 地址中用 object=标签 指定",
    )


class TokenKey:
    """One key of an open token: ``sign`` is a ``cert_interop.cms.ExternalSigner``, ``unwrap``
    an ``Unwrap`` callable. The token stays owned (and closed) by the caller."""

    def __init__(self, token: Token, entry: TokenCertificate) -> None:
        self.token = token
        self.entry = entry
        self.certificate: Certificate = parse_certificate(entry.certificate)

    @property
    def key_id(self) -> bytes:
        return self.entry.key_id

    @property
    def label(self) -> str:
        return self.entry.label

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
        # the CMS algorithm names are the driver's mechanism names; the driver refuses others
        # (e.g. rsa-pkcs1-sha384) with UnsupportedMechanism
        mechanism = cast(SignMechanism, algorithm)
        return self.token.sign(self.entry.key_id, data, digest=digest, mechanism=mechanism)

    def unwrap(self, encrypted_key: bytes, algorithm: str) -> bytes:
        if algorithm == "ecdh":
            raise UnsupportedMechanism(
                "EC key agreement (ECDH) on a token is not supported; "
                "encrypt to an RSA or SM2 certificate instead",
                "不支持在 USBKey 上进行 EC 密钥协商（ECDH），请改用 RSA 或 SM2 加密证书",
            )
        mechanism = UNWRAP_MECHANISMS.get(algorithm)
        if mechanism is None:
            raise UnsupportedMechanism(
                f"key transport {algorithm!r} is not supported by the token driver",
                f"USBKey 不支持密钥传输算法 {algorithm}",
            )
        return self.token.decrypt(self.entry.key_id, encrypted_key, mechanism=mechanism)
