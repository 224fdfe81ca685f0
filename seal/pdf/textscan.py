"""Find a keyword in a page's text and where it is drawn: a small content-stream scan.

pyhanko tokenises content streams (``pdf_utils.content_stream_parser``) but extracts no text, and
pypdf would add a dependency that still only places whole text runs, not glyphs. So this module
runs the text operators itself (over :mod:`seal.pdf.contentops`, which reads the same operators
as pyhanko's tokenizer, faster) and can give one position per glyph, which is what centring a
seal on a word inside a line needs.

Understood: ``q Q cm``, ``BT ET``, ``Tf Tc Tw Tz TL Ts``, ``Td TD Tm T*``, ``Tj TJ ' "``, form
XObjects (``Do``, nested up to 4 deep); the fonts of :mod:`seal.pdf.textfonts`. Not understood:
Type3 font matrices, vertical writing, one-byte/two-byte mixed CMaps (GBK-EUC-H …), text that
follows an inline image in the same stream (pyhanko's tokenizer stops at ``BI``),
``/Rotate`` (positions stay in default user space, as placements are). Font and resource
entries given as indirect objects (``/FontDescriptor``, ``/Widths``, ``/W``, a form's
``/Resources``: what most PDF writers produce) are resolved
(:func:`seal.pdf.pdfobjects.entry`); text after a filled shape (``f``, ``f*``) is read.

:func:`find_keyword` first rules out pages none of whose fonts (those of its resources and of
its form XObjects') has a glyph for every character of the keyword
(:meth:`~seal.pdf.textfonts.DocumentFonts.may_show`); fonts are loaded once per document.

Positions are computed lazily. The scan records each shown string with the text state it was
shown in; the text matrix is kept as the matrix last set (by ``BT``, ``Td``, ``Tm``, ``T*``)
followed by a chain of horizontal moves (strings shown, ``TJ`` adjustments), :class:`_Move`.
:func:`find_keyword` matches on the text alone and replays only the moves that lead to the two
glyphs at the ends of the match, with the same arithmetic, in the same order, as computing every
glyph's position (:func:`page_glyphs`) does.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pyhanko.pdf_utils import generic

from seal.pdf.contentops import Operand, content_ops
from seal.pdf.pdfobjects import entry, pdf_dict
from seal.pdf.textfonts import DocumentFonts, Font, load_font, normalise, number, parse_to_unicode

__all__ = [
    "Font",
    "Glyph",
    "find_keyword",
    "load_font",  # re-exported from seal.pdf.textfonts, as before the split
    "page_glyphs",
    "page_text",
    "parse_to_unicode",
]

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
MAX_DEPTH = 4
MAX_GLYPHS = 200_000
"""Per page: a bound on work for a hostile document."""
MID_HEIGHT = 0.35
"""Vertical centre of a glyph, in em above the baseline (CJK and capitals sit around here)."""


def mul(m: Matrix, n: Matrix) -> Matrix:
    """``m`` then ``n`` (PDF row-vector convention: p' = p x m x n)."""
    a, b, c, d, e, f = m
    aa, bb, cc, dd, ee, ff = n
    return (
        a * aa + b * cc,
        a * bb + b * dd,
        c * aa + d * cc,
        c * bb + d * dd,
        e * aa + f * cc + ee,
        e * bb + f * dd + ff,
    )


def apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return (x * a + y * c + e, x * b + y * d + f)


def _num(value: Operand) -> float:
    """An operand as a number, 0 if it is none (as pyhanko's objects convert)."""
    if type(value) is float:
        return value
    if isinstance(value, bytes):  # a string: it converts as pyhanko's string object does
        return number(generic.pdf_string(value), 0.0)
    if isinstance(value, int):
        return number(value, 0.0)
    return 0.0


def _key(value: Operand) -> str:
    """An operand as the resource name it looks up (``str()`` of pyhanko's object)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return str(generic.pdf_string(value))
    return ""  # no resource name lacks the "/"


# --- the text matrix, lazily -------------------------------------------------------------------


class _Move:
    """A horizontal move of the text matrix, after ``prev`` (another move, or the matrix set by
    ``BT``/``Td``/``Tm``/``T*``): a ``TJ`` adjustment or a string shown (its glyphs' advances).

    Moves only point back, so the matrix saved by ``q`` and restored by ``Q`` keeps its own
    history for nothing. ``m``, the matrix after the move, is computed when first asked for.
    """

    __slots__ = ("event", "m", "prev")

    def __init__(self, prev: _Tm, event: float | _Show) -> None:
        self.prev = prev
        self.event = event
        self.m: Matrix | None = None


_Tm = _Move | Matrix
"""A text matrix: as just set, or after moves."""


def _matrix(tm: _Tm) -> Matrix:
    """The text matrix ``tm`` stands for (replaying its moves not computed yet, in order)."""
    chain: list[_Move] = []
    while isinstance(tm, _Move) and tm.m is None:
        chain.append(tm)
        tm = tm.prev
    m = tm.m if isinstance(tm, _Move) else tm
    assert m is not None
    for move in reversed(chain):
        event = move.event
        m = event.advance(m) if isinstance(event, _Show) else mul((1, 0, 0, 1, event, 0), m)
        move.m = m
    return m


@dataclass(frozen=True)
class Glyph:
    text: str
    left: tuple[float, float]
    """Where the glyph starts, at mid-height, in default user space."""
    right: tuple[float, float]


@dataclass(eq=False, slots=True)
class _Show:
    """One string shown, with the text state it was shown in."""

    font: Font
    raw: bytes
    size: float
    scale: float
    rise: float
    char_spacing: float
    word_spacing: float
    ctm: Matrix
    tm: _Tm
    """The text matrix before the first glyph."""

    def _advance(self, code: int, width: float) -> float:
        spacing = self.char_spacing
        if not self.font.two_byte and code == 32:
            spacing += self.word_spacing
        return (width * self.size + spacing) * self.scale

    def advance(self, m: Matrix) -> Matrix:
        """The text matrix after this string, from ``m`` before it."""
        for code, _, width in self.font.glyphs(self.raw):
            m = mul((1, 0, 0, 1, self._advance(code, width), 0), m)
        return m

    def glyphs(self, only: int | None = None) -> list[Glyph]:
        """The positioned glyphs (only the ``only``-th, if given)."""
        out: list[Glyph] = []
        tm = _matrix(self.tm)
        for i, (code, text, width) in enumerate(self.font.glyphs(self.raw)):
            if only is None or i == only:
                trm = mul(
                    mul((self.size * self.scale, 0, 0, self.size, 0, self.rise), tm), self.ctm
                )
                left = apply(trm, 0.0, MID_HEIGHT)
                right = apply(trm, width, MID_HEIGHT)
                out.append(Glyph(text, left, right))
                if only is not None:
                    break
            tm = mul((1, 0, 0, 1, self._advance(code, width), 0), tm)
        return out


# --- the scan ----------------------------------------------------------------------------------

_OPERATORS = frozenset({"q", "Q", "cm", "BT", "Tf", "Tc", "Tw", "Tz", "TL", "Ts"}) | frozenset(
    {"Td", "TD", "Tm", "T*", "Tj", "TJ", "'", '"', "Do"}
)
"""The operators the scan acts on; it passes over the others."""


@dataclass
class _TextState:
    tm: _Tm = IDENTITY
    tlm: Matrix = IDENTITY
    font: Font | None = None
    size: float = 0.0
    char_spacing: float = 0.0
    word_spacing: float = 0.0
    scale: float = 1.0
    leading: float = 0.0
    rise: float = 0.0


class _Scanner:
    def __init__(self, fonts: DocumentFonts) -> None:
        self.shows: list[_Show] = []
        self.count = 0
        """Glyphs shown so far."""
        self._fonts = fonts

    def run(self, streams: list[Any], resources: Any, ctm: Matrix, depth: int) -> None:
        stack: list[tuple[Matrix, _TextState]] = []
        ts = _TextState()
        show = self._show
        try:
            for op, args in content_ops(streams):
                if self.count > MAX_GLYPHS:
                    return
                if op not in _OPERATORS:
                    continue
                if op == "Tj":
                    if args:
                        show(args[0], ts, ctm)
                elif op == "TJ":
                    if args and isinstance(args[0], list):
                        for item in args[0]:
                            if isinstance(item, bytes):
                                show(item, ts, ctm)
                            else:
                                ts.tm = _Move(ts.tm, -_num(item) / 1000.0 * ts.size * ts.scale)
                elif op in ("Td", "TD"):
                    if len(args) == 2:
                        tx, ty = _num(args[0]), _num(args[1])
                        if op == "TD":
                            ts.leading = -ty
                        ts.tlm = mul((1, 0, 0, 1, tx, ty), ts.tlm)
                        ts.tm = ts.tlm
                elif op == "BT":
                    ts.tlm = IDENTITY
                    ts.tm = IDENTITY
                elif op == "Tf":
                    if len(args) == 2:
                        ts.font = self._fonts.named(resources, _key(args[0]))
                        ts.size = _num(args[1])
                elif op == "q":
                    stack.append((ctm, _TextState(**ts.__dict__)))
                elif op == "Q":
                    if stack:
                        ctm, ts = stack.pop()
                else:
                    ctm = self._op(op, args, resources, ctm, ts, depth)
        except Exception:  # inline images, broken syntax: keep what was read so far
            return

    def _op(
        self,
        op: str,
        args: Sequence[Operand],
        resources: Any,
        ctm: Matrix,
        ts: _TextState,
        depth: int,
    ) -> Matrix:
        """The operators other than the frequent ones; the new CTM."""
        if op == "cm":
            if len(args) == 6:
                n = [_num(a) for a in args]
                ctm = mul((n[0], n[1], n[2], n[3], n[4], n[5]), ctm)
        elif op == "Tm":
            if len(args) == 6:
                n = [_num(a) for a in args]
                ts.tlm = (n[0], n[1], n[2], n[3], n[4], n[5])
                ts.tm = ts.tlm
        elif op == "T*":
            ts.tlm = mul((1, 0, 0, 1, 0, -ts.leading), ts.tlm)
            ts.tm = ts.tlm
        elif op in ("Tc", "Tw", "Tz", "TL", "Ts"):
            if args:
                self._set(op, _num(args[0]), ts)
        elif op in ("'", '"'):
            if args:
                if op == '"' and len(args) == 3:
                    ts.word_spacing, ts.char_spacing = _num(args[0]), _num(args[1])
                ts.tlm = mul((1, 0, 0, 1, 0, -ts.leading), ts.tlm)
                ts.tm = ts.tlm
                self._show(args[-1], ts, ctm)
        elif op == "Do" and args and depth < MAX_DEPTH:
            self._form(_key(args[0]), resources, ctm, depth)
        return ctm

    @staticmethod
    def _set(op: str, value: float, ts: _TextState) -> None:
        if op == "Tc":
            ts.char_spacing = value
        elif op == "Tw":
            ts.word_spacing = value
        elif op == "Tz":
            ts.scale = value / 100.0
        elif op == "TL":
            ts.leading = value
        else:
            ts.rise = value

    def _show(self, string: Operand, ts: _TextState, ctm: Matrix) -> None:
        font = ts.font
        if font is None or not isinstance(string, bytes):
            return
        count = font.count(string)
        if not count:
            return
        show = _Show(
            font,
            string,
            ts.size,
            ts.scale,
            ts.rise,
            ts.char_spacing,
            ts.word_spacing,
            ctm,
            ts.tm,
        )
        self.shows.append(show)
        self.count += count
        ts.tm = _Move(ts.tm, show)

    def _form(self, name: str, resources: Any, ctm: Matrix, depth: int) -> None:
        try:
            xobj = resources["/XObject"].raw_get(name).get_object()
        except (KeyError, TypeError, AttributeError):
            return
        if not isinstance(xobj, generic.StreamObject) or entry(xobj, "/Subtype") != "/Form":
            return
        m = entry(xobj, "/Matrix")
        matrix: Matrix = IDENTITY
        if m is not None and len(m) == 6:
            matrix = (
                number(m[0], 1),
                number(m[1], 0),
                number(m[2], 0),
                number(m[3], 1),
                number(m[4], 0),
                number(m[5], 0),
            )
        inner = entry(xobj, "/Resources", resources)
        self.run([xobj], inner, mul(matrix, ctm), depth + 1)


def _page(reader: Any, index: int) -> tuple[list[Any], Any]:
    """The content streams of page ``index`` and its resources."""
    page_ref, resources = reader.find_page_for_modification(index)
    page = page_ref.get_object()
    try:
        contents = page["/Contents"]
    except KeyError:
        return [], None
    if isinstance(contents, generic.ArrayObject):
        streams = [contents[i] for i in range(len(contents))]
    else:
        streams = [contents]
    streams = [s for s in streams if isinstance(s, generic.StreamObject)]
    return streams, resources.get_object() if resources is not None else pdf_dict({})


def _shows(streams: list[Any], resources: Any, fonts: DocumentFonts) -> list[_Show]:
    """The strings shown by a page's content streams, in content-stream order."""
    if not streams:
        return []
    scanner = _Scanner(fonts)
    scanner.run(streams, resources, IDENTITY, 0)
    return scanner.shows


def page_glyphs(reader: Any, index: int) -> list[Glyph]:
    """Every glyph drawn on page ``index`` (0-based), in content-stream order."""
    shows = _shows(*_page(reader, index), DocumentFonts())
    return [g for show in shows for g in show.glyphs()]


def page_text(reader: Any, index: int) -> str:
    """The page's text as the scan reads it (whitespace kept), for diagnostics and tests."""
    return "".join(
        show.font.text(show.raw) for show in _shows(*_page(reader, index), DocumentFonts())
    )


def _glyph_at(shows: list[_Show], starts: list[int], offset: int) -> Glyph:
    """The glyph whose normalised text holds character ``offset`` of the page's."""
    k = bisect.bisect_right(starts, offset) - 1
    show = shows[k]
    at = starts[k]
    for i, code in enumerate(show.font.codes(show.raw)):
        at += len(show.font.normalised_code(code))
        if at > offset:
            return show.glyphs(i)[0]
    raise AssertionError("the offset is past the string")  # pragma: no cover


def find_keyword(
    reader: Any, keyword: str, pages: Iterable[int]
) -> tuple[int, tuple[float, float]] | None:
    """The first page (of ``pages``) showing ``keyword``, and the centre of that occurrence.

    Matching ignores whitespace and folds compatibility forms (NFKC: full-width brackets and
    digits match their ASCII forms), so "（盖章）" finds "(盖章)" and "盖 章".
    """
    needle = normalise(keyword)
    if not needle:
        return None
    fonts = DocumentFonts()
    needed = set(needle)
    for index in pages:
        streams, resources = _page(reader, index)
        if not streams or not fonts.may_show(resources, needed, MAX_DEPTH):
            continue
        shows = _shows(streams, resources, fonts)
        texts = [show.font.normalised(show.raw) for show in shows]
        at = "".join(texts).find(needle)
        if at < 0:
            continue
        starts = [0, *itertools.accumulate(map(len, texts))][:-1]
        first = _glyph_at(shows, starts, at)
        last = _glyph_at(shows, starts, at + len(needle) - 1)
        cx = (first.left[0] + last.right[0]) / 2
        cy = (first.left[1] + last.right[1]) / 2
        return index, (cx, cy)
    return None
