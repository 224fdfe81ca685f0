"""Back-channel logout delivery (OpenID Connect Back-Channel Logout 1.0).

Ending a session publishes one outbox event per relying party in the same transaction as the
audit row; a named outbox consumer POSTs the logout token and retries with backoff until the RP
answers 2xx, so a logout is never lost to a crash or a slow RP.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import requests
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from storage.outbox import Consumer, Event, PassResult, publish

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


class BackchannelDelivery:
    def __init__(
        self, engine: Engine, tokens: TokenService, max_attempts: int, timeout: float = 5.0
    ) -> None:
        self.tokens = tokens
        self.timeout = timeout
        self.consumer = Consumer(
            engine, CONSUMER, [TOPIC], self._deliver, max_attempts=max_attempts, backoff=_backoff
        )
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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

    def kick(self) -> None:
        self._wake.set()

    def start(self, interval: float = 2.0) -> None:
        """Run passes in a daemon thread; the outbox lease keeps workers from overlapping."""
        if self._thread is not None:
            return

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.run_once()
                except Exception:  # a pass must never kill the worker; it is retried next tick
                    log.exception("back-channel logout pass failed")
                self._wake.wait(interval)
                self._wake.clear()

        self._thread = threading.Thread(target=loop, name="backchannel-logout", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
