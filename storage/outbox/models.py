"""The outbox tables (created by the `storage_0001` migration; declared here for queries).

`txid` is the PostgreSQL transaction that wrote the event. PostgreSQL hands out `id`s at insert
time but makes rows visible at commit, so a later id can become visible before an earlier one;
a cursor on `id` alone would step over the late one for good. Consumers therefore read in
(`txid`, `id`) order and only events whose transaction is older than every transaction still
running, which makes the cursor gap-free. On SQLite writers are serialized, `txid` is always 0
and the order is plain `id` order.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
    false,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base

EventId = BigInteger().with_variant(Integer(), "sqlite")
"""BIGINT on PostgreSQL; INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements."""


class OutboxEvent(Base):
    """One event, written in the same transaction as the change it reports."""

    __tablename__ = "outbox_event"
    __table_args__ = (
        Index("ix_outbox_event_txid_id", "txid", "id"),
        {"sqlite_autoincrement": True},  # never reuse the id of a deleted last row
    )

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(100), index=True)
    payload: Mapped[str] = mapped_column(Text)  # JSON object
    created_at: Mapped[float] = mapped_column(Float)
    txid: Mapped[int] = mapped_column(BigInteger, server_default=text("0"))


class OutboxConsumer(Base):
    """A named consumer: its cursor (`position_txid`, `position`) and who holds its lease."""

    __tablename__ = "outbox_consumer"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    position_txid: Mapped[int] = mapped_column(BigInteger, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[float] = mapped_column(Float, default=0.0)


class OutboxRetry(Base):
    """An event a consumer failed to handle: when to try again, or `dead` after the last try."""

    __tablename__ = "outbox_retry"
    __table_args__ = (Index("ix_outbox_retry_due", "consumer", "dead", "next_at"),)

    consumer: Mapped[str] = mapped_column(
        String(100), ForeignKey("outbox_consumer.name", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("outbox_event.id", ondelete="CASCADE"), primary_key=True
    )
    attempts: Mapped[int] = mapped_column(Integer)
    next_at: Mapped[float] = mapped_column(Float)
    last_error: Mapped[str] = mapped_column(Text)
    dead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


@event.listens_for(OutboxEvent.__table__, "after_create")
def _txid_default(target: Table, connection: Connection, **_: Any) -> None:
    """Tables made by `Base.metadata.create_all` (in-memory databases, quick scripts) get the
    same PostgreSQL default as the migration gives them."""
    if connection.dialect.name == "postgresql":
        name = connection.dialect.identifier_preparer.format_table(target)
        connection.execute(text(f"ALTER TABLE {name} ALTER COLUMN txid SET DEFAULT txid_current()"))


def table(model: type[Base]) -> Table:
    """The Core table behind a model, typed for Core statements."""
    result = model.__table__
    assert isinstance(result, Table)
    return result


outbox_event = table(OutboxEvent)
outbox_consumer = table(OutboxConsumer)
outbox_retry = table(OutboxRetry)
