"""The operators of a content stream, read with one regular expression instead of byte by byte.

pyhanko's tokenizer (``pdf_utils.content_stream_parser``) reads one byte at a time in Python,
about 17 µs per operator: more than the whole text scan once the scan itself is cheap. This
module reads the same operators with :data:`_TOKEN` and gives each operand as a plain value:
``int``, ``float``, ``str`` (a name, with its ``/``), ``bytes`` (a string, its original bytes),
``list`` (an array) or :data:`DICT` (a dictionary, whose content the scan never needs).

It only takes what it can read *exactly* as pyhanko does. Whatever pyhanko would read
differently or where the two might disagree (comments, ``true``/``false``/``null``, ``#`` in
names, nested parentheses in strings, …) makes :func:`content_ops` hand the whole stream list
to pyhanko's tokenizer, whose objects are turned into the same plain values. Where pyhanko's
tokenizer raises (``BI``, a stray ``)``), the operators end there, as the scan ends when pyhanko
raises. One deliberate difference: pyhanko stops at the operators ``f``, ``f*`` (it takes them
for ``false``), ``'`` and ``"``; this reader reads them as the operators they are, so text shown
after a filled shape is still found (when the whole stream goes to pyhanko, it ends there).
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator, Sequence
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content_stream_parser import parse_content_stream

__all__ = ["DICT", "Operand", "content_ops"]

Operand = Any
"""``int | float | str | bytes | list[Operand] | DICT | OTHER`` (see the module docstring)."""


class _Opaque:
    def __init__(self, name: str) -> None:
        self._name = name

    def __repr__(self) -> str:
        return self._name


DICT = _Opaque("DICT")
"""A dictionary operand (``BDC``, ``DP``, …)."""
OTHER = _Opaque("OTHER")
"""An operand the fast reader never gives: a boolean or ``null`` read by pyhanko."""

_WS = b" \n\r\t\f\x00"
_REGULAR = rb"[^ \n\r\t\f\x00()<>\[\]{}/%]"
_TOKEN = re.compile(
    rb"[ \n\r\t\f\x00]*+("
    rb"[+\-.0-9][+,\-.0-9]*+"  # a number (pyhanko reads on over commas too)
    rb"|/" + _REGULAR + rb"*+"  # a name
    rb"|\((?:[^()\\]++|\\[\s\S])*+\)"  # a literal string without nested parentheses
    rb"|<[0-9A-Fa-f \n\r\t\f\x00]*+>"  # a hex string
    rb"|<<|>>|\[|\]"
    rb"|" + _REGULAR + rb"++"  # an operator (or whatever starts with a regular byte)
    rb"|[^ \n\r\t\f\x00]"  # any other byte
    rb")"
)
_BAD_NAME = re.compile(rb"[^!-~]|#")
_ESCAPES = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
_LITERAL_ESCAPES = frozenset(b"() /%<>[]#_&$\\")

# what a token is, by its first byte
_OTHER, _NUM, _NAME, _STR, _LT, _GT, _OPEN, _CLOSE, _OP, _TF = range(10)
_KIND = [_OTHER] * 256
for _c in b"+-.0123456789":
    _KIND[_c] = _NUM
for _c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdeghijklmnopqrsuvwxyz":
    _KIND[_c] = _OP
_KIND[ord("t")] = _KIND[ord("f")] = _TF
_KIND[ord("/")], _KIND[ord("(")], _KIND[ord("<")], _KIND[ord(">")] = _NAME, _STR, _LT, _GT
_KIND[ord("[")], _KIND[ord("]")] = _OPEN, _CLOSE
_FREQUENT = ("BT", "ET", "Tf", "Td", "TD", "Tm", "T*", "Tj", "TJ", "TL", "Tc", "Tw", "Tz", "q", "Q")
_OPERATORS = {op.encode(): op for op in _FREQUENT}
_SHOW_AND_FILL = frozenset((b"f", b"f*", b"'", b'"'))
"""Operators pyhanko's tokenizer cannot read (see the module docstring)."""
"""Operator names decoded once."""


class _Unsupported(Exception):
    """Not read here; pyhanko's tokenizer decides."""


def content_ops(streams: Sequence[Any]) -> Iterator[tuple[str, list[Operand]]]:
    """``(operator, operands)`` of the content streams ``streams``, in order.

    Ends where pyhanko's tokenizer would raise; may raise itself where it does (only on input
    the fast reader leaves to pyhanko), so callers treat an exception as the end of the stream.
    """
    fast = _fast_ops(streams)
    if fast is None:
        for op in parse_content_stream(list(streams)):
            yield op.op, [plain(a) for a in op.args]
    else:
        yield from fast


def plain(obj: Any) -> Operand:
    """The plain value of an operand read by pyhanko."""
    if isinstance(obj, generic.NameObject):
        return str(obj)
    if isinstance(obj, generic.ByteStringObject | generic.TextStringObject):
        return bytes(obj.original_bytes)
    if isinstance(obj, generic.FloatObject):
        return float(obj)
    if isinstance(obj, int) and not isinstance(obj, bool):
        return int(obj)
    if isinstance(obj, generic.ArrayObject):
        return [plain(item) for item in list.__iter__(obj)]
    if isinstance(obj, generic.DictionaryObject):
        return DICT
    return OTHER


def _fast_ops(streams: Sequence[Any]) -> list[tuple[str, list[Operand]]] | None:
    ops: list[tuple[str, list[Operand]]] = []
    args: list[Operand] = []
    for stream in streams:
        if not isinstance(getattr(stream, "container_ref", None), generic.Reference):
            return None
        try:
            data = stream.data
            if not isinstance(data, bytes):
                return None
            args, stopped = _read(data, ops, args)
        except _Unsupported:
            return None
        except Exception:  # the stream does not decode: pyhanko's reader says where it stops
            return None
        if stopped:
            break
    return ops


def _read(
    data: bytes, ops: list[tuple[str, list[Operand]]], args: list[Operand]
) -> tuple[list[Operand], bool]:
    """Append the operators of ``data`` to ``ops``; the operands left over, and whether
    pyhanko's tokenizer would raise in ``data``."""
    stack: list[list[Operand]] = []
    dicts: list[bool] = []  # per open container: is it a dictionary?
    value: Operand
    for tok in _TOKEN.findall(data):
        kind = _KIND[tok[0]]
        if kind == _NUM:
            try:
                value = float(tok) if b"." in tok else int(tok)
            except ValueError:
                raise _Unsupported from None
        elif kind == _OP:
            if stack:
                raise _Unsupported
            op = _OPERATORS.get(tok)
            if op is None:
                if not tok.isascii() or tok in (b"R", b"BI"):
                    return args, True  # pyhanko raises
                if tok == b"null":
                    raise _Unsupported
                op = tok.decode("ascii")
            ops.append((op, args))
            args = []
            continue
        elif kind == _NAME:
            if _BAD_NAME.search(tok):
                raise _Unsupported
            value = tok.decode("ascii")
        elif kind == _STR and len(tok) > 1:
            value = tok[1:-1]
            if b"\\" in value:
                value = _unescape(value)
        elif kind == _LT and len(tok) > 1:
            if tok == b"<<":
                stack.append([])
                dicts.append(True)
                continue
            digits = tok[1:-1].translate(None, _WS)
            value = binascii.unhexlify(digits + b"0" if len(digits) % 2 else digits)
        elif kind == _OPEN:
            stack.append([])
            dicts.append(False)
            continue
        elif kind == _CLOSE or (kind == _GT and tok == b">>"):
            if not stack:
                return args, True  # a stray "]" or ">": pyhanko raises
            items = stack.pop()
            if dicts.pop() != (kind == _GT) or (kind == _GT and not _is_dictionary(items)):
                raise _Unsupported
            value = DICT if kind == _GT else items
        elif tok in _SHOW_AND_FILL and not stack:
            # "f", "f*" (fill), "'" and '"' (move to the next line and show): pyhanko's
            # tokenizer takes the first two for "false" and stops at all four, which would
            # hide every text shown after a filled shape (table shading, a coloured box)
            ops.append((tok.decode("ascii"), args))
            args = []
            continue
        elif kind in (_STR, _LT, _TF) or stack or tok == b"%":
            raise _Unsupported
        else:
            return args, True  # a byte no object starts with: pyhanko raises
        if stack:
            stack[-1].append(value)
        else:
            args.append(value)
    if stack:
        raise _Unsupported
    return args, False


def _is_dictionary(items: list[Operand]) -> bool:
    keys = items[0::2]
    return (
        len(items) % 2 == 0
        and all(isinstance(k, str) for k in keys)
        and len(set(keys)) == len(keys)
    )


def _unescape(body: bytes) -> bytes:
    """The bytes of a literal string with backslash escapes, as pyhanko reads them."""
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        c = body[i]
        i += 1
        if c != 0x5C:
            out.append(c)
            continue
        e = body[i]  # the token pattern puts a byte after every backslash
        i += 1
        if e in _LITERAL_ESCAPES:
            out.append(e)
        elif e in _ESCAPES:
            out.append(_ESCAPES[e])
        elif 0x30 <= e <= 0x39:
            j = i
            while j < n and j < i + 2 and 0x30 <= body[j] <= 0x39:
                j += 1
            digits = body[i - 1 : j]
            i = j
            if any(d > 0x37 for d in digits) or int(digits, 8) > 0xFF:
                raise _Unsupported
            out.append(int(digits, 8))
        elif e in (0x0A, 0x0D):
            if i < n and body[i] in (0x0A, 0x0D):
                i += 1
        else:
            raise _Unsupported
    return bytes(out)
