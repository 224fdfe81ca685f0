"""The production ephemeral store: Redis, shared by any number of workers and machines.

Each operation maps onto one atomic Redis command (SET PX, SET NX PX, GETDEL, a tiny Lua script
for incr), so the semantics match the SQL backend without client-side locking. Requires Redis
6.2 or newer (GETDEL).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from redis import exceptions as redis_exc

from storage.ephemeral.api import check_key, check_ttl
from storage.errors import EphemeralStoreUnavailable

# The expiry is set only when INCRBY created the key (it then has no TTL: PTTL = -1), so an
# existing counter keeps its window.
_INCR_SCRIPT = """
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return n
"""


class RedisEphemeralStore:
    """`EphemeralStore` over Redis; every key is stored as `prefix + key`.

    redis-py retries a command a few times when the connection drops; for `take`, `incr` and
    `put_if_absent` a retry after a lost reply fails closed (the value reads as consumed, the
    counter runs high), never open.
    """

    def __init__(self, url: str, prefix: str = "huren:", *, timeout: float = 5.0) -> None:
        self._prefix = prefix
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
        )
        self._incr = self._client.register_script(_INCR_SCRIPT)

    @property
    def client(self) -> redis.Redis:
        """The underlying client (for health details and test clean-up)."""
        return self._client

    @property
    def prefix(self) -> str:
        return self._prefix

    def put(self, key: str, value: bytes, ttl: float) -> None:
        check_ttl(ttl)
        name = self._name(key)
        with _guard():
            self._client.set(name, bytes(value), px=_millis(ttl))

    def put_if_absent(self, key: str, value: bytes, ttl: float) -> bool:
        check_ttl(ttl)
        name = self._name(key)
        with _guard():
            return bool(self._client.set(name, bytes(value), px=_millis(ttl), nx=True))

    def get(self, key: str) -> bytes | None:
        name = self._name(key)
        with _guard():
            return _bytes_or_none(self._client.get(name))

    def take(self, key: str) -> bytes | None:
        name = self._name(key)
        with _guard():
            return _bytes_or_none(self._client.getdel(name))

    def delete(self, key: str) -> bool:
        name = self._name(key)
        with _guard():
            return bool(self._client.delete(name))

    def incr(self, key: str, ttl: float, amount: int = 1) -> int:
        check_ttl(ttl)
        name = self._name(key)
        with _guard():
            try:
                return int(self._incr(keys=[name], args=[amount, _millis(ttl)]))
            except redis_exc.ResponseError as exc:
                if "not an integer" in str(exc) or "WRONGTYPE" in str(exc):
                    raise ValueError(f"ephemeral key {key!r} holds a value, not a counter") from exc
                raise

    def ttl(self, key: str) -> float | None:
        name = self._name(key)
        with _guard():
            millis = int(self._client.pttl(name))
        if millis == -2:
            return None
        if millis == -1:  # written by something else without an expiry
            return math.inf
        return millis / 1000

    def ping(self) -> None:
        with _guard():
            self._client.ping()

    def _name(self, key: str) -> str:
        check_key(key)
        return self._prefix + key


def _millis(ttl: float) -> int:
    return max(1, round(ttl * 1000))


def _bytes_or_none(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


@contextmanager
def _guard() -> Iterator[None]:
    try:
        yield
    except redis_exc.RedisError as exc:
        raise EphemeralStoreUnavailable(f"Redis unavailable: {exc}") from exc
