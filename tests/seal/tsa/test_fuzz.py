"""Property tests: the authority answers any bytes with a TimeStampResp and never raises;
verify_token answers any mutation of a token with a result or a TsaError."""

from __future__ import annotations

import hashlib

from asn1crypto import tsp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seal.tsa import TimeStampAuthority, TsaError, build_request, parse_response, verify_token
from seal.tsa.oids import DEFAULT_POLICY
from tests.seal.tsa.conftest import pki_for

DIGEST = hashlib.sha256(b"fuzz").digest()
FUZZ = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

_EC = pki_for("ec")
EC_AUTHORITY = TimeStampAuthority(_EC.key, _EC.cert, chain=[_EC.ca])
VALID_REQUEST = build_request(DIGEST, "sha256", nonce=77)
VALID_TOKEN = parse_response(EC_AUTHORITY.respond(VALID_REQUEST)).token
assert VALID_TOKEN is not None
ORIGINAL = verify_token(VALID_TOKEN, DIGEST, "sha256", nonce=77)


def answered(body: bytes) -> str:
    reply = EC_AUTHORITY.respond(body)
    assert isinstance(reply, bytes)
    parsed = parse_response(reply)  # raises if not a TimeStampResp
    assert parsed.status in ("granted", "rejection")
    return parsed.status


@FUZZ
@given(st.binary(max_size=600))
def test_any_bytes(body: bytes) -> None:
    answered(body)


@FUZZ
@given(st.binary(max_size=300).map(lambda tail: b"\x30\x82\x01\x00" + tail))
def test_sequence_prefixed_bytes(body: bytes) -> None:
    answered(body)


def _mutate(data: bytes, ops: list[tuple[int, int, int]]) -> bytes:
    out = bytearray(data)
    for kind, at, value in ops:
        if not out:
            break
        i = at % len(out)
        if kind == 0:
            out[i] = value
        elif kind == 1:
            del out[i:]
        else:
            out.insert(i, value)
    return bytes(out)


MUTATIONS = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 10_000), st.integers(0, 255)),
    min_size=1,
    max_size=4,
)


@FUZZ
@given(MUTATIONS)
def test_mutated_requests(ops: list[tuple[int, int, int]]) -> None:
    answered(_mutate(VALID_REQUEST, ops))


HASH_OIDS = st.sampled_from(
    [
        "2.16.840.1.101.3.4.2.1",
        "2.16.840.1.101.3.4.2.2",
        "2.16.840.1.101.3.4.2.3",
        "1.2.156.10197.1.401",
        "1.3.14.3.2.26",
        "1.2.3",
    ]
)
SIZES = {
    "2.16.840.1.101.3.4.2.1": 32,
    "2.16.840.1.101.3.4.2.2": 48,
    "2.16.840.1.101.3.4.2.3": 64,
    "1.2.156.10197.1.401": 32,
}


@FUZZ
@given(
    oid=HASH_OIDS,
    digest=st.binary(min_size=0, max_size=70),
    nonce=st.none() | st.integers(-(1 << 100), 1 << 100),
    cert_req=st.booleans(),
    policy=st.none() | st.sampled_from([DEFAULT_POLICY, "1.2.3.4"]),
)
def test_structured_requests(
    oid: str, digest: bytes, nonce: int | None, cert_req: bool, policy: str | None
) -> None:
    req: dict[str, object] = {
        "version": "v1",
        "message_imprint": {"hash_algorithm": {"algorithm": oid}, "hashed_message": digest},
        "cert_req": cert_req,
    }
    if nonce is not None:
        req["nonce"] = nonce
    if policy is not None:
        req["req_policy"] = policy
    reply = parse_response(EC_AUTHORITY.respond(tsp.TimeStampReq(req).dump()))
    grantable = SIZES.get(oid) == len(digest) and policy in (None, DEFAULT_POLICY)
    assert (reply.status == "granted") == grantable
    if grantable:
        assert reply.token is not None
        name = {32: "sha256", 48: "sha384", 64: "sha512"}[len(digest)]
        name = "sm3" if oid == "1.2.156.10197.1.401" else name
        info = verify_token(reply.token, digest, name, nonce=nonce)
        assert info.nonce == nonce


@FUZZ
@given(MUTATIONS)
def test_mutated_tokens_never_escape_as_other_errors(ops: list[tuple[int, int, int]]) -> None:
    assert VALID_TOKEN is not None
    mutated = _mutate(VALID_TOKEN, ops)
    try:
        info = verify_token(mutated, DIGEST, "sha256", nonce=77)
    except TsaError:
        return
    # only unsigned parts (the carried CA certificate, …) may change and still verify
    assert (info.time, info.serial, info.policy) == (
        ORIGINAL.time,
        ORIGINAL.serial,
        ORIGINAL.policy,
    )
    assert info.tsa_certificate.der == _EC.cert.der
