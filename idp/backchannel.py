"""Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0).

Ending a session publishes one outbox event per relying party in the same transaction as the
audit row; a named outbox consumer POSTs the logout token and retries with backoff until the RP
answers 2xx, so a logout is never lost to a crash or a slow RP.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from storage.outbox import Consumer, Event, PassResult, publish

from .background import BackgroundLoop
from .tokens import TokenService

TOPIC = "idp.backchannel_logout"
CONSUMER = "idp.backchannel_logout"
log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    pass


def enqueue(db: Session, *, client_id: str, uri: str, sub: str, sid: str | None) -> None:
    publish(db, TOPIC, {"client_id": client_id, "uri": uri, "sub": sub, "sid": sid})


def _backoff(attempt: int) -> float:
    return float(min(2 ** (attempt - 1), 600))


class BackchannelDelivery(BackgroundLoop):
    def __init__(
        self, engine: Engine, tokens: TokenService, max_attempts: int, timeout: float = 5.0
    ) -> None:
        super().__init__("backchannel-logout")
        self.tokens = tokens
        self.timeout = timeout
        self.consumer = Consumer(
            engine, CONSUMER, [TOPIC], self._deliver, max_attempts=max_attempts, backoff=_backoff
        )

    def _deliver(self, event: Event) -> None:
        payload: dict[str, Any] = event.payload
        token = self.tokens.issue_logout_token(
            client_id=payload["client_id"], sub=payload["sub"], sid=payload.get("sid")
        )
        try:
            response = requests.post(
                payload["uri"],
                data={"logout_token": token},
                timeout=self.timeout,
                allow_redirects=False,
                headers={"Cache-Control": "no-store"},
            )
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{type(exc).__name__} posting to {payload['uri']}") from None
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"HTTP {response.status_code} from {payload['uri']}")

    def run_once(self, now: float | None = None) -> PassResult:
        return self.consumer.run_once(now)

    def tick(self) -> None:
        self.run_once()
