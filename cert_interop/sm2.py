"""SM2 (GB/T 32918) signatures and public-key encryption, native through ``tongsuopy``.

Everything runs in Tongsuo's libcrypto (bundled with ``tongsuopy``):

- signing/verifying with the default user ID uses tongsuopy's ``sign``/``verify`` with
  ``ECDSA(SM3())``, which applies the Z value of ``1234567812345678``;
- another user ID: tongsuopy 1.0.1 cannot set the ID, so we compute Z and e = SM3(Z || M) here
  (two SM3 calls) and sign/verify the digest with ``EVP_PKEY_sign``/``EVP_PKEY_verify`` on the same
  key (raw SM2 over a digest, no Z applied by libcrypto);
- encryption/decryption: tongsuopy has no Python API for it, but its cffi binding exposes
  ``EVP_PKEY_encrypt``/``EVP_PKEY_decrypt``, which produce and read the GM/T 0009 ASN.1 form; the
  C1C3C2 / C1C2C3 byte forms are converted here.

Nothing here falls back to pure Python.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from tongsuopy.backends.tongsuo import backend as _backend
from tongsuopy.crypto import hashes as _ts_hashes
from tongsuopy.crypto import serialization as _ts_ser
from tongsuopy.crypto.asymciphers import ec as _ts_ec
from tongsuopy.crypto.exceptions import InvalidSignature as _TsInvalidSignature

from cert_interop.errors import DecryptionFailed, InvalidKey, MalformedInput
from cert_interop.sm3 import sm3

__all__ = [
    "DEFAULT_ID",
    "Sm2PrivateKey",
    "Sm2PublicKey",
    "decrypt",
    "encrypt",
    "generate_private_key",
    "private_key_from_hex",
    "private_key_to_hex",
    "public_key_from_hex",
    "public_key_to_hex",
    "sign",
    "sign_digest",
    "verify",
    "verify_digest",
    "z_value",
]

DEFAULT_ID = b"1234567812345678"

# Recommended curve parameters (GB/T 32918.5).
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0

_ABGXY = b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY))
_MAX_ID_BYTES = 0xFFFF // 8  # ENTL is the ID length in bits on 16 bits

_lib: Any = _backend._lib
_ffi: Any = _backend._ffi

SignatureFormat = Literal["der", "raw"]
CipherMode = Literal["c1c3c2", "c1c2c3", "asn1"]


def _is_sm2_curve(key: Any) -> bool:
    return isinstance(getattr(key, "curve", None), _ts_ec.SM2)


class Sm2PublicKey:
    """An SM2 public key (thin wrapper over a tongsuopy key, which ``native`` returns)."""

    __slots__ = ("_key", "_xy")

    def __init__(self, native: Any) -> None:
        if not isinstance(native, _ts_ec.EllipticCurvePublicKey) or not _is_sm2_curve(native):
            raise InvalidKey("not an SM2 public key")
        self._key = native
        point = native.public_bytes(_ts_ser.Encoding.X962, _ts_ser.PublicFormat.UncompressedPoint)
        self._xy: bytes = bytes(point[1:])

    @property
    def native(self) -> Any:
        return self._key

    @property
    def xy(self) -> bytes:
        """X || Y, 64 bytes."""
        return self._xy

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sm2PublicKey) and other._xy == self._xy

    def __hash__(self) -> int:
        return hash(self._xy)

    def __repr__(self) -> str:
        return f"Sm2PublicKey({self._xy[:8].hex()}…)"


class Sm2PrivateKey:
    """An SM2 private key (thin wrapper over a tongsuopy key, which ``native`` returns)."""

    __slots__ = ("_key", "_pub")

    def __init__(self, native: Any) -> None:
        if not isinstance(native, _ts_ec.EllipticCurvePrivateKey) or not _is_sm2_curve(native):
            raise InvalidKey("not an SM2 private key")
        self._key = native
        self._pub = Sm2PublicKey(native.public_key())

    @property
    def native(self) -> Any:
        return self._key

    def public_key(self) -> Sm2PublicKey:
        return self._pub

    def __repr__(self) -> str:
        return f"Sm2PrivateKey(public={self._pub!r})"


# --- keys -------------------------------------------------------------------------------------


def generate_private_key() -> Sm2PrivateKey:
    return Sm2PrivateKey(_ts_ec.generate_private_key(_ts_ec.SM2()))


def _private_from_int(d: int) -> Sm2PrivateKey:
    # GB/T 32918.1: d ∈ [1, n − 2] (n − 1 would make 1 + d non-invertible when signing).
    if not 1 <= d <= N - 2:
        raise InvalidKey("SM2 private scalar out of range [1, n-2]")
    try:
        return Sm2PrivateKey(_ts_ec.derive_private_key(d, _ts_ec.SM2()))
    except (ValueError, TypeError) as exc:
        _backend._consume_errors()
        raise InvalidKey("SM2 private scalar rejected") from exc


def _unhex(h: str, what: str) -> bytes:
    if not isinstance(h, str):
        raise MalformedInput(f"{what} must be a hex string")
    s = h.strip()
    if s[:2] in ("0x", "0X"):
        s = s[2:]
    try:
        if not s.isascii():
            raise ValueError(s)
        return bytes.fromhex(s)
    except ValueError as exc:
        raise MalformedInput(f"{what} is not valid hex") from exc


def private_key_from_hex(h: str) -> Sm2PrivateKey:
    """Private scalar as 64 hex digits (shorter values are left-padded, as some libraries emit)."""
    raw = _unhex(h, "SM2 private key")
    if not 1 <= len(raw) <= 32:
        raise MalformedInput("SM2 private key must be at most 32 bytes (64 hex digits)")
    return _private_from_int(int.from_bytes(raw, "big"))


def private_key_to_hex(key: Sm2PrivateKey) -> str:
    _require_private(key)
    d: int = key.native.private_numbers().private_value
    return d.to_bytes(32, "big").hex()


def _on_curve(x: int, y: int) -> bool:
    return x < P and y < P and (y * y - (x * x * x + A * x + B)) % P == 0


def _decompress(prefix: int, xb: bytes) -> tuple[int, int] | None:
    x = int.from_bytes(xb, "big")
    if x >= P:
        return None
    rhs = (x * x * x + A * x + B) % P
    y = pow(rhs, (P + 1) // 4, P)  # P ≡ 3 (mod 4)
    if y * y % P != rhs:
        return None
    if (y & 1) != (prefix & 1):
        y = P - y
    return x, y


def _public_from_xy(x: int, y: int) -> Sm2PublicKey:
    if not _on_curve(x, y):
        raise InvalidKey("point is not on the SM2 curve")
    point = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    try:
        native = _ts_ec.EllipticCurvePublicKey.from_encoded_point(_ts_ec.SM2(), point)
    except (ValueError, TypeError) as exc:
        _backend._consume_errors()
        raise InvalidKey("SM2 public point rejected") from exc
    return Sm2PublicKey(native)


def _public_from_bytes(raw: bytes) -> Sm2PublicKey:
    if len(raw) == 65 and raw[0] == 4:
        raw = raw[1:]
    if len(raw) == 64:
        return _public_from_xy(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    if len(raw) == 33 and raw[0] in (2, 3):
        xy = _decompress(raw[0], raw[1:])
        if xy is None:
            raise InvalidKey("compressed point is not on the SM2 curve")
        return _public_from_xy(*xy)
    raise MalformedInput("SM2 public key must be 04||X||Y, X||Y or 02/03||X (65, 64 or 33 bytes)")


def public_key_from_hex(h: str) -> Sm2PublicKey:
    """04||X||Y (130 hex), X||Y (128 hex) or compressed 02/03||X (66 hex)."""
    return _public_from_bytes(_unhex(h, "SM2 public key"))


def public_key_to_hex(pub: Sm2PublicKey, compressed: bool = False) -> str:
    _require_public(pub)
    if compressed:
        y = int.from_bytes(pub.xy[32:], "big")
        return (bytes([2 | (y & 1)]) + pub.xy[:32]).hex()
    return "04" + pub.xy.hex()


def _require_private(key: object) -> Sm2PrivateKey:
    if not isinstance(key, Sm2PrivateKey):
        raise InvalidKey("an SM2 private key is required")
    return key


def _require_public(pub: object) -> Sm2PublicKey:
    if isinstance(pub, Sm2PrivateKey):
        raise InvalidKey("an SM2 public key is required, not a private key")
    if not isinstance(pub, Sm2PublicKey):
        raise InvalidKey("an SM2 public key is required")
    return pub


# --- minimal strict DER ----------------------------------------------------------------------


def _read_tlv(buf: bytes, pos: int, tag: int) -> tuple[int, int]:
    """Read one DER TLV with the given tag at ``pos``; return (value start, value end)."""
    if pos + 2 > len(buf) or buf[pos] != tag:
        raise MalformedInput("unexpected DER tag")
    first = buf[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > len(buf) or buf[pos] == 0:
            raise MalformedInput("bad DER length")
        length = int.from_bytes(buf[pos : pos + n], "big")
        if length < 0x80:
            raise MalformedInput("non-minimal DER length")
        pos += n
    end = pos + length
    if end > len(buf):
        raise MalformedInput("DER value runs past the end")
    return pos, end


def _read_uint(buf: bytes, pos: int) -> tuple[int, int]:
    start, end = _read_tlv(buf, pos, 0x02)
    v = buf[start:end]
    if not v or v[0] & 0x80 or (len(v) > 1 and v[0] == 0 and not v[1] & 0x80):
        raise MalformedInput("DER INTEGER is empty, negative or not minimal")
    return int.from_bytes(v, "big"), end


def _der_len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def _der_uint(v: int) -> bytes:
    b = v.to_bytes(v.bit_length() // 8 + 1, "big")  # one spare byte keeps the sign bit clear
    if len(b) > 1 and b[0] == 0 and not b[1] & 0x80:
        b = b[1:]
    return b"\x02" + _der_len(len(b)) + b


def _der_seq(*parts: bytes) -> bytes:
    body = b"".join(parts)
    return b"\x30" + _der_len(len(body)) + body


def _der_octets(v: bytes) -> bytes:
    return b"\x04" + _der_len(len(v)) + v


def _parse_der_signature(sig: bytes) -> tuple[int, int]:
    start, end = _read_tlv(sig, 0, 0x30)
    if end != len(sig):
        raise MalformedInput("trailing bytes after signature")
    r, pos = _read_uint(sig, start)
    s, pos = _read_uint(sig, pos)
    if pos != end:
        raise MalformedInput("extra fields in signature")
    return r, s


def _encode_der_signature(r: int, s: int) -> bytes:
    return _der_seq(_der_uint(r), _der_uint(s))


# --- signatures ------------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def _z(xy: bytes, uid: bytes) -> bytes:
    return sm3((len(uid) * 8).to_bytes(2, "big") + uid + _ABGXY + xy)


def _check_uid(uid: bytes) -> bytes:
    if not isinstance(uid, bytes | bytearray):
        raise MalformedInput("SM2 user ID must be bytes")
    if len(uid) > _MAX_ID_BYTES:
        raise MalformedInput(f"SM2 user ID is longer than {_MAX_ID_BYTES} bytes")
    return bytes(uid)


def _pkey_ctx(evp_pkey: Any) -> Any:
    ctx = _lib.EVP_PKEY_CTX_new(evp_pkey, _ffi.NULL)
    if ctx == _ffi.NULL:  # pragma: no cover - allocation failure
        _backend._consume_errors()
        raise InvalidKey("cannot use this key")
    return _ffi.gc(ctx, _lib.EVP_PKEY_CTX_free)


def _sign_digest(key: Sm2PrivateKey, digest: bytes) -> bytes:
    ctx = _pkey_ctx(key.native._evp_pkey)
    if _lib.EVP_PKEY_sign_init(ctx) != 1:  # pragma: no cover
        _backend._consume_errors()
        raise InvalidKey("key cannot sign")
    size = _ffi.new("size_t *")
    if _lib.EVP_PKEY_sign(ctx, _ffi.NULL, size, digest, len(digest)) != 1:  # pragma: no cover
        _backend._consume_errors()
        raise InvalidKey("key cannot sign")
    buf = _ffi.new("unsigned char[]", size[0])
    if _lib.EVP_PKEY_sign(ctx, buf, size, digest, len(digest)) != 1:  # pragma: no cover
        _backend._consume_errors()
        raise InvalidKey("SM2 signing failed")
    return bytes(_ffi.buffer(buf, size[0]))


def _verify_digest(pub: Sm2PublicKey, der: bytes, digest: bytes) -> bool:
    ctx = _pkey_ctx(pub.native._evp_pkey)
    if _lib.EVP_PKEY_verify_init(ctx) != 1:  # pragma: no cover
        _backend._consume_errors()
        raise InvalidKey("key cannot verify")
    res = _lib.EVP_PKEY_verify(ctx, der, len(der), digest, len(digest))
    if res != 1:
        _backend._consume_errors()
    return bool(res == 1)


def sign(
    key: Sm2PrivateKey,
    data: bytes,
    *,
    uid: bytes = DEFAULT_ID,
    fmt: SignatureFormat = "der",
) -> bytes:
    """SM2 signature over ``data`` with SM3 and the Z value of ``uid``.

    ``fmt="der"``: SEQUENCE {r INTEGER, s INTEGER}; ``fmt="raw"``: r || s, 64 bytes.
    """
    key = _require_private(key)
    uid = _check_uid(uid)
    if fmt not in ("der", "raw"):
        raise MalformedInput("signature format must be 'der' or 'raw'")
    data = bytes(data)
    if uid == DEFAULT_ID:
        der = bytes(key.native.sign(data, _ts_ec.ECDSA(_ts_hashes.SM3())))
    else:
        der = _sign_digest(key, sm3(_z(key.public_key().xy, uid) + data))
    if fmt == "der":
        return der
    r, s = _parse_der_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _signature_to_der(signature: bytes, fmt: str) -> bytes | None:
    """Canonical DER for ``signature`` or None when it is malformed or out of range."""
    rs: tuple[int, int] | None = None
    if fmt in ("der", "auto"):
        try:
            rs = _parse_der_signature(signature)
        except MalformedInput:
            rs = None
    if rs is None and fmt in ("raw", "auto") and len(signature) == 64:
        rs = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    if rs is None:
        return None
    r, s = rs
    if not (1 <= r < N and 1 <= s < N):
        return None
    return _encode_der_signature(r, s)


def verify(
    pub: Sm2PublicKey,
    signature: bytes,
    data: bytes,
    *,
    uid: bytes = DEFAULT_ID,
    fmt: Literal["der", "raw", "auto"] = "auto",
) -> bool:
    """True when ``signature`` is a valid SM2 signature of ``data`` under ``pub`` and ``uid``.

    Any wrong, tampered or malformed signature gives False; a bad key raises ``InvalidKey``.
    ``fmt="auto"`` accepts DER and raw r || s.
    """
    pub = _require_public(pub)
    uid = _check_uid(uid)
    if fmt not in ("der", "raw", "auto"):
        raise MalformedInput("signature format must be 'der', 'raw' or 'auto'")
    if not isinstance(signature, bytes | bytearray | memoryview):
        return False
    der = _signature_to_der(bytes(signature), fmt)
    if der is None:
        return False
    data = bytes(data)
    if uid == DEFAULT_ID:
        try:
            pub.native.verify(der, data, _ts_ec.ECDSA(_ts_hashes.SM3()))
        except _TsInvalidSignature:
            return False
        return True
    return _verify_digest(pub, der, sm3(_z(pub.xy, uid) + data))


def z_value(pub: Sm2PublicKey, uid: bytes = DEFAULT_ID) -> bytes:
    """Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA): what a signer hashes in front of
    the message, so a peer that only sends a digest sends ``e = SM3(Z || M)``."""
    return _z(_require_public(pub).xy, _check_uid(uid))


def _check_digest(e: object) -> bytes:
    if not isinstance(e, bytes | bytearray | memoryview) or len(e) != 32:
        raise MalformedInput("an SM2 digest e = SM3(Z || M) is 32 bytes")
    return bytes(e)


def sign_digest(key: Sm2PrivateKey, e: bytes, *, fmt: SignatureFormat = "der") -> bytes:
    """SM2 signature of a precomputed ``e = SM3(Z || M)`` (see :func:`z_value`)."""
    key = _require_private(key)
    if fmt not in ("der", "raw"):
        raise MalformedInput("signature format must be 'der' or 'raw'")
    der = _sign_digest(key, _check_digest(e))
    if fmt == "der":
        return der
    r, s = _parse_der_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify_digest(
    pub: Sm2PublicKey,
    signature: bytes,
    e: bytes,
    *,
    fmt: Literal["der", "raw", "auto"] = "auto",
) -> bool:
    """Verify an SM2 signature over a precomputed ``e = SM3(Z || M)``."""
    pub = _require_public(pub)
    if fmt not in ("der", "raw", "auto"):
        raise MalformedInput("signature format must be 'der', 'raw' or 'auto'")
    e = _check_digest(e)
    if not isinstance(signature, bytes | bytearray | memoryview):
        return False
    der = _signature_to_der(bytes(signature), fmt)
    return der is not None and _verify_digest(pub, der, e)


# --- encryption ------------------------------------------------------------------------------


def _asn1_cipher(x: int, y: int, c3: bytes, c2: bytes) -> bytes:
    return _der_seq(_der_uint(x), _der_uint(y), _der_octets(c3), _der_octets(c2))


def _parse_asn1_cipher(ct: bytes) -> tuple[int, int, bytes, bytes]:
    start, end = _read_tlv(ct, 0, 0x30)
    if end != len(ct):
        raise MalformedInput("trailing bytes after SM2 ciphertext")
    x, pos = _read_uint(ct, start)
    y, pos = _read_uint(ct, pos)
    s3, e3 = _read_tlv(ct, pos, 0x04)
    s2, e2 = _read_tlv(ct, e3, 0x04)
    if e2 != end:
        raise MalformedInput("extra fields in SM2 ciphertext")
    return x, y, ct[s3:e3], ct[s2:e2]


def encrypt(
    pub: Sm2PublicKey,
    plaintext: bytes,
    *,
    mode: CipherMode = "c1c3c2",
) -> bytes:
    """SM2 public-key encryption.

    ``c1c3c2`` (GB/T 32918.4-2016 order) and ``c1c2c3`` (the 2010 draft order) are byte strings
    with C1 = 04 || X || Y (65 bytes) and C3 = 32 bytes; ``asn1`` is the GM/T 0009 SEQUENCE.
    """
    pub = _require_public(pub)
    if mode not in ("c1c3c2", "c1c2c3", "asn1"):
        raise MalformedInput("mode must be 'c1c3c2', 'c1c2c3' or 'asn1'")
    plaintext = bytes(plaintext)
    if not plaintext:
        raise MalformedInput("SM2 cannot encrypt an empty message")
    ctx = _pkey_ctx(pub.native._evp_pkey)
    size = _ffi.new("size_t *")
    if (
        _lib.EVP_PKEY_encrypt_init(ctx) != 1
        or _lib.EVP_PKEY_encrypt(ctx, _ffi.NULL, size, plaintext, len(plaintext)) != 1
    ):  # pragma: no cover
        _backend._consume_errors()
        raise InvalidKey("key cannot encrypt")
    buf = _ffi.new("unsigned char[]", size[0])
    if _lib.EVP_PKEY_encrypt(ctx, buf, size, plaintext, len(plaintext)) != 1:  # pragma: no cover
        _backend._consume_errors()
        raise InvalidKey("SM2 encryption failed")
    der = bytes(_ffi.buffer(buf, size[0]))
    x, y, c3, c2 = _parse_asn1_cipher(der)
    if mode == "asn1":
        return der
    c1 = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    return c1 + c3 + c2 if mode == "c1c3c2" else c1 + c2 + c3


def _c1_candidates(ct: bytes) -> list[tuple[int, int, bytes]]:
    """Possible (x, y, rest) splits of a C1-first ciphertext; on-curve points only."""
    out: list[tuple[int, int, bytes]] = []
    if ct[:1] == b"\x04" and len(ct) > 65:
        x, y = int.from_bytes(ct[1:33], "big"), int.from_bytes(ct[33:65], "big")
        if _on_curve(x, y):
            out.append((x, y, ct[65:]))
    if ct[:1] in (b"\x02", b"\x03") and len(ct) > 33:
        xy = _decompress(ct[0], ct[1:33])
        if xy is not None:
            out.append((xy[0], xy[1], ct[33:]))
    if len(ct) > 64:  # sm-crypto style: X || Y without the 04 point-format byte
        x, y = int.from_bytes(ct[:32], "big"), int.from_bytes(ct[32:64], "big")
        if _on_curve(x, y):
            out.append((x, y, ct[64:]))
    return out


def _decrypt_asn1(key: Sm2PrivateKey, der: bytes) -> bytes | None:
    ctx = _pkey_ctx(key.native._evp_pkey)
    size = _ffi.new("size_t *")
    if (
        _lib.EVP_PKEY_decrypt_init(ctx) != 1
        or _lib.EVP_PKEY_decrypt(ctx, _ffi.NULL, size, der, len(der)) != 1
    ):
        _backend._consume_errors()
        return None
    buf = _ffi.new("unsigned char[]", max(size[0], 1))
    if _lib.EVP_PKEY_decrypt(ctx, buf, size, der, len(der)) != 1:
        _backend._consume_errors()
        return None
    return bytes(_ffi.buffer(buf, size[0]))


def decrypt(
    key: Sm2PrivateKey,
    ciphertext: bytes,
    *,
    mode: CipherMode = "c1c3c2",
) -> bytes:
    """Inverse of :func:`encrypt`. C1 may come with the 04 byte, without it (sm-crypto) or
    compressed (02/03). Any failure → ``DecryptionFailed``."""
    key = _require_private(key)
    if mode not in ("c1c3c2", "c1c2c3", "asn1"):
        raise MalformedInput("mode must be 'c1c3c2', 'c1c2c3' or 'asn1'")
    if not isinstance(ciphertext, bytes | bytearray | memoryview):
        raise DecryptionFailed("SM2 ciphertext must be bytes")
    ct = bytes(ciphertext)
    candidates: list[tuple[int, int, bytes, bytes]] = []
    if mode == "asn1":
        try:
            x, y, c3, c2 = _parse_asn1_cipher(ct)
        except MalformedInput as exc:
            raise DecryptionFailed("SM2 ciphertext is not a GM/T 0009 SEQUENCE") from exc
        candidates.append((x, y, c3, c2))
    else:
        for x, y, rest in _c1_candidates(ct):
            if len(rest) <= 32:
                continue
            if mode == "c1c3c2":
                candidates.append((x, y, rest[:32], rest[32:]))
            else:
                candidates.append((x, y, rest[-32:], rest[:-32]))
    for x, y, c3, c2 in candidates:
        if len(c3) != 32 or not c2 or not _on_curve(x, y):
            continue
        out = _decrypt_asn1(key, _asn1_cipher(x, y, c3, c2))
        if out is not None:
            return out
    raise DecryptionFailed("SM2 decryption failed")
