"""The paging seal (骑缝章): the seal cut into vertical slices, slice i at the right edge of page i.

Fanned out, the pages show the whole seal again, so a page cannot be swapped without the seal
breaking. Each slice is a form XObject clipping the one shared seal picture to its strip (an
image XObject, or a form XObject for an SVG picture: both fill the unit square, see
:class:`seal.pdf.appearance.SealImage`), drawn in the page content of the same incremental
update as the signature, so the signature covers it. The XObject carries
``/HurenPagingSeal << /Field /Index /Count >>`` (and ``/HurenSealID``) so that
:func:`find_slices` can say which signature a slice belongs to.

Long documents are split into groups of at most ``max_pages_per_seal`` pages, each carrying one
whole seal: a seal cut into 200 strips would leave slivers thinner than a line.
"""

from __future__ import annotations

import contextlib
import math
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, cast

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.content_stream_parser import parse_content_stream
from pyhanko.pdf_utils.generic import pdf_name, pdf_string

from seal.pdf.appearance import GS_NAME, SealImage, multiply_state
from seal.pdf.document import page_box, page_count
from seal.pdf.errors import InvalidPlacement, PagingSealTooFewPages
from seal.pdf.pdfobjects import pdf_array, pdf_dict, pdf_float, pdf_int
from seal.pdf.placement import check_size, seal_size

__all__ = ["MARKER", "SEAL_ID_KEY", "PagingSeal", "Slice", "draw_paging_seal", "find_slices"]

MARKER = "/HurenPagingSeal"
SEAL_ID_KEY = "/HurenSealID"


@dataclass(frozen=True)
class PagingSeal:
    """Ask for a paging seal: its size, and the height of its centre (``None``: mid-page)."""

    size_mm: float = 42.0
    y: float | None = None
    max_pages_per_seal: int = 20

    def __post_init__(self) -> None:
        check_size(self.size_mm)
        if self.y is not None and (
            not isinstance(self.y, int | float) or not math.isfinite(self.y)
        ):
            raise InvalidPlacement("the paging seal's y must be a finite number of points")
        if not isinstance(self.max_pages_per_seal, int) or self.max_pages_per_seal < 2:
            raise InvalidPlacement("a paging seal spans at least 2 pages per group")


def groups(count: int, max_per: int) -> list[range]:
    """Consecutive page ranges of near-equal length, none longer than ``max_per``."""
    n = math.ceil(count / max_per)
    base, extra = divmod(count, n)
    out: list[range] = []
    start = 0
    for g in range(n):
        size = base + (1 if g < extra else 0)
        out.append(range(start, start + size))
        start += size
    return out


def _slice_form(
    image_ref: generic.IndirectObject,
    index: int,
    count: int,
    size: tuple[float, float],
    field_name: str,
    seal_id: str | None,
) -> generic.StreamObject:
    w, h = size
    strip = w / count
    marker = pdf_dict(
        {
            "/Field": pdf_string(field_name),
            "/Index": pdf_int(index + 1),
            "/Count": pdf_int(count),
        }
    )
    form = generic.StreamObject(
        pdf_dict(
            {
                "/Type": pdf_name("/XObject"),
                "/Subtype": pdf_name("/Form"),
                "/BBox": pdf_array(pdf_float(v) for v in (0, 0, strip, h)),
                "/Resources": pdf_dict(
                    {
                        "/XObject": pdf_dict({"/Im": image_ref}),
                        "/ExtGState": pdf_dict({GS_NAME: multiply_state()}),
                    }
                ),
                MARKER: marker,
            }
        ),
        stream_data=(
            f"q {GS_NAME} gs {w:.4f} 0 0 {h:.4f} {-index * strip:.4f} 0 cm /Im Do Q"
        ).encode("ascii"),
    )
    if seal_id is not None:
        form[pdf_name(SEAL_ID_KEY)] = pdf_string(seal_id)
    return form


def draw_paging_seal(
    writer: Any,
    image: SealImage,
    spec: PagingSeal,
    aspect: float,
    field_name: str,
    seal_id: str | None,
) -> list[int]:
    """Draw the slices on every page; returns the 0-based pages that received one."""
    count = page_count(writer)
    if count < 2:
        raise PagingSealTooFewPages(f"a paging seal needs at least 2 pages, not {count}")
    size = seal_size(spec.size_mm, aspect)
    image_ref = image.image_ref
    drawn: list[int] = []
    for group in groups(count, spec.max_pages_per_seal):
        for i, page_ix in enumerate(group):
            form_ref = writer.add_object(
                _slice_form(image_ref, i, len(group), size, field_name, seal_id)
            )
            _x0, y0, x1, y1 = page_box(writer, page_ix)
            cy = spec.y if spec.y is not None else (y0 + y1) / 2
            x = x1 - size[0] / len(group)
            y = cy - size[1] / 2
            name = "/HurenPS" + uuid.uuid4().hex[:16]
            # wrap what is there in q/Q so its graphics state cannot shift the slice
            writer.add_stream_to_page(
                page_ix, writer.add_object(generic.StreamObject(stream_data=b"q")), prepend=True
            )
            writer.add_stream_to_page(
                page_ix, writer.add_object(generic.StreamObject(stream_data=b"Q"))
            )
            paint = f"q 1 0 0 1 {x:.4f} {y:.4f} cm {name} Do Q".encode("ascii")
            writer.add_stream_to_page(
                page_ix,
                writer.add_object(generic.StreamObject(stream_data=paint)),
                resources=pdf_dict({"/XObject": pdf_dict({name: form_ref})}),
            )
            drawn.append(page_ix)
    return drawn


@dataclass(frozen=True)
class Slice:
    """A paging-seal slice drawn on a page."""

    page_index: int
    field_name: str
    index: int
    count: int
    seal_id: str | None
    reference: generic.Reference
    """The slice's form XObject, to compare its revision with the signature's."""


def _drawn_names(page: Any, wanted: Collection[str] | None = None) -> list[str]:
    """Names used with ``Do`` at the top level of the page's content streams (with `wanted`,
    only streams whose bytes mention one of those names are parsed: the page's text is not)."""
    try:
        contents = page["/Contents"]
    except KeyError:
        return []
    streams = (
        [contents[i] for i in range(len(contents))]
        if isinstance(contents, generic.ArrayObject)
        else [contents]
    )
    names: list[str] = []
    for stream in streams:
        if not isinstance(stream, generic.StreamObject):
            continue
        if wanted is not None:
            data = stream.data
            if not any(name.encode("latin-1", "replace") in data for name in wanted):
                continue
        # one stream at a time: an inline image elsewhere must not hide our slice
        with contextlib.suppress(Exception):
            names.extend(str(op.args[0]) for op in parse_content_stream([stream]) if op.op == "Do")
    return names


def _marked(xobjects: Any) -> dict[str, tuple[Any, Any]]:
    """The page's XObjects that are paging-seal slices: name → (reference, form)."""
    marked: dict[str, tuple[Any, Any]] = {}
    for name in list(xobjects.keys()):
        try:
            raw = xobjects.raw_get(name)
        except KeyError:
            continue
        if not isinstance(raw, generic.IndirectObject):
            continue
        form = cast(Any, raw).get_object()
        if isinstance(form, generic.StreamObject) and isinstance(
            form.get(MARKER), generic.DictionaryObject
        ):
            marked[str(name)] = (raw.reference, form)
    return marked


def find_slices(reader: Any) -> list[Slice]:
    """Every paging-seal slice drawn on any page of the document as it now stands.

    Only pages whose resources hold a marked XObject have their content parsed (parsing every
    page's text would make verifying any document with a logo slow)."""
    found: list[Slice] = []
    for page_ix in range(page_count(reader)):
        page_ref, resources = reader.find_page_for_modification(page_ix)
        try:
            xobjects = resources.get_object()["/XObject"]
        except (KeyError, TypeError, AttributeError):
            continue
        marked = _marked(xobjects)
        if not marked:
            continue
        for name in dict.fromkeys(_drawn_names(page_ref.get_object(), marked)):
            if name not in marked:
                continue
            reference, form = marked[name]
            marker = form[MARKER]
            seal_id = form.get(SEAL_ID_KEY)
            found.append(
                Slice(
                    page_index=page_ix,
                    field_name=str(marker.get("/Field", "")),
                    index=int(marker.get("/Index", 0)),
                    count=int(marker.get("/Count", 0)),
                    seal_id=str(seal_id) if seal_id is not None else None,
                    reference=reference,
                )
            )
    return found
