"""Raw signatures over data or a digest with every algorithm, and every refusal."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings
from hypothesis import strategies as st

from cert_interop import signatures, sm2, sm3
from cert_interop.errors import InvalidKey, MalformedInput, UnsupportedAlgorithm

RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
P256 = ec.generate_private_key(ec.SECP256R1())
P384 = ec.generate_private_key(ec.SECP384R1())
SM2 = sm2.generate_private_key()
MSG = "开标 bid opening".encode()

CASES = [
    (SM2, "sm2-sm3"),
    (RSA, "rsa-pkcs1-sha256"),
    (RSA, "rsa-pkcs1-sha384"),
    (RSA, "rsa-pkcs1-sha512"),
    (RSA, "rsa-pss-sha256"),
    (P256, "ecdsa-sha256"),
    (P384, "ecdsa-sha384"),
    (P256, "ecdsa-sha512"),
]


def digest_of(key: object, algorithm: str, data: bytes) -> bytes:
    if algorithm == "sm2-sm3":
        assert isinstance(key, sm2.Sm2PrivateKey)
        return sm3.sm3(sm2.z_value(key.public_key()) + data)
    return hashlib.new(algorithm.rsplit("-", 1)[1], data).digest()


@pytest.mark.parametrize(("key", "algorithm"), CASES)
def test_data_and_digest_forms_agree(key, algorithm: str) -> None:  # type: ignore[no-untyped-def]
    pub = key.public_key()
    digest = digest_of(key, algorithm, MSG)
    by_data = signatures.sign(key, algorithm, data=MSG)
    by_digest = signatures.sign(key, algorithm, digest=digest)
    for sig in (by_data, by_digest):
        assert signatures.verify(pub, algorithm, sig, data=MSG)
        assert signatures.verify(pub, algorithm, sig, digest=digest)
        assert not signatures.verify(pub, algorithm, sig, data=MSG + b"!")
        tampered = bytearray(sig)
        tampered[len(tampered) // 2] ^= 0x40
        assert not signatures.verify(pub, algorithm, bytes(tampered), data=MSG)


def test_default_algorithm() -> None:
    assert signatures.default_algorithm(SM2) == "sm2-sm3"
    assert signatures.default_algorithm(RSA.public_key()) == "rsa-pkcs1-sha256"
    assert signatures.default_algorithm(P256) == "ecdsa-sha256"


def test_ecdsa_raw_r_s_accepted() -> None:
    der = signatures.sign(P256, "ecdsa-sha256", data=MSG)
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert signatures.verify(P256.public_key(), "ecdsa-sha256", raw, data=MSG)
    assert not signatures.verify(P256.public_key(), "ecdsa-sha256", raw[:-1], data=MSG)


def test_sm2_non_default_id() -> None:
    sig = signatures.sign(SM2, "sm2-sm3", data=MSG, uid=b"bidder@example")
    assert signatures.verify(SM2.public_key(), "sm2-sm3", sig, data=MSG, uid=b"bidder@example")
    assert not signatures.verify(SM2.public_key(), "sm2-sm3", sig, data=MSG)


def test_pss_is_not_pkcs1() -> None:
    sig = signatures.sign(RSA, "rsa-pss-sha256", data=MSG)
    assert not signatures.verify(RSA.public_key(), "rsa-pkcs1-sha256", sig, data=MSG)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: signatures.sign(RSA, "md5-rsa", data=MSG), UnsupportedAlgorithm),
        (lambda: signatures.sign(RSA, "sm2-sm3", data=MSG), InvalidKey),
        (lambda: signatures.sign(SM2, "ecdsa-sha256", data=MSG), InvalidKey),
        (lambda: signatures.sign(P256, "rsa-pkcs1-sha256", data=MSG), InvalidKey),
        (lambda: signatures.sign(RSA, "rsa-pkcs1-sha256"), MalformedInput),
        (
            lambda: signatures.sign(RSA, "rsa-pkcs1-sha256", data=MSG, digest=b"x" * 32),
            MalformedInput,
        ),
        (lambda: signatures.sign(RSA, "rsa-pkcs1-sha256", digest=b"x" * 31), MalformedInput),
        (lambda: signatures.sign(SM2, "sm2-sm3", digest=b"x" * 31), MalformedInput),
        (lambda: signatures.verify(SM2.public_key(), "sm2-sm3", b"", digest=b"x"), MalformedInput),
    ],
)
def test_misuse_raises_typed_errors(call, error) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error):
        call()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600), st.sampled_from(CASES))
def test_garbage_signatures_are_false_not_errors(sig: bytes, case) -> None:  # type: ignore[no-untyped-def]
    key, algorithm = case
    assert signatures.verify(key.public_key(), algorithm, sig, data=MSG) is False
