"""SM3 (GB/T 32905) and HMAC-SM3 through ``cryptography`` (OpenSSL, native)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac

DIGEST_SIZE = 32
BLOCK_SIZE = 64


def sm3(data: bytes) -> bytes:
    """Return the 32-byte SM3 digest of ``data``."""
    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize()


class SM3:
    """Streaming SM3 hasher; ``digest()`` may be called repeatedly and more data added after it."""

    digest_size = DIGEST_SIZE
    block_size = BLOCK_SIZE
    name = "sm3"

    __slots__ = ("_h",)

    def __init__(self, data: bytes = b"") -> None:
        self._h = hashes.Hash(hashes.SM3())
        if data:
            self._h.update(data)

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def digest(self) -> bytes:
        return self._h.copy().finalize()

    def hexdigest(self) -> str:
        return self.digest().hex()

    def copy(self) -> SM3:
        other = SM3.__new__(SM3)
        other._h = self._h.copy()
        return other


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """Return HMAC-SM3(key, data) (RFC 2104 over SM3), 32 bytes."""
    h = _hmac.HMAC(key, hashes.SM3())
    h.update(data)
    return h.finalize()
