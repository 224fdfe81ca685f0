"""SVG seal pictures: checked as hostile input, then drawn into PDFs as vector graphics.

An SVG is uploaded by an operator or an entity administrator and rendered later on the stamping
server, and SVG can declare entities, name files and URLs, carry scripts. So :func:`check_svg`
reads it with a parser that resolves and fetches nothing, and refuses whatever could make svglib
reach past the bytes it was given (DOCTYPE, references that are not ``#id`` or an embedded
PNG/JPEG, scripts), whatever would look different on another machine (text: its fonts are the
stamping server's, so text must be outlined) and whatever is too big to render cheaply.
:func:`render_svg` then draws it with svglib into a one-page reportlab PDF, and
:func:`import_svg_form` copies that page into the stamped document as a form XObject mapped
onto the unit square, the same space an image XObject occupies, so the widget and the paging
slices draw an SVG and a bitmap with the same operators.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import math
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from xml.parsers import expat

from lxml import etree
from PIL import Image
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter

from seal.pdf.errors import PictureUnreadable, UnsupportedPicture
from seal.pdf.pdfobjects import pdf_array, pdf_dict

__all__ = [
    "MAX_SVG_DEPTH",
    "MAX_SVG_ELEMENTS",
    "RenderedSvg",
    "SvgSize",
    "check_svg",
    "import_svg_form",
    "render_svg",
]

SVG_NS = "http://www.w3.org/2000/svg"
MAX_SVG_ELEMENTS = 5_000
"""Elements, counting each ``<use>`` as a copy of what it shows (a seal needs a few hundred)."""
MAX_SVG_DEPTH = 64
"""Nesting, ``<use>`` included: svglib and reportlab walk the tree recursively."""
MAX_EMBEDDED_SIDE = 4096
"""Pixels per side of an embedded PNG/JPEG, as for a bitmap seal picture."""
MAX_ASPECT = 100.0
MIN_SIDE_PT, MAX_SIDE_PT = 0.01, 100_000.0

_EMBEDDED = {"data:image/png;base64,": "PNG", "data:image/jpeg;base64,": "JPEG"}
_MAGIC = {"PNG": b"\x89PNG\r\n\x1a\n", "JPEG": b"\xff\xd8\xff"}
_TEXT = frozenset(
    {"text", "tspan", "textpath", "tref", "altglyph", "flowroot", "flowpara", "flowspan"}
)
_ACTIVE = frozenset({"script", "foreignobject", "iframe", "embed", "object", "handler", "listener"})
_DRAWN = frozenset(
    {"path", "rect", "circle", "ellipse", "line", "polyline", "polygon", "image", "use"}
)
_NOT_DRAWN = frozenset(
    {
        "defs",
        "symbol",
        "clippath",
        "mask",
        "marker",
        "pattern",
        "lineargradient",
        "radialgradient",
        "filter",
        "metadata",
        "title",
        "desc",
        "style",
    }
)
_PT_PER_UNIT = {
    "": 0.75,  # a bare number is a CSS pixel, 1/96 in
    "px": 0.75,
    "pt": 1.0,
    "pc": 12.0,
    "mm": 72 / 25.4,
    "cm": 72 / 2.54,
    "in": 72.0,
    "q": 72 / 25.4 / 4,
}
_LENGTH = re.compile(
    r"\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(px|pt|pc|mm|cm|in|q|%)?\s*"
)
_FRAGMENT = re.compile(r"#[^\s#]+")
_CSS_URL = re.compile(r"""url\(\s*(['"]?)\s*([^'")\s]*)""", re.IGNORECASE)
_CSS_AT = re.compile(r"@(?:import|font-face|namespace)", re.IGNORECASE)
_WHITESPACE = re.compile(r"[ \t\r\n\f]+")
# reportlab's canvas sets a font even for a drawing without text: `BT /F1 12 Tf 14.4 TL ET`
_FONT_ONLY = re.compile(rb"BT /F\d+ [0-9.]+ Tf [0-9.]+ TL ET")
_INLINE_DATA = re.compile(rb"(?<![^\s])ID\s.*?\sEI(?![^\s])", re.DOTALL)
_TEXT_OPS = re.compile(rb"(?<![^\s])(?:BT|ET|Tf|Tj|TJ)(?![^\s])")

_pdf_float = cast(Callable[[str], generic.FloatObject], generic.FloatObject)


@dataclass(frozen=True)
class SvgSize:
    """The picture's size in PDF points, from its ``width``/``height`` or its ``viewBox``."""

    width: float
    height: float

    @property
    def aspect(self) -> float:
        """Height over width."""
        return self.height / self.width


@dataclass(frozen=True)
class RenderedSvg:
    """An SVG drawn by svglib into a one-page PDF whose page is the picture (``size`` big)."""

    pdf: bytes
    size: SvgSize


def _refused(en: str, zh: str) -> UnsupportedPicture:
    return UnsupportedPicture(f"the SVG seal picture {en}", zh=f"SVG 印章图片{zh}")


_TEXT_REFUSAL = (
    "contains text; convert the text to paths/outlines (the stamping server's fonts must not "
    "change how a seal looks)",
    "含有文字，请将文字转为路径（轮廓）：印章的样子不能取决于盖章服务器上的字体",
)


def _local(name: object) -> str:
    return str(etree.QName(cast(Any, name)).localname).lower()


class _Doctype(Exception):
    pass


def _stop_at_doctype(name: str, _system: object, _public: object, internal: int) -> None:
    """Only the plain ``<!DOCTYPE svg PUBLIC …>`` line editors write (never loaded) passes;
    any internal subset — where entities live — stops the parse before its first declaration."""
    if internal or name != "svg":
        raise _Doctype


def _declares_doctype(data: bytes) -> bool:
    """Whether expat meets a DOCTYPE with declarations (or not named svg); it stops there,
    before the first one. (libxml2 refuses a billion laughs on its own, but as malformed XML,
    not as a DOCTYPE.)"""
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _stop_at_doctype
    try:
        parser.Parse(data, True)
    except _Doctype:
        return True
    except Exception:  # malformed, or an encoding expat lacks: lxml below decides
        return False
    return False


def _doctype_refused() -> UnsupportedPicture:
    return _refused(
        "has a DOCTYPE with declarations (or entities); remove it",
        "含有带声明（或实体）的 DOCTYPE，请删除",
    )


def _parse(data: bytes) -> Any:
    """The document's root, read without DTDs, entities or network (and nothing resolved)."""
    if _declares_doctype(data):
        raise _doctype_refused()
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=True,
        recover=False,
    )
    try:
        root = etree.fromstring(data, parser)  # the parser resolves nothing
    except (etree.LxmlError, ValueError) as exc:
        raise PictureUnreadable(
            f"the SVG seal picture is not well-formed XML: {exc}",
            zh="SVG 印章图片不是格式正确的 XML",
        ) from exc
    docinfo = root.getroottree().docinfo
    dtd = docinfo.internalDTD  # the plain DOCTYPE line gives an empty one
    declares = dtd is not None and (list(dtd.iterentities()) or list(dtd.iterelements()))
    if (
        declares
        or docinfo.externalDTD is not None
        or (dtd is not None and docinfo.root_name != "svg")
    ):
        raise _doctype_refused()
    return root


def _css_problem(css: str) -> str | None:
    """What in a style sheet or style value could fetch something, or None."""
    if "\\" in css:
        return "CSS escapes"
    if _CSS_AT.search(css):
        return "@import, @font-face or @namespace rules"
    for match in _CSS_URL.finditer(css):
        if not match.group(2).startswith("#"):
            return "url() that is not a #fragment"
    return None


def _check_embedded(href: str) -> None:
    """An embedded PNG/JPEG must be what it says and small enough to decode cheaply."""
    prefix = next(p for p in _EMBEDDED if href.startswith(p))
    kind = _EMBEDDED[prefix]
    try:
        raw = base64.b64decode(_WHITESPACE.sub("", href[len(prefix) :]), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _refused("embeds an image that is not base64", "内嵌图片不是有效的 base64") from exc
    if not raw.startswith(_MAGIC[kind]):
        raise _refused(f"embeds an image that is not {kind}", f"内嵌图片不是声明的 {kind} 格式")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            width, height = Image.open(io.BytesIO(raw), formats=[kind]).size
    except Exception as exc:  # Pillow raises many kinds for hostile bytes
        raise _refused("embeds an image that cannot be read", "内嵌图片无法读取") from exc
    if max(width, height) > MAX_EMBEDDED_SIDE or min(width, height) < 1:
        raise _refused(
            f"embeds an image over {MAX_EMBEDDED_SIDE} pixels per side",
            f"内嵌图片超过每边 {MAX_EMBEDDED_SIDE} 像素",
        )


def _check_href(value: str) -> None:
    if _FRAGMENT.fullmatch(value):
        return
    if value.startswith(tuple(_EMBEDDED)):
        _check_embedded(value)
        return
    raise _refused(
        f"refers to {value[:60]!r}; only #fragments and embedded "
        "data:image/png;base64 or data:image/jpeg;base64 images are allowed",
        "引用了外部资源；只允许文档内的 #引用 和内嵌的 PNG/JPEG（data:image/…;base64）图片",
    )


def _check_element(el: Any) -> None:
    name = _local(el)
    if name in _TEXT:
        raise _refused(*_TEXT_REFUSAL)
    if name in _ACTIVE:
        raise _refused(
            f"contains <{etree.QName(el).localname}>; scripts and embedded documents are refused",
            f"含有 <{etree.QName(el).localname}>，不允许脚本或嵌入文档",
        )
    if name == "style":
        problem = _css_problem("".join(el.itertext()))
        if problem:
            raise _refused(
                f"has a style sheet with {problem}", "的样式表引用了外部资源或含有不允许的写法"
            )
    for attr, value in el.attrib.items():
        qname = etree.QName(attr)
        local = qname.localname.lower()
        if local.startswith("on"):
            raise _refused(
                f"has an event attribute ({qname.localname}); scripts are refused",
                f"含有事件属性（{qname.localname}），不允许脚本",
            )
        if local == "href":
            _check_href(value)
        elif qname.namespace is None:  # style and presentation attributes are CSS
            problem = _css_problem(value)
            if problem:
                raise _refused(
                    f"has a {qname.localname} attribute with {problem}",
                    f"的 {qname.localname} 属性引用了外部资源或含有不允许的写法",
                )


def _check_node(node: Any) -> None:
    """A node that is not an element: entities (only possible with a DTD, refused already)
    and ``xml-stylesheet`` instructions (a browser would fetch the sheet) are refused."""
    if isinstance(node, etree._Entity):
        raise _refused("uses an entity", "使用了实体引用")
    if isinstance(node, etree._ProcessingInstruction) and node.target.lower() == "xml-stylesheet":
        raise _refused("links a style sheet", "链接了外部样式表")


def _check_tree(root: Any) -> None:
    """Every element's own rules, then the size of the tree with ``<use>`` expanded."""
    ids: dict[str, Any] = {}
    shapes: list[Any] = []
    count = 0
    for el in root.iter():
        if not isinstance(el.tag, str):
            _check_node(el)
            continue
        count += 1
        if count > MAX_SVG_ELEMENTS:
            raise _too_many()
        _check_element(el)
        ident = el.get("id")
        if ident is not None:
            ids.setdefault(ident, el)
        if _local(el) in _DRAWN and not any(_local(a) in _NOT_DRAWN for a in el.iterancestors()):
            shapes.append(el)
    for sibling in (*root.itersiblings(preceding=True), *root.itersiblings()):
        _check_node(sibling)
    _expanded_size(root, ids)
    if not any(_local(el) != "use" or _use_target(el, ids) is not None for el in shapes):
        raise _empty()


def _use_target(use: Any, ids: dict[str, Any]) -> Any:
    """The element a ``<use>`` shows, or None (svglib skips a ``<use>`` of a missing id)."""
    href = next((v for k, v in use.attrib.items() if _local(k) == "href"), "")
    return ids.get(href[1:]) if href.startswith("#") else None


def _too_many() -> UnsupportedPicture:
    return _refused(
        f"has more than {MAX_SVG_ELEMENTS} elements (each <use> counts as what it repeats)",
        f"元素超过 {MAX_SVG_ELEMENTS} 个（<use> 按其引用的内容计）",
    )


def _empty() -> UnsupportedPicture:
    return _refused("draws nothing", "没有可绘制的内容")


def _expanded_size(root: Any, ids: dict[str, Any]) -> None:
    """Count elements as svglib will draw them: a ``<use>`` costs what it points to. Refuses
    reference cycles, nesting deeper than :data:`MAX_SVG_DEPTH` and "billion laughs" built
    from ``<use>`` chains."""
    done: dict[Any, tuple[int, int]] = {}  # element -> (elements, height)
    active: set[Any] = set()

    def visit(el: Any, depth: int) -> tuple[int, int]:
        if depth > MAX_SVG_DEPTH:
            raise _refused(
                f"nests deeper than {MAX_SVG_DEPTH} levels", f"嵌套超过 {MAX_SVG_DEPTH} 层"
            )
        known = done.get(el)
        if known is not None:
            if depth + known[1] > MAX_SVG_DEPTH:
                raise _refused(
                    f"nests deeper than {MAX_SVG_DEPTH} levels", f"嵌套超过 {MAX_SVG_DEPTH} 层"
                )
            return known
        if el in active:
            raise _refused("has a <use> that refers to itself", "的 <use> 引用形成循环")
        active.add(el)
        total, height = 1, 0
        children = [c for c in el if isinstance(c.tag, str)]
        if _local(el) == "use":
            target = _use_target(el, ids)
            if target is not None:
                children.append(target)
        for child in children:
            size, tall = visit(child, depth + 1)
            total += size
            height = max(height, tall + 1)
            if total > MAX_SVG_ELEMENTS:
                raise _too_many()
        active.discard(el)
        done[el] = (total, height)
        return total, height

    visit(root, 0)


def _length(value: str | None, full: float | None) -> float | None:
    """A ``width``/``height`` in points; ``full`` is the viewBox side for ``%`` and absence."""
    if value is None or not value.strip():
        return None if full is None else full * _PT_PER_UNIT[""]
    match = _LENGTH.fullmatch(value)
    if match is None:
        return None
    number, unit = float(match.group(1)), match.group(2) or ""
    if unit == "%":
        return None if full is None else number / 100 * full * _PT_PER_UNIT[""]
    return number * _PT_PER_UNIT[unit]


def _size(root: Any) -> SvgSize:
    """Mirror svglib: ``width``/``height`` (``%`` of the viewBox), else the viewBox itself."""
    no_size = _refused(
        "has no usable size; give width and height (px, pt, mm, cm or in) or a viewBox",
        "没有可用的尺寸，请提供 width、height（px、pt、mm、cm 或 in）或 viewBox",
    )
    box: list[float] | None = None
    view_box = root.get("viewBox")
    if view_box is not None and view_box.strip():
        try:
            box = [float(v) for v in view_box.replace(",", " ").split()]
        except ValueError:
            raise no_size from None
        if len(box) != 4 or not all(math.isfinite(v) for v in box) or min(box[2:]) <= 0:
            raise no_size
    width = _length(root.get("width"), box[2] if box else None)
    height = _length(root.get("height"), box[3] if box else None)
    if width is None or height is None:
        raise no_size
    if not all(MIN_SIDE_PT <= v <= MAX_SIDE_PT for v in (width, height)):
        raise _refused(
            f"is {width:g} x {height:g} pt; each side must be {MIN_SIDE_PT}-{MAX_SIDE_PT:g} pt",
            "的尺寸超出允许范围",
        )
    if max(width / height, height / width) > MAX_ASPECT:
        raise _refused(
            f"is more than {MAX_ASPECT:g} times longer than wide", "的长宽比超出允许范围"
        )
    return SvgSize(width, height)


def check_svg(data: bytes) -> SvgSize:
    """The picture's size when the SVG is safe to render; ``UnsupportedPicture`` (or
    ``PictureUnreadable`` for bytes that are not XML) otherwise. Pure: reads nothing else."""
    root = _parse(data)
    if not isinstance(root.tag, str) or _local(root) != "svg":
        raise _refused("is not an <svg> document", "的根元素不是 <svg>")
    if etree.QName(root).namespace not in (SVG_NS, None):
        raise _refused("is not in the SVG namespace", "的根元素不在 SVG 命名空间中")
    _check_tree(root)
    return _size(root)


def _draws_something(node: Any, depth: int = 0) -> bool:
    contents = getattr(node, "contents", None)
    if contents is None:
        return True  # a shape, not a group
    return depth < 4 * MAX_SVG_DEPTH and any(_draws_something(c, depth + 1) for c in contents)


@functools.lru_cache(maxsize=16)
def render_svg(data: bytes) -> RenderedSvg:
    """Check the SVG, draw it with svglib and render it to a one-page PDF with reportlab.

    Kept for the last few pictures: a batch stamps one seal many times, and drawing a seal takes
    longer than stamping it (refusals are not kept: they raise)."""
    check_svg(data)
    from reportlab.graphics import renderPDF
    from svglib.svglib import svg2rlg

    try:
        # a file object, not a path: svglib then cannot resolve any relative reference either
        drawing = svg2rlg(io.BytesIO(data))
        if drawing is None or not _draws_something(drawing):
            raise _empty()
        pdf = bytes(renderPDF.drawToString(drawing))
        page = _read_page(pdf)
    except UnsupportedPicture:
        raise
    except Exception as exc:  # svglib and reportlab raise whatever their parsers meet
        raise PictureUnreadable(
            f"the SVG seal picture cannot be drawn: {exc}", zh="SVG 印章图片无法绘制"
        ) from exc
    x0, y0, x1, y1 = page.box
    return RenderedSvg(pdf, SvgSize(x1 - x0, y1 - y0))


@dataclass(frozen=True)
class _Page:
    content: bytes
    resources: generic.DictionaryObject
    box: tuple[float, float, float, float]


def _read_page(pdf: bytes) -> _Page:
    """reportlab's page: its content without the font-only text objects, resources without
    the font they named (there is no text: a seal must not pull in an unembedded font)."""
    reader: Any = PdfFileReader(io.BytesIO(pdf))
    page_ref, _resources = reader.find_page_for_modification(0)
    page = cast(generic.DictionaryObject, page_ref.get_object())
    x0, y0, x1, y1 = (float(v) for v in cast(generic.ArrayObject, page["/MediaBox"]))
    if not (x1 - x0 > 0 and y1 - y0 > 0):
        raise PictureUnreadable("the rendered SVG page has no size")
    contents = page["/Contents"]
    streams = list(contents) if isinstance(contents, generic.ArrayObject) else [contents]
    data = b"\n".join(cast(generic.StreamObject, s.get_object()).data for s in streams)
    data = _FONT_ONLY.sub(b"", data)
    if _TEXT_OPS.search(_INLINE_DATA.sub(b"", data)):
        raise PictureUnreadable("the rendered SVG still draws text")
    raw_resources = page.get("/Resources")
    resources = (
        cast(generic.DictionaryObject, raw_resources.get_object())
        if raw_resources is not None
        else pdf_dict({})
    )
    for key in ("/Font", "/ProcSet"):
        resources.pop(key, None)
    return _Page(data, resources, (x0, y0, x1, y1))


def import_svg_form(writer: BasePdfFileWriter, pdf: bytes) -> generic.IndirectObject:
    """The rendered SVG as a form XObject whose ``/Matrix`` maps it onto the unit square, the
    space of an image XObject: ``w 0 0 h x y cm /Name Do`` draws either the same way."""
    page = _read_page(pdf)
    x0, y0, x1, y1 = page.box
    w, h = x1 - x0, y1 - y0
    resources = writer.import_object(page.resources) if page.resources else pdf_dict({})
    matrix = (1 / w, 0.0, 0.0, 1 / h, (0.0 - x0) / w, (0.0 - y0) / h)
    form = generic.StreamObject(
        pdf_dict(
            {
                "/Type": generic.pdf_name("/XObject"),
                "/Subtype": generic.pdf_name("/Form"),
                "/BBox": pdf_array(_pdf_float(f"{v:.6f}") for v in page.box),
                "/Matrix": pdf_array(_pdf_float(f"{v:.10f}") for v in matrix),
                "/Resources": resources,
            }
        ),
        stream_data=page.content,
    )
    cast(Any, form).compress()
    return writer.add_object(form)
