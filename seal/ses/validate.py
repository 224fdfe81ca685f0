"""What a seal to be made must satisfy before anything is signed.

Each refusal names the field in English and Chinese (``InvalidSealInput``); picture problems
raise the picture errors of :mod:`.pictures`. The limits are generous: they stop values the
structure cannot carry or that contradict themselves, not policy (that is ``seal.records``').
"""

from __future__ import annotations

import re
from typing import Final

from cert_interop.errors import CertInteropError
from cert_interop.x509 import parse_certificate

from ..errors import InvalidSealInput
from .model import SealInfo
from .pictures import check_picture

MAX_NAME: Final = 200
MAX_ID: Final = 128
MAX_SIZE_MM: Final = 10_000
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
_PRINTABLE_STRING = re.compile(r"[A-Za-z0-9 '()+,\-./:=?]+")


def _refuse(message: str, zh: str) -> InvalidSealInput:
    return InvalidSealInput(message, zh=zh)


def check_seal_info(info: SealInfo) -> None:
    """Refuse what the structure cannot carry or what would contradict itself."""
    for label, zh, value in (("seal id", "印章编码", info.seal_id), ("vid", "厂商标识", info.vid)):
        if not _PRINTABLE_ASCII.fullmatch(value) or len(value) > MAX_ID:
            raise _refuse(
                f"the {label} must be 1 to {MAX_ID} printable ASCII characters",
                f"{zh}须为 1 到 {MAX_ID} 个可打印 ASCII 字符",
            )
    if not info.name.strip() or len(info.name) > MAX_NAME:
        raise _refuse(f"the seal name must be 1 to {MAX_NAME} characters", "印章名称长度不正确")
    if isinstance(info.seal_type, bool) or not 0 <= info.seal_type < 1 << 31:
        raise _refuse("the seal type must be a non-negative 32-bit integer", "印章类型不正确")
    _check_dates(info)
    picture = info.picture
    if check_picture(picture.type, picture.data) != picture.type:
        raise _refuse("give the picture type in canonical form (png, jpg, …)", "印章图片类型不正确")
    for size in (picture.width_mm, picture.height_mm):
        if isinstance(size, bool) or not 1 <= size <= MAX_SIZE_MM:
            raise _refuse(f"picture sizes are 1 to {MAX_SIZE_MM} mm", "印章图片尺寸不正确")
    _check_holders(info)


def _check_dates(info: SealInfo) -> None:
    moments = (info.created, info.valid_start, info.valid_end)
    if any(m.tzinfo is None or m.utcoffset() is None for m in moments):
        raise _refuse("seal dates must be timezone-aware", "印章日期须带时区")
    if not info.valid_start < info.valid_end:
        raise _refuse(
            "the seal's validity must end after it starts", "印章有效期终止日期须晚于起始日期"
        )


def _check_holders(info: SealInfo) -> None:
    if bool(info.certificates) == bool(info.cert_digests):
        raise _refuse(
            "name the holder by certificates or by certificate digests (exactly one of them)",
            "须以证书或证书杂凑值之一列出印章持有者证书",
        )
    for der in info.certificates:
        try:
            parse_certificate(der)
        except CertInteropError as exc:
            raise _refuse(
                f"a holder certificate cannot be read: {exc}", "持有者证书无法解析"
            ) from exc
    for digest in info.cert_digests:
        if not _PRINTABLE_STRING.fullmatch(digest.algorithm) or not digest.value:
            raise _refuse("a certificate digest needs a type and a value", "证书杂凑值不正确")
