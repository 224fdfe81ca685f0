"""The streaming BER reader and the PEM codec on their own: lengths, nesting, limits."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cert_interop.cms.ber import MAX_DEPTH, BerReader, decode_oid, read_oid
from cert_interop.cms.der import oid as encode_oid
from cert_interop.cms.streams import PemReader, PemWriter
from cert_interop.errors import MalformedInput

from .conftest import Pipe


def reader(data: bytes, step: int = 3) -> BerReader:
    return BerReader(Pipe(data, step))


def octets(data: bytes) -> bytes:
    r = reader(data)
    out = b"".join(r.octets(r.header()))
    assert r.at_eof()
    return out


def test_primitive_and_constructed_octet_strings() -> None:
    assert octets(b"\x04\x03abc") == b"abc"
    assert octets(b"\x04\x81\x80" + b"x" * 128) == b"x" * 128
    # BER: indefinite, nested, mixed with definite segments
    ber = b"\x24\x80\x04\x02ab\x24\x80\x04\x01c\x00\x00\x24\x03\x04\x01d\x00\x00"
    assert octets(ber) == b"abcd"
    assert octets(b"\x24\x80\x00\x00") == b""
    # an implicitly tagged [0] OCTET STRING, as in EncryptedContentInfo
    assert octets(b"\x80\x02hi") == b"hi"
    assert octets(b"\xa0\x80\x04\x02hi\x00\x00") == b"hi"


@pytest.mark.parametrize(
    "data",
    [
        b"",  # nothing
        b"\x04\x05abc",  # value truncated
        b"\x04\x89" + b"\x01" * 9,  # nine length octets
        b"\x04\x80abc\x00\x00",  # indefinite length on a primitive
        b"\x24\x80\x04\x01a",  # no end-of-contents
        b"\x24\x04\x04\x05abcde",  # a segment longer than its container
        b"\x24\x80\x02\x01\x00\x00\x00",  # a constructed OCTET STRING holding an INTEGER
        b"\x24\x80" * (MAX_DEPTH + 2) + b"\x00\x00" * (MAX_DEPTH + 2),  # too deep
        b"\x04\x88\x7f\xff\xff\xff\xff\xff\xff\xff",  # a length beyond any input
    ],
)
def test_refusals(data: bytes) -> None:
    with pytest.raises(MalformedInput):
        octets(data)


def test_element_limits_and_frames() -> None:
    r = reader(b"\x30\x06\x02\x01\x05\x04\x01z")
    assert r.element(8) == b"\x30\x06\x02\x01\x05\x04\x01z"
    with pytest.raises(MalformedInput, match="larger"):
        reader(b"\x30\x06\x02\x01\x05\x04\x01z").element(7)
    # an indefinite element is returned whole, end-of-contents included
    indefinite = b"\x30\x80\x02\x01\x05\x30\x80\x00\x00\x00\x00"
    assert reader(indefinite).element(64) == indefinite
    with pytest.raises(MalformedInput):
        reader(indefinite).element(8)
    # a frame must be read to its end before leaving it
    r = reader(b"\x30\x06\x02\x01\x05\x04\x01z")
    f = r.enter(r.header())
    r.element(10)
    with pytest.raises(MalformedInput):
        r.leave(f)


def test_high_tag_numbers_and_oids() -> None:
    r = reader(b"\xbf\x81\x00\x00")  # [128] constructed, empty
    h = r.header()
    assert (h.cls, h.constructed, h.number, h.length) == (2, True, 128, 0)
    assert r.bytes_of_header(h) == b"\xbf\x81\x00\x00"
    for dotted in ("1.2.156.10197.6.1.4.2.1", "2.16.840.1.101.3.4.1.46", "1.3.132.1.11.1"):
        assert read_oid(reader(encode_oid(dotted))) == dotted
    with pytest.raises(MalformedInput):
        decode_oid(b"\x80\x01")
    with pytest.raises(MalformedInput):
        decode_oid(b"\x2a\x81")


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=5000),
    label=st.sampled_from(["CMS", "PKCS7"]),
    step=st.integers(1, 300),
    split=st.integers(1, 200),
)
def test_pem_round_trip(data: bytes, label: str, step: int, split: int) -> None:
    out = io.BytesIO()
    w = PemWriter(out, label)
    for i in range(0, len(data), split):
        w.write(data[i : i + split])
    w.close()
    text = out.getvalue()
    assert all(len(line) <= 64 for line in text.splitlines())
    r = PemReader(Pipe(b"\r\n  " + text.replace(b"\n", b"\r\n"), step))
    got = b""
    while block := r.read(1000):
        got += block
    assert got == data


@pytest.mark.parametrize(
    "text",
    [
        b"-----BEGIN CMS-----\nAAAA\n",  # no END
        b"-----BEGIN CMS-----\nA*AA\n-----END CMS-----\n",  # not base64
        b"-----BEGIN CMS-----\nAAA\n-----END CMS-----\n",  # bad length
        b"-----BEGIN CMS-----\nAA-A\n-----END CMS-----\n",  # a dash that is no END
        b"-----BEGIN CMS",  # no end of the BEGIN line
        b"-----BEGIN CMS-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END CMS-----\n",
    ],
)
def test_pem_refusals(text: bytes) -> None:
    with pytest.raises(MalformedInput):
        PemReader(io.BytesIO(text)).read()
