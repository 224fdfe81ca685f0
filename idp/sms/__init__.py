"""SMS verification for registration (§6.3.1): the sender interface, its backends, and codes.

`SmsCodes` issues and checks codes; it sends through any `SmsSender`: `HttpSmsGateway` in
production, `DevSmsSender` on a laptop.
"""

from __future__ import annotations

from idp.sms.api import SmsSender
from idp.sms.codes import SentCode, SmsCodes
from idp.sms.dev import DevMessage, DevSmsSender
from idp.sms.errors import (
    InvalidPhone,
    SmsError,
    SmsRetryLater,
    SmsThrottled,
    SmsTooSoon,
    SmsUnavailable,
)
from idp.sms.http import HttpSmsGateway

__all__ = [
    "DevMessage",
    "DevSmsSender",
    "HttpSmsGateway",
    "InvalidPhone",
    "SentCode",
    "SmsCodes",
    "SmsError",
    "SmsRetryLater",
    "SmsSender",
    "SmsThrottled",
    "SmsTooSoon",
    "SmsUnavailable",
]
