"""Huren's unified USBKey driver (floor 1, no Flask).

One :class:`~drivers.api.Token` protocol over every key store: PKCS#11 modules (HSMs, USBKeys,
SoftHSM2) in :mod:`drivers.pkcs11`, key files in :mod:`drivers.soft`; :func:`open_token` picks
one from a ``file:`` or ``pkcs11:`` URI. Every failure is a :class:`~drivers.errors.TokenError`
with an English and a Chinese (``message_zh``) message.

The only other Huren code used here is the pure-library part of
``cert_interop`` (``sm2``, ``sm3``, ``keys``, ``x509``): the SM2 algorithm and certificate parsing.
"""

from drivers.api import (
    DECRYPT_MECHANISMS,
    SIGN_MECHANISMS,
    DecryptMechanism,
    KeyAlgorithm,
    KeyUsage,
    SignMechanism,
    Token,
    TokenCertificate,
)
from drivers.errors import (
    DecryptionFailed,
    InvalidTokenUri,
    KeyNotFound,
    ModuleLoadFailed,
    PinLocked,
    PinNotInitialised,
    PinRequired,
    TokenError,
    TokenFileInvalid,
    TokenNotFound,
    TokenRemoved,
    UnsupportedMechanism,
    WrongPin,
)
from drivers.uri import open_token, parse_token_uri

__all__ = [
    "DECRYPT_MECHANISMS",
    "SIGN_MECHANISMS",
    "DecryptMechanism",
    "DecryptionFailed",
    "InvalidTokenUri",
    "KeyAlgorithm",
    "KeyNotFound",
    "KeyUsage",
    "ModuleLoadFailed",
    "PinLocked",
    "PinNotInitialised",
    "PinRequired",
    "SignMechanism",
    "Token",
    "TokenCertificate",
    "TokenError",
    "TokenFileInvalid",
    "TokenNotFound",
    "TokenRemoved",
    "UnsupportedMechanism",
    "WrongPin",
    "open_token",
    "parse_token_uri",
]
