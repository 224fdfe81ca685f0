"""Typed errors of SMS verification, so the registration pages can answer each case in both
languages (and say how long to wait) without knowing which gateway or store is behind them."""

from __future__ import annotations

import math

from idp.errors import IdpError

__all__ = [
    "InvalidPhone",
    "SmsError",
    "SmsRetryLater",
    "SmsThrottled",
    "SmsTooSoon",
    "SmsUnavailable",
]


class SmsError(IdpError):
    """Base class of every error raised by `idp.sms`."""

    code = "sms_error"
    zh = "短信验证失败"


class SmsUnavailable(SmsError):
    """The gateway did not accept the message (down, timed out, refused): nothing was sent."""

    code = "sms_unavailable"
    zh = "短信服务暂不可用，请稍后再试"


class InvalidPhone(SmsError):
    """The number is not an 11-digit mainland mobile number."""

    code = "invalid_phone"
    zh = "手机号码格式不正确"


class SmsRetryLater(SmsError):
    """A refusal that lifts by itself; `retry_after` is whole seconds to wait."""

    def __init__(self, message: str, retry_after: float, *, zh: str | None = None) -> None:
        super().__init__(message, zh=zh)
        self.retry_after = max(1, math.ceil(retry_after))


class SmsThrottled(SmsRetryLater):
    """Too many codes sent to this number, or from this client IP, in the current window."""

    code = "sms_throttled"
    zh = "验证码发送过于频繁，请稍后再试"


class SmsTooSoon(SmsRetryLater):
    """A code was sent to this number for this purpose less than `resend_after` seconds ago."""

    code = "sms_too_soon"
    zh = "验证码已发送，请稍候再重新获取"
