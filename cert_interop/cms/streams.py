"""Inputs and outputs of the CMS functions: bytes or binary file objects, DER/BER or PEM.

Everything here works on chunks, so a 200 MB message never sits in memory: a file's length is
learnt by seeking (when it can seek), PEM is decoded and encoded line by line.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterator
from typing import Any, Protocol

from cert_interop.errors import MalformedInput

__all__ = [
    "CHUNK",
    "PemReader",
    "PemWriter",
    "Readable",
    "Source",
    "Writable",
    "as_reader",
    "chunks",
    "open_input",
    "remaining_length",
]

CHUNK = 1 << 16
"""Bytes read or written at a time (64 KiB)."""


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes, /) -> object: ...


Source = bytes | bytearray | memoryview | Readable


def as_reader(source: Source) -> Readable:
    if isinstance(source, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(source))
    if not callable(getattr(source, "read", None)):
        raise MalformedInput("input must be bytes or a binary file object")
    return source


def remaining_length(source: Source) -> int | None:
    """Bytes left to read from ``source``, or None when that cannot be known without reading
    (a pipe, a socket, a generator-backed stream)."""
    if isinstance(source, bytes | bytearray | memoryview):
        return len(source)
    f: Any = source
    try:
        if not f.seekable():
            return None
        here = int(f.tell())
        end = int(f.seek(0, io.SEEK_END))
        f.seek(here)
    except (AttributeError, OSError, ValueError):
        return None
    return max(end - here, 0)


def is_seekable(reader: Readable) -> bool:
    f: Any = reader
    try:
        return bool(f.seekable())
    except (AttributeError, OSError, ValueError):
        return False


def read_exactly(reader: Readable, n: int) -> bytes:
    """Up to ``n`` bytes, fewer only at end of input (short reads of pipes are retried)."""
    first = reader.read(n)
    if not isinstance(first, bytes | bytearray):
        raise MalformedInput("input stream must yield bytes")
    if len(first) == n or not first:
        return bytes(first)
    parts = [bytes(first)]
    have = len(first)
    while have < n:
        more = reader.read(n - have)
        if not more:
            break
        parts.append(bytes(more))
        have += len(more)
    return b"".join(parts)


def chunks(reader: Readable, size: int = CHUNK) -> Iterator[bytes]:
    while True:
        block = read_exactly(reader, size)
        if not block:
            return
        yield block
        if len(block) < size:
            return


class _Prefixed:
    """A stream that first returns bytes already read from another stream, then the rest."""

    def __init__(self, prefix: bytes, rest: Readable) -> None:
        self._prefix = prefix
        self._rest = rest

    def read(self, size: int = -1, /) -> bytes:
        if self._prefix:
            if size < 0 or size >= len(self._prefix):
                out, self._prefix = self._prefix, b""
                if size < 0:
                    return out + self._rest.read()
                return out
            out, self._prefix = self._prefix[:size], self._prefix[size:]
            return out
        return self._rest.read(size)


_PEM_BEGIN = b"-----BEGIN"
_PEM_END = b"-----END"
_WHITESPACE = b" \t\r\n\v\f"


def open_input(source: Source) -> tuple[Readable, bool]:
    """A reader of the DER/BER bytes of ``source`` (PEM is decoded on the fly) and whether it can
    be read again from where it started (for a second pass over attached content)."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if data.lstrip(_WHITESPACE)[:10] == _PEM_BEGIN:
            return PemReader(io.BytesIO(data)), False
        return io.BytesIO(data), True
    reader = as_reader(source)
    seekable = is_seekable(reader)
    f: Any = reader
    start = f.tell() if seekable else 0
    head = read_exactly(reader, 64)
    is_pem = head.lstrip(_WHITESPACE)[:10] == _PEM_BEGIN
    if seekable:
        f.seek(start)
        return (PemReader(reader), False) if is_pem else (reader, True)
    rest = _Prefixed(head, reader)
    return (PemReader(rest), False) if is_pem else (rest, False)


class PemReader:
    """Decodes the base64 body of the first PEM block of a stream (any label), chunk by chunk."""

    _MAX_HEADER = 4096

    def __init__(self, source: Readable) -> None:
        self._src = source
        self._pending = b""  # base64 text not yet decoded (fewer than 4 significant chars kept)
        self._tail = b""  # the start of a possible END line, kept for the next read
        self._out = b""
        self._started = False
        self._done = False

    def _start(self) -> None:
        text = b""
        while b"\n" not in text:
            more = self._src.read(CHUNK)
            if not more:
                raise MalformedInput("PEM: no line after the BEGIN line")
            text = (text + more).lstrip(_WHITESPACE)
            if len(text) > self._MAX_HEADER and b"\n" not in text:
                raise MalformedInput("PEM: BEGIN line too long")
        line, _, rest = text.partition(b"\n")
        if not line.startswith(_PEM_BEGIN) or not line.rstrip().endswith(b"-----"):
            raise MalformedInput("PEM: bad BEGIN line")
        self._started = True
        self._feed(rest)

    def _feed(self, text: bytes) -> None:
        text, self._tail = self._tail + text, b""
        end = text.find(b"-")
        if end >= 0:
            rest = text[end:]
            if len(rest) < len(_PEM_END) and _PEM_END.startswith(rest):
                self._tail = rest  # the END line is split across reads
            elif not rest.startswith(_PEM_END):
                raise MalformedInput("PEM: unexpected '-' in the body")
            else:
                self._done = True
            text = text[:end]
        # RFC 7468 allows header lines before the body ("Proc-Type: …"); CMS PEM has none.
        body = self._pending + text.translate(None, _WHITESPACE)
        if b":" in body:
            raise MalformedInput("PEM: encapsulated headers are not supported")
        cut = len(body) if self._done else len(body) - len(body) % 4
        try:
            self._out += base64.b64decode(body[:cut], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedInput("PEM: invalid base64") from exc
        self._pending = body[cut:]

    def read(self, size: int = -1, /) -> bytes:
        if not self._started:
            self._start()
        want = CHUNK if size < 0 else size
        while len(self._out) < want and not self._done:
            more = self._src.read(CHUNK)
            if not more:
                raise MalformedInput("PEM: no END line")
            self._feed(more)
        if size < 0:
            while not self._done:
                more = self._src.read(CHUNK)
                if not more:
                    raise MalformedInput("PEM: no END line")
                self._feed(more)
            out, self._out = self._out, b""
            return out
        out, self._out = self._out[:size], self._out[size:]
        return out


class PemWriter:
    """Encodes what is written as a PEM block (64-character lines); ``close`` writes the END
    line (the underlying stream stays open)."""

    def __init__(self, out: Writable, label: str = "CMS") -> None:
        self._dst = out
        self._label = label
        self._buf = b""
        out.write(f"-----BEGIN {label}-----\n".encode())

    def write(self, data: bytes, /) -> int:
        self._buf += data
        full = len(self._buf) - len(self._buf) % 48
        if full:
            self._emit(self._buf[:full])
            self._buf = self._buf[full:]
        return len(data)

    def _emit(self, raw: bytes) -> None:
        text = base64.b64encode(raw)
        lines = [text[i : i + 64] for i in range(0, len(text), 64)]
        self._dst.write(b"\n".join(lines) + b"\n")

    def close(self) -> None:
        if self._buf:
            self._emit(self._buf)
            self._buf = b""
        self._dst.write(f"-----END {self._label}-----\n".encode())
