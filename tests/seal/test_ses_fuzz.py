"""Whatever bytes arrive, reading a seal either succeeds or raises ``MalformedSeal``."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from asn1crypto import core
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seal.errors import MalformedSeal
from seal.ses import ParsedSeal, parse_seal, verify_seal

from .test_ses_record import seal_der, v1_seal

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
AT = datetime(2026, 3, 1, tzinfo=UTC)


@cache
def valid_seals() -> tuple[bytes, ...]:
    return (seal_der("sm2"), seal_der("rsa"), v1_seal("sm2"))


def read(data: bytes) -> ParsedSeal | None:
    """Parse; a bad seal may only fail as ``MalformedSeal``, a parsed one must verify cleanly."""
    try:
        parsed = parse_seal(data)
    except MalformedSeal:
        return None
    verify_seal(parsed, at=AT)  # never raises, whatever the content
    return parsed


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    read(data)


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_inside_a_sequence(body: bytes) -> None:
    read(core.Sequence(contents=body).dump())


@FUZZ
@given(st.integers(0, 2), st.data())
def test_truncated(which: int, data: st.DataObject) -> None:
    der = valid_seals()[which]
    cut = data.draw(st.integers(0, len(der) - 1))
    assert read(der[:cut]) is None


@FUZZ
@given(
    st.integers(0, 2),
    st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_mutated(which: int, edits: list[tuple[int, int]]) -> None:
    original = valid_seals()[which]
    der = bytearray(original)
    for position, value in edits:
        der[position % len(der)] = value
    parsed = read(bytes(der))
    if parsed is not None and verify_seal(parsed, at=AT).signature_valid:
        # only changes outside what the maker signed may leave the signature valid
        assert parsed.signed_data == parse_seal(original).signed_data


_leaf = st.one_of(
    st.integers(-(1 << 40), 1 << 40).map(lambda n: core.Integer(n).dump()),
    st.text(alphabet="ESPNGJ0123456789", max_size=8).map(lambda t: core.IA5String(t).dump()),
    st.text(max_size=8).map(lambda t: core.UTF8String(t).dump()),
    st.binary(max_size=24).map(lambda b: core.OctetString(b).dump()),
    st.binary(max_size=24).map(lambda b: core.OctetBitString(b).dump()),
    st.just(core.ObjectIdentifier("1.2.156.10197.1.501").dump()),
    st.just(core.GeneralizedTime(AT).dump()),
    st.just(core.UTCTime(AT).dump()),
    st.just(b"\x05\x00"),
)
_tree = st.recursive(
    _leaf,
    lambda children: st.lists(children, max_size=7).map(
        lambda parts: core.Sequence(contents=b"".join(parts)).dump()
    ),
    max_leaves=40,
)


@FUZZ
@given(st.lists(_tree, min_size=1, max_size=5))
def test_random_structures(parts: list[bytes]) -> None:
    """Well-formed DER of plausible types in random shapes reaches the deeper checks."""
    read(core.Sequence(contents=b"".join(parts)).dump())
