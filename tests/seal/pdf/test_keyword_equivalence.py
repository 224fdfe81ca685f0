"""The keyword scan finds what the straightforward scan it replaced finds, at the same place.

``_Reference`` below is that scan, kept here as the specification: pyhanko's tokenizer, every
glyph's position computed as it is met, matching over the list of glyphs. Generated pages
(text runs in three kinds of font, ``TJ`` kerning, every positioning operator, rotation and
scaling by ``cm``, spacing, form XObjects, malformed bits) must give the same glyphs, the same
text and the same keyword hits from ``seal.pdf.textscan``, whose matching works on text alone and
positions only the glyphs of the match, and from ``seal.pdf.contentops``, its tokenizer.
"""

from __future__ import annotations

import contextlib
import io
import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content_stream_parser import parse_content_stream
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import PageObject, PdfFileWriter

from seal.pdf import InvalidPlacement, KeywordNotFound, Placement
from seal.pdf.contentops import DICT, _fast_ops, content_ops, plain
from seal.pdf.placement import resolve
from seal.pdf.textfonts import Font, load_font, normalise
from seal.pdf.textscan import find_keyword, page_glyphs, page_text
from tests.seal.pdf.pdfs import A4, content_pdf, pdf_dict_of

EQUIV = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --- the reference: the scan as it was, one glyph at a time --------------------------------

Matrix = tuple[float, float, float, float, float, float]
IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _mul(m: Matrix, n: Matrix) -> Matrix:
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


def _apply(m: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return (x * a + y * c + e, x * b + y * d + f)


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError, ArithmeticError):
        return default


def _glyphs(font: Font, raw: bytes) -> Iterable[tuple[int, str, float]]:
    if font.two_byte:
        codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw) - 1, 2)]
    else:
        codes = list(raw)
    for code in codes:
        text = font.to_unicode.get(code)
        if text is None:
            if font.two_byte:
                text = ""
            elif code in font.differences:
                text = font.differences[code]
            else:
                text = bytes([code]).decode(font.codec, errors="replace")
        yield code, text, font.widths.get(code, font.default_width) / 1000.0


@dataclass(frozen=True)
class RefGlyph:
    text: str
    left: tuple[float, float]
    right: tuple[float, float]


@dataclass
class _State:
    tm: Matrix = IDENTITY
    tlm: Matrix = IDENTITY
    font: Font | None = None
    size: float = 0.0
    char_spacing: float = 0.0
    word_spacing: float = 0.0
    scale: float = 1.0
    leading: float = 0.0
    rise: float = 0.0


def _as_pyhanko(value: Any) -> Any:
    """An operand as pyhanko's tokenizer gives it (the reference works on pyhanko's objects)."""
    if isinstance(value, bytes):
        return generic.pdf_string(value)
    if isinstance(value, str):
        return generic.NameObject(value)
    if isinstance(value, list):
        return generic.ArrayObject([_as_pyhanko(v) for v in value])
    if isinstance(value, int):
        return generic.NumberObject(value)
    if isinstance(value, float):
        return generic.FloatObject(repr(value))
    if value is DICT:
        return generic.DictionaryObject()
    return generic.NullObject()


class _Reference:
    def __init__(self) -> None:
        self.glyphs: list[RefGlyph] = []
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
        stack: list[tuple[Matrix, _State]] = []
        ts = _State()
        try:
            # the operators as `content_ops` reads them (its own tests compare it with
            # pyhanko's tokenizer); this reference is about what the scan makes of them
            for name, args in content_ops(streams):
                if len(self.glyphs) > 200_000:
                    return
                objects = [_as_pyhanko(a) for a in args]
                ctm, ts = self._op(name, objects, resources, ctm, ts, stack, depth)
        except Exception:
            return

    def _op(
        self,
        op: str,
        args: Sequence[Any],
        resources: Any,
        ctm: Matrix,
        ts: _State,
        stack: list[tuple[Matrix, _State]],
        depth: int,
    ) -> tuple[Matrix, _State]:
        nums = [_number(a, 0.0) for a in args]
        if op == "q":
            stack.append((ctm, _State(**ts.__dict__)))
        elif op == "Q" and stack:
            ctm, ts = stack.pop()
        elif op == "cm" and len(nums) == 6:
            ctm = _mul((nums[0], nums[1], nums[2], nums[3], nums[4], nums[5]), ctm)
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
            ts.tlm = ts.tm = _mul((1, 0, 0, 1, nums[0], nums[1]), ts.tlm)
        elif op == "Tm" and len(nums) == 6:
            ts.tlm = ts.tm = (nums[0], nums[1], nums[2], nums[3], nums[4], nums[5])
        elif op == "T*":
            ts.tlm = ts.tm = _mul((1, 0, 0, 1, 0, -ts.leading), ts.tlm)
        elif op == "Tj" and args:
            self._show(args[0], ts, ctm)
        elif op in ("'", '"') and args:
            if op == '"' and len(nums) == 3:
                ts.word_spacing, ts.char_spacing = nums[0], nums[1]
            ts.tlm = ts.tm = _mul((1, 0, 0, 1, 0, -ts.leading), ts.tlm)
            self._show(args[-1], ts, ctm)
        elif op == "TJ" and args and isinstance(args[0], generic.ArrayObject):
            arr = args[0]
            for i in range(len(arr)):
                item = arr[i]
                if isinstance(item, generic.ByteStringObject | generic.TextStringObject):
                    self._show(item, ts, ctm)
                else:
                    dx = -_number(item, 0.0) / 1000.0 * ts.size * ts.scale
                    ts.tm = _mul((1, 0, 0, 1, dx, 0), ts.tm)
        elif op == "Do" and args and depth < 4:
            self._form(str(args[0]), resources, ctm, depth)
        return ctm, ts

    def _show(self, string: Any, ts: _State, ctm: Matrix) -> None:
        if ts.font is None or not isinstance(
            string, generic.ByteStringObject | generic.TextStringObject
        ):
            return
        raw = bytes(string.original_bytes)
        for code, text, width in _glyphs(ts.font, raw):
            trm = _mul(_mul((ts.size * ts.scale, 0, 0, ts.size, 0, ts.rise), ts.tm), ctm)
            left = _apply(trm, 0.0, 0.35)
            right = _apply(trm, width, 0.35)
            self.glyphs.append(RefGlyph(text, left, right))
            spacing = ts.char_spacing
            if not ts.font.two_byte and code == 32:
                spacing += ts.word_spacing
            advance = (width * ts.size + spacing) * ts.scale
            ts.tm = _mul((1, 0, 0, 1, advance, 0), ts.tm)

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
        self.run([xobj], inner, _mul(matrix, ctm), depth + 1)


def ref_page_glyphs(reader: Any, index: int) -> list[RefGlyph]:
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
    scanner = _Reference()
    res = resources.get_object() if resources is not None else generic.DictionaryObject()
    scanner.run(streams, res, IDENTITY, 0)
    return scanner.glyphs


def ref_find_keyword(
    reader: Any, keyword: str, pages: Iterable[int]
) -> tuple[int, tuple[float, float]] | None:
    needle = normalise(keyword)
    if not needle:
        return None
    for index in pages:
        glyphs = ref_page_glyphs(reader, index)
        chars: list[str] = []
        owner: list[int] = []
        for gi, glyph in enumerate(glyphs):
            for c in normalise(glyph.text):
                chars.append(c)
                owner.append(gi)
        at = "".join(chars).find(needle)
        if at < 0:
            continue
        first, last = glyphs[owner[at]], glyphs[owner[at + len(needle) - 1]]
        return index, ((first.left[0] + last.right[0]) / 2, (first.left[1] + last.right[1]) / 2)
    return None


# --- generated pages ----------------------------------------------------------------------


def _close(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(math.isclose(x, y, rel_tol=0, abs_tol=1e-6) for x, y in zip(a, b, strict=True))


def _num(draw: st.DrawFn, lo: float = -40, hi: float = 40) -> str:
    if draw(st.booleans()):
        return str(draw(st.integers(int(lo), int(hi))))
    return f"{draw(st.floats(lo, hi, allow_nan=False)):.3f}"


def _literal(raw: bytes) -> bytes:
    out = bytearray(b"(")
    for b in raw:
        if b in b"()\\":
            out += b"\\" + bytes([b])
        elif b in (10, 13) or (b >= 0x80 and b % 3 == 0):
            out += b"\\%03o" % b
        else:
            out.append(b)
    return bytes(out + b")")


CJK = "投标人（盖章）签 字"
"""``/F2``'s CIDs 1..n; CID n+1 has no text."""
COURIER_TEXT = "AB (seal) 盖章 Page-12 \x93ok\x94"


@st.composite
def show_string(draw: st.DrawFn, font: int) -> bytes:
    """A string operand for font ``/F<font>``, literal or hex."""
    if font == 2:
        codes = draw(st.lists(st.integers(1, len(CJK) + 1), min_size=1, max_size=8))
        raw = b"".join(c.to_bytes(2, "big") for c in codes)
        if draw(st.integers(0, 9)) == 0:
            raw += b"\x01"  # an odd trailing byte
    elif font in (3, 4):
        raw = bytes(
            draw(st.lists(st.sampled_from(b"ABCDE \x80\x81\x82\x83xyz"), min_size=1, max_size=8))
        )
    else:
        text = draw(st.text(alphabet=COURIER_TEXT, min_size=1, max_size=10))
        raw = text.encode("cp1252", errors="replace")
    if draw(st.booleans()):
        return b"<" + raw.hex().encode() + b">"
    return _literal(raw)


@st.composite
def operation(draw: st.DrawFn, font: list[int], junk: bool = False) -> bytes:
    """One operator with its operands; ``font`` holds the font last selected (for strings).
    With ``junk``, something malformed or that stops pyhanko's tokenizer."""
    kind = (
        draw(st.sampled_from(["junk", "junk", "quote", "Tf4"]))
        if junk
        else draw(
            st.sampled_from(
                ["Tj"] * 6
                + ["TJ"] * 4
                + ["Tf"] * 3
                + ["Td", "TD", "Tm", "T*", "TL", "Tc", "Tw", "Tz", "Ts", "cm", "q", "q", "Q", "Q"]
                + ["BT", "ET", "Do"]
            )
        )
    )
    n = lambda lo=-40, hi=40: _num(draw, lo, hi)  # noqa: E731
    if kind in ("Tf", "Tf4"):
        font[0] = draw(st.sampled_from([4, 9] if kind == "Tf4" else [1, 2, 3, 3]))
        return f"/F{font[0]} {n(1, 30)} Tf".encode()
    if kind == "Tj":
        return draw(show_string(font[0])) + b" Tj"
    if kind == "TJ":
        items = draw(
            st.lists(
                st.one_of(show_string(font[0]), st.just(b"-250"), st.just(b"120.5"), st.just(b"0")),
                max_size=5,
            )
        )
        return b"[" + b" ".join(items) + b"] TJ"
    if kind in ("Td", "TD"):
        return f"{n()} {n()} {kind}".encode()
    if kind == "Tm":
        return f"{n(-2, 2)} {n(-2, 2)} {n(-2, 2)} {n(-2, 2)} {n(0, 500)} {n(0, 800)} Tm".encode()
    if kind in ("TL", "Tc", "Tw", "Ts"):
        return f"{n(-5, 20)} {kind}".encode()
    if kind == "Tz":
        return f"{n(50, 150)} Tz".encode()
    if kind == "cm":
        angle = math.radians(draw(st.sampled_from([0, 90, 180, 270, 30, -45])))
        s = draw(st.sampled_from([1.0, 0.5, 2.0]))
        c, si = math.cos(angle) * s, math.sin(angle) * s
        return f"{c:.4f} {si:.4f} {-si:.4f} {c:.4f} {n(0, 300)} {n(0, 300)} cm".encode()
    if kind == "Do":
        return draw(st.sampled_from([b"/Fm0 Do", b"/Im0 Do", b"/Nope Do"]))
    if kind == "quote":
        return draw(show_string(font[0])) + draw(st.sampled_from([b" '", b' 2 1 "']))
    if kind == "junk":
        return draw(
            st.sampled_from(
                [
                    b"/P <</MCID 0>> BDC",
                    b"/Span <</ActualText (x) /K [1 2]>> BDC EMC",
                    b"0 0 1 1 re f",
                    b"0 0 1 1 re f* n",
                    b"W n",
                    b"% a comment\n",
                    b"/A#20B Tf",
                    b"true false null 3 d0",
                    b"(nested (paren)) Tj",
                    b"(unterminated",
                    b"[1 [2 3]] 0 d",
                    b"1,5 Tc",
                    b"1.2.3 Tw",
                    b"BI /W 1 /H 1 ID \x00 EI",
                    b"<41 42 4> Tj",
                    b"<4G> Tj",
                    b")",
                    b"] >>",
                    b"{ }",
                    b"(\\9) Tj",
                    b"(\\777) Tj",
                    b"(line\\\ncontinued\\\r\n) Tj",
                    b"Tj",
                    b"12 Tf",
                    b"/F1 Tf",
                    b"(/F1) 12 Tf",
                    b"\xe9t Tj",
                    b"1 0 R",
                    b"99999999999999999999999999999999 Tc",
                ]
            )
        )
    return {"q": b"q", "Q": b"Q", "BT": b"BT", "ET": b"ET", "T*": b"T*"}[kind]


@st.composite
def content(draw: st.DrawFn, max_ops: int = 25) -> bytes:
    font = [draw(st.sampled_from([1, 2, 3]))]
    ops = [f"BT /F{font[0]} 12 Tf 72 700 Td".encode()]
    ops += draw(st.lists(operation(font), min_size=min(3, max_ops), max_size=max_ops))
    if draw(st.integers(0, 3)) == 0:  # one malformed bit, somewhere
        ops.insert(draw(st.integers(0, len(ops))), draw(operation(font, junk=True)))
    separators = draw(st.lists(st.sampled_from([b" ", b"\n", b"\r\n", b"\t "]), min_size=len(ops)))
    return b"".join(op + sep for op, sep in zip(ops, separators, strict=False))


@st.composite
def document(draw: st.DrawFn) -> tuple[bytes, int]:
    pages: list[list[bytes]] = []
    for _ in range(draw(st.integers(1, 3))):
        data = draw(content())
        if draw(st.integers(0, 3)) == 0 and data:
            cut = draw(st.integers(0, len(data)))  # two streams, split anywhere
            pages.append([data[:cut], data[cut:]])
        else:
            pages.append([data])
    form = draw(
        st.one_of(st.just(b""), content(max_ops=6), st.just(b"BT /F1 9 Tf (AB) Tj ET /Fm0 Do"))
    )
    some_fonts = st.lists(st.sampled_from(["/F1", "/F2", "/F3", "/F4"]), unique=True)
    all_fonts = ["/F1", "/F2", "/F3", "/F4"]
    pdf = content_pdf(
        pages,
        page_fonts=[draw(st.one_of(st.just(all_fonts), some_fonts)) for _ in pages],
        form=form,
        form_matrix=draw(
            st.sampled_from([(1, 0, 0, 1, 0, 0), (0, 1, -1, 0, 300, 20), (2, 0, 0, 2, 5, 5)])
        ),
        form_fonts=draw(st.one_of(st.none(), some_fonts)),
        cjk_text=CJK,
        cjk_widths=draw(st.lists(st.integers(100, 1200), min_size=len(CJK), max_size=len(CJK))),
    )
    return pdf, len(pages)


def _reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(pdf))


@EQUIV
@given(document())
def test_glyphs_and_text_are_the_reference(doc: tuple[bytes, int]) -> None:
    pdf, pages = doc
    reader, ref_reader = _reader(pdf), _reader(pdf)
    for index in range(pages):
        expected = ref_page_glyphs(ref_reader, index)
        got = page_glyphs(reader, index)
        assert [g.text for g in got] == [g.text for g in expected]
        for g, e in zip(got, expected, strict=True):
            assert _close(g.left + g.right, e.left + e.right), (g, e)
        assert page_text(reader, index) == "".join(g.text for g in expected)


@st.composite
def document_and_keyword(draw: st.DrawFn) -> tuple[bytes, int, str]:
    pdf, pages = draw(document())
    reader = _reader(pdf)
    texts = ["".join(normalise(g.text) for g in ref_page_glyphs(reader, i)) for i in range(pages)]
    text = texts[draw(st.integers(0, pages - 1))]
    mode = draw(st.sampled_from(["part", "spaced", "absent"]))
    if text and mode != "absent":
        start = draw(st.integers(0, len(text) - 1))
        keyword = text[start : start + draw(st.sampled_from([3, 2, 5, 8, 1]))]
        if mode == "spaced":  # whitespace and unfolded forms match too
            keyword = " ".join(keyword).replace("(", "（")
    else:
        keyword = draw(st.sampled_from(["盖章", "（盖章）", "nowhere", "签字", "fi", "é", "Ａ B"]))
    return pdf, pages, keyword


@EQUIV
@given(document_and_keyword(), st.randoms(use_true_random=False))
def test_keyword_hits_are_the_reference(doc: tuple[bytes, int, str], rnd: Any) -> None:
    pdf, pages, keyword = doc
    orders = [list(range(pages)), list(reversed(range(pages)))]
    orders.append(rnd.sample(range(pages), rnd.randint(1, pages)))
    for order in orders:
        expected = ref_find_keyword(_reader(pdf), keyword, order)
        got = find_keyword(_reader(pdf), keyword, order)
        if expected is None:
            assert got is None
        else:
            assert got is not None and got[0] == expected[0]
            assert _close(got[1], expected[1]), (got, expected)


# --- the tokenizer ------------------------------------------------------------------------

TOKENS = [
    b"BT", b"ET", b"Tj", b"TJ", b"Tf", b"q", b"Q", b"cm", b"T*", b"BDC", b"EMC", b"d0", b"nul",
    b"true", b"false", b"null", b"trueX", b"fals", b"R", b"BI", b"ID",
    b"12", b"-3", b"+.5", b"4.", b".", b"-", b"1,5", b"1.2.3", b"007", b"-0.000",
    b"/F1", b"/", b"/A#20B", b"/a\x01", b"/\xc3\xa9",
    b"()", b"(ab)", b"(a\\)b)", b"(\\101\\12x)", b"(\\0012)", b"(\\1234)", b"(\\9)", b"(\\400)",
    b"(a\\\r\nb)", b"(\\q)",
    b"(a(b)c)", b"(open", b"(\xfe\xff\x00A)", b"(\xef\xbb\xbfA)",
    b"<>", b"<41 42>", b"<414>", b"<4G>", b"<41", b"<<", b">>", b"<</A 1>>", b"<</A>>",
    b"<</A 1 /A 2>>", b"<<1 2>>", b"[", b"]", b"[1 (a) <42> [2] /N]", b"[BT]", b"[true]",
    b"%c\n", b")", b">", b"{", b"\xe9", b"\x00", b"*",
]  # fmt: skip
SEPARATORS = [b" ", b"\n", b"", b"\r", b"\t\x00 ", b"\f"]


def _stream(data: bytes) -> generic.StreamObject:
    stream = generic.StreamObject(stream_data=data)
    stream.container_ref = generic.Reference(1, 0)
    return stream


def _pyhanko(parts: list[bytes]) -> list[tuple[str, list[Any]]]:
    out: list[tuple[str, list[Any]]] = []
    with contextlib.suppress(Exception):  # the operators up to pyhanko's error
        for op in parse_content_stream([_stream(p) for p in parts]):
            out.append((op.op, [plain(a) for a in op.args]))
    return out


def test_the_tokenizer_reads_every_pair_of_tokens_as_pyhanko() -> None:
    """Each token after each other one, and each inside an array and a dictionary."""
    cases = [a + b" " + b + b" (z) Tj" for a in TOKENS for b in TOKENS]
    cases += [b"[" + a + b"] TJ (z) Tj" for a in TOKENS]
    cases += [b"<</K " + a + b">> BDC (z) Tj" for a in TOKENS]
    cases += [a + b for a in TOKENS for b in TOKENS]
    fast_ones = 0
    for data in cases:
        fast = _fast_ops([_stream(data)])
        expected = _pyhanko([data])
        if fast is not None:
            fast_ones += 1
            assert fast == expected, data
        assert _ours([data]) == expected, data
    assert fast_ones > len(cases) // 3


def _ours(parts: list[bytes]) -> list[tuple[str, list[Any]]]:
    out: list[tuple[str, list[Any]]] = []
    with contextlib.suppress(Exception):  # the operators up to the error (on pyhanko's path)
        for op in content_ops([_stream(p) for p in parts]):
            out.append(op)
    return out


@settings(max_examples=600, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(TOKENS), st.sampled_from(SEPARATORS)), max_size=10),
    st.lists(st.integers(0, 200), max_size=2),
)
def test_the_tokenizer_reads_what_pyhanko_reads(
    tokens: list[tuple[bytes, bytes]], cuts: list[int]
) -> None:
    data = b"".join(t + s for t, s in tokens)
    bounds = sorted({min(c, len(data)) for c in cuts})
    parts = [data[i:j] for i, j in zip([0, *bounds], [*bounds, len(data)], strict=True)]
    fast = _fast_ops([_stream(p) for p in parts])
    expected = _pyhanko(parts)
    if fast is not None:
        assert fast == expected
    assert _ours(parts) == expected


@given(st.binary(max_size=12), st.sampled_from([b"", b"\xfe\xff", b"\xff\xfe", b"\xef\xbb\xbf"]))
def test_strings_keep_their_bytes(raw: bytes, bom: bytes) -> None:
    """Strings are kept as bytes: pyhanko's string objects give back exactly the bytes read."""
    assert bytes(generic.pdf_string(bom + raw).original_bytes) == bom + raw


def test_the_fast_reader_takes_ordinary_pages() -> None:
    data = (
        b"/P <</MCID 0>> BDC q 0.5 0 0 0.5 10 10 cm BT /F1 12 Tf 1 0 0 1 72 700 Tm "
        b"[(Bid) -250 (der) 12.5 <0041>] TJ 0 -14 TD (\\(seal\\)\\040ok) Tj T* ET Q EMC"
    )
    ops = _fast_ops([_stream(data)])
    assert ops is not None and ops == _pyhanko([data])
    names = "BDC q cm BT Tf Tm TJ TD Tj T* ET Q EMC"
    assert " ".join(op for op, _ in ops) == names


# --- malformed documents ------------------------------------------------------------------


def _flate_broken_page(pdf: bytes) -> bytes:
    """``pdf`` with a second content stream on its first page, marked /FlateDecode but not
    compressed."""
    w = IncrementalPdfFileWriter(io.BytesIO(pdf))
    broken = generic.StreamObject(
        generic.DictionaryObject({pdf_name("/Filter"): pdf_name("/FlateDecode")}),
        encoded_data=b"BT /F1 12 Tf (BROKEN) Tj ET",
    )
    w.add_stream_to_page(0, w.add_object(broken))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    "streams",
    [
        [b"BT /F1 12 Tf (SIGN) Tj ET BI /W 1 ID \x00 EI BT /F1 12 Tf (HERE) Tj ET"],
        [b"BT /F1 12 Tf (SIGN) Tj ET 0 0 1 1 re f BT /F1 12 Tf (HERE) Tj ET"],
        [b"BT /F1 12 Tf (SIGN) Tj (HERE", b") Tj ET"],
        [b"BT /F1 12 Tf 72 700 Td (SIGN) Tj", b" (HERE) Tj ET"],
        [b"BT /F1 12 Tf [(SIGN) (HE) 1,5 (RE)] TJ ET"],
        [b"BT /F4 12 Tf (SIGN HERE) Tj ET"],
        [b"BT /F1 12 Tf (SIGN) ' (HERE) Tj ET"],
        [b"BT /F1 12 Tf 1e5 Tc (SIGN HERE) Tj ET"],
        [b"q q q BT /F1 12 Tf (SIGN HERE) Tj ET Q Q Q Q Q"],
        [zlib.compress(b"BT /F1 12 Tf (SIGN HERE) Tj ET")],  # no /Filter: garbage for both
    ],
)
def test_malformed_streams_as_the_reference(streams: list[bytes]) -> None:
    pdf = content_pdf([streams])
    for keyword in ("SIGN", "HERE", "SIGNHERE"):
        expected = ref_find_keyword(_reader(pdf), keyword, [0])
        got = find_keyword(_reader(pdf), keyword, [0])
        assert (got is None) == (expected is None)
        if got is not None and expected is not None:
            assert got[0] == expected[0] and _close(got[1], expected[1])
    assert page_text(_reader(pdf), 0) == "".join(g.text for g in ref_page_glyphs(_reader(pdf), 0))


def test_an_undecodable_stream_is_no_match_and_a_typed_error() -> None:
    pdf = _flate_broken_page(content_pdf([[b"BT /F1 12 Tf (SIGN HERE) Tj ET"]]))
    for keyword in ("SIGN", "BROKEN"):
        expected = ref_find_keyword(_reader(pdf), keyword, [0])
        got = find_keyword(_reader(pdf), keyword, [0])
        assert (got is None) == (expected is None)
        if got is not None and expected is not None:
            assert got[0] == expected[0] and _close(got[1], expected[1])
    with pytest.raises(KeywordNotFound):
        resolve(Placement.at_keyword("BROKEN"), _reader(pdf), 1.0)
    with pytest.raises(InvalidPlacement):
        Placement.at_keyword("   ")


@pytest.mark.parametrize(
    ("page_fonts", "form_fonts"),
    [
        ([["/F1"], ["/F2"], ["/F3"]], None),
        ([[], [], ["/F1", "/F3"]], ["/F2"]),  # fonts only in the form's resources
        ([["/F2"], [], ["/F3"]], None),
        ([["/F4"], ["/F1", "/F4"], ["/F3"]], ["/F4"]),
    ],
)
def test_fonts_that_cannot_show_the_keyword_skip_the_page(
    page_fonts: list[list[str]], form_fonts: list[str] | None
) -> None:
    """The page filter only skips pages whose fonts (their forms' too) lack a character of the
    keyword: whatever it skips, the hits are the reference's."""
    streams = [
        b"BT /F1 12 Tf 72 700 Td (Page A) Tj /F2 10 Tf <00050006> Tj ET /Fm0 Do",
        b"q 0 1 -1 0 400 0 cm /Fm0 Do Q",
        b"BT /F3 12 Tf 72 700 Td (ABE\200\201\202x\203) Tj ET",
    ]
    form = b"BT /F2 9 Tf 10 10 Td <0004000500060007> Tj /F1 9 Tf (x) Tj ET"
    pdf = content_pdf(
        [[s] for s in streams],
        page_fonts=page_fonts,
        form=form,
        form_fonts=form_fonts,
        cjk_text="投标人（盖章）",
    )
    texts = ["".join(normalise(g.text) for g in ref_page_glyphs(_reader(pdf), i)) for i in range(3)]
    assert any(texts)
    keywords = {t[i:j] for t in texts for i in range(len(t)) for j in range(i + 1, len(t) + 1)}
    for keyword in [*sorted(keywords), "A", "fi", "é", "(盖", "盖x"]:
        for order in ([0, 1, 2], [2, 1, 0]):
            got = find_keyword(_reader(pdf), keyword, order)
            want = ref_find_keyword(_reader(pdf), keyword, order)
            assert (got is None) == (want is None), keyword
            if got is not None and want is not None:
                assert got[0] == want[0] and _close(got[1], want[1]), keyword


def test_keyword_on_several_pages_takes_the_first_of_the_order() -> None:
    page = [b"BT /F1 12 Tf 72 700 Td (Bidder (seal)) Tj ET"]
    other = [b"BT /F1 10 Tf 300 100 Td (seal) Tj ET"]
    pdf = content_pdf([page, other, page])
    for order in ([0, 1, 2], [1, 0, 2], [2, 1], [1]):
        hit = find_keyword(_reader(pdf), "seal", order)
        assert hit == ref_find_keyword(_reader(pdf), "seal", order)
        assert hit is not None and hit[0] == order[0]


@pytest.mark.parametrize(
    "data",
    [
        b"BT /F1 12 Tf 72 700 Td (AB) Tj q (CD) Tj [(EF) -500] TJ Q (GH) Tj (IJ) Tj ET",
        b"BT /F1 12 Tf 72 700 Td q (AB) Tj q (CD) Tj Q (EF) Tj Q (GH) Tj ET",
        b"BT /F2 12 Tf 9 Tc q 2 Tz <00010002> Tj Q <0003> Tj q Q <0004> Tj ET",
    ],
)
def test_text_after_q_continues_from_the_saved_matrix(data: bytes) -> None:
    """``Q`` restores the text matrix saved by ``q``: the moves shown in between are undone."""
    pdf = content_pdf([[data]])
    glyphs = page_glyphs(_reader(pdf), 0)
    expected = ref_page_glyphs(_reader(pdf), 0)
    assert [g.text for g in glyphs] == [g.text for g in expected]
    for g, e in zip(glyphs, expected, strict=True):
        assert _close(g.left + g.right, e.left + e.right)
    text = "".join(normalise(g.text) for g in expected)
    for i in range(len(text)):
        for j in range(i + 1, len(text) + 1):
            hit = find_keyword(_reader(pdf), text[i:j], [0])
            want = ref_find_keyword(_reader(pdf), text[i:j], [0])
            assert hit is not None and want is not None and _close(hit[1], want[1])


@pytest.mark.parametrize(
    "data",
    [
        b"BT (/F1) 12 Tf 72 700 Td (AB) Tj ET",  # a string naming the font, as pyhanko's str()
        b"BT /F1 12 Tf (12) Tc ( 3 ) Tw (1_0) TL <FEFF0035> Ts (AB CD) Tj T* (EF) Tj ET",
        b"BT /F1 12 Tf (50) Tz <FEFF0031> 700 Td (AB) Tj (x) (y) Td (CD) Tj ET",
        b"BT /F1 12 Tf 72 700 Td [(A) /N (B) [1] (C) -300 (D) 99999999999999999999999 (E)] TJ ET",
        b"BT /F1 12 Tf 72 700 Td 1 2 3 4 5 6 7 Tm (AB) Tj 1 0 0 1 Tm (CD) Tj 5 Td (EF) Tj ET",
        b"(/Fm0) Do /Fm0 /Im0 Do 12 Do [/Fm0] Do",
        b"BT /F3 12 Tf 72 700 Td 5 Tw (A B\200 \201) Tj /F2 12 Tf 5 Tw <0001 0020 0002> Tj ET",
    ],
)
def test_odd_operands_as_the_reference(data: bytes) -> None:
    """Operands of unexpected types convert as pyhanko's objects do (strings as numbers too)."""
    pdf = content_pdf([[data]], form=b"BT /F1 9 Tf 10 10 Td (FORM) Tj ET")
    glyphs = page_glyphs(_reader(pdf), 0)
    expected = ref_page_glyphs(_reader(pdf), 0)
    assert expected
    assert [g.text for g in glyphs] == [g.text for g in expected]
    for g, e in zip(glyphs, expected, strict=True):
        assert _close(g.left + g.right, e.left + e.right)


def test_the_glyph_bound_stops_the_scan_as_before() -> None:
    """More than 200,000 glyphs on a page: the operators after that are not read."""
    data = b"BT /F1 1 Tf (" + b"A" * 150_000 + b") Tj (" + b"B" * 60_000 + b") Tj (SIGN) Tj ET"
    pdf = content_pdf([[data]])
    assert find_keyword(_reader(pdf), "BBBA", [0]) is None
    assert find_keyword(_reader(pdf), "AB", [0]) is not None
    assert find_keyword(_reader(pdf), "SIGN", [0]) is None
    assert ref_find_keyword(_reader(pdf), "SIGN", [0]) is None


def test_deep_forms_stop_at_the_same_depth() -> None:
    form = b"BT /F1 9 Tf (AB) Tj ET 1 0 0 1 10 10 cm /Fm0 Do"
    pdf = content_pdf([[b"/Fm0 Do"]], form=form, form_matrix=(1, 0, 0, 1, 3, 4))
    glyphs = page_glyphs(_reader(pdf), 0)
    expected = ref_page_glyphs(_reader(pdf), 0)
    assert len(glyphs) == len(expected) == 8  # depths 1 to 4
    for g, e in zip(glyphs, expected, strict=True):
        assert _close(g.left + g.right, e.left + e.right)
    hit = find_keyword(_reader(pdf), "BAB", [0])
    assert hit == ref_find_keyword(_reader(pdf), "BAB", [0])


def _nested_forms_pdf() -> bytes:
    """A page without fonts drawing forms nested 5 deep; only the innermost two have fonts:
    depth 4 shows "DEPTH4" (drawn), depth 5 "DEPTH5" (beyond the scan's depth)."""
    w = PdfFileWriter()
    courier = w.add_object(
        pdf_dict_of(
            Type="/Font", Subtype="/Type1", BaseFont="/Courier", Encoding="/WinAnsiEncoding"
        )
    )
    inner: generic.IndirectObject | None = None
    for depth in (5, 4, 3, 2, 1):
        resources = generic.DictionaryObject()
        data = b"1 0 0 1 5 5 cm /X Do" if inner is not None else b""
        if inner is not None:
            resources[pdf_name("/XObject")] = generic.DictionaryObject({pdf_name("/X"): inner})
        if depth >= 4:
            resources[pdf_name("/Font")] = generic.DictionaryObject({pdf_name("/F"): courier})
            data = b"BT /F 10 Tf 50 50 Td (DEPTH%d) Tj ET " % depth + data
        form = pdf_dict_of(
            Type="/XObject",
            Subtype="/Form",
            BBox=generic.ArrayObject([generic.NumberObject(v) for v in (0, 0, 600, 900)]),
            Resources=resources,
        )
        inner = w.add_object(generic.StreamObject(form, stream_data=data))
    assert inner is not None
    page_resources = pdf_dict_of(XObject=generic.DictionaryObject({pdf_name("/X"): inner}))
    stream = w.add_object(generic.StreamObject(stream_data=b"/X Do"))
    w.insert_page(PageObject(contents=stream, media_box=A4, resources=page_resources))
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_fonts_of_forms_nested_to_the_scan_depth_count() -> None:
    pdf = _nested_forms_pdf()
    hit = find_keyword(_reader(pdf), "DEPTH4", [0])
    assert hit is not None and hit == ref_find_keyword(_reader(pdf), "DEPTH4", [0])
    assert find_keyword(_reader(pdf), "DEPTH5", [0]) is None
    assert ref_find_keyword(_reader(pdf), "DEPTH5", [0]) is None


def test_generated_pages_use_the_fast_reader() -> None:
    """The generated documents are not all left to pyhanko's tokenizer."""
    reader = _reader(content_pdf([[b"BT /F2 12 Tf 72 700 Td [<0001> -200 <0002>] TJ ET"]]))
    page_ref, _ = reader.find_page_for_modification(0)
    assert _fast_ops([page_ref.get_object()["/Contents"]]) is not None
