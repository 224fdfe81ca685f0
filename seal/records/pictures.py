"""Which picture formats a seal may carry, recognised by content rather than by file name.

GB/T 38540 names the picture's type in the seal (`SES_ESPictrueInfo.type`); a picture whose bytes
are not what the type says would be drawn wrongly (or not at all) by other vendors' readers.
"""

from __future__ import annotations

from ..ses.pictures import sniff
from .errors import SealRefused

MAX_PICTURE_BYTES = 512 * 1024

ACCEPTED = ("png", "jpg", "svg")
"""What new seals may carry (older seals read by `ses` may also hold GIF or BMP)."""


def sniff_picture(data: bytes) -> str:
    """``png``, ``jpg`` or ``svg``; a typed refusal for anything else or anything too big."""
    if not data:
        raise SealRefused(
            "invalid_picture", "the seal picture is empty", "印模图片为空", field="picture"
        )
    if len(data) > MAX_PICTURE_BYTES:
        raise SealRefused(
            "picture_too_large",
            f"the seal picture is over {MAX_PICTURE_BYTES // 1024} KiB",
            f"印模图片不能超过 {MAX_PICTURE_BYTES // 1024} KB",
            field="picture",
        )
    kind = sniff(data)
    if kind in ACCEPTED:
        return kind
    raise SealRefused(
        "invalid_picture",
        "the seal picture must be PNG, JPEG or SVG",
        "印模图片须为 PNG、JPEG 或 SVG 格式",
        field="picture",
    )
