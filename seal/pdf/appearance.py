"""How the seal looks: its picture as one XObject, and the signature widget's appearance.

The picture is an image XObject for PNG/JPEG and a form XObject (vector graphics) for SVG; both
occupy the unit square, so the widget and the paging slices draw either kind with the same
``w 0 0 h x y cm /Name Do``. It is drawn with the ``Multiply`` blend mode: a red seal over black
text darkens the text instead of hiding it, and the white background of a JPEG seal disappears,
as ink on paper does. The widget uses pyhanko's ``StaticStampStyle`` with the picture as its
background, so the appearance stream is built the way pyhanko builds every stamp.
"""

from __future__ import annotations

from typing import Any, cast

from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import PdfContent, ResourceType
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.images import pil_image
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import StaticStampStyle

from seal.pdf.pdfobjects import pdf_dict
from seal.pdf.picture import SealPicture
from seal.pdf.svg import import_svg_form

__all__ = ["GS_NAME", "SVG_BOX", "XOBJECT_NAME", "SealImage", "multiply_state", "seal_style"]

GS_NAME = "/HurenSealGS"
XOBJECT_NAME = "/ImgHurenSeal"


def multiply_state() -> generic.DictionaryObject:
    """An ExtGState that blends with ``Multiply`` (the seal inks the page rather than covers it)."""
    return pdf_dict({"/Type": pdf_name("/ExtGState"), "/BM": pdf_name("/Multiply")})


SVG_BOX = 10_000
"""Units on an SVG's long side: its width and height in points are not whole numbers."""


def _natural_box(picture: SealPicture) -> layout.BoxConstraints:
    if picture.format != "svg":
        return layout.BoxConstraints(picture.width, picture.height)
    if picture.aspect <= 1:
        return layout.BoxConstraints(SVG_BOX, max(1, round(SVG_BOX * picture.aspect)))
    return layout.BoxConstraints(max(1, round(SVG_BOX / picture.aspect)), SVG_BOX)


class SealImage(PdfContent):
    """The seal picture, written once per document and drawn with the Multiply blend mode.

    Its box has the picture's proportions (pyhanko keeps whole units: a bitmap's pixels, an
    SVG's long side as :data:`SVG_BOX` units); the widget's layout scales it to the seal's
    rectangle, whose aspect is the picture's."""

    def __init__(self, picture: SealPicture, writer: BasePdfFileWriter) -> None:
        super().__init__(writer=writer, box=_natural_box(picture))
        self.picture = picture
        self._ref: generic.IndirectObject | None = None

    @property
    def image_ref(self) -> generic.IndirectObject:
        """The picture's XObject in the current writer (unit square), written on first use."""
        writer = self._ensure_writer
        ref = self._ref
        if ref is None or cast(Any, ref).get_pdf_handler() is not writer:
            pic = self.picture
            if pic.pdf is not None:
                ref = import_svg_form(writer, pic.pdf)
            else:
                assert pic.image is not None
                ref = pil_image(pic.image, writer)
            self._ref = ref
        return ref

    def render(self) -> bytes:
        self.set_resource(ResourceType.XOBJECT, pdf_name(XOBJECT_NAME), self.image_ref)
        self.set_resource(ResourceType.EXT_G_STATE, pdf_name(GS_NAME), multiply_state())
        draw = b"%g 0 0 %g 0 0 cm %s Do" % (
            self.box.width,
            self.box.height,
            XOBJECT_NAME.encode("ascii"),
        )
        return b"q " + GS_NAME.encode("ascii") + b" gs q " + draw + b" Q Q"


def seal_style(image: SealImage) -> StaticStampStyle:
    """A widget appearance that is the picture and nothing else (no border, no text)."""
    return StaticStampStyle(
        background=image,
        border_width=0,
        background_opacity=1.0,
        # stretched to the box, the picture fills it: aligning at the start is the same place,
        # and spares pyhanko's "too wide" warning when scaling is a float's last bit over
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins(0, 0, 0, 0),
            inner_content_scaling=layout.InnerScaling.STRETCH_TO_FIT,
        ),
    )
