"""The ContentInfo wrapper every CMS message starts and ends with, read by both SignedData and
EnvelopedData so the two parsers check its framing the same way."""

from __future__ import annotations

from collections.abc import Collection

from cert_interop.cms import oids as O
from cert_interop.cms.ber import CONTEXT, UNIVERSAL, BerReader, Frame, read_oid
from cert_interop.errors import MalformedInput

__all__ = ["enter_content_info", "leave_content_info"]


def enter_content_info(
    r: BerReader, accepted: Collection[str], what: str
) -> tuple[str, tuple[Frame, Frame, Frame]]:
    """Read ``ContentInfo { contentType, [0] { what SEQUENCE {`` and return the content type
    and the three open frames; the caller reads the inner fields."""
    h = r.header()
    if not h.is_(UNIVERSAL, 16, True):
        raise MalformedInput("not a CMS ContentInfo (no SEQUENCE)")
    f0 = r.enter(h)
    outer = read_oid(r)
    if outer not in accepted:
        article = "an" if what[0] in "AEIOU" else "a"
        raise MalformedInput(f"not {article} {what}: content type {O.name_of(outer)}")
    h = r.header()
    if not h.is_(CONTEXT, 0, True):
        raise MalformedInput("ContentInfo without [0] content")
    f1 = r.enter(h)
    h = r.header()
    if not h.is_(UNIVERSAL, 16, True):
        raise MalformedInput(f"{what} is not a SEQUENCE")
    return outer, (f0, f1, r.enter(h))


def leave_content_info(r: BerReader, frames: tuple[Frame, Frame, Frame], what: str) -> None:
    """Close the frames opened by :func:`enter_content_info`; nothing may follow."""
    f0, f1, f2 = frames
    for frame, label in ((f2, what), (f1, "[0]"), (f0, "ContentInfo")):
        if r.more(frame):
            raise MalformedInput(f"unexpected data at the end of {label}")
        r.leave(frame)
    if not r.at_eof():
        raise MalformedInput("trailing data after the CMS message")
