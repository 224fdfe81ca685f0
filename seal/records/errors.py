"""Refusals of the seal records service: each has a stable code and a Chinese message."""

from __future__ import annotations

from ..errors import SealError


class SealRefused(SealError):
    """A request about a seal that cannot be carried out; `code` says why, `field` which input."""

    def __init__(self, code: str, message: str, zh: str, *, field: str | None = None) -> None:
        super().__init__(message, zh=zh)
        self.code = code
        self.field = field


class SealNotFound(SealError):
    code = "seal_not_found"
    message_zh = "没有这枚电子印章"


class StaleSeal(SealError):
    """Someone else changed the seal since it was read (optimistic locking)."""

    code = "seal_changed"
    message_zh = "电子印章已被他人修改，请刷新后重试"
