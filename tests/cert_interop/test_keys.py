"""Key loading and saving: PEM/DER PKCS#8 (encrypted too), SubjectPublicKeyInfo; fuzzed parsers."""

from __future__ import annotations

import contextlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cert_interop import keys, sm2
from cert_interop.errors import CertInteropError, DecryptionFailed, MalformedInput

SM2_KEY = sm2.generate_private_key()
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
ALL = [("sm2", SM2_KEY), ("rsa", RSA_KEY), ("ec", EC_KEY)]

SM2_OID_DER = bytes.fromhex("06082a811ccf5501822d")  # 1.2.156.10197.1.301
EC_PUBLIC_KEY_OID_DER = bytes.fromhex("06072a8648ce3d0201")  # 1.2.840.10045.2.1


@pytest.mark.parametrize(("alg", "key"), ALL)
@pytest.mark.parametrize("fmt", ["pem", "der"])
@pytest.mark.parametrize("password", [None, b"s3cret"])
def test_private_round_trip(
    alg: str, key: keys.PrivateKey, fmt: str, password: bytes | None
) -> None:
    blob = keys.dump_private_key(key, fmt, password)  # type: ignore[arg-type]
    assert blob.startswith(b"-----BEGIN") == (fmt == "pem")
    loaded = keys.load_private_key(blob, password)
    assert keys.key_algorithm(loaded) == alg
    assert keys.dump_public_key(loaded.public_key()) == keys.dump_public_key(key.public_key())
    if password is not None:
        with pytest.raises(DecryptionFailed):
            keys.load_private_key(blob, b"wrong")
        with pytest.raises(MalformedInput):
            keys.load_private_key(blob, None)
    else:
        with pytest.raises(MalformedInput):
            keys.load_private_key(blob, b"unexpected")


@pytest.mark.parametrize(("alg", "key"), ALL)
@pytest.mark.parametrize("fmt", ["pem", "der"])
def test_public_round_trip(alg: str, key: keys.PrivateKey, fmt: str) -> None:
    blob = keys.dump_public_key(key.public_key(), fmt)  # type: ignore[arg-type]
    loaded = keys.load_public_key(blob)
    assert keys.key_algorithm(loaded) == alg
    assert keys.dump_public_key(loaded, "der") == keys.dump_public_key(key.public_key(), "der")


def test_sm2_spki_uses_gm_oids() -> None:
    der = keys.dump_public_key(SM2_KEY.public_key(), "der")
    assert EC_PUBLIC_KEY_OID_DER in der and SM2_OID_DER in der
    pkcs8 = keys.dump_private_key(SM2_KEY, "der")
    assert EC_PUBLIC_KEY_OID_DER in pkcs8 and SM2_OID_DER in pkcs8


def test_loaded_sm2_key_works() -> None:
    key = keys.load_private_key(keys.dump_private_key(SM2_KEY, "pem", b"pw"), b"pw")
    assert isinstance(key, sm2.Sm2PrivateKey)
    pub = keys.load_public_key(keys.dump_public_key(SM2_KEY.public_key()))
    assert isinstance(pub, sm2.Sm2PublicKey)
    assert sm2.verify(pub, sm2.sign(key, b"m"), b"m")
    assert sm2.private_key_to_hex(key) == sm2.private_key_to_hex(SM2_KEY)


def test_garbage_keys_refused() -> None:
    for bad in (
        b"",
        b"garbage",
        b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        b"\x30\x03\x02\x01\x00",
        keys.dump_public_key(SM2_KEY.public_key(), "der"),  # a public key is not a private key
    ):
        with pytest.raises((MalformedInput, CertInteropError)):
            keys.load_private_key(bad)
        with pytest.raises(CertInteropError):
            keys.load_public_key(bad[:-3] if bad else bad)


FUZZ = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
SAMPLES = [
    keys.dump_private_key(SM2_KEY, "der"),
    keys.dump_private_key(SM2_KEY, "der", b"pw"),
    keys.dump_public_key(SM2_KEY.public_key(), "der"),
    keys.dump_private_key(EC_KEY, "der"),
]


@FUZZ
@given(st.binary(max_size=300))
def test_fuzz_loaders_random(data: bytes) -> None:
    for fn in (keys.load_private_key, keys.load_public_key):
        with contextlib.suppress(CertInteropError):
            fn(data)


@FUZZ
@given(st.sampled_from(SAMPLES), st.data())
def test_fuzz_loaders_mutated(sample: bytes, data: st.DataObject) -> None:
    pos = data.draw(st.integers(min_value=0, max_value=len(sample) - 1))
    val = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=pos + 1, max_value=len(sample)))
    mutated = (sample[:pos] + bytes([val]) + sample[pos + 1 :])[:cut]
    pw = data.draw(st.sampled_from([None, b"pw"]))
    with contextlib.suppress(CertInteropError):
        keys.load_private_key(mutated, pw)
    with contextlib.suppress(CertInteropError):
        keys.load_public_key(mutated)
