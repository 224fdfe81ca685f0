"""The dialect-specific INSERT ... ON CONFLICT construct, chosen once for SQLite or PostgreSQL.

The ephemeral store and the outbox get their atomicity from single upsert statements; both
dialects support `ON CONFLICT ... DO UPDATE ... WHERE ... RETURNING`, but SQLAlchemy exposes it
through a separate `insert` per dialect.
"""

from __future__ import annotations

from sqlalchemy import Engine, Table
from sqlalchemy.dialects import postgresql, sqlite

from storage.errors import StorageError

Upsert = sqlite.Insert | postgresql.Insert


def upsert(engine: Engine, table: Table) -> Upsert:
    """An INSERT for `table` that supports `on_conflict_do_update` / `on_conflict_do_nothing`."""
    name = engine.dialect.name
    if name == "sqlite":
        return sqlite.insert(table)
    if name == "postgresql":
        return postgresql.insert(table)
    raise StorageError(f"storage needs SQLite or PostgreSQL, not {name}")
