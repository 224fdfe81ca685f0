"""Parsers only ever raise the library's typed errors: random bytes, truncations, bit flips,
lengths that claim more than there is."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cert_interop import cms
from cert_interop.cms import der
from cert_interop.errors import CertInteropError, MalformedInput

from .conftest import Party

FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _verify(data: bytes, content: bytes | None = None) -> None:
    try:
        res = cms.verify(data, content=content)
    except CertInteropError:
        return
    assert isinstance(res, cms.SignedDataResult)


def _decrypt(data: bytes, p: Party) -> None:
    try:
        cms.decrypt(data, certificate=p.enc_cert, key=p.enc_key)
    except CertInteropError:
        return


@FUZZ
@given(st.binary(max_size=3000))
def test_random_bytes(parties: dict[str, Party], data: bytes) -> None:
    _verify(data)
    _verify(data, b"content")
    _decrypt(data, parties["rsa"])


@FUZZ
@given(st.binary(max_size=600), st.sampled_from([b"\x30\x80", b"\x30\x82\x02\x58"]))
def test_random_bytes_behind_plausible_headers(
    parties: dict[str, Party], tail: bytes, head: bytes
) -> None:
    for outer in ("1.2.840.113549.1.7.2", "1.2.156.10197.6.1.4.2.3", "1.2.840.113549.1.7.3"):
        data = head + der.oid(outer) + b"\xa0\x80" + tail
        _verify(data)
        _decrypt(data, parties["sm2"])


@pytest.fixture(scope="module")
def samples(parties: dict[str, Party]) -> list[tuple[str, bytes, Party]]:
    out: list[tuple[str, bytes, Party]] = []
    content = b"fuzz me " * 64
    for p in parties.values():
        out.append(("signed", cms.sign(content, None, [(p.key, p.cert, p.chain)]), p))
        out.append(("enveloped", cms.encrypt(content, None, [p.enc_cert]), p))
    rsa = parties["rsa"]
    out.append(("enveloped", cms.encrypt(content, None, [rsa.enc_cert], cipher="aes-256-gcm"), rsa))
    return out


@FUZZ
@given(data=st.data())
def test_truncated_and_flipped(
    samples: list[tuple[str, bytes, Party]], data: st.DataObject
) -> None:
    kind, message, p = data.draw(st.sampled_from(samples))
    cut = data.draw(st.integers(0, len(message) - 1))
    with pytest.raises(MalformedInput):
        if kind == "signed":
            cms.verify(message[:cut])
        else:
            cms.decrypt(message[:cut], certificate=p.enc_cert, key=p.enc_key)
    flipped = bytearray(message)
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(message) - 1))
        flipped[i] ^= 1 << data.draw(st.integers(0, 7))
    if kind == "signed":
        _verify(bytes(flipped))
    else:
        _decrypt(bytes(flipped), p)


def test_oversized_claims_are_refused(parties: dict[str, Party]) -> None:
    p = parties["rsa"]
    huge = b"\x30\x88\x7f\xff\xff\xff\xff\xff\xff\xff" + der.oid("1.2.840.113549.1.7.2")
    with pytest.raises(MalformedInput):
        cms.verify(huge)
    # a certificates field that claims 100 MB
    signed = bytearray(cms.sign(b"x", None, [(p.key, p.cert)], detached=True))
    body = (
        der.integer(1)
        + der.set_of([der.algorithm("2.16.840.1.101.3.4.2.1")])
        + der.seq(der.oid("1.2.840.113549.1.7.1"))
        + b"\xa0\x84\x06\x40\x00\x00"
        + b"\x30" * 100
    )
    msg = der.seq(der.oid("1.2.840.113549.1.7.2"), der.explicit(0, der.seq(body)))
    with pytest.raises(MalformedInput):
        cms.verify(msg, content=b"x")
    assert signed  # the real one still parses
    # deep BER nesting inside the content
    deep = (
        b"\x30\x80" + der.oid("1.2.840.113549.1.7.2") + b"\xa0\x80\x30\x80" + der.integer(1)
        + der.set_of([]) + b"\x30\x80" + der.oid("1.2.840.113549.1.7.1") + b"\xa0\x80"
        + b"\x24\x80" * 200
    )  # fmt: skip
    with pytest.raises(MalformedInput):
        cms.verify(deep)
