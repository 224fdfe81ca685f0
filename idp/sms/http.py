"""An SMS sender that POSTs each message to an HTTP gateway.

Every SMS provider (Aliyun, Tencent Cloud, China Mobile's cloud MAS, an in-house platform)
has its own API, signature scheme and template ids. Rather than one backend per provider, Huren
speaks one small protocol and operators run an adapter in front of their provider (see
`docs/sms-gateway.md`):

    POST <url>
    Content-Type: application/json
    Authorization: Bearer <token>          (only when a token is configured)

    {"phone": "13812345678", "template": "register", "params": {"code": "042917", "minutes": "5"}}

`phone` is 11 digits; `template` is a name the adapter maps to the provider's template id;
`params` are string values the template refers to. Any 2xx status means the message was accepted
for delivery (the body is ignored). Anything else (another status, a connection error, no answer
within `timeout` seconds) means it was not, and `send` raises `SmsUnavailable`. Redirects are not
followed, so the token never travels anywhere but `url`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import urlsplit

import requests

from cert_interop.identifiers import mask_phone
from idp.sms.errors import SmsUnavailable

__all__ = ["HttpSmsGateway"]

log = logging.getLogger(__name__)


class HttpSmsGateway:
    """`SmsSender` over the JSON protocol above; the bearer token and params are never logged."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("SMS gateway URL must be an http:// or https:// URL")
        if not timeout > 0:
            raise ValueError("SMS gateway timeout must be a positive number of seconds")
        self.url = url
        self.timeout = timeout
        self._token = token
        self._session = session or requests.Session()
        # for messages: the URL may carry credentials in its userinfo or query string
        self._where = f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"

    def __repr__(self) -> str:
        return f"HttpSmsGateway({self._where!r})"

    def send(self, phone: str, template: str, params: Mapping[str, str]) -> None:
        headers = {"Accept": "application/json"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        body = {"phone": phone, "template": template, "params": dict(params)}
        try:
            response = self._session.post(
                self.url, json=body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
        except requests.Timeout:
            log.warning("SMS gateway %s timed out (to %s)", self._where, mask_phone(phone))
            raise SmsUnavailable(f"SMS gateway {self._where} did not answer in time") from None
        except requests.RequestException as exc:
            # the exception text can contain the full URL; keep only its type
            log.warning(
                "SMS gateway %s unreachable: %s (to %s)",
                self._where,
                type(exc).__name__,
                mask_phone(phone),
            )
            raise SmsUnavailable(f"SMS gateway {self._where} is unreachable") from None
        status = response.status_code
        response.close()
        if not 200 <= status < 300:
            masked = mask_phone(phone)
            log.warning("SMS gateway %s answered %d (to %s)", self._where, status, masked)
            raise SmsUnavailable(f"SMS gateway {self._where} refused the message (HTTP {status})")
        log.info("SMS sent to %s: template=%s", mask_phone(phone), template)
