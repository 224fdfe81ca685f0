"""Interoperability with the conventions of `gmssl` (PyPI, pure Python, pinned in setup.cfg),
the SM2/SM3/SM4 library most Python integrators of Chinese platforms reach for.

Its conventions, which a peer will send us and expect back:
- public keys as 128 hex digits x || y (no ``04``); signatures as 128 hex digits r || s by
  default, DER with ``asn1=True``; ``sign_with_sm3`` applies the Z value of the default ID;
- ciphertexts C1 || C2 || C3 (``mode=0``, its default) or C1 || C3 || C2 (``mode=1``), with C1 as
  64 bytes, no ``04`` prefix; its decrypt expects the same, so we drop the prefix when replying;
- SM4-CBC with PKCS#7 padding.
gmssl 3.2.2 strips a leading ``04`` from a public key with ``str.lstrip("04")``, which also eats
leading ``0``/``4`` digits of x; the tests pick keys whose x does not start with those, as a
peer must.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

gmssl_sm2 = pytest.importorskip("gmssl.sm2")
gmssl_sm3 = pytest.importorskip("gmssl.sm3")
gmssl_sm4 = pytest.importorskip("gmssl.sm4")
gmssl_func = pytest.importorskip("gmssl.func")

from cert_interop import sm2, sm3, sm4  # noqa: E402

MESSAGES = [b"", b"abc", "投标文件 bid file №42".encode(), os.urandom(1000)]


def _keypair() -> tuple[sm2.Sm2PrivateKey, str, str]:
    while True:
        key = sm2.generate_private_key()
        xy = sm2.public_key_to_hex(key.public_key())[2:]
        if xy[0] not in "04":
            return key, sm2.private_key_to_hex(key), xy


@pytest.fixture(scope="module")
def pair() -> tuple[sm2.Sm2PrivateKey, str, str]:
    return _keypair()


def peer(pair: tuple[sm2.Sm2PrivateKey, str, str], **kw: object) -> object:
    _key, d_hex, xy = pair
    return gmssl_sm2.CryptSM2(private_key=d_hex, public_key=xy, **kw)


@pytest.mark.parametrize("message", MESSAGES)
def test_gmssl_verifies_our_signatures(pair, message: bytes) -> None:  # type: ignore[no-untyped-def]
    key = pair[0]
    raw = sm2.sign(key, message, fmt="raw")
    assert peer(pair).verify_with_sm3(raw.hex(), message)  # type: ignore[attr-defined]
    der = sm2.sign(key, message, fmt="der")
    assert peer(pair, asn1=True).verify_with_sm3(der.hex(), message)  # type: ignore[attr-defined]
    tampered = bytearray(raw)
    tampered[-1] ^= 1
    assert not peer(pair).verify_with_sm3(bytes(tampered).hex(), message)  # type: ignore[attr-defined]


@pytest.mark.parametrize("message", MESSAGES)
def test_we_verify_gmssl_signatures(pair, message: bytes) -> None:  # type: ignore[no-untyped-def]
    pub = pair[0].public_key()
    k = gmssl_func.random_hex(64)
    sig_hex = peer(pair).sign_with_sm3(message, k)  # type: ignore[attr-defined]
    assert sm2.verify(pub, bytes.fromhex(sig_hex), message, fmt="raw")
    der_hex = peer(pair, asn1=True).sign_with_sm3(message, k)  # type: ignore[attr-defined]
    assert sm2.verify(pub, bytes.fromhex(der_hex), message, fmt="der")
    assert not sm2.verify(pub, bytes.fromhex(sig_hex), message + b"x")


@pytest.mark.parametrize(("gm_mode", "our_mode"), [(0, "c1c2c3"), (1, "c1c3c2")])
@pytest.mark.parametrize("message", [m for m in MESSAGES if m])
def test_ciphertexts_both_ways(pair, gm_mode: int, our_mode: str, message: bytes) -> None:  # type: ignore[no-untyped-def]
    key = pair[0]
    theirs = peer(pair, mode=gm_mode).encrypt(message)  # type: ignore[attr-defined]
    assert len(theirs) == 64 + 32 + len(message)  # C1 without the 04 prefix
    assert sm2.decrypt(key, theirs, mode=our_mode) == message  # type: ignore[arg-type]
    ours = sm2.encrypt(key.public_key(), message, mode=our_mode)  # type: ignore[arg-type]
    assert ours[0] == 0x04
    assert peer(pair, mode=gm_mode).decrypt(ours[1:]) == message  # type: ignore[attr-defined]


def test_wrong_mode_is_refused(pair) -> None:  # type: ignore[no-untyped-def]
    from cert_interop.errors import DecryptionFailed

    theirs = peer(pair, mode=0).encrypt(b"sealed bid price 1000000")  # type: ignore[attr-defined]
    with pytest.raises(DecryptionFailed):
        sm2.decrypt(pair[0], theirs, mode="c1c3c2")


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_sm3_agrees(data: bytes) -> None:
    assert sm3.sm3(data).hex() == gmssl_sm3.sm3_hash(list(data))


@settings(max_examples=50, deadline=None)
@given(
    st.binary(min_size=16, max_size=16),
    st.binary(min_size=16, max_size=16),
    st.binary(max_size=200),
)
def test_sm4_cbc_pkcs7_both_ways(key: bytes, iv: bytes, data: bytes) -> None:
    c = gmssl_sm4.CryptSM4()
    c.set_key(key, gmssl_sm4.SM4_ENCRYPT)
    theirs = c.crypt_cbc(iv, data)
    assert sm4.encrypt_cbc(key, iv, data) == theirs
    d = gmssl_sm4.CryptSM4()
    d.set_key(key, gmssl_sm4.SM4_DECRYPT)
    assert d.crypt_cbc(iv, theirs) == data
    assert sm4.decrypt_cbc(key, iv, theirs) == data
