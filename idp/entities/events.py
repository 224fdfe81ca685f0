"""Market-entity and seal events pushed to subscribed trading platforms (RFC 8417 SETs, RFC 8935).

`idp.entities.service` publishes `entity.registered` and `entity.changed`, the seal service
`seal.made` and `seal.changed`, each in the same transaction as the change it reports. Both
families (`event_families`: topics, scope, payload checks, SET body) share one pipeline, so a
platform has one endpoint (its `entity_events_uri`) and one queue in outbox order. Delivery runs
in two outbox stages:

1. **Fan-out** (consumer `idp.entity_events.fanout`): for each source event, one transaction
   publishes a per-subscriber delivery event (topic `idp.entity_event:<client_id>`) for every
   client that has an `entity_events_uri` and the family's scope (`entities:read` for entity
   events, `seal:read` for seal events). Only the family's non-personal fields are copied, with a
   `jti` fixed here, so every retry of the same delivery carries the same `jti`. A malformed
   source event ends as a fan-out dead letter; the events behind it flow on.
2. **Delivery** (one consumer per subscriber, `idp.entity_events:<client_id>`): checks the
   family's scope again (withdrawn since the fan-out: dropped), signs a Security
   Event Token with the provider's current RS256 key and POSTs it (`application/secevent+jwt`, no
   redirects, a timeout). A non-2xx answer or a network error parks the delivery in
   `outbox_retry` with exponential backoff; after `max_attempts` it is a dead letter.

Each subscriber has its own cursor, retry rows and lease, and its passes run in a thread of their
own, so a slow, failing or unreachable platform only ever delays (or retries) its own deliveries.
Everything is in the database: a restart resumes where the cursors stand; delivery is at least
once (a crash between a successful POST and the cursor's commit re-sends that SET with the same
`jti`). Receivers deduplicate by `jti` and drop events whose `version` is not newer than what they
have for that entity or seal (see docs/entity-events.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from joserfc import jwt
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from storage.outbox import Consumer, Event, OutboxConsumer, PassResult, dead_letters, publish

from ..background import BackgroundLoop
from ..models import Client
from ..tokens import TokenService
from .event_families import (
    ENTITY,
    FAMILIES,
    FAMILY_KEY,
    SEAL,
    SOURCE_TOPICS,
    EventFamily,
    family_of_delivery,
    family_of_topic,
)
from .event_families import MalformedEntityEvent as MalformedEntityEvent
from .event_families import MalformedEvent as MalformedEvent
from .event_families import MalformedSealEvent as MalformedSealEvent

SCOPE = ENTITY.scope
"""The entity family's scope (`SEAL.scope` is the seal family's)."""
FANOUT_CONSUMER = "idp.entity_events.fanout"
DELIVERY_TOPIC_PREFIX = "idp.entity_event:"
DELIVERY_CONSUMER_PREFIX = "idp.entity_events:"
EVENT_TYPE_PREFIX = ENTITY.event_type_prefix
"""Entity `events` keys: `<prefix>registered` and `<prefix>changed`."""
SEAL_EVENT_TYPE_PREFIX = SEAL.event_type_prefix
"""Seal `events` keys: `<prefix>made` and `<prefix>changed`."""
CONTENT_TYPE = "application/secevent+jwt"
MAX_ATTEMPTS = 20
"""With `delivery_backoff`: about nine hours of retries before a delivery is a dead letter."""
FANOUT_MAX_ATTEMPTS = 50
MAX_BACKOFF = 3600.0
_ERR = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """The platform did not accept the SET (the text names no secret: no query, no userinfo)."""


def delivery_backoff(attempt: int) -> float:
    """Seconds before retry number `attempt`: 2, 4, 8, ... capped at an hour."""
    return min(2.0 ** min(attempt, 32), MAX_BACKOFF)


def delivery_topic(client_id: str) -> str:
    return DELIVERY_TOPIC_PREFIX + client_id


def delivery_consumer(client_id: str) -> str:
    return DELIVERY_CONSUMER_PREFIX + client_id


def is_subscribed(client: Client, family: EventFamily | None = None) -> bool:
    """Whether `client` receives `family`'s events (None: those of any family)."""
    families = FAMILIES if family is None else (family,)
    return bool(client.entity_events_uri) and any(f.allows(client.scopes) for f in families)


def subscribers(db: Session, family: EventFamily | None = None) -> list[Client]:
    """Clients that receive `family`'s events (None: any family's): an `entity_events_uri` and
    the family's scope."""
    rows = db.scalars(
        select(Client).where(Client.entity_events_uri.is_not(None)).order_by(Client.client_id)
    ).all()
    return [row for row in rows if is_subscribed(row, family)]


def redact(uri: str) -> str:
    """`uri` without userinfo, query and fragment: what logs and dead letters may show."""
    try:
        parts = urlsplit(uri)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError:
        return "<unparseable URI>"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _jti(issuer: str, event: Event, client_id: str) -> str:
    """Unique per (source event, subscriber); the same for every retry and for a repeated fan-out
    of the same event. `created_at` keeps ids apart should outbox ids ever be reused (restore)."""
    seed = f"{issuer}\n{event.id}\n{event.created_at!r}\n{client_id}".encode()
    return hashlib.sha256(seed).hexdigest()[:32]


@dataclass(frozen=True)
class DeadLetter:
    client_id: str | None
    """The subscriber; None for a source (entity or seal) event the fan-out gave up on."""
    event: Event
    error: str


@dataclass(frozen=True)
class DeliveryPass:
    """What one `run_once` did: the fan-out stage, and each subscriber's delivery pass."""

    fanout: PassResult
    deliveries: dict[str, PassResult] = field(default_factory=dict)

    @property
    def delivered(self) -> int:
        return sum(r.delivered for r in self.deliveries.values())

    @property
    def failed(self) -> int:
        return sum(r.failed for r in self.deliveries.values())

    @property
    def dead(self) -> int:
        return sum(r.dead for r in self.deliveries.values())


class EntityEventDelivery(BackgroundLoop):
    """Fans entity and seal events out to subscribers and pushes them as signed SETs.

    `run_once` runs one pass of everything and waits for it (tests, scripts); `start` runs passes
    in a daemon thread that never waits for a subscriber's pass, so a slow platform cannot hold
    up the others.
    """

    def __init__(
        self,
        engine: Engine,
        tokens: TokenService,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: Callable[[int], float] = delivery_backoff,
        timeout: float = 5.0,
        fanout_max_attempts: int = FANOUT_MAX_ATTEMPTS,
    ) -> None:
        super().__init__("entity-events")
        self.engine = engine
        self.tokens = tokens
        self.timeout = timeout
        self._max_attempts = max_attempts
        self._backoff = backoff
        self.fanout = Consumer(
            engine,
            FANOUT_CONSUMER,
            SOURCE_TOPICS,
            self._fan_out,
            max_attempts=fanout_max_attempts,
            backoff=delivery_backoff,
        )
        self._consumers: dict[str, Consumer] = {}
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    # -- stage 1: fan-out --------------------------------------------------------------------

    def _fan_out(self, event: Event) -> None:
        family = family_of_topic(event.topic)
        summary = family.summarize(event)
        issuer = self.tokens.policy.issuer
        with Session(self.engine) as db, db.begin():
            for client in subscribers(db, family):
                publish(
                    db,
                    delivery_topic(client.client_id),
                    {
                        **summary,
                        FAMILY_KEY: family.name,
                        "client_id": client.client_id,
                        "jti": _jti(issuer, event, client.client_id),
                        "toe": int(event.created_at),
                        "source": event.id,
                    },
                )

    # -- stage 2: delivery -------------------------------------------------------------------

    def consumer(self, client_id: str) -> Consumer:
        with self._lock:
            consumer = self._consumers.get(client_id)
            if consumer is None:
                consumer = Consumer(
                    self.engine,
                    delivery_consumer(client_id),
                    [delivery_topic(client_id)],
                    self._deliver,
                    max_attempts=self._max_attempts,
                    backoff=self._backoff,
                )
                self._consumers[client_id] = consumer
            return consumer

    def security_event_token(self, delivery: dict[str, Any]) -> str:
        """The SET for one delivery, signed now with the current RS256 key."""
        family = family_of_delivery(delivery)
        key = self.tokens.keys.signing_key("RS256")
        claims: dict[str, Any] = {
            "iss": self.tokens.policy.issuer,
            "aud": delivery["client_id"],
            "iat": int(time.time()),
            "jti": delivery["jti"],
            "toe": delivery["toe"],
            "events": {family.event_type(delivery): family.body(delivery)},
        }
        header = {"alg": "RS256", "typ": "secevent+jwt", "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=["RS256"])

    def _deliver(self, event: Event) -> None:
        delivery = event.payload
        client_id = delivery["client_id"]
        family = family_of_delivery(delivery)
        with Session(self.engine) as db:
            client = db.get(Client, client_id)
            subscribed = client is not None and is_subscribed(client, family)
            uri = client.entity_events_uri if client is not None and subscribed else None
        if uri is None:  # unsubscribed, scope withdrawn or deleted since the fan-out
            log.info(
                "%s event %s for %s dropped: no longer subscribed", family.name, event.id, client_id
            )
            return
        token = self.security_event_token(delivery)
        where = redact(uri)
        try:
            response = requests.post(
                uri,
                data=token.encode("ascii"),
                headers={"Content-Type": CONTENT_TYPE, "Accept": "application/json"},
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,  # the body is read only on failure, and only a little of it
            )
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{type(exc).__name__} posting to {where}") from None
        with response:
            status = response.status_code
            if 200 <= status < 300:
                return
            err = _error_code(response)
        detail = f" ({err})" if err else ""
        raise DeliveryFailed(f"HTTP {status}{detail} from {where}")

    # -- running -----------------------------------------------------------------------------

    def subscriber_ids(self) -> list[str]:
        with Session(self.engine) as db:
            return [client.client_id for client in subscribers(db)]

    def run_once(self, now: float | None = None) -> DeliveryPass:
        """Fan out new source events, then run every subscriber's pass (in parallel) and wait.

        `now` replaces the clock for leases and backoff (tests, replays). A subscriber whose pass
        is already running in this process is skipped.
        """
        fanout = self.fanout.run_once(now)
        results: dict[str, PassResult] = {}
        errors: list[BaseException] = []
        threads = self._start_passes(self.subscriber_ids(), now, results, errors)
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return DeliveryPass(fanout=fanout, deliveries=results)

    def _start_passes(
        self,
        client_ids: Iterable[str],
        now: float | None,
        results: dict[str, PassResult] | None = None,
        errors: list[BaseException] | None = None,
    ) -> list[threading.Thread]:
        threads = []
        for client_id in client_ids:
            with self._lock:
                if client_id in self._busy:
                    continue
                self._busy.add(client_id)
            consumer = self.consumer(client_id)

            def one(client_id: str = client_id, consumer: Consumer = consumer) -> None:
                try:
                    result = consumer.run_once(now)
                    if results is not None:
                        results[client_id] = result
                except Exception as exc:
                    if errors is None:  # the background loop: logged, retried next tick
                        log.exception("entity event pass for %s failed", client_id)
                    else:
                        errors.append(exc)
                finally:
                    with self._lock:
                        self._busy.discard(client_id)

            thread = threading.Thread(target=one, name=f"entity-events:{client_id}", daemon=True)
            thread.start()
            threads.append(thread)
        return threads

    def tick(self) -> None:
        """One background step: fan out, then start passes for idle subscribers; never waits."""
        self.fanout.run_once()
        self._start_passes(self.subscriber_ids(), None)

    # -- operators ---------------------------------------------------------------------------

    def dead_letters(self) -> list[DeadLetter]:
        """Deliveries (and source events the fan-out) gave up on, with their last error."""
        with Session(self.engine) as db:
            names = db.scalars(
                select(OutboxConsumer.name).where(
                    OutboxConsumer.name.startswith(DELIVERY_CONSUMER_PREFIX, autoescape=True)
                )
            ).all()
        letters = [
            DeadLetter(None, event, error)
            for event, error in dead_letters(self.engine, FANOUT_CONSUMER)
        ]
        for name in sorted(names):
            client_id = name[len(DELIVERY_CONSUMER_PREFIX) :]
            letters += [
                DeadLetter(client_id, event, error)
                for event, error in dead_letters(self.engine, name)
            ]
        return letters


def _error_code(response: requests.Response) -> str | None:
    """The `err` of an RFC 8935 error answer, if it is a short plain code."""
    try:
        raw = response.raw.read(4096, decode_content=True)
        body = json.loads(raw)
    except Exception:  # any unreadable body: the status code says enough
        return None
    err = body.get("err") if isinstance(body, dict) else None
    return err if isinstance(err, str) and _ERR.match(err) else None
