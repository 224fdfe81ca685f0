"""Writing events into the outbox and reading them back as `Event`s.

An event is added to the caller's session, so it commits or rolls back together with the change
it reports: no event without its change, no change without its event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, Row, select
from sqlalchemy.orm import Session

from storage.outbox.models import OutboxEvent, outbox_event, outbox_retry

MAX_TOPIC_LENGTH = 100


@dataclass(frozen=True)
class Event:
    """An outbox event as a consumer's handler receives it."""

    id: int
    topic: str
    payload: dict[str, Any]
    created_at: float


def publish(session: Session, topic: str, payload: Mapping[str, Any]) -> None:
    """Add an event to `session`; it becomes visible to consumers when the caller commits.

    The payload must be JSON-serializable; it is encoded now, so a bad payload fails here and
    not later in a consumer.
    """
    if not topic or len(topic) > MAX_TOPIC_LENGTH:
        raise ValueError(f"outbox topic must be 1 to {MAX_TOPIC_LENGTH} characters: {topic!r}")
    encoded = json.dumps(dict(payload), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    session.add(OutboxEvent(topic=topic, payload=encoded, created_at=time.time()))


def dead_letters(engine: Engine, consumer: str) -> list[tuple[Event, str]]:
    """Events `consumer` gave up on, oldest first, each with the last error it saw."""
    e, r = outbox_event, outbox_retry
    stmt = (
        select(e.c.id, e.c.topic, e.c.payload, e.c.created_at, r.c.last_error)
        .join(r, r.c.event_id == e.c.id)
        .where(r.c.consumer == consumer, r.c.dead.is_(True))
        .order_by(e.c.id)
    )
    with engine.connect() as conn:
        return [(event_from_row(row), row.last_error) for row in conn.execute(stmt)]


def event_from_row(row: Row[*tuple[Any, ...]]) -> Event:
    """Decode a row carrying `id`, `topic`, `payload` and `created_at` columns."""
    return Event(
        id=int(row.id),
        topic=row.topic,
        payload=json.loads(row.payload),
        created_at=float(row.created_at),
    )
