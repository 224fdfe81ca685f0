"""Named consumers that follow the outbox at their own pace, at least once.

A pass holds a lease on the consumer's row so only one process runs a given consumer at a time;
each event's outcome (cursor advance, or a retry row when the handler failed) commits on its own,
so a crash loses nothing and redelivers at most the event that was in the handler. A failing
event is parked in `outbox_retry` and retried with backoff while the cursor moves on, so one bad
event never blocks the ones behind it.
"""

from __future__ import annotations

import logging
import time
import traceback
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, delete, false, func, or_, select, update
from sqlalchemy import exc as sa_exc

from storage.dialect import upsert
from storage.errors import DatabaseUnavailable
from storage.outbox.events import Event, event_from_row
from storage.outbox.models import outbox_consumer, outbox_event, outbox_retry

LEASE_SECONDS = 60.0
"""How long a pass may run without renewing; each handled event renews it."""

MAX_BACKOFF = 3600.0
MAX_ERROR_LENGTH = 4000

log = logging.getLogger(__name__)


def exponential_backoff(attempt: int) -> float:
    """Seconds to wait after the `attempt`-th failure: 2, 4, 8, ... capped at an hour."""
    return min(2.0 ** min(attempt, 32), MAX_BACKOFF)


@dataclass(frozen=True)
class PassResult:
    """What one pass did. `busy` means another runner held the lease, so nothing was done."""

    delivered: int = 0
    failed: int = 0
    dead: int = 0
    busy: bool = False


class _LeaseLost(Exception):
    """Another runner took the lease (ours ran out while a handler was busy)."""


@dataclass
class _Tally:
    delivered: int = 0
    failed: int = 0
    dead: int = 0

    def result(self) -> PassResult:
        return PassResult(self.delivered, self.failed, self.dead)


class Consumer:
    """Delivers events of `topics` to `handler`, resuming from the cursor stored under `name`.

    The handler must be idempotent: delivery is at least once. A handler exception counts as a
    failed attempt; after `max_attempts` failed attempts the event is marked dead (see
    `dead_letters`). A new consumer name starts from the first event in the outbox.
    """

    def __init__(
        self,
        engine: Engine,
        name: str,
        topics: Collection[str],
        handler: Callable[[Event], None],
        *,
        max_attempts: int = 10,
        backoff: Callable[[int], float] = exponential_backoff,
        batch: int = 100,
    ) -> None:
        if not name or len(name) > 100:
            raise ValueError(f"consumer name must be 1 to 100 characters: {name!r}")
        if isinstance(topics, str) or not topics:
            raise ValueError("topics must be a non-empty collection of topic names")
        if max_attempts < 1 or batch < 1:
            raise ValueError("max_attempts and batch must be at least 1")
        self._engine = engine
        self._name = name
        self._topics = sorted(set(topics))
        self._handler = handler
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._batch = batch
        self._owner = uuid.uuid4().hex

    @property
    def name(self) -> str:
        return self._name

    def run_once(self, now: float | None = None) -> PassResult:
        """One pass: new events, then due retries, up to `batch` of each.

        `now` (epoch seconds) replaces the clock for leases and backoff, for tests and replays.
        """

        def clock() -> float:
            return time.time() if now is None else now

        with _database_errors():
            cursor = self._acquire(clock())
            if cursor is None:
                return PassResult(busy=True)
            tally = _Tally()
            try:
                self._deliver_new(cursor, clock, tally)
                self._retry_due(clock, tally)
            except _LeaseLost:
                log.warning("outbox consumer %s lost its lease mid-pass", self._name)
                return tally.result()
            except BaseException:
                self._release(quietly=True)
                raise
            self._release()
            return tally.result()

    def _acquire(self, now: float) -> tuple[int, int] | None:
        c = outbox_consumer
        create = (
            upsert(self._engine, c)
            .values(name=self._name, position=0, position_txid=0, lease_until=0.0)
            .on_conflict_do_nothing(index_elements=[c.c.name])
        )
        take = (
            update(c)
            .where(c.c.name == self._name, c.c.lease_until < now)
            .values(lease_owner=self._owner, lease_until=now + LEASE_SECONDS)
            .returning(c.c.position_txid, c.c.position)
        )
        with self._engine.begin() as conn:
            conn.execute(create)
            row = conn.execute(take).first()
        return None if row is None else (int(row.position_txid), int(row.position))

    def _deliver_new(
        self, cursor: tuple[int, int], clock: Callable[[], float], tally: _Tally
    ) -> None:
        e = outbox_event
        txid, position = cursor
        stmt = select(e.c.id, e.c.topic, e.c.payload, e.c.created_at, e.c.txid).where(
            e.c.topic.in_(self._topics),
            or_(e.c.txid > txid, and_(e.c.txid == txid, e.c.id > position)),
        )
        if self._engine.dialect.name == "postgresql":
            # only events of transactions older than every running one: nothing can still
            # commit behind the cursor (see storage.outbox.models)
            stmt = stmt.where(e.c.txid < func.txid_snapshot_xmin(func.txid_current_snapshot()))
        stmt = stmt.order_by(e.c.txid, e.c.id).limit(self._batch)
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).all()
        r = outbox_retry
        for row in rows:
            error = self._call(row)
            now = clock()
            with self._engine.begin() as conn:
                self._renew(conn, now, position=(int(row.txid), int(row.id)))
                if error is None:
                    tally.delivered += 1
                    continue
                dead = self._max_attempts <= 1
                conn.execute(
                    upsert(self._engine, r)
                    .values(
                        consumer=self._name,
                        event_id=row.id,
                        attempts=1,
                        next_at=now + self._backoff(1),
                        last_error=error,
                        dead=dead,
                    )
                    .on_conflict_do_nothing(index_elements=[r.c.consumer, r.c.event_id])
                )
            if dead:
                tally.dead += 1
            else:
                tally.failed += 1

    def _retry_due(self, clock: Callable[[], float], tally: _Tally) -> None:
        e, r = outbox_event, outbox_retry
        stmt = (
            select(e.c.id, e.c.topic, e.c.payload, e.c.created_at, r.c.attempts)
            .join(r, r.c.event_id == e.c.id)
            .where(r.c.consumer == self._name, r.c.dead == false(), r.c.next_at <= clock())
            .order_by(r.c.next_at, r.c.event_id)
            .limit(self._batch)
        )
        with self._engine.connect() as conn:
            rows = conn.execute(stmt).all()
        for row in rows:
            error = self._call(row)
            now = clock()
            this = and_(r.c.consumer == self._name, r.c.event_id == row.id)
            attempts = int(row.attempts) + 1
            with self._engine.begin() as conn:
                self._renew(conn, now)
                if error is None:
                    conn.execute(delete(r).where(this))
                    tally.delivered += 1
                elif attempts >= self._max_attempts:
                    conn.execute(
                        update(r).where(this).values(attempts=attempts, last_error=error, dead=True)
                    )
                    tally.dead += 1
                else:
                    conn.execute(
                        update(r)
                        .where(this)
                        .values(
                            attempts=attempts,
                            last_error=error,
                            next_at=now + self._backoff(attempts),
                        )
                    )
                    tally.failed += 1

    def _call(self, row: Row[*tuple[Any, ...]]) -> str | None:
        """Run the handler; the error text if it (or decoding the payload) failed."""
        try:
            self._handler(event_from_row(row))
        except Exception as exc:
            error = "".join(traceback.format_exception_only(exc)).strip()[:MAX_ERROR_LENGTH]
            log.warning("outbox consumer %s: event %s failed: %s", self._name, row.id, error)
            return error
        return None

    def _renew(self, conn: Connection, now: float, position: tuple[int, int] | None = None) -> None:
        """Extend the lease (and move the cursor) only if we still own it."""
        c = outbox_consumer
        values: dict[str, Any] = {"lease_until": now + LEASE_SECONDS}
        if position is not None:
            values["position_txid"], values["position"] = position
        stmt = update(c).where(c.c.name == self._name, c.c.lease_owner == self._owner)
        if conn.execute(stmt.values(values)).rowcount != 1:
            raise _LeaseLost

    def _release(self, *, quietly: bool = False) -> None:
        c = outbox_consumer
        stmt = (
            update(c)
            .where(c.c.name == self._name, c.c.lease_owner == self._owner)
            .values(lease_owner=None, lease_until=0.0)
        )
        try:
            with self._engine.begin() as conn:
                conn.execute(stmt)
        except sa_exc.SQLAlchemyError:
            if not quietly:
                raise


@contextmanager
def _database_errors() -> Iterator[None]:
    try:
        yield
    except (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError) as exc:
        raise DatabaseUnavailable(f"outbox database unavailable: {exc}") from exc
