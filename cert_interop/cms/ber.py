"""A streaming BER/DER reader: TLV headers, definite and indefinite lengths, constructed OCTET
STRINGs, bounded nesting — over a binary stream, never holding more than one chunk of a large
value.

The CMS parsers walk the outer structure with :meth:`BerReader.header` / :meth:`enter` /
:meth:`more` / :meth:`leave`, read the small parts whole with :meth:`element` (each bounded),
and stream the content with :meth:`octets`. Every structural problem — truncation, a length that
overruns its container, too deep nesting, an element larger than allowed — raises
:class:`~cert_interop.errors.MalformedInput`.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from cert_interop.cms.streams import CHUNK, Readable
from cert_interop.errors import CertInteropError, MalformedInput

__all__ = [
    "MAX_DEPTH",
    "BerReader",
    "Frame",
    "Header",
    "Mark",
    "children",
    "decode_oid",
    "guard",
    "read_int",
    "read_oid",
]

MAX_DEPTH = 32
"""Deepest nesting of constructed encodings accepted (BER chunked OCTET STRINGs included)."""

_MAX_LENGTH_OCTETS = 8
UNIVERSAL, APPLICATION, CONTEXT, PRIVATE = 0, 1, 2, 3


@dataclass(frozen=True)
class Header:
    cls: int
    """0 universal, 1 application, 2 context-specific, 3 private."""
    constructed: bool
    number: int
    length: int | None
    """None: indefinite (BER), ended by an end-of-contents marker."""
    size: int
    """Bytes of the identifier and length octets."""
    start: int
    """Position of the identifier octet in the stream."""

    def is_(self, cls: int, number: int, constructed: bool | None = None) -> bool:
        if self.cls != cls or self.number != number:
            return False
        return constructed is None or self.constructed == constructed

    @property
    def end(self) -> int | None:
        return None if self.length is None else self.start + self.size + self.length


@dataclass
class Frame:
    """An entered constructed element: its end position (None when indefinite)."""

    end: int | None
    depth: int
    closed: bool = False
    """An indefinite frame whose end-of-contents has been read."""


@dataclass(frozen=True)
class Mark:
    """A position to come back to with :meth:`BerReader.rewind`."""

    position: int
    limits: tuple[int, ...]
    depth: int


class BerReader:
    def __init__(self, source: Readable, *, rewindable: bool = False) -> None:
        self._src = source
        self._buf = b""
        self._off = 0
        self.position = 0
        self._base = source.tell() if rewindable else 0  # type: ignore[attr-defined]
        self._rewindable = rewindable
        self._limits: list[int] = []  # ends of the enclosing definite-length frames
        self._depth = 0

    # --- raw bytes -------------------------------------------------------------------------

    def _available(self) -> int:
        return len(self._buf) - self._off

    def _fill(self, n: int) -> bool:
        """Ensure ``n`` bytes are buffered; False at end of input."""
        while self._available() < n:
            more = self._src.read(max(CHUNK, n - self._available()))
            if not more:
                return False
            if not isinstance(more, bytes | bytearray):
                raise MalformedInput("input stream must yield bytes")
            self._buf = self._buf[self._off :] + bytes(more)
            self._off = 0
        return True

    def _limit(self) -> int | None:
        return self._limits[-1] if self._limits else None

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes (truncation → MalformedInput)."""
        limit = self._limit()
        if limit is not None and self.position + n > limit:
            raise MalformedInput("value runs past the end of its container")
        if not self._fill(n):
            raise MalformedInput("truncated input")
        out = self._buf[self._off : self._off + n]
        self._off += n
        self.position += n
        return out

    def read_some(self, n: int) -> bytes:
        """Between 1 and ``n`` bytes (at most one chunk), for streaming large values."""
        n = min(n, CHUNK)
        if self._available() == 0:
            more = self._src.read(n)
            if not more:
                raise MalformedInput("truncated input")
            if len(more) > n:  # a stream that ignores the size asked for
                self._buf, self._off = bytes(more[n:]), 0
                more = more[:n]
            self.position += len(more)
            return bytes(more)
        take = min(n, self._available())
        out = self._buf[self._off : self._off + take]
        self._off += take
        self.position += take
        return out

    def peek(self, n: int) -> bytes:
        self._fill(n)
        return self._buf[self._off : self._off + n]

    def at_eof(self) -> bool:
        return not self._fill(1)

    @property
    def rewindable(self) -> bool:
        return self._rewindable

    def mark(self) -> Mark:
        return Mark(self.position, tuple(self._limits), self._depth)

    def rewind(self, mark: Mark) -> None:
        """Go back to a marked position (seekable sources only)."""
        if not self._rewindable:
            raise MalformedInput("input cannot be read twice")
        self._src.seek(self._base + mark.position)  # type: ignore[attr-defined]
        self._buf, self._off = b"", 0
        self.position = mark.position
        self._limits = list(mark.limits)
        self._depth = mark.depth

    # --- TLV structure ---------------------------------------------------------------------

    def header(self) -> Header:
        start = self.position
        first = self.read(1)[0]
        cls, constructed, number = first >> 6, bool(first & 0x20), first & 0x1F
        size = 1
        if number == 0x1F:  # high tag number form
            number = 0
            for i in range(5):
                b = self.read(1)[0]
                size += 1
                if i == 0 and b == 0x80:
                    raise MalformedInput("non-minimal tag number")
                number = (number << 7) | (b & 0x7F)
                if not b & 0x80:
                    break
            else:
                raise MalformedInput("tag number too large")
        lb = self.read(1)[0]
        size += 1
        length: int | None
        if lb < 0x80:
            length = lb
        elif lb == 0x80:
            if not constructed:
                raise MalformedInput("indefinite length on a primitive encoding")
            length = None
        else:
            n = lb & 0x7F
            if n > _MAX_LENGTH_OCTETS:
                raise MalformedInput("length too large")
            length = int.from_bytes(self.read(n), "big")
            size += n
        h = Header(cls, constructed, number, length, size, start)
        limit = self._limit()
        if h.end is not None and limit is not None and h.end > limit:
            raise MalformedInput("element runs past the end of its container")
        return h

    def enter(self, h: Header) -> Frame:
        if not h.constructed:
            raise MalformedInput("expected a constructed encoding")
        if self._depth >= MAX_DEPTH:
            raise MalformedInput("nesting too deep")
        self._depth += 1
        if h.end is not None:
            self._limits.append(h.end)
        return Frame(h.end, self._depth)

    def more(self, frame: Frame) -> bool:
        """True while ``frame`` has another child; at its end (an EOC for an indefinite frame,
        consumed here) False."""
        if frame.end is not None:
            if self.position > frame.end:
                raise MalformedInput("element runs past the end of its container")
            return self.position < frame.end
        if frame.closed:
            return False
        if self.peek(2) == b"\x00\x00":
            self.read(2)
            frame.closed = True
            return False
        if self.at_eof():
            raise MalformedInput("truncated input: missing end-of-contents")
        return True

    def leave(self, frame: Frame) -> None:
        """Close ``frame``; everything in it must have been read."""
        if frame.depth != self._depth:
            raise MalformedInput("internal: frames closed out of order")
        if frame.end is None:
            if not frame.closed and self.read(2) != b"\x00\x00":
                raise MalformedInput("expected end-of-contents")
            frame.closed = True
        else:
            if self.position != frame.end:
                raise MalformedInput("unexpected data at the end of an element")
            self._limits.pop()
        self._depth -= 1

    def skip_rest(self, frame: Frame, max_bytes: int) -> None:
        """Skip the remaining children of ``frame`` (each bounded by ``max_bytes``)."""
        while self.more(frame):
            self.element(max_bytes)

    def element(self, max_bytes: int, h: Header | None = None) -> bytes:
        """One whole element (header included) as bytes, refusing more than ``max_bytes``.
        Indefinite lengths are kept as they are (``asn1crypto`` reads them)."""
        h = h or self.header()
        out = bytearray(self.bytes_of_header(h))
        if h.length is not None:
            if h.size + h.length > max_bytes:
                raise MalformedInput(f"element larger than {max_bytes} bytes")
            out += self.read(h.length)
            return bytes(out)
        budget = max_bytes - h.size - 2
        if budget < 0:
            raise MalformedInput(f"element larger than {max_bytes} bytes")
        frame = self.enter(h)
        while self.more(frame):
            child = self.element(budget)
            budget -= len(child)
            out += child
        self.leave(frame)
        return bytes(out + b"\x00\x00")

    def bytes_of_header(self, h: Header) -> bytes:
        """Re-encode ``h`` (the reader does not keep consumed bytes)."""
        first = (h.cls << 6) | (0x20 if h.constructed else 0)
        if h.number < 0x1F:
            ident = bytes([first | h.number])
        else:
            groups = []
            n = h.number
            groups.append(n & 0x7F)
            n >>= 7
            while n:
                groups.append(0x80 | (n & 0x7F))
                n >>= 7
            ident = bytes([first | 0x1F, *reversed(groups)])
        if h.length is None:
            return ident + b"\x80"
        lsize = h.size - len(ident) - 1
        if lsize == 0:
            return ident + bytes([h.length])
        return ident + bytes([0x80 | lsize]) + h.length.to_bytes(lsize, "big")

    def primitive(self, h: Header, max_bytes: int) -> bytes:
        """The value of a primitive element whose header was read."""
        if h.constructed or h.length is None:
            raise MalformedInput("expected a primitive encoding")
        if h.length > max_bytes:
            raise MalformedInput(f"value larger than {max_bytes} bytes")
        return self.read(h.length)

    def octets(self, h: Header) -> Iterator[bytes]:
        """Stream the value of an OCTET STRING (or an implicitly tagged one) whose header was
        read: primitive, or constructed from OCTET STRING segments (BER), nested or not."""
        if not h.constructed:
            if h.length is None:  # pragma: no cover - header() refuses this
                raise MalformedInput("indefinite primitive")
            left = h.length
            while left:
                block = self.read_some(left)
                left -= len(block)
                yield block
            return
        frame = self.enter(h)
        while self.more(frame):
            child = self.header()
            if not child.is_(UNIVERSAL, 4):
                raise MalformedInput("a constructed OCTET STRING holds something else")
            yield from self.octets(child)
        self.leave(frame)


def children(raw: bytes, max_items: int) -> list[bytes]:
    """The encoded children of one constructed element (given whole, header included)."""
    r = BerReader(io.BytesIO(raw))
    f = r.enter(r.header())
    out: list[bytes] = []
    while r.more(f):
        if len(out) >= max_items:
            raise MalformedInput("too many elements")
        out.append(r.element(len(raw)))
    r.leave(f)
    return out


def read_oid(reader: BerReader) -> str:
    h = reader.header()
    if not h.is_(UNIVERSAL, 6, False):
        raise MalformedInput("expected an OBJECT IDENTIFIER")
    return decode_oid(reader.primitive(h, 128))


def decode_oid(body: bytes) -> str:
    if not body or body[-1] & 0x80:
        raise MalformedInput("bad OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    fresh = True
    for b in body:
        if fresh and b == 0x80:
            raise MalformedInput("non-minimal OBJECT IDENTIFIER arc")
        value = (value << 7) | (b & 0x7F)
        fresh = not b & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(a) for a in head + arcs[1:])


def read_int(reader: BerReader, max_bytes: int = 8) -> int:
    h = reader.header()
    if not h.is_(UNIVERSAL, 2, False):
        raise MalformedInput("expected an INTEGER")
    body = reader.primitive(h, max_bytes)
    if not body:
        raise MalformedInput("empty INTEGER")
    return int.from_bytes(body, "big", signed=True)


_T = TypeVar("_T")


def guard(what: str, fn: Callable[[], _T]) -> _T:
    """Run a parsing step; whatever a parser raises on hostile bytes becomes ``MalformedInput``
    (``asn1crypto`` raises ValueError, TypeError, KeyError, …), typed errors pass through."""
    try:
        return fn()
    except CertInteropError:
        raise
    except Exception as exc:
        raise MalformedInput(f"cannot parse {what}: {type(exc).__name__}") from exc
