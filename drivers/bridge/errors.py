"""Errors of the local bridge: one HTTP status, a stable ``error`` code and a Chinese and an
English message each, so a page (and ``huren-bridge.js``) can show them as they are.

Token errors (:mod:`drivers.errors`) are turned into bridge errors by :func:`from_token_error`;
no message ever carries a PIN.
"""

from __future__ import annotations

from typing import Any

from drivers.errors import (
    DecryptionFailed,
    InvalidTokenUri,
    KeyNotFound,
    ModuleLoadFailed,
    PinLocked,
    PinNotInitialised,
    PinRequired,
    TokenError,
    TokenFileInvalid,
    TokenNotFound,
    TokenRemoved,
    UnsupportedMechanism,
    WrongPin,
)

__all__ = ["BridgeError", "from_token_error"]


class BridgeError(Exception):
    """An answer other than success: ``status``, ``code``, messages, and optional extra fields
    (``retries_left`` for a wrong PIN)."""

    def __init__(
        self,
        status: int,
        code: str,
        message_en: str,
        message_zh: str,
        **extra: Any,
    ) -> None:
        super().__init__(message_en)
        self.status = status
        self.code = code
        self.message_en = message_en
        self.message_zh = message_zh
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "error": self.code,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            **self.extra,
        }


def bad_request(message_en: str, message_zh: str) -> BridgeError:
    return BridgeError(400, "bad_request", message_en, message_zh)


# (type, HTTP status, code), most specific first
_TOKEN_ERRORS: tuple[tuple[type[TokenError], int, str], ...] = (
    (WrongPin, 403, "wrong_pin"),
    (PinNotInitialised, 423, "pin_not_initialised"),
    (PinLocked, 423, "pin_locked"),
    (PinRequired, 409, "pin_required"),
    (TokenRemoved, 409, "token_removed"),
    (TokenNotFound, 409, "token_not_found"),
    (KeyNotFound, 404, "key_not_found"),
    (UnsupportedMechanism, 400, "unsupported_mechanism"),
    (DecryptionFailed, 422, "decryption_failed"),
    (ModuleLoadFailed, 503, "module_load_failed"),
    (TokenFileInvalid, 500, "token_file_invalid"),
    (InvalidTokenUri, 500, "invalid_token_uri"),
)


def from_token_error(exc: TokenError) -> BridgeError:
    """The bridge answer for a driver error (its own bilingual messages are kept)."""
    for kind, status, code in _TOKEN_ERRORS:
        if isinstance(exc, kind):
            extra: dict[str, Any] = {}
            if isinstance(exc, WrongPin):
                extra = {"retries_left": exc.retries_left, "count_low": exc.count_low}
            return BridgeError(status, code, exc.message, exc.message_zh, **extra)
    return BridgeError(500, "token_error", exc.message, exc.message_zh)
