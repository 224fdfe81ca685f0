"""Tiny DER encoders for the structures this package writes.

Written by hand rather than through ``asn1crypto`` because the streaming writers need headers on
their own (a SEQUENCE header before a 200 MB OCTET STRING that is never in memory) and the exact
bytes of AlgorithmIdentifiers (absent vs NULL parameters) matter to peers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache

from asn1crypto import x509 as _ax509

SEQUENCE = 0x30
SET = 0x31
OCTET_STRING = 0x04
OCTET_STRING_CONSTRUCTED = 0x24
INTEGER = 0x02
OID = 0x06
NULL_TLV = b"\x05\x00"
EOC = b"\x00\x00"


def length(n: int) -> bytes:
    """Definite length octets (short form below 128, else long form)."""
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def header(tag: int, n: int | None) -> bytes:
    """Identifier and length octets; ``None`` is the BER indefinite length."""
    return bytes([tag, 0x80]) if n is None else bytes([tag]) + length(n)


def header_size(n: int) -> int:
    return 1 + len(length(n))


def tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + length(len(body)) + body


def seq(*parts: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(parts))


def set_of(parts: Iterable[bytes]) -> bytes:
    """SET OF in DER order: elements sorted by their encodings (X.690 §11.6)."""
    return tlv(SET, b"".join(sorted(parts)))


def explicit(number: int, body: bytes) -> bytes:
    return tlv(0xA0 | number, body)


def octets(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


def integer(value: int) -> bytes:
    body = value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True)
    return tlv(INTEGER, body)


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    first = arcs[0] * 40 + arcs[1]
    body = bytearray()
    for arc in (first, *arcs[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(OID, bytes(body))


def algorithm(dotted: str, parameters: bytes | None = None) -> bytes:
    """AlgorithmIdentifier; ``parameters`` is the DER of the parameters (absent when None)."""
    return seq(oid(dotted), parameters or b"")


def time(when: datetime) -> bytes:
    """UTCTime for 1950–2049 and GeneralizedTime otherwise (RFC 5652 §11.3)."""
    when = when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)
    if 1950 <= when.year < 2050:
        return tlv(0x17, when.strftime("%y%m%d%H%M%SZ").encode())
    return tlv(0x18, when.strftime("%Y%m%d%H%M%SZ").encode())


@lru_cache(maxsize=256)
def issuer_der(cert_der: bytes) -> bytes:
    """The issuer Name of a certificate exactly as encoded in it (for IssuerAndSerialNumber)."""
    return bytes(_ax509.Certificate.load(cert_der)["tbs_certificate"]["issuer"].dump())
