"""Typed errors of ``seal``: every failure of the package is a ``SealError`` with a stable code.

Blueprints and the CLI turn `code` into an HTTP `error` / exit status and pick the Chinese or
English message; the library never formats user-facing pages itself.
"""

from __future__ import annotations


class SealError(Exception):
    """Base of every error raised by ``seal``; `code` is stable, `message_zh` is for people."""

    code = "seal_error"
    message_zh = "电子印章操作失败"

    def __init__(self, message: str, *, zh: str | None = None) -> None:
        super().__init__(message)
        if zh is not None:
            self.message_zh = zh


# --- seal records (GB/T 38540 / GM/T 0031 structures, seal.ses) -------------------------------


class MalformedSeal(SealError):
    """The bytes are not a seal we can read; subclasses say more precisely why."""

    code = "malformed_seal"
    message_zh = "电子印章数据格式错误"


class SealTooLarge(MalformedSeal):
    code = "seal_too_large"
    message_zh = "电子印章数据过大"


class UnsupportedSealVersion(MalformedSeal):
    """A well-formed seal of a version we do not read (e.g. the 2025 five-field layout)."""

    code = "unsupported_seal_version"
    message_zh = "不支持该版本的电子印章"


class SealPictureMismatch(MalformedSeal):
    """The picture's bytes are not what its declared type says (or are empty)."""

    code = "seal_picture_mismatch"
    message_zh = "印章图片内容与声明的图片类型不符"


class UnsupportedSealPicture(MalformedSeal):
    code = "unsupported_seal_picture"
    message_zh = "不支持该类型的印章图片"


class InvalidSealInput(SealError):
    """Making a seal was asked with values the structure cannot carry or that contradict."""

    code = "invalid_seal_input"
    message_zh = "制作电子印章的参数不正确"


class SealSignatureInvalid(SealError):
    code = "seal_signature_invalid"
    message_zh = "电子印章的制章者签名无效"


class SealExpired(SealError):
    code = "seal_expired"
    message_zh = "电子印章已过有效期"


class SealNotYetValid(SealError):
    code = "seal_not_yet_valid"
    message_zh = "电子印章尚未生效"
