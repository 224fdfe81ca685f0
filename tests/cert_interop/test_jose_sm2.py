"""The SM2SM3 JWS algorithm and SM2 JWKs through joserfc, checked against cert_interop.sm2."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, JoseError, UnsupportedAlgorithmError
from joserfc.jwk import ECKey, KeySet, RSAKey

from cert_interop import jose_sm2, sm2
from cert_interop.jose_sm2 import ALG, Sm2Key

jose_sm2.register()

# fibjs' jws test key (kty EC, crv SM2)
FIBJS_JWK = {
    "kty": "EC",
    "crv": "SM2",
    "x": "Na1B7soopNRgyrVnvCxwi-7Ru0nq5HORSLM2tquM7qQ",
    "y": "zmOTuaAha3Kuoo2UE0_edqQsvMe7jVJvA0cCjaTl7Tc",
    "d": "SdOvpH5DJ97dnA3UInQfwe6MK9nnaIQUb35cOFCNNRY",
}


def b64d(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


@pytest.fixture(scope="module")
def key() -> Sm2Key:
    return Sm2Key.generate_key(parameters={"kid": "k1", "alg": ALG, "use": "sig"})


def test_register_is_idempotent_and_not_recommended() -> None:
    jose_sm2.register()
    jose_sm2.register()
    assert isinstance(jws.JWSRegistry.algorithms[ALG], jose_sm2.Sm2Sm3Algorithm)
    assert ALG not in jws.JWSRegistry.recommended


def test_round_trip_and_independent_check(key: Sm2Key) -> None:
    token = jwt.encode({"alg": ALG, "kid": "k1"}, {"sub": "u"}, key, algorithms=[ALG])
    public = Sm2Key.import_key(key.as_dict(private=False))
    assert jwt.decode(token, KeySet([public]), algorithms=[ALG]).claims == {"sub": "u"}
    # by hand: base64url split, r || s over the signing input, SM3 with the default-ID Z value
    h, p, s = token.split(".")
    assert json.loads(b64d(h))["alg"] == "SM2SM3"
    sig = b64d(s)
    assert len(sig) == 64
    pub = sm2.public_key_from_hex("04" + (b64d(public["x"]) + b64d(public["y"])).hex())  # type: ignore[arg-type]
    assert sm2.verify(pub, sig, f"{h}.{p}".encode(), fmt="raw")
    assert not sm2.verify(pub, sig, f"{h}.{p}x".encode(), fmt="raw")


def test_signature_made_outside_joserfc_verifies(key: Sm2Key) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"SM2SM3"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(b'{"a":1}').rstrip(b"=").decode()
    raw = sm2.sign(key.private_key, f"{header}.{payload}".encode(), fmt="raw")  # type: ignore[arg-type]
    sig = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    out = jws.deserialize_compact(f"{header}.{payload}.{sig}", key, algorithms=[ALG])
    assert out.payload == b'{"a":1}'


def test_default_algorithms_refuse_sm2(key: Sm2Key) -> None:
    token = jwt.encode({"alg": ALG}, {"a": 1}, key, algorithms=[ALG])
    with pytest.raises(UnsupportedAlgorithmError):
        jwt.decode(token, key)
    with pytest.raises(UnsupportedAlgorithmError):
        jwt.decode(token, key, algorithms=["RS256", "ES256"])
    with pytest.raises(UnsupportedAlgorithmError):
        jwt.encode({"alg": ALG}, {"a": 1}, key)


def test_tampered_and_wrong_key_refused(key: Sm2Key) -> None:
    token = jwt.encode({"alg": ALG}, {"a": 1}, key, algorithms=[ALG])
    h, p, s = token.split(".")
    other_payload = base64.urlsafe_b64encode(b'{"a":2}').rstrip(b"=").decode()
    sig = bytearray(b64d(s))
    sig[5] ^= 1
    flipped = base64.urlsafe_b64encode(bytes(sig)).rstrip(b"=").decode()
    for bad in (f"{h}.{other_payload}.{s}", f"{h}.{p}.{flipped}", f"{h}.{p}.{s[:40]}"):
        with pytest.raises(BadSignatureError):
            jwt.decode(bad, key, algorithms=[ALG])
    with pytest.raises(BadSignatureError):
        jwt.decode(token, Sm2Key.generate_key(), algorithms=[ALG])


def test_algorithm_and_key_type_do_not_mix(key: Sm2Key) -> None:
    p256 = ECKey.generate_key("P-256")
    rsa = RSAKey.generate_key(2048)
    for other in (p256, rsa):
        with pytest.raises(JoseError):
            jwt.encode({"alg": ALG}, {"a": 1}, other, algorithms=[ALG])
    with pytest.raises(JoseError):
        jwt.encode({"alg": "ES256"}, {"a": 1}, key, algorithms=["ES256"])
    es = jwt.encode({"alg": "ES256"}, {"a": 1}, p256, algorithms=["ES256"])
    with pytest.raises(JoseError):  # header says ES256, key is SM2
        jwt.decode(es, Sm2Key.import_key(key.as_dict(private=False)), algorithms=["ES256", ALG])


def test_jwk_import_export_and_thumbprint() -> None:
    key = Sm2Key.import_key(FIBJS_JWK)
    assert key.is_private and key.curve_name == "SM2"
    public = key.as_dict(private=False)
    assert public == {k: FIBJS_JWK[k] for k in ("kty", "crv", "x", "y")}
    assert key.as_dict(private=True)["d"] == FIBJS_JWK["d"]
    # RFC 7638: SHA-256 over {"crv","kty","x","y"} in lexicographic order, no whitespace
    canonical = json.dumps(
        {k: FIBJS_JWK[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":")
    ).encode()
    expected = base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()
    assert key.thumbprint() == expected
    assert Sm2Key.import_key(public).thumbprint() == expected
    # the scalar matches cert_interop's view of the same key
    assert sm2.private_key_to_hex(key.private_key) == b64d(FIBJS_JWK["d"]).hex()  # type: ignore[arg-type]


def test_pem_round_trip(key: Sm2Key) -> None:
    again = Sm2Key.import_key(key.as_pem(private=True))
    assert again.is_private and again.thumbprint() == key.thumbprint()
    pub = Sm2Key.import_key(key.as_pem())
    assert not pub.is_private and pub.thumbprint() == key.thumbprint()
    assert Sm2Key.import_key(key.private_key).thumbprint() == key.thumbprint()


@pytest.mark.parametrize(
    "change",
    [
        {"crv": "P-256"},
        {"x": FIBJS_JWK["y"]},  # not on the curve
        {"x": FIBJS_JWK["x"][:-2]},  # short
        {"x": FIBJS_JWK["x"] + "="},  # padded
        {"d": FIBJS_JWK["x"]},  # d does not match x, y
        {"kty": "OKP"},
    ],
)
def test_bad_jwks_refused(change: dict[str, str]) -> None:
    with pytest.raises(JoseError):
        Sm2Key.import_key({**FIBJS_JWK, **change})


def test_import_key_set_is_sm2_aware_and_skips_unknown(key: Sm2Key) -> None:
    rsa = RSAKey.generate_key(2048, parameters={"kid": "r"})
    data = {
        "keys": [
            rsa.as_dict(private=False),
            key.as_dict(private=False),
            {"kty": "EC", "crv": "X-999", "x": "AA", "y": "AA", "kid": "odd"},
            {"kty": "PQ", "kid": "pq"},
        ]
    }
    ks = jose_sm2.import_key_set(data)
    assert [k.kid for k in ks.keys] == ["r", "k1"]
    assert isinstance(ks.get_by_kid("k1"), Sm2Key)
