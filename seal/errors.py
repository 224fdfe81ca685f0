"""Typed errors of ``seal``: every failure of the package is a ``SealError`` with a stable code.

Blueprints and the CLI turn `code` into an HTTP `error` / exit status and pick the Chinese or
English message; the library never formats user-facing pages itself.
"""

from __future__ import annotations


class SealError(Exception):
    """Base class of every error raised by ``seal``; `code` is stable, `message_zh` is for people."""

    code = "seal_error"
    message_zh = "电子印章操作失败"

    def __init__(self, message: str, *, zh: str | None = None) -> None:
        super().__init__(message)
        if zh is not None:
            self.message_zh = zh
