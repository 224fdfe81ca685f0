"""SM4 (GB/T 32907) through ``cryptography`` (OpenSSL, native).

CBC with PKCS#7 padding (one-shot and streaming with constant memory), GCM (ciphertext || 16-byte
tag), and ECB for legacy decryption only.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from cert_interop.errors import DecryptionFailed, InvalidKey, MalformedInput

KEY_SIZE = 16
BLOCK_SIZE = 16
GCM_TAG_SIZE = 16


def _check_key(key: bytes) -> algorithms.SM4:
    if not isinstance(key, bytes | bytearray | memoryview) or len(key) != KEY_SIZE:
        raise InvalidKey(f"SM4 key must be {KEY_SIZE} bytes")
    return algorithms.SM4(bytes(key))


def _check_iv(iv: bytes) -> bytes:
    if not isinstance(iv, bytes | bytearray | memoryview) or len(iv) != BLOCK_SIZE:
        raise MalformedInput(f"SM4-CBC IV must be {BLOCK_SIZE} bytes")
    return bytes(iv)


class CbcEncryptor:
    """Streaming SM4-CBC encryptor with PKCS#7 padding: ``update`` then ``finalize`` once."""

    __slots__ = ("_ctx", "_padder")

    def __init__(self, key: bytes, iv: bytes) -> None:
        self._ctx = Cipher(_check_key(key), modes.CBC(_check_iv(iv))).encryptor()
        self._padder = padding.PKCS7(BLOCK_SIZE * 8).padder()

    def update(self, data: bytes) -> bytes:
        return self._ctx.update(self._padder.update(data))

    def finalize(self) -> bytes:
        return self._ctx.update(self._padder.finalize()) + self._ctx.finalize()


class CbcDecryptor:
    """Streaming SM4-CBC decryptor removing PKCS#7 padding; bad padding → ``DecryptionFailed``."""

    __slots__ = ("_ctx", "_unpadder")

    def __init__(self, key: bytes, iv: bytes) -> None:
        self._ctx = Cipher(_check_key(key), modes.CBC(_check_iv(iv))).decryptor()
        self._unpadder = padding.PKCS7(BLOCK_SIZE * 8).unpadder()

    def update(self, data: bytes) -> bytes:
        return self._unpadder.update(self._ctx.update(data))

    def finalize(self) -> bytes:
        try:
            tail = self._ctx.finalize()
        except ValueError as exc:  # not a whole number of blocks
            raise DecryptionFailed("SM4-CBC ciphertext is not a multiple of 16 bytes") from exc
        try:
            return self._unpadder.update(tail) + self._unpadder.finalize()
        except ValueError as exc:
            raise DecryptionFailed("SM4-CBC padding is invalid") from exc


def cbc_encryptor(key: bytes, iv: bytes) -> CbcEncryptor:
    return CbcEncryptor(key, iv)


def cbc_decryptor(key: bytes, iv: bytes) -> CbcDecryptor:
    return CbcDecryptor(key, iv)


def encrypt_cbc(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """SM4-CBC with PKCS#7 padding."""
    enc = CbcEncryptor(key, iv)
    return enc.update(plaintext) + enc.finalize()


def decrypt_cbc(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """Inverse of :func:`encrypt_cbc`; wrong length or bad padding → ``DecryptionFailed``."""
    if len(ciphertext) == 0 or len(ciphertext) % BLOCK_SIZE:
        raise DecryptionFailed("SM4-CBC ciphertext must be a non-empty multiple of 16 bytes")
    dec = CbcDecryptor(key, iv)
    return dec.update(ciphertext) + dec.finalize()


def _check_nonce(nonce: bytes) -> bytes:
    if not isinstance(nonce, bytes | bytearray | memoryview) or not 8 <= len(nonce) <= 128:
        raise MalformedInput("SM4-GCM nonce must be 8 to 128 bytes (12 recommended)")
    return bytes(nonce)


def encrypt_gcm(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """SM4-GCM; returns ciphertext || 16-byte tag."""
    enc = Cipher(_check_key(key), modes.GCM(_check_nonce(nonce))).encryptor()
    if aad:
        enc.authenticate_additional_data(aad)
    ct = enc.update(plaintext) + enc.finalize()
    return ct + enc.tag


def decrypt_gcm(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes = b"") -> bytes:
    """Inverse of :func:`encrypt_gcm`; wrong key, tag, AAD or truncation → ``DecryptionFailed``."""
    algo = _check_key(key)
    nonce = _check_nonce(nonce)
    if len(ciphertext) < GCM_TAG_SIZE:
        raise DecryptionFailed("SM4-GCM ciphertext is shorter than its tag")
    body, tag = ciphertext[:-GCM_TAG_SIZE], ciphertext[-GCM_TAG_SIZE:]
    dec = Cipher(algo, modes.GCM(nonce, tag)).decryptor()
    if aad:
        dec.authenticate_additional_data(aad)
    try:
        return dec.update(body) + dec.finalize()
    except InvalidTag as exc:
        raise DecryptionFailed("SM4-GCM authentication failed") from exc


def decrypt_ecb(key: bytes, ciphertext: bytes) -> bytes:
    """SM4-ECB decryption without padding removal. Legacy data only: never encrypt with ECB."""
    if len(ciphertext) % BLOCK_SIZE:
        raise DecryptionFailed("SM4-ECB ciphertext must be a multiple of 16 bytes")
    dec = Cipher(_check_key(key), modes.ECB()).decryptor()  # noqa: S305 - legacy decryption
    return dec.update(ciphertext) + dec.finalize()


def encrypt_ecb_block(key: bytes, block: bytes, rounds: int = 1) -> bytes:
    """Encrypt one 16-byte block with SM4 ``rounds`` times (the raw block cipher).

    Exists for the standard's test vectors (one round and 1,000,000 rounds); not a mode to use.
    """
    if len(block) != BLOCK_SIZE:
        raise MalformedInput("SM4 block must be 16 bytes")
    if rounds < 1:
        raise MalformedInput("rounds must be at least 1")
    enc = Cipher(_check_key(key), modes.ECB()).encryptor()  # noqa: S305 - block-cipher vectors
    out = bytes(block)
    update = enc.update
    for _ in range(rounds):
        out = update(out)
    return out
