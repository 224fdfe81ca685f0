"""Encryption of secrets at rest (private keys, later PINs) under the service's master secret.

AES-256-GCM with a key derived per purpose by HKDF, so a sealed signing key can't be replayed as
some other kind of secret; the purpose is also bound as associated data.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import StorageError

VERSION = b"\x01"


class SealedDataError(StorageError):
    """The sealed value was tampered with, or the master secret is not the one that sealed it."""


def _key(master: bytes, purpose: str) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=b"huren-at-rest", info=purpose.encode()).derive(master)


def seal(master: bytes, purpose: str, plaintext: bytes) -> bytes:
    nonce = os.urandom(12)
    return (
        VERSION + nonce + AESGCM(_key(master, purpose)).encrypt(nonce, plaintext, purpose.encode())
    )


def unseal(master: bytes, purpose: str, sealed: bytes) -> bytes:
    if len(sealed) < 29 or sealed[:1] != VERSION:
        raise SealedDataError("sealed value is malformed")
    try:
        return AESGCM(_key(master, purpose)).decrypt(sealed[1:13], sealed[13:], purpose.encode())
    except InvalidTag:
        raise SealedDataError("sealed value failed authentication (wrong master secret?)") from None
