"""Parsers never raise anything but the library's typed errors, whatever the bytes."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cert_interop.errors import CertInteropError, MalformedInput
from cert_interop.x509 import MAX_INPUT_BYTES, Certificate, Crl, parse_certificate, parse_crl

from .conftest import Made

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _try(data: bytes) -> None:
    for parse in (parse_certificate, parse_crl):
        try:
            obj = parse(data)
        except CertInteropError:
            continue
        assert isinstance(obj, Certificate | Crl)


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes(data: bytes) -> None:
    _try(data)


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_behind_a_sequence_header(data: bytes) -> None:
    n = len(data)
    header = b"\x30" + (bytes([n]) if n < 0x80 else b"\x82" + n.to_bytes(2, "big"))
    _try(header + data)
    _try(b"-----BEGIN CERTIFICATE-----\n" + data + b"\n-----END CERTIFICATE-----\n")


@FUZZ
@given(data=st.data())
def test_truncated_and_bit_flipped(made: Made, data: st.DataObject) -> None:
    for der in (made.h.leaf.der, made.h.crl.der, made.h.root.der):
        cut = data.draw(st.integers(0, len(der) - 1))
        with pytest.raises(MalformedInput):
            parse_certificate(der[:cut])
        with pytest.raises(MalformedInput):
            parse_crl(der[:cut])
        flipped = bytearray(der)
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(der) - 1))
            flipped[i] ^= 1 << data.draw(st.integers(0, 7))
        _try(bytes(flipped))
        _try(der + data.draw(st.binary(min_size=1, max_size=8)))


def test_trailing_bytes_and_wrong_kind_are_refused(made: Made) -> None:
    with pytest.raises(MalformedInput):
        parse_certificate(made.h.leaf.der + b"\0")
    with pytest.raises(MalformedInput):
        parse_certificate(made.h.crl.der)
    with pytest.raises(MalformedInput):
        parse_crl(made.h.leaf.der)


def test_oversized_and_non_bytes_are_refused(made: Made) -> None:
    big = made.h.leaf.der + b"\0" * MAX_INPUT_BYTES
    for parse in (parse_certificate, parse_crl):
        with pytest.raises(MalformedInput, match="larger"):
            parse(big)
        with pytest.raises(MalformedInput):
            parse(b"")
        with pytest.raises(MalformedInput):
            parse("not bytes")  # type: ignore[arg-type]
        with pytest.raises(MalformedInput):
            parse(b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n")


def test_signature_algorithm_mismatch_is_refused(made: Made) -> None:
    # swap the outer signatureAlgorithm for another one: the TBS still names the original
    der = made.h.leaf.der
    outer = {
        "rsa": bytes.fromhex("06092a864886f70d01010b"),
        "ec": bytes.fromhex("06082a8648ce3d040302"),
        "sm2": bytes.fromhex("06082a811ccf55018375"),
    }[made.alg]
    other = {
        "rsa": bytes.fromhex("06092a864886f70d01010c"),
        "ec": bytes.fromhex("06082a8648ce3d040303"),
        "sm2": bytes.fromhex("06082a811ccf55018376"),
    }[made.alg]
    i = der.rindex(outer)
    with pytest.raises(MalformedInput, match="differs"):
        parse_certificate(der[:i] + other + der[i + len(outer) :])
