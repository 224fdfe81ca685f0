"""Find a keyword in a page's text and where it is drawn: a small content-stream scan.

pyhanko tokenises content streams (``pdf_utils.content_stream_parser``) but extracts no text, and
pypdf would add a dependency that still only places whole text runs, not glyphs. So this module
runs the text operators itself on top of pyhanko's tokenizer and keeps one position per glyph,
which is what centring a seal on a word inside a line needs.

Understood: ``q Q cm``, ``BT ET``, ``Tf Tc Tw Tz TL Ts``, ``Td TD Tm T*``, ``Tj TJ ' "``, form
XObjects (``Do``, nested up to 4 deep); simple fonts (WinAnsi / MacRoman / Standard encodings,
``/Differences``, ``/Widths``) and Type0 fonts with two-byte codes (Identity-H, what Word and
WPS write for Chinese) with ``/W`` widths; ``/ToUnicode`` CMaps for both. Not understood: Type3
font matrices, vertical writing, one-byte/two-byte mixed CMaps (GBK-EUC-H …), text that
follows an inline image on the same page (pyhanko's tokenizer stops at ``BI``), ``/Rotate``
(positions stay in default user space, as placements are).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content_stream_parser import parse_content_stream

from seal.pdf.pdfobjects import pdf_dict

__all__ = ["find_keyword", "page_text"]

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


# --- fonts -------------------------------------------------------------------------------------

_HEX_OR_BRACKET = re.compile(rb"<([0-9A-Fa-f\s]*)>|\[|\]")
_GLYPH_NAMES = {
    "space": " ",
    "period": ".",
    "comma": ",",
    "colon": ":",
    "semicolon": ";",
    "hyphen": "-",
    "parenleft": "(",
    "parenright": ")",
    "slash": "/",
    "underscore": "_",
    **{
        n: str(i)
        for i, n in enumerate(
            ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
        )
    },
}
_MAX_RANGE = 0x10000


def _hex(token: bytes) -> bytes:
    digits = re.sub(rb"\s", b"", token)
    if len(digits) % 2:
        digits += b"0"
    return bytes.fromhex(digits.decode("ascii"))


def _utf16(value: bytes) -> str:
    return (
        value.decode("utf-16-be", errors="replace") if len(value) >= 2 else value.decode("latin-1")
    )


def parse_to_unicode(data: bytes) -> dict[int, str]:
    """The ``bfchar`` and ``bfrange`` mappings of a ToUnicode CMap (code → text)."""
    out: dict[int, str] = {}
    for block in re.finditer(rb"beginbfchar(.*?)endbfchar", data, re.S):
        hexes = [_hex(m.group(1)) for m in _HEX_OR_BRACKET.finditer(block.group(1)) if m.group(1)]
        for src, dst in zip(hexes[0::2], hexes[1::2], strict=False):
            out[int.from_bytes(src, "big")] = _utf16(dst)
    for block in re.finditer(rb"beginbfrange(.*?)endbfrange", data, re.S):
        tokens = [m.group(0) for m in _HEX_OR_BRACKET.finditer(block.group(1))]
        i = 0
        while i + 2 < len(tokens):
            lo = int.from_bytes(_hex(tokens[i][1:-1]), "big")
            hi = int.from_bytes(_hex(tokens[i + 1][1:-1]), "big")
            i += 2
            if not 0 <= hi - lo < _MAX_RANGE:
                break
            if tokens[i] == b"[":
                i += 1
                code = lo
                while i < len(tokens) and tokens[i] != b"]":
                    if code <= hi:
                        out[code] = _utf16(_hex(tokens[i][1:-1]))
                    code += 1
                    i += 1
                i += 1
            else:
                base = _hex(tokens[i][1:-1])
                i += 1
                if not base:
                    continue
                prefix, last = base[:-1], base[-1]
                for k in range(hi - lo + 1):
                    if last + k > 0xFF:
                        break
                    out[lo + k] = _utf16(prefix + bytes([last + k]))
    return out


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ArithmeticError):
        return default


@dataclass
class Font:
    """What the scan needs of a font: how bytes split into codes, their text and width."""

    two_byte: bool = False
    to_unicode: dict[int, str] = field(default_factory=dict)
    widths: dict[int, float] = field(default_factory=dict)
    """Glyph widths in thousandths of an em."""
    default_width: float = 500.0
    codec: str = "cp1252"
    differences: dict[int, str] = field(default_factory=dict)

    def glyphs(self, raw: bytes) -> Iterable[tuple[int, str, float]]:
        """``(code, text, width in em)`` for each glyph drawn by the string ``raw``."""
        if self.two_byte:
            codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2)]
        else:
            codes = list(raw)
        for code in codes:
            text = self.to_unicode.get(code)
            if text is None:
                text = self._simple_text(code)
            yield code, text, self.widths.get(code, self.default_width) / 1000.0

    def _simple_text(self, code: int) -> str:
        if self.two_byte:
            return ""
        if code in self.differences:
            return self.differences[code]
        return bytes([code]).decode(self.codec, errors="replace")


def _glyph_char(name: str) -> str:
    if name in _GLYPH_NAMES:
        return _GLYPH_NAMES[name]
    if len(name) == 1:
        return name
    if name.startswith("uni") and len(name) == 7:
        try:
            return chr(int(name[3:], 16))
        except ValueError:
            return ""
    return ""


def _stream_data(obj: Any) -> bytes:
    try:
        return bytes(obj.get_object().data)
    except Exception:  # an undecodable stream simply contributes nothing
        return b""


def load_font(font: Any) -> Font:
    """Read the parts of a font dictionary the scan uses; tolerant of anything missing."""
    font = font.get_object()
    subtype = font.get("/Subtype")
    out = Font()
    if "/ToUnicode" in font:
        out.to_unicode = parse_to_unicode(_stream_data(font.raw_get("/ToUnicode")))
    if subtype == "/Type0":
        out.two_byte = True
        try:
            descendant = font["/DescendantFonts"][0].get_object()
        except (KeyError, IndexError, TypeError):
            return out
        out.default_width = _number(descendant.get("/DW", 1000), 1000.0)
        out.widths = _cid_widths(descendant.get("/W"))
        return out
    base_font = str(font.get("/BaseFont", ""))
    out.default_width = 600.0 if "Courier" in base_font else 500.0
    descriptor = font.get("/FontDescriptor")
    if descriptor is not None and "/MissingWidth" in descriptor:
        out.default_width = _number(descriptor["/MissingWidth"], out.default_width)
    first = int(_number(font.get("/FirstChar", 0), 0))
    widths = font.get("/Widths")
    if widths is not None:
        for i in range(min(len(widths), 256)):
            out.widths[first + i] = _number(widths[i], out.default_width)
    encoding = font.get("/Encoding")
    base = (
        encoding.get("/BaseEncoding")
        if isinstance(encoding, generic.DictionaryObject)
        else encoding
    )
    if base == "/MacRomanEncoding":
        out.codec = "mac_roman"
    elif base == "/StandardEncoding":
        out.codec = "latin-1"
    if isinstance(encoding, generic.DictionaryObject) and "/Differences" in encoding:
        out.differences = _differences(encoding["/Differences"])
    return out


def _differences(array: Any) -> dict[int, str]:
    out: dict[int, str] = {}
    code = 0
    for i in range(min(len(array), 512)):
        item = array[i]
        if isinstance(item, generic.NameObject):
            out[code] = _glyph_char(str(item)[1:])
            code += 1
        else:
            code = int(_number(item, code))
    return out


def _cid_widths(w: Any) -> dict[int, float]:
    """``/W`` of a CIDFont: ``c [w1 w2 …]`` or ``cfirst clast w`` entries."""
    out: dict[int, float] = {}
    if w is None:
        return out
    items = [w[i] for i in range(min(len(w), 20000))]
    i = 0
    while i + 1 < len(items):
        first = int(_number(items[i], 0))
        nxt = items[i + 1]
        if isinstance(nxt, generic.ArrayObject):
            for k in range(min(len(nxt), _MAX_RANGE)):
                out[first + k] = _number(nxt[k], 1000.0)
            i += 2
        elif i + 2 < len(items):
            last = int(_number(nxt, first))
            width = _number(items[i + 2], 1000.0)
            for code in range(first, min(last, first + _MAX_RANGE) + 1):
                out[code] = width
            i += 3
        else:
            break
    return out


# --- the scan ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Glyph:
    text: str
    left: tuple[float, float]
    """Where the glyph starts, at mid-height, in default user space."""
    right: tuple[float, float]


@dataclass
class _TextState:
    tm: Matrix = IDENTITY
    tlm: Matrix = IDENTITY
    font: Font | None = None
    size: float = 0.0
    char_spacing: float = 0.0
    word_spacing: float = 0.0
    scale: float = 1.0
    leading: float = 0.0
    rise: float = 0.0


class _Scanner:
    def __init__(self) -> None:
        self.glyphs: list[Glyph] = []
        self._fonts: dict[int, Font] = {}

    def _font(self, resources: Any, name: str) -> Font | None:
        try:
            ref = resources["/Font"].raw_get(name)
        except (KeyError, TypeError, AttributeError):
            return None
        key = id(ref.get_object())
        if key not in self._fonts:
            self._fonts[key] = load_font(ref)
        return self._fonts[key]

    def run(self, streams: list[Any], resources: Any, ctm: Matrix, depth: int) -> None:
        stack: list[tuple[Matrix, _TextState]] = []
        ts = _TextState()
        try:
            for op in parse_content_stream(streams):
                if len(self.glyphs) > MAX_GLYPHS:
                    return
                ctm, ts = self._op(op.op, op.args, resources, ctm, ts, stack, depth)
        except Exception:  # inline images, broken syntax: keep what was read so far
            return

    def _op(
        self,
        op: str,
        args: Sequence[Any],
        resources: Any,
        ctm: Matrix,
        ts: _TextState,
        stack: list[tuple[Matrix, _TextState]],
        depth: int,
    ) -> tuple[Matrix, _TextState]:
        nums = [_number(a, 0.0) for a in args]
        if op == "q":
            stack.append((ctm, _TextState(**ts.__dict__)))
        elif op == "Q" and stack:
            ctm, ts = stack.pop()
        elif op == "cm" and len(nums) == 6:
            ctm = mul((nums[0], nums[1], nums[2], nums[3], nums[4], nums[5]), ctm)
        elif op == "BT":
            ts.tm = ts.tlm = IDENTITY
        elif op == "Tf" and len(args) == 2:
            ts.font = self._font(resources, str(args[0]))
            ts.size = nums[1]
        elif op == "Tc" and nums:
            ts.char_spacing = nums[0]
        elif op == "Tw" and nums:
            ts.word_spacing = nums[0]
        elif op == "Tz" and nums:
            ts.scale = nums[0] / 100.0
        elif op == "TL" and nums:
            ts.leading = nums[0]
        elif op == "Ts" and nums:
            ts.rise = nums[0]
        elif op in ("Td", "TD") and len(nums) == 2:
            if op == "TD":
                ts.leading = -nums[1]
            ts.tlm = ts.tm = mul((1, 0, 0, 1, nums[0], nums[1]), ts.tlm)
        elif op == "Tm" and len(nums) == 6:
            ts.tlm = ts.tm = (nums[0], nums[1], nums[2], nums[3], nums[4], nums[5])
        elif op == "T*":
            ts.tlm = ts.tm = mul((1, 0, 0, 1, 0, -ts.leading), ts.tlm)
        elif op == "Tj" and args:
            self._show(args[0], ts, ctm)
        elif op in ("'", '"') and args:
            if op == '"' and len(nums) == 3:
                ts.word_spacing, ts.char_spacing = nums[0], nums[1]
            ts.tlm = ts.tm = mul((1, 0, 0, 1, 0, -ts.leading), ts.tlm)
            self._show(args[-1], ts, ctm)
        elif op == "TJ" and args and isinstance(args[0], generic.ArrayObject):
            arr = args[0]
            for i in range(len(arr)):
                item = arr[i]
                if isinstance(item, generic.ByteStringObject | generic.TextStringObject):
                    self._show(item, ts, ctm)
                else:
                    dx = -_number(item, 0.0) / 1000.0 * ts.size * ts.scale
                    ts.tm = mul((1, 0, 0, 1, dx, 0), ts.tm)
        elif op == "Do" and args and depth < MAX_DEPTH:
            self._form(str(args[0]), resources, ctm, depth)
        return ctm, ts

    def _show(self, string: Any, ts: _TextState, ctm: Matrix) -> None:
        if ts.font is None or not isinstance(
            string, generic.ByteStringObject | generic.TextStringObject
        ):
            return
        raw = bytes(string.original_bytes)
        for code, text, width in ts.font.glyphs(raw):
            trm = mul(mul((ts.size * ts.scale, 0, 0, ts.size, 0, ts.rise), ts.tm), ctm)
            left = apply(trm, 0.0, MID_HEIGHT)
            right = apply(trm, width, MID_HEIGHT)
            self.glyphs.append(Glyph(text, left, right))
            spacing = ts.char_spacing
            if not ts.font.two_byte and code == 32:
                spacing += ts.word_spacing
            advance = (width * ts.size + spacing) * ts.scale
            ts.tm = mul((1, 0, 0, 1, advance, 0), ts.tm)

    def _form(self, name: str, resources: Any, ctm: Matrix, depth: int) -> None:
        try:
            xobj = resources["/XObject"].raw_get(name).get_object()
        except (KeyError, TypeError, AttributeError):
            return
        if not isinstance(xobj, generic.StreamObject) or xobj.get("/Subtype") != "/Form":
            return
        m = xobj.get("/Matrix")
        matrix: Matrix = IDENTITY
        if m is not None and len(m) == 6:
            matrix = (
                _number(m[0], 1),
                _number(m[1], 0),
                _number(m[2], 0),
                _number(m[3], 1),
                _number(m[4], 0),
                _number(m[5], 0),
            )
        inner = xobj.get("/Resources", resources)
        self.run([xobj], inner, mul(matrix, ctm), depth + 1)


def page_glyphs(reader: Any, index: int) -> list[Glyph]:
    """Every glyph drawn on page ``index`` (0-based), in content-stream order."""
    page_ref, resources = reader.find_page_for_modification(index)
    page = page_ref.get_object()
    try:
        contents = page["/Contents"]
    except KeyError:
        return []
    if isinstance(contents, generic.ArrayObject):
        streams = [contents[i] for i in range(len(contents))]
    else:
        streams = [contents]
    streams = [s for s in streams if isinstance(s, generic.StreamObject)]
    scanner = _Scanner()
    res = resources.get_object() if resources is not None else pdf_dict({})
    scanner.run(streams, res, IDENTITY, 0)
    return scanner.glyphs


def _normalise(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text) if not c.isspace())


def page_text(reader: Any, index: int) -> str:
    """The page's text as the scan reads it (whitespace kept), for diagnostics and tests."""
    return "".join(g.text for g in page_glyphs(reader, index))


def find_keyword(
    reader: Any, keyword: str, pages: Iterable[int]
) -> tuple[int, tuple[float, float]] | None:
    """The first page (of ``pages``) showing ``keyword``, and the centre of that occurrence.

    Matching ignores whitespace and folds compatibility forms (NFKC: full-width brackets and
    digits match their ASCII forms), so "（盖章）" finds "(盖章)" and "盖 章".
    """
    needle = _normalise(keyword)
    if not needle:
        return None
    for index in pages:
        glyphs = page_glyphs(reader, index)
        chars: list[str] = []
        owner: list[int] = []
        for gi, glyph in enumerate(glyphs):
            for c in _normalise(glyph.text):
                chars.append(c)
                owner.append(gi)
        at = "".join(chars).find(needle)
        if at < 0:
            continue
        first, last = glyphs[owner[at]], glyphs[owner[at + len(needle) - 1]]
        cx = (first.left[0] + last.right[0]) / 2
        cy = (first.left[1] + last.right[1]) / 2
        return index, (cx, cy)
    return None
