"""SVG seal pictures: drawn as vector graphics (a form XObject, not a bitmap) by every signer, on
paging slices and in two phases; hostile SVG refused with a typed error, when stamping and when
a seal is made, before svglib ever sees it."""

from __future__ import annotations

import base64
import io
import logging
import math
import re
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlalchemy.orm import Session, sessionmaker

from cert_interop import signatures
from cert_interop.truststore import TrustStore
from seal.errors import SealError
from seal.pdf import (
    PagingSeal,
    PendingStamp,
    PictureTooLarge,
    PictureUnreadable,
    Placement,
    SealPicture,
    UnsupportedPicture,
    complete,
    prepare,
    stamp_pdf,
    verify_pdf,
)
from seal.pdf.paging import find_slices
from seal.pdf.picture import MAX_PICTURE_BYTES
from seal.pdf.placement import POINTS_PER_MM
from seal.pdf.signer import PdfSealSigner
from seal.pdf.svg import MAX_SVG_ELEMENTS, SvgSize, check_svg
from seal.records.errors import SealRefused
from seal.records.models import SealRecord
from seal.records.pictures import MAX_PICTURE_BYTES as MAX_UPLOAD_BYTES
from seal.records.pictures import sniff_picture
from tests.seal.conftest import Directory, KeyMaker
from tests.seal.conftest import Pki as RecordsPki
from tests.seal.pdf.checks import pyhanko_status, raw_cms
from tests.seal.pdf.conftest import Ca, Pki
from tests.seal.pdf.pdfs import make_pdf
from tests.seal.test_records import count, events, make, request

ALGS = ["rsa", "ecdsa", "sm2"]
RED = "#e60000"
RED_RG = 230 / 255
SVG_OPEN = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'width="40mm" height="40mm" viewBox="0 0 100 100">'
)
DOT = '<circle cx="50" cy="50" r="40" fill="#e60000"/>'


def _star(cx: float, cy: float, outer: float, inner: float) -> str:
    points = []
    for i in range(10):
        r = outer if i % 2 == 0 else inner
        a = -math.pi / 2 + i * math.pi / 5
        points.append(f"{cx + r * math.cos(a):.2f} {cy + r * math.sin(a):.2f}")
    return "M" + " L".join(points) + " Z"


def seal_svg(*, embedded_png: bytes | None = None) -> bytes:
    """An oval contract seal, 44 x 33 mm: a red ring, a five-point star, and its "text" already
    outlined as paths (a glyph defined once and placed with <use>, as Inkscape writes it)."""
    glyph = "M0 0 h14 v3 h-5.5 v17 h-3 v-17 h-5.5 z M2 8 h10 v3 h-10 z"
    image = ""
    if embedded_png is not None:
        data = base64.b64encode(embedded_png).decode("ascii")
        image = (
            f'<image x="200" y="40" width="40" height="40" href="data:image/png;base64,{data}"/>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
        ' width="44mm" height="33mm" viewBox="0 0 440 330">\n'
        f'  <defs><path id="glyph" d="{glyph}" fill="{RED}"/></defs>\n'
        f'  <ellipse cx="220" cy="165" rx="208" ry="153" fill="none" stroke="{RED}"'
        ' stroke-width="12"/>\n'
        f'  <path d="{_star(220, 150, 60, 24)}" fill="{RED}"/>\n'
        '  <g transform="translate(150 250) scale(1.5)">\n'
        + "".join(f'    <use xlink:href="#glyph" x="{i * 18}" y="0"/>\n' for i in range(5))
        + "  </g>\n"
        f"  {image}\n"
        "</svg>\n"
    ).encode("utf-8")


def _png(size: int = 8) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (size, size), (200, 0, 0, 255)).save(out, "PNG")
    return out.getvalue()


SEAL_SVG = seal_svg()


class _Calls:
    """A signer that remembers it was asked: a refusal must come before any signature."""

    def __init__(self, ca: Ca) -> None:
        self.ca = ca
        self.calls: list[str] = []

    def signer(self) -> PdfSealSigner:
        def sign(data: bytes, algorithm: str) -> bytes:
            self.calls.append(algorithm)
            return signatures.sign(self.ca.leaf.key, algorithm, data=data)

        return PdfSealSigner.from_callable(sign, self.ca.leaf.cert, [self.ca.cert])


def _widget(signed: bytes, field: str = "HurenSeal1") -> tuple[Any, Any]:
    """(the field's widget, its normal appearance stream)."""
    reader = PdfFileReader(io.BytesIO(signed))
    fields = reader.root["/AcroForm"]["/Fields"]
    widget = next(fields[i] for i in range(len(fields)) if fields[i]["/T"] == field)
    return widget, widget["/AP"]["/N"]


def _red_fill(content: bytes) -> bool:
    for r, g, b in re.findall(rb"([\d.]+) ([\d.]+) ([\d.]+) rg", content):
        if float(r) == pytest.approx(RED_RG, abs=1e-3) and float(g) == float(b) == 0:
            return True
    return False


def _assert_vector_seal(form: Any) -> None:
    """The seal's XObject: a form mapped onto the unit square, drawing red paths, no text."""
    assert form["/Subtype"] == "/Form"
    x0, y0, x1, y1 = (float(v) for v in form["/BBox"])
    a, b, c, d, e, f = (float(v) for v in form["/Matrix"])
    assert (b, c) == (0, 0)
    assert (a * x0 + e, d * y0 + f) == pytest.approx((0, 0), abs=1e-6)
    assert (a * x1 + e, d * y1 + f) == pytest.approx((1, 1), abs=1e-6)
    content = form.data
    ops = set(content.split())
    assert {b"m", b"l", b"c", b"h", b"f"} <= ops and b"S" in ops  # paths, filled and stroked
    assert _red_fill(content)
    assert not ({b"BT", b"Tf", b"Tj", b"TJ"} & ops)
    resources = form["/Resources"]
    assert "/Font" not in resources
    assert "/XObject" not in resources or all(
        resources["/XObject"][k]["/Subtype"] != "/Image" for k in resources["/XObject"]
    )


# --- the picture ---------------------------------------------------------------------------


def test_an_svg_picture_keeps_its_proportions() -> None:
    picture = SealPicture.load(SEAL_SVG)
    assert picture.format == "svg" and picture.image is None and picture.pdf
    assert (picture.width, picture.height) == pytest.approx(
        (44 * POINTS_PER_MM, 33 * POINTS_PER_MM)
    )
    assert picture.aspect == pytest.approx(0.75)
    size = check_svg(SEAL_SVG)
    assert (size.width, size.height) == pytest.approx((picture.width, picture.height))
    # percentages of the viewBox, and a viewBox alone (user units are CSS pixels, 0.75 pt)
    wide = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="100%" height="50%" viewBox="0 0 200 100">'
    )
    assert check_svg(wide + DOT.encode() + b"</svg>") == SvgSize(150, 37.5)
    bare = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 80 120">'
    assert SealPicture.load(bare + DOT.encode() + b"</svg>").aspect == pytest.approx(1.5)


# --- stamping ------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ALGS)
def test_svg_seal_is_drawn_as_vector_graphics(pdf_pki: Pki, alg: str) -> None:
    ca = pdf_pki.ca(alg)
    signed = stamp_pdf(
        make_pdf(3),
        signer=ca.signer(),
        placement=Placement.at(2, 300, 200, size_mm=44),
        picture=SEAL_SVG,
        seal_id="5201020000009",
    )
    report = verify_pdf(signed)
    (sig,) = report.signatures
    assert report.all_ok and sig.intact and sig.coverage == "entire_file"
    assert sig.algorithm == alg and sig.seal_id == "5201020000009"
    if alg == "sm2":
        assert raw_cms(signed, sig.field_name).valid
    else:
        status = pyhanko_status(signed, sig.field_name, [ca.cert])
        assert status.intact and status.valid and status.trusted and status.bottom_line

    widget, appearance = _widget(signed)
    x0, y0, x1, y1 = (float(v) for v in widget["/Rect"])
    assert x1 - x0 == pytest.approx(44 * POINTS_PER_MM)
    assert (y1 - y0) / (x1 - x0) == pytest.approx(0.75, rel=1e-5)  # the SVG's 44 x 33 mm
    resources = appearance["/Resources"]
    assert resources["/ExtGState"]["/HurenSealGS"]["/BM"] == "/Multiply"
    assert re.search(rb"/HurenSealGS gs .*/ImgHurenSeal Do", appearance.data)
    _assert_vector_seal(resources["/XObject"]["/ImgHurenSeal"])


def test_a_bitmap_seal_is_still_an_image(pdf_pki: Pki, seal_picture: bytes) -> None:
    """The same code path with a PNG: an image XObject, so the SVG test above can fail."""
    signed = stamp_pdf(
        make_pdf(1),
        signer=pdf_pki.ecdsa.signer(),
        placement=Placement.at(1, 300, 300),
        picture=seal_picture,
    )
    _w, appearance = _widget(signed)
    assert appearance["/Resources"]["/XObject"]["/ImgHurenSeal"]["/Subtype"] == "/Image"
    assert verify_pdf(signed).all_ok


def test_an_embedded_png_inside_the_svg_is_drawn(pdf_pki: Pki) -> None:
    svg = seal_svg(embedded_png=_png())
    assert sniff_picture(svg) == "svg"
    signed = stamp_pdf(
        make_pdf(2),
        signer=pdf_pki.rsa.signer(),
        placement=Placement.at(1, 300, 300),
        picture=svg,
    )
    assert verify_pdf(signed).all_ok
    _w, appearance = _widget(signed)
    form = appearance["/Resources"]["/XObject"]["/ImgHurenSeal"]
    assert form["/Subtype"] == "/Form" and _red_fill(form.data)
    assert b"BI" in form.data.split() or "/XObject" in form["/Resources"]  # the PNG is there


def test_gradients_and_opacity_bring_their_resources(pdf_pki: Pki) -> None:
    svg = _doc(
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#e60000"/>'
        '<stop offset="1" stop-color="#900"/></linearGradient></defs>'
        '<rect x="10" y="10" width="80" height="30" fill="url(#g)"/>'
        '<circle cx="50" cy="70" r="20" fill="#e60000" fill-opacity="0.8"/>'
    )
    signed = stamp_pdf(
        make_pdf(1),
        signer=pdf_pki.rsa.signer(),
        placement=Placement.at(1, 300, 300),
        picture=svg,
    )
    assert verify_pdf(signed).all_ok
    assert pyhanko_status(signed, "HurenSeal1", [pdf_pki.rsa.cert]).bottom_line
    _w, appearance = _widget(signed)
    form = appearance["/Resources"]["/XObject"]["/ImgHurenSeal"]
    resources = form["/Resources"]
    shadings, states = resources["/Shading"], resources["/ExtGState"]
    assert [shadings[k]["/ShadingType"] for k in shadings] == [2]  # axial: still vector
    opacities = [states[k].get("/ca") for k in states]
    assert 0.8 in [float(v) for v in opacities if v is not None]
    assert b"sh" in form.data.split() and b"gs" in form.data.split()


@pytest.mark.parametrize("alg", ["rsa", "sm2"])
def test_paging_seal_with_an_svg_picture(pdf_pki: Pki, alg: str) -> None:
    ca = pdf_pki.ca(alg)
    signed = stamp_pdf(
        make_pdf(4),
        signer=ca.signer(),
        placement=Placement.at(-1, 300, 150),
        picture=SEAL_SVG,
        paging=PagingSeal(size_mm=40, y=400),
        seal_id="S-SVG",
    )
    report = verify_pdf(signed)
    (sig,) = report.signatures
    assert report.all_ok and sig.paging_seal_pages == (1, 2, 3, 4)
    assert sig.coverage == "entire_file" and report.revisions == 2
    if alg == "rsa":
        assert pyhanko_status(signed, sig.field_name, [ca.cert]).bottom_line
    else:
        assert raw_cms(signed, sig.field_name).valid

    reader = PdfFileReader(io.BytesIO(signed))
    slices = sorted(find_slices(reader), key=lambda s: s.page_index)
    assert [(s.page_index, s.index, s.count) for s in slices] == [(i, i + 1, 4) for i in range(4)]
    width = 40 * POINTS_PER_MM
    seals = set()
    for s in slices:
        form = reader.get_object(s.reference)
        x0, y0, x1, y1 = (float(v) for v in form["/BBox"])
        assert (x1 - x0, y1 - y0) == pytest.approx((width / 4, width * 0.75), abs=1e-3)
        assert form["/Resources"]["/ExtGState"]["/HurenSealGS"]["/BM"] == "/Multiply"
        inner = form["/Resources"]["/XObject"].raw_get("/Im")
        seals.add(inner.reference)
        _assert_vector_seal(inner.get_object())
    # one seal form in the file, shared by every slice and the widget
    _w, appearance = _widget(signed)
    assert seals == {appearance["/Resources"]["/XObject"].raw_get("/ImgHurenSeal").reference}


@pytest.mark.parametrize("alg", ["ecdsa", "sm2"])
def test_two_phase_stamping_with_an_svg_picture(pdf_pki: Pki, alg: str) -> None:
    ca = pdf_pki.ca(alg)
    key = b"k" * 32
    pending = prepare(
        make_pdf(3),
        placement=Placement.at(1, 200, 200),
        picture=SealPicture.load(SEAL_SVG),
        certificate=ca.leaf.cert,
        chain=[ca.cert],
        paging=PagingSeal(),
    )
    back = PendingStamp.from_bytes(pending.to_bytes(key), key)
    signed = complete(back, signatures.sign(ca.leaf.key, back.algorithm, data=back.to_be_signed))
    report = verify_pdf(signed)
    assert report.all_ok and report.signatures[0].paging_seal_pages == (1, 2, 3)
    _w, appearance = _widget(signed)
    _assert_vector_seal(appearance["/Resources"]["/XObject"]["/ImgHurenSeal"])


# --- refusals ------------------------------------------------------------------------------


def _doc(body: str, *, head: str = SVG_OPEN, prolog: str = "") -> bytes:
    return (prolog + head + body + "</svg>").encode("utf-8")


LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE svg [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n"
)
XXE = '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
USE_LAUGHS = (
    '<g id="l0">'
    + DOT
    + "</g>"
    + "".join(f'<g id="l{i}">' + f'<use href="#l{i - 1}"/>' * 10 + "</g>" for i in range(1, 6))
)

REFUSED: dict[str, tuple[bytes, type[SealError], str]] = {
    "billion_laughs": (
        _doc("<desc>&lol9;</desc>" + DOT, prolog=LAUGHS),
        UnsupportedPicture,
        "DOCTYPE",
    ),
    "external_entity": (
        _doc("<desc>&xxe;</desc>" + DOT, prolog=XXE),
        UnsupportedPicture,
        "DOCTYPE",
    ),
    "image_file": (
        _doc(DOT + '<image width="10" height="10" xlink:href="file:///etc/passwd"/>'),
        UnsupportedPicture,
        "file:///etc/passwd",
    ),
    "image_http": (
        _doc(DOT + '<image width="10" height="10" href="http://127.0.0.1:1/x.png"/>'),
        UnsupportedPicture,
        "http://127.0.0.1:1/x.png",
    ),
    "image_relative": (
        _doc(DOT + '<image width="10" height="10" href="seal.png"/>'),
        UnsupportedPicture,
        "seal.png",
    ),
    "use_other_file": (_doc(DOT + '<use href="other.svg#a"/>'), UnsupportedPicture, "other.svg"),
    "data_svg": (
        _doc(DOT + '<image width="9" height="9" href="data:image/svg+xml;base64,PHN2Zy8+"/>'),
        UnsupportedPicture,
        "data:image/svg",
    ),
    "data_lies": (
        _doc(
            DOT
            + '<image width="9" height="9" href="data:image/jpeg;base64,'
            + base64.b64encode(_png()).decode()
            + '"/>'
        ),
        UnsupportedPicture,
        "not JPEG",
    ),
    "script": (_doc(DOT + "<script>alert(1)</script>"), UnsupportedPicture, "<script>"),
    "foreign_object": (
        _doc(
            DOT + '<foreignObject width="9" height="9"><p xmlns="http://www.w3.org/1999/xhtml">'
            "x</p></foreignObject>"
        ),
        UnsupportedPicture,
        "<foreignObject>",
    ),
    "event_attribute": (
        _doc(DOT, head=SVG_OPEN.replace("<svg ", '<svg onload="alert(1)" ')),
        UnsupportedPicture,
        "onload",
    ),
    "style_import": (
        _doc("<style>@import url(https://example.com/seal.css);</style>" + DOT),
        UnsupportedPicture,
        "@import",
    ),
    "style_url": (
        _doc('<rect width="9" height="9" style="fill:url(http://127.0.0.1:1/p#x)"/>' + DOT),
        UnsupportedPicture,
        "url()",
    ),
    "css_escape": (
        _doc("<style>rect { fill: u\\72l(x.png) }</style>" + DOT),
        UnsupportedPicture,
        "escapes",
    ),
    "stylesheet_pi": (
        _doc(DOT, prolog='<?xml-stylesheet href="http://127.0.0.1:1/s.css"?>'),
        UnsupportedPicture,
        "style sheet",
    ),
    "text": (
        _doc(DOT + '<text x="10" y="90" font-family="SimSun">合同专用章</text>'),
        UnsupportedPicture,
        "convert the text to paths/outlines",
    ),
    "tspan": (
        _doc(DOT + '<text><tspan x="1" y="9">章</tspan></text>'),
        UnsupportedPicture,
        "paths/outlines",
    ),
    "text_path": (
        _doc(
            DOT + '<path id="arc" d="M10 50 A40 40 0 0 1 90 50"/>'
            '<text><textPath href="#arc">章</textPath></text>'
        ),
        UnsupportedPicture,
        "paths/outlines",
    ),
    "malformed": (SVG_OPEN.encode() + b'<circle r="4"', PictureUnreadable, "well-formed"),
    "root_not_svg": (
        b'<?xml version="1.0"?><html xmlns="http://www.w3.org/2000/svg"><svg/></html>',
        UnsupportedPicture,
        "<svg>",
    ),
    "no_size": (
        b'<svg xmlns="http://www.w3.org/2000/svg">' + DOT.encode() + b"</svg>",
        UnsupportedPicture,
        "no usable size",
    ),
    "bad_unit": (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="3em" height="3em">'
        + DOT.encode()
        + b"</svg>",
        UnsupportedPicture,
        "no usable size",
    ),
    "empty": (_doc(""), UnsupportedPicture, "draws nothing"),
    "only_definitions": (_doc(f"<defs>{DOT}</defs>"), UnsupportedPicture, "draws nothing"),
    "use_cycle": (
        _doc('<g id="a"><use href="#a"/></g>' + DOT),
        UnsupportedPicture,
        "refers to itself",
    ),
    "use_laughs": (_doc(USE_LAUGHS), UnsupportedPicture, f"more than {MAX_SVG_ELEMENTS} elements"),
    "too_many_elements": (
        _doc("<rect/>" * (MAX_SVG_ELEMENTS + 1) + DOT),
        UnsupportedPicture,
        f"more than {MAX_SVG_ELEMENTS}",
    ),
    "too_deep": (_doc("<g>" * 80 + DOT + "</g>" * 80), UnsupportedPicture, "nests deeper"),
}
"""Refused by :func:`check_svg`, hence at upload and at stamping alike, with the same words."""

SVGLIB_EMPTY = {
    "empty_path": _doc('<path d=""/>'),
    "hidden": _doc(f'<g display="none">{DOT}</g>'),
}
"""Well-formed and harmless, but svglib draws nothing: refused when stamping."""


@contextmanager
def _watching() -> Iterator[list[tuple[str, str]]]:
    """Every file opened and socket connected in this process while inside (a Python audit
    hook: svglib, Pillow and reportlab do their I/O through Python)."""
    seen: list[tuple[str, str]] = []
    _WATCHERS.append(seen)
    try:
        yield seen
    finally:
        _WATCHERS.remove(seen)


_WATCHERS: list[list[tuple[str, str]]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCHERS and event in ("open", "socket.connect"):
        _WATCHERS[-1].append((event, str(args[0] if event == "open" else args[1])))


sys.addaudithook(_audit)


def test_the_audit_hook_sees_files_and_sockets(tmp_path: Any) -> None:
    """Without this the "nothing was read" assertions below could not fail."""
    with _watching() as seen:
        (tmp_path / "x").write_bytes(b"x")
        with socket.socket() as s:
            s.settimeout(0.2)
            with suppress(OSError):
                s.connect(("127.0.0.1", 1))
    assert ("open", str(tmp_path / "x")) in seen
    assert any(e == "socket.connect" for e, _ in seen)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_hostile_svg_is_refused_when_stamping(pdf_pki: Pki, case: str) -> None:
    data, error, words = REFUSED[case]
    signer = _Calls(pdf_pki.ecdsa)
    pdf = make_pdf(2)
    with _watching() as seen, pytest.raises(error) as refused:
        stamp_pdf(pdf, signer=signer.signer(), placement=Placement.at(1, 200, 200), picture=data)
    assert words in str(refused.value) and refused.value.message_zh
    assert refused.value.code in ("pdf_picture_unsupported", "pdf_picture_unreadable")
    assert signer.calls == []  # nothing was signed, so nothing was written
    # nothing the SVG names was opened, nothing was connected to
    named = ("passwd", "other.svg", "seal.png", ".css", "127.0.0.1")
    assert not [
        (e, what) for e, what in seen if e == "socket.connect" or any(n in what for n in named)
    ]
    with pytest.raises(error):
        SealPicture.load(data)


def test_svg_text_refusal_says_how_to_fix_it() -> None:
    with pytest.raises(UnsupportedPicture) as refused:
        check_svg(REFUSED["text"][0])
    assert "请将文字转为路径（轮廓）" in refused.value.message_zh


def test_nothing_is_fetched_from_a_listening_server(pdf_pki: Pki) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(0.3)
        port = server.getsockname()[1]
        body = f'<image width="10" height="10" href="http://127.0.0.1:{port}/seal.png"/>'
        with pytest.raises(UnsupportedPicture):
            stamp_pdf(
                make_pdf(1),
                signer=pdf_pki.rsa.signer(),
                placement=Placement.at(1, 200, 200),
                picture=_doc(DOT + body),
            )
        with pytest.raises(TimeoutError):
            server.accept()


@pytest.mark.parametrize("case", sorted(SVGLIB_EMPTY))
def test_an_svg_that_draws_nothing_is_refused_when_stamping(pdf_pki: Pki, case: str) -> None:
    signer = _Calls(pdf_pki.ecdsa)
    with pytest.raises(UnsupportedPicture, match="draws nothing"):
        stamp_pdf(
            make_pdf(1),
            signer=signer.signer(),
            placement=Placement.at(1, 200, 200),
            picture=SVGLIB_EMPTY[case],
        )
    assert signer.calls == []


def test_oversized_svg_is_refused(pdf_pki: Pki) -> None:
    padding = "<!--" + "x" * MAX_PICTURE_BYTES + "-->"
    big = _doc(DOT + padding)
    with pytest.raises(PictureTooLarge):
        stamp_pdf(
            make_pdf(1), signer=pdf_pki.rsa.signer(), placement=Placement.at(1, 99, 99), picture=big
        )
    with pytest.raises(SealRefused) as refused:
        sniff_picture(_doc(DOT + "<!--" + "x" * MAX_UPLOAD_BYTES + "-->"))
    assert refused.value.code == "picture_too_large"


# --- at upload -----------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_hostile_svg_is_refused_when_a_seal_is_made(case: str) -> None:
    data, error, words = REFUSED[case]
    with pytest.raises(SealRefused) as refused:
        sniff_picture(data)
    assert refused.value.code == "invalid_picture" and refused.value.field == "picture"
    with pytest.raises(error) as direct:
        check_svg(data)
    # the same words as stamping would give
    assert str(refused.value) == str(direct.value) and words in str(refused.value)
    assert refused.value.message_zh == direct.value.message_zh


def test_a_good_svg_is_accepted_when_a_seal_is_made() -> None:
    assert sniff_picture(SEAL_SVG) == "svg"
    assert sniff_picture(seal_svg(embedded_png=_png())) == "svg"


def test_the_plain_svg_doctype_editors_write_is_accepted_and_never_loaded(pdf_pki: Pki) -> None:
    """Illustrator and older Inkscape write the SVG 1.1 DOCTYPE line; it has no declarations
    of its own and its DTD is never fetched."""
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
        b'"http://127.0.0.1:1/svg11.dtd">\n' + SEAL_SVG.split(b"?>", 1)[-1].lstrip()
    )
    assert sniff_picture(data) == "svg"
    with _watching() as seen:
        signed = stamp_pdf(
            make_pdf(1),
            signer=pdf_pki.rsa.signer(),
            placement=Placement.at(1, 99, 99),
            picture=data,
        )
    assert not [(e, what) for e, what in seen if e == "socket.connect" or "svg11" in what]
    appearance = _widget(signed)[1]
    _assert_vector_seal(appearance["/Resources"]["/XObject"]["/ImgHurenSeal"])


def test_a_refused_svg_writes_no_seal_record(
    sessions: sessionmaker[Session],
    directory: Directory,
    trust_store: TrustStore,
    pki: RecordsPki,
) -> None:
    maker = KeyMaker(pki.sm2.key, pki.sm2.cert)
    for case in ("external_entity", "image_file", "text"):
        with pytest.raises(SealRefused) as refused:
            make(sessions, directory, trust_store, maker, request(pki, picture=REFUSED[case][0]))
        assert refused.value.code == "invalid_picture"
    assert count(sessions, SealRecord) == 0 and events(sessions) == []
    view = make(sessions, directory, trust_store, maker, request(pki, picture=SEAL_SVG))
    assert view.picture_type == "svg" and count(sessions, SealRecord) == 1


# --- anything at all -----------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        SVG_OPEN,
        "<svg>",
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1e999 nan">',
        "</svg>",
        "<g>",
        "</g>",
        DOT,
        '<use href="#a"/>',
        '<g id="a">',
        '<image href="data:image/png;base64,iVBORw0KGgo="/>',
        '<image href="data:image/jpeg;base64,!!"/>',
        "<text>x</text>",
        '<?xml version="1.0" encoding="bogus"?>',
        "<!DOCTYPE svg [<!ENTITY a 'b'>]>",
        "&a;",
        "<![CDATA[x]]>",
        "<style>a{fill:url(#x)}</style>",
        '<rect width="-1" height="1e400" style="\\"/>',
        "\ufeff",
        "<",
        ">",
        '"',
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=400), st.lists(_PIECES | st.text(max_size=8), max_size=12)))
def test_the_check_raises_only_typed_errors(data: bytes | list[str]) -> None:
    raw = data if isinstance(data, bytes) else "".join(data).encode("utf-8", "surrogatepass")
    try:
        size = check_svg(raw)
    except (UnsupportedPicture, PictureUnreadable) as exc:
        assert str(exc) and exc.message_zh
    else:
        assert size.width > 0 and size.height > 0
    try:
        sniff_picture(raw)
    except SealRefused as exc:
        assert exc.code in ("invalid_picture", "picture_too_large")


def test_stamping_an_svg_logs_no_layout_warning(
    pdf_pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    """A 42 mm seal box is 119 whole points; the SVG scaled into it may come out a float's last
    bit wider. Nothing about that may reach the service's log on every stamp."""
    caplog.set_level(logging.WARNING)
    square = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="42mm" height="42mm" '
        b'viewBox="0 0 400 400">' + DOT.encode() + b"</svg>"
    )
    for picture in (square, SEAL_SVG):
        for size in (42, 40, 38.5):
            stamp_pdf(
                make_pdf(1),
                signer=pdf_pki.rsa.signer(),
                placement=Placement.at(1, 100, 100, size_mm=size),
                picture=picture,
            )
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
