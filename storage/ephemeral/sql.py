"""The embedded ephemeral store: one SQL table, so a laptop needs no Redis and several worker
processes still share codes, sessions and counters.

Every operation is a single statement (upsert or DELETE ... RETURNING), which makes it atomic
on both SQLite (writers are serialized) and PostgreSQL (row locks) without explicit locking.
Expired rows are invisible to every read and are swept now and then.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Float,
    Index,
    LargeBinary,
    String,
    Table,
    case,
    delete,
    null,
    select,
)
from sqlalchemy import exc as sa_exc

from storage.db import Base
from storage.dialect import Upsert, upsert
from storage.ephemeral.api import MAX_KEY_LENGTH, check_key, check_ttl
from storage.errors import EphemeralStoreUnavailable

ephemeral_entry = Table(
    "ephemeral_entry",
    Base.metadata,
    Column("key", String(MAX_KEY_LENGTH), primary_key=True),
    Column("value", LargeBinary, nullable=True),
    Column("counter", BigInteger, nullable=True),
    Column("expires_at", Float, nullable=False),
    Index("ix_ephemeral_entry_expires_at", "expires_at"),
)
"""One entry: either a `value` or a `counter`; a row past `expires_at` counts as absent."""

_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


class SqlEphemeralStore:
    """`EphemeralStore` over the `ephemeral_entry` table (created by the storage migration).

    `clock` exists so tests can move time; `purge_every` sweeps expired rows on every n-th
    write (0 turns the sweep off; call `purge_expired` from a timer instead).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.time,
        purge_every: int = 200,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._purge_every = purge_every
        self._writes = itertools.count(1)

    @property
    def engine(self) -> Engine:
        return self._engine

    def _replace(self, key: str, value: bytes, ttl: float, *, only_expired: bool) -> Any:
        """Insert-or-replace of a value row; with `only_expired` a live row is left alone."""
        now = self._clock()
        t = ephemeral_entry
        stmt = upsert(self._engine, t).values(
            key=key, value=bytes(value), counter=None, expires_at=now + ttl
        )
        return stmt.on_conflict_do_update(
            index_elements=[t.c.key],
            set_=_replace_with(stmt),
            where=(t.c.expires_at <= now) if only_expired else None,
        )

    def put(self, key: str, value: bytes, ttl: float) -> None:
        check_key(key)
        check_ttl(ttl)
        stmt = self._replace(key, value, ttl, only_expired=False)
        with self._guard(), self._engine.begin() as conn:
            conn.execute(stmt)
        self._after_write()

    def put_if_absent(self, key: str, value: bytes, ttl: float) -> bool:
        check_key(key)
        check_ttl(ttl)
        stmt = self._replace(key, value, ttl, only_expired=True)
        with self._guard(), self._engine.begin() as conn:
            stored = conn.execute(stmt.returning(ephemeral_entry.c.key)).first() is not None
        self._after_write()
        return stored

    def get(self, key: str) -> bytes | None:
        check_key(key)
        t = ephemeral_entry
        stmt = select(t.c.value, t.c.counter).where(t.c.key == key, t.c.expires_at > self._clock())
        with self._guard(), self._engine.connect() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else _as_bytes(row.value, row.counter)

    def take(self, key: str) -> bytes | None:
        check_key(key)
        t = ephemeral_entry
        stmt = (
            delete(t)
            .where(t.c.key == key, t.c.expires_at > self._clock())
            .returning(t.c.value, t.c.counter)
        )
        with self._guard(), self._engine.begin() as conn:
            row = conn.execute(stmt).first()
        return None if row is None else _as_bytes(row.value, row.counter)

    def delete(self, key: str) -> bool:
        check_key(key)
        t = ephemeral_entry
        now = self._clock()
        stmt = delete(t).where(t.c.key == key).returning(t.c.expires_at)
        with self._guard(), self._engine.begin() as conn:
            row = conn.execute(stmt).first()
        return row is not None and row.expires_at > now

    def incr(self, key: str, ttl: float, amount: int = 1) -> int:
        check_key(key)
        check_ttl(ttl)
        now = self._clock()
        t = ephemeral_entry
        expired = t.c.expires_at <= now
        stmt = upsert(self._engine, t).values(
            key=key, value=None, counter=amount, expires_at=now + ttl
        )
        upsert_counter = stmt.on_conflict_do_update(
            index_elements=[t.c.key],
            set_={
                # a live value row has counter NULL, so NULL + amount leaves it untouched
                "counter": case((expired, stmt.excluded.counter), else_=t.c.counter + amount),
                "value": case((expired, null()), else_=t.c.value),
                "expires_at": case((expired, stmt.excluded.expires_at), else_=t.c.expires_at),
            },
        )
        with self._guard(), self._engine.begin() as conn:
            counter = conn.execute(upsert_counter.returning(t.c.counter)).scalar_one()
        self._after_write()
        if counter is None:
            raise ValueError(f"ephemeral key {key!r} holds a value, not a counter")
        return int(counter)

    def ttl(self, key: str) -> float | None:
        check_key(key)
        t = ephemeral_entry
        now = self._clock()
        stmt = select(t.c.expires_at).where(t.c.key == key, t.c.expires_at > now)
        with self._guard(), self._engine.connect() as conn:
            expires_at = conn.execute(stmt).scalar_one_or_none()
        return None if expires_at is None else float(expires_at) - now

    def ping(self) -> None:
        try:
            with self._engine.connect() as conn:
                conn.execute(select(ephemeral_entry.c.key).limit(1)).all()
        except sa_exc.SQLAlchemyError as exc:
            raise EphemeralStoreUnavailable(f"SQL ephemeral store unavailable: {exc}") from exc

    def purge_expired(self) -> int:
        """Delete every expired row now; returns how many went."""
        t = ephemeral_entry
        with self._guard(), self._engine.begin() as conn:
            return conn.execute(delete(t).where(t.c.expires_at <= self._clock())).rowcount

    def _after_write(self) -> None:
        if self._purge_every > 0 and next(self._writes) % self._purge_every == 0:
            self.purge_expired()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except _UNAVAILABLE as exc:
            raise EphemeralStoreUnavailable(f"SQL ephemeral store unavailable: {exc}") from exc


def _replace_with(stmt: Upsert) -> dict[str, Any]:
    """The SET clause that makes a conflicting row the freshly written value."""
    return {
        "value": stmt.excluded.value,
        "counter": null(),
        "expires_at": stmt.excluded.expires_at,
    }


def _as_bytes(value: bytes | None, counter: int | None) -> bytes:
    """A counter reads back as its decimal form, the way Redis returns an INCR'd key."""
    return str(counter).encode() if value is None else bytes(value)
