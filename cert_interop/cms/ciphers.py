"""Content encryption for EnvelopedData and AuthEnvelopedData: AES-CBC, AES-GCM (RFC 5084) and
SM4-CBC (GM/T 0006 OID 1.2.156.10197.1.104.2), streamed through OpenSSL (``cryptography``).
Triple-DES-CBC is read (``openssl cms`` still defaults to it, and so did older CA kits), never
written.

CBC ciphers carry their IV as an OCTET STRING parameter (RFC 3565; GmSSL does the same for
SM4-CBC); GCM carries ``GCMParameters { nonce, icvLen }`` and its tag is the AuthEnvelopedData
``mac``.
"""

from __future__ import annotations

import io
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from cert_interop import sm4
from cert_interop.cms import der
from cert_interop.cms import oids as O
from cert_interop.cms.ber import UNIVERSAL, BerReader, read_int
from cert_interop.errors import DecryptionFailed, MalformedInput, UnsupportedAlgorithm

__all__ = ["CIPHER_NAMES", "ContentDecryptor", "ContentEncryptor", "ciphertext_length"]

CIPHER_NAMES = ("aes-256-cbc", "aes-256-gcm", "sm4-cbc")
"""What :class:`ContentEncryptor` writes (every cipher in :data:`oids.CIPHERS` is read)."""

GCM_NONCE = 12
GCM_TAG = 16


def _cbc_cipher(name: str, key: bytes, iv: bytes, *, encrypt: bool) -> Any:
    if name == "sm4-cbc":
        return sm4.CbcEncryptor(key, iv) if encrypt else sm4.CbcDecryptor(key, iv)
    if name == "des-ede3-cbc":
        return _BlockCbc(TripleDES(key), iv, encrypt=encrypt)
    return _BlockCbc(algorithms.AES(key), iv, encrypt=encrypt)


def block_size(name: str) -> int:
    return 8 if name == "des-ede3-cbc" else 16


class _BlockCbc:
    """CBC with PKCS#7 padding, streamed (what :mod:`cert_interop.sm4` does for SM4). Encryption
    pads by hand at the end instead of through a padder: one copy less per chunk."""

    def __init__(self, algorithm: Any, iv: bytes, *, encrypt: bool) -> None:
        cipher = Cipher(algorithm, modes.CBC(iv))
        self._block = algorithm.block_size // 8
        self._encrypt = encrypt
        self._total = 0
        self._ctx: Any = cipher.encryptor() if encrypt else cipher.decryptor()
        self._unpad: Any = None if encrypt else padding.PKCS7(algorithm.block_size).unpadder()

    def update(self, data: bytes) -> bytes:
        if self._encrypt:
            self._total += len(data)
            return bytes(self._ctx.update(data))
        return bytes(self._unpad.update(self._ctx.update(data)))

    def finalize(self) -> bytes:
        if self._encrypt:
            n = self._block - self._total % self._block
            return bytes(self._ctx.update(bytes([n]) * n) + self._ctx.finalize())
        try:
            tail = self._ctx.finalize()
        except ValueError as exc:
            raise DecryptionFailed("CBC ciphertext is not a whole number of blocks") from exc
        try:
            return bytes(self._unpad.update(tail) + self._unpad.finalize())
        except ValueError as exc:
            raise DecryptionFailed("CBC padding is invalid (wrong key or tampered)") from exc


def ciphertext_length(name: str, n: int) -> int:
    """Bytes of ciphertext for ``n`` bytes of content (CBC pads to the next block)."""
    if name.endswith("-gcm"):
        return n
    return n + 16 - n % 16


class ContentEncryptor:
    """A fresh random IV (CBC) or nonce (GCM) per message; ``update`` / ``finalize`` once."""

    def __init__(self, name: str, key: bytes) -> None:
        if name not in CIPHER_NAMES:
            raise UnsupportedAlgorithm(f"cipher {name!r} is not one of {', '.join(CIPHER_NAMES)}")
        self.name = name
        self.oid = O.CIPHER_OIDS[name]
        _name, size, mode = O.CIPHERS[self.oid]
        if len(key) != size:
            raise MalformedInput(f"{name} needs a {size}-byte key")
        self.gcm = mode == "gcm"
        self._tag: bytes | None = None
        if self.gcm:
            self._iv = os.urandom(GCM_NONCE)
            self._ctx: Any = Cipher(algorithms.AES(key), modes.GCM(self._iv)).encryptor()
        else:
            self._iv = os.urandom(16)
            self._ctx = _cbc_cipher(name, key, self._iv, encrypt=True)

    def algorithm_identifier(self) -> bytes:
        if self.gcm:
            return der.algorithm(self.oid, der.seq(der.octets(self._iv), der.integer(GCM_TAG)))
        return der.algorithm(self.oid, der.octets(self._iv))

    def update(self, data: bytes) -> bytes:
        return bytes(self._ctx.update(data))

    def finalize(self) -> bytes:
        out = bytes(self._ctx.finalize())
        if self.gcm:
            self._tag = bytes(self._ctx.tag)
        return out

    @property
    def tag(self) -> bytes:
        if self._tag is None:
            raise MalformedInput("no tag before finalize (or not GCM)")
        return self._tag


def _octets_param(params: bytes | None, what: str) -> bytes:
    if not params:
        raise MalformedInput(f"{what}: missing parameters")
    r = BerReader(io.BytesIO(params))
    h = r.header()
    if not h.is_(UNIVERSAL, 4, False):
        raise MalformedInput(f"{what}: the IV is not an OCTET STRING")
    value = r.primitive(h, 64)
    if not r.at_eof():
        raise MalformedInput(f"{what}: trailing data in the parameters")
    return value


def _gcm_params(params: bytes | None) -> tuple[bytes, int]:
    if not params:
        raise MalformedInput("AES-GCM: missing GCMParameters")
    r = BerReader(io.BytesIO(params))
    h = r.header()
    if not h.is_(UNIVERSAL, 16, True):
        raise MalformedInput("AES-GCM: GCMParameters is not a SEQUENCE")
    f = r.enter(h)
    nh = r.header()
    if not nh.is_(UNIVERSAL, 4, False):
        raise MalformedInput("AES-GCM: the nonce is not an OCTET STRING")
    nonce = r.primitive(nh, 64)
    icv = read_int(r) if r.more(f) else 12  # RFC 5084: aes-ICVlen DEFAULT 12
    if r.more(f):
        raise MalformedInput("AES-GCM: unexpected data in GCMParameters")
    r.leave(f)
    if not 8 <= len(nonce) <= 64:
        raise MalformedInput("AES-GCM: nonce length out of range")
    if icv not in (12, 13, 14, 15, 16):
        raise MalformedInput("AES-GCM: tag length must be 12 to 16 bytes")
    return nonce, icv


class ContentDecryptor:
    """Decrypts what :class:`ContentEncryptor` (or a peer) wrote; any failure is
    ``DecryptionFailed`` at ``finalize`` (padding, tag)."""

    def __init__(self, oid: str, params: bytes | None, key: bytes) -> None:
        known = O.CIPHERS.get(oid)
        if known is None:
            raise UnsupportedAlgorithm(f"content encryption algorithm {oid} is not supported")
        self.name, size, mode = known
        if len(key) != size:
            raise DecryptionFailed(f"the content key has the wrong length for {self.name}")
        self.gcm = mode == "gcm"
        if self.gcm:
            nonce, self.tag_length = _gcm_params(params)
            self._ctx: Any = Cipher(
                algorithms.AES(key), modes.GCM(nonce, min_tag_length=self.tag_length)
            ).decryptor()
        else:
            iv = _octets_param(params, self.name)
            if len(iv) != block_size(self.name):
                raise MalformedInput(f"{self.name}: the IV must be one block long")
            self.tag_length = 0
            self._ctx = _cbc_cipher(self.name, key, iv, encrypt=False)

    @staticmethod
    def key_length(oid: str) -> int:
        known = O.CIPHERS.get(oid)
        if known is None:
            raise UnsupportedAlgorithm(f"content encryption algorithm {oid} is not supported")
        return known[1]

    def update(self, data: bytes) -> bytes:
        return bytes(self._ctx.update(data))

    def finalize(self, tag: bytes | None = None) -> bytes:
        if not self.gcm:
            return bytes(self._ctx.finalize())
        if tag is None or len(tag) != self.tag_length:
            raise DecryptionFailed("AES-GCM: the tag is missing or has the wrong size")
        try:
            return bytes(self._ctx.finalize_with_tag(tag))
        except InvalidTag as exc:
            raise DecryptionFailed("AES-GCM authentication failed (wrong key or tampered)") from exc
