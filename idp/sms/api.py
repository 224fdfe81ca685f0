"""The SMS sender interface: how the identity provider hands a text message to whatever
delivers it. Backends sit next to this file: `http.py` (a small JSON protocol that operators put
in front of their provider) and `dev.py` (logs and keeps messages for development).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

__all__ = ["SmsSender"]


class SmsSender(Protocol):
    """Delivers one templated text message to one mobile number."""

    def send(self, phone: str, template: str, params: Mapping[str, str]) -> None:
        """Send `template` filled with `params` to `phone` (11 digits, already normalised).

        Returns once the message is accepted for delivery; raises
        `idp.sms.errors.SmsUnavailable` if it was not. `params` may hold a verification code:
        implementations must not log it.
        """
        ...
