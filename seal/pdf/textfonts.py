"""The fonts of the text scan: how a shown string's bytes split into codes, their text, widths.

Simple fonts (WinAnsi / MacRoman / Standard encodings, ``/Differences``, ``/Widths``) and Type0
fonts with two-byte codes (Identity-H, what Word and WPS write for Chinese) with ``/W`` widths;
``/ToUnicode`` CMaps for both. :meth:`Font.glyphs` is the reference, one glyph at a time;
:meth:`Font.text` and :meth:`Font.normalised` give the same text for a whole string at once
through per-font tables, which is what lets ``textscan`` read a page without a Python loop per
glyph.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic

from seal.pdf.pdfobjects import entry

__all__ = ["DocumentFonts", "Font", "load_font", "normalise", "parse_to_unicode"]

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
_MAX_CHARSET = 50_000
"""ToUnicode entries beyond which a font's characters are not listed (it may show anything)."""
_MAX_REACH = 64
"""Resource dictionaries, and fonts, :meth:`DocumentFonts.may_show` looks at before giving up."""


def normalise(text: str) -> str:
    """What keyword matching compares: NFKC, whitespace dropped."""
    return "".join(c for c in unicodedata.normalize("NFKC", text) if not c.isspace())


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


def number(value: Any, default: float) -> float:
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
    _tables: tuple[list[str], list[str]] | None = field(default=None, init=False, repr=False)
    """Simple fonts: the text and the normalised text of each of the 256 codes."""
    _norms: dict[int, str] = field(default_factory=dict, init=False, repr=False)
    """Two-byte fonts: normalised text per code, filled as codes are met."""
    _charset: frozenset[str] | None = field(default=None, init=False, repr=False)

    def codes(self, raw: bytes) -> list[int] | tuple[int, ...]:
        """The character codes of the string ``raw``."""
        if not self.two_byte:
            return list(raw)
        n = len(raw) // 2
        return struct.unpack(f">{n}H", raw[: 2 * n])

    def count(self, raw: bytes) -> int:
        """How many glyphs ``raw`` draws."""
        return len(raw) // 2 if self.two_byte else len(raw)

    def glyphs(self, raw: bytes) -> Iterable[tuple[int, str, float]]:
        """``(code, text, width in em)`` for each glyph drawn by the string ``raw``."""
        for code in self.codes(raw):
            text = self.to_unicode.get(code)
            if text is None:
                text = self._simple_text(code)
            yield code, text, self.widths.get(code, self.default_width) / 1000.0

    def text(self, raw: bytes) -> str:
        """The text of all glyphs of ``raw``, as :meth:`glyphs` gives it, joined."""
        if self.two_byte:
            get = self.to_unicode.get
            return "".join([get(code, "") for code in self.codes(raw)])
        return raw.decode("latin-1").translate(self._simple_tables()[0])

    def normalised(self, raw: bytes) -> str:
        """:func:`normalise` of each glyph's text, joined (glyph by glyph, not of the whole)."""
        if not self.two_byte:
            return raw.decode("latin-1").translate(self._simple_tables()[1])
        codes = self.codes(raw)
        norms = self._norms
        try:
            return "".join(map(norms.__getitem__, codes))
        except KeyError:
            for code in codes:
                self.normalised_code(code)
            return "".join(map(norms.__getitem__, codes))

    def normalised_code(self, code: int) -> str:
        """:func:`normalise` of the text of one code."""
        if not self.two_byte:
            return self._simple_tables()[1][code]
        norm = self._norms.get(code)
        if norm is None:
            norm = self._norms[code] = normalise(self.to_unicode.get(code, ""))
        return norm

    def charset(self) -> frozenset[str] | None:
        """Every character a glyph's normalised text can hold; None if too many to list."""
        if self._charset is None:
            if not self.two_byte:
                self._charset = frozenset("".join(self._simple_tables()[1]))
            elif len(self.to_unicode) > _MAX_CHARSET:
                return None
            else:
                self._charset = frozenset("".join(map(normalise, self.to_unicode.values())))
        return self._charset

    def _simple_tables(self) -> tuple[list[str], list[str]]:
        if self._tables is None:
            texts = []
            for code in range(256):
                text = self.to_unicode.get(code)
                texts.append(self._simple_text(code) if text is None else text)
            self._tables = (texts, [normalise(t) for t in texts])
        return self._tables

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
    subtype = entry(font, "/Subtype")
    out = Font()
    if "/ToUnicode" in font:
        out.to_unicode = parse_to_unicode(_stream_data(font.raw_get("/ToUnicode")))
    if subtype == "/Type0":
        out.two_byte = True
        try:
            descendant = font["/DescendantFonts"][0].get_object()
        except (KeyError, IndexError, TypeError):
            return out
        out.default_width = number(entry(descendant, "/DW", 1000), 1000.0)
        out.widths = _cid_widths(entry(descendant, "/W"))
        return out
    base_font = str(entry(font, "/BaseFont", ""))
    out.default_width = 600.0 if "Courier" in base_font else 500.0
    descriptor = entry(font, "/FontDescriptor")
    if descriptor is not None and "/MissingWidth" in descriptor:
        out.default_width = number(descriptor["/MissingWidth"], out.default_width)
    first = int(number(entry(font, "/FirstChar", 0), 0))
    widths = entry(font, "/Widths")
    if widths is not None:
        for i in range(min(len(widths), 256)):
            out.widths[first + i] = number(widths[i], out.default_width)
    encoding = entry(font, "/Encoding")
    base = (
        entry(encoding, "/BaseEncoding")
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
            code = int(number(item, code))
    return out


def _cid_widths(w: Any) -> dict[int, float]:
    """``/W`` of a CIDFont: ``c [w1 w2 …]`` or ``cfirst clast w`` entries."""
    out: dict[int, float] = {}
    if w is None:
        return out
    items = [w[i] for i in range(min(len(w), 20000))]
    i = 0
    while i + 1 < len(items):
        first = int(number(items[i], 0))
        nxt = items[i + 1]
        if isinstance(nxt, generic.ArrayObject):
            for k in range(min(len(nxt), _MAX_RANGE)):
                out[first + k] = number(nxt[k], 1000.0)
            i += 2
        elif i + 2 < len(items):
            last = int(number(nxt, first))
            width = number(items[i + 2], 1000.0)
            for code in range(first, min(last, first + _MAX_RANGE) + 1):
                out[code] = width
            i += 3
        else:
            break
    return out


class DocumentFonts:
    """The fonts of one document, each loaded once (by object, and by resources and name)."""

    def __init__(self) -> None:
        self._loaded: dict[int, tuple[Any, Font]] = {}
        self._named: dict[tuple[int, str], tuple[Any, Font | None]] = {}
        """Both keep the objects they are keyed by alive, so an ``id`` is never reused."""

    def named(self, resources: Any, name: str) -> Font | None:
        """The font ``Tf`` selects by ``name`` in ``resources``, None if there is none."""
        key = (id(resources), name)
        hit = self._named.get(key)
        if hit is None or hit[0] is not resources:
            hit = self._named[key] = (resources, self._lookup(resources, name))
        return hit[1]

    def _lookup(self, resources: Any, name: str) -> Font | None:
        try:
            ref = resources["/Font"].raw_get(name)
        except (KeyError, TypeError, AttributeError):
            return None
        obj = ref.get_object()
        hit = self._loaded.get(id(obj))
        if hit is None or hit[0] is not obj:
            hit = self._loaded[id(obj)] = (obj, load_font(ref))
        return hit[1]

    def may_show(self, resources: Any, chars: set[str], max_depth: int) -> bool:
        """False if no font a page with ``resources`` can select (in its form XObjects too,
        nested up to ``max_depth``) has glyphs for all of ``chars``: then its text cannot hold a
        keyword made of them. True when in doubt.

        This follows the resources exactly as the scan does (the same lookups, a form's
        ``/Resources`` or else its parent's), only for every name instead of the names drawn.
        """
        missing = set(chars)
        queue: deque[tuple[Any, int]] = deque([(resources, 0)])
        seen: dict[int, Any] = {}
        fonts = 0
        try:
            while queue:  # breadth first: a dictionary is first met at its least depth
                res, depth = queue.popleft()
                if id(res) in seen:
                    continue
                seen[id(res)] = res
                if len(seen) > _MAX_REACH:
                    return True
                for name in _names(res, "/Font"):
                    fonts += 1
                    if fonts > _MAX_REACH:
                        return True
                    font = self.named(res, name)
                    if font is None:
                        continue
                    charset = font.charset()
                    if charset is None:
                        return True
                    missing -= charset
                    if not missing:
                        return True
                if depth >= max_depth:
                    continue
                for name in _names(res, "/XObject"):
                    xobj = res["/XObject"].raw_get(name).get_object()
                    if (
                        isinstance(xobj, generic.StreamObject)
                        and entry(xobj, "/Subtype") == "/Form"
                    ):
                        queue.append((entry(xobj, "/Resources", res), depth + 1))
        except Exception:  # whatever the scan would make of it, it is not ruled out
            return True
        return False


def _names(resources: Any, key: str) -> list[str]:
    """The names in the sub-dictionary ``key`` of ``resources`` (none where the scan finds none)."""
    try:
        sub = resources[key]
    except (KeyError, TypeError, AttributeError):
        return []
    if not isinstance(sub, generic.DictionaryObject):
        return []  # the scan's raw_get(name) fails on it
    return [str(name) for name in sub]
