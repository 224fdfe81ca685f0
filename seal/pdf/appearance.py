"""How the seal looks: its picture as one image XObject, and the signature widget's appearance.

The picture is drawn with the ``Multiply`` blend mode: a red seal over black text darkens the
text instead of hiding it, and the white background of a JPEG seal disappears, as ink on paper
does. The widget uses pyhanko's ``StaticStampStyle`` with the picture as its background, so the
appearance stream is built the way pyhanko builds every stamp.
"""

from __future__ import annotations

from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.content import ResourceType
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import StaticStampStyle

from seal.pdf.pdfobjects import pdf_dict
from seal.pdf.picture import SealPicture

__all__ = ["GS_NAME", "SealImage", "multiply_state", "seal_style"]

GS_NAME = "/HurenSealGS"


def multiply_state() -> generic.DictionaryObject:
    """An ExtGState that blends with ``Multiply`` (the seal inks the page rather than covers it)."""
    return pdf_dict({"/Type": pdf_name("/ExtGState"), "/BM": pdf_name("/Multiply")})


class SealImage(PdfImage):
    """The seal picture, written once per document and drawn with the Multiply blend mode."""

    def __init__(self, picture: SealPicture, writer: BasePdfFileWriter) -> None:
        super().__init__(picture.image, writer=writer, name="HurenSeal")

    def render(self) -> bytes:
        self.set_resource(ResourceType.EXT_G_STATE, pdf_name(GS_NAME), multiply_state())
        return b"q " + GS_NAME.encode("ascii") + b" gs " + super().render() + b" Q"


def seal_style(image: SealImage) -> StaticStampStyle:
    """A widget appearance that is the picture and nothing else (no border, no text)."""
    return StaticStampStyle(
        background=image,
        border_width=0,
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(0, 0, 0, 0),
            inner_content_scaling=layout.InnerScaling.STRETCH_TO_FIT,
        ),
    )
