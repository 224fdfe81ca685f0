"""Read the parts of a signature's CMS that the report needs, with asn1crypto.

Tolerates what PDF signatures really contain: zero padding after the DER in ``/Contents``, and
the GM/T 0010 content types (which asn1crypto does not map to SignedData by itself).
"""

from __future__ import annotations

from asn1crypto import cms as acms

__all__ = [
    "ATTR_TIMESTAMP_TOKEN",
    "certificates",
    "signed_data",
    "timestamp_tokens",
    "trim_der",
]

ATTR_TIMESTAMP_TOKEN = "1.2.840.113549.1.9.16.2.14"


def _header(data: bytes, pos: int) -> tuple[int, int, int]:
    """``(tag, content start, content end)`` of the definite-length TLV at ``pos``."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag, first = data[pos], data[pos + 1]
    pos += 2
    if first < 0x80:
        length = first
    elif first == 0x80:
        raise ValueError("indefinite length")
    else:
        n = first & 0x7F
        if n > 4 or pos + n > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise ValueError("DER runs past its end")
    return tag, pos, pos + length


def trim_der(contents: bytes) -> bytes:
    """The DER ContentInfo without the zero padding of its placeholder (as is for BER)."""
    try:
        _tag, _start, end = _header(contents, 0)
    except ValueError:
        return contents
    return contents[:end]


def signed_data(cms_der: bytes) -> acms.SignedData:
    """The SignedData inside a ContentInfo, standard or GM/T 0010; ``ValueError`` if neither."""
    data = trim_der(cms_der)
    tag, start, _end = _header(data, 0)
    if tag != 0x30:
        raise ValueError("not a ContentInfo")
    _t, _s, oid_end = _header(data, start)
    tag, inner_start, _e = _header(data, oid_end)
    if tag != 0xA0:
        raise ValueError("ContentInfo without content")
    _t, _s, inner_end = _header(data, inner_start)
    sd = acms.SignedData.load(data[inner_start:inner_end])
    _ = sd["signer_infos"]  # force the parse of the parts we read
    return sd


def certificates(sd: acms.SignedData) -> list[bytes]:
    """DER of every X.509 certificate the SignedData carries."""
    out: list[bytes] = []
    for choice in sd["certificates"] or ():
        if choice.name == "certificate":
            out.append(bytes(choice.chosen.dump()))
    return out


def timestamp_tokens(si: acms.SignerInfo) -> list[bytes]:
    """signature-time-stamp tokens (unsigned attribute, RFC 3161 appendix A), as DER."""
    tokens: list[bytes] = []
    for attr in si["unsigned_attrs"] or ():
        if attr["type"].dotted == ATTR_TIMESTAMP_TOKEN:
            tokens.extend(bytes(v.dump()) for v in attr["values"])
    return tokens
