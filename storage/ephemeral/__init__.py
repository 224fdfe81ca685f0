"""The ephemeral store: state that expires (codes, sessions, challenges, rate counters, replay
caches), kept outside process memory so every worker sees the same thing.

`open_store` picks the backend: Redis when a URL is configured, else the SQL table.
"""

from __future__ import annotations

from sqlalchemy import Engine

from storage.ephemeral.api import EphemeralStore
from storage.ephemeral.redis import RedisEphemeralStore
from storage.ephemeral.sql import SqlEphemeralStore

__all__ = ["EphemeralStore", "RedisEphemeralStore", "SqlEphemeralStore", "open_store"]


def open_store(engine: Engine, redis_url: str | None, prefix: str = "huren:") -> EphemeralStore:
    """Redis at `redis_url` (keys under `prefix`) if given, else the SQL store on `engine`."""
    if redis_url:
        return RedisEphemeralStore(redis_url, prefix=prefix)
    return SqlEphemeralStore(engine)
