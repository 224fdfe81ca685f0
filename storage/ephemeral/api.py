"""The ephemeral store interface: short-lived state (codes, sessions, challenges, rate counters,
replay caches) that must be shared by every worker and disappear on its own.

Implementations sit next to this file (`sql.py`, `redis.py`) and must behave identically; the
contract tests in `tests/storage/test_ephemeral_contract.py` run against each of them.
"""

from __future__ import annotations

import math
from typing import Protocol

MAX_KEY_LENGTH = 255
"""Longest key accepted (the SQL backend's primary key is a VARCHAR(255))."""


class EphemeralStore(Protocol):
    """A key -> bytes map whose entries expire after a TTL in seconds.

    Expired entries behave exactly like absent ones. Keys are plain strings that callers
    namespace themselves (`code:abc`, `rate:login:10.0.0.1`). A counter made by `incr` reads
    back through `get`/`take` as its decimal ASCII form, as in Redis; `incr` on a key holding
    a non-counter value raises `ValueError`. TTLs must be positive, keys at most 255
    characters without NUL; anything else raises `ValueError`. Backend failures raise
    `storage.errors.EphemeralStoreUnavailable`.
    """

    def put(self, key: str, value: bytes, ttl: float) -> None:
        """Store `value` under `key` for `ttl` seconds, replacing whatever was there."""
        ...

    def put_if_absent(self, key: str, value: bytes, ttl: float) -> bool:
        """Atomically store `value` only if `key` is absent; True if this call stored it."""
        ...

    def get(self, key: str) -> bytes | None:
        """The value under `key`, or None."""
        ...

    def take(self, key: str) -> bytes | None:
        """Atomically get and delete: among concurrent callers exactly one gets the value."""
        ...

    def delete(self, key: str) -> bool:
        """Remove `key`; True if a live entry was removed."""
        ...

    def incr(self, key: str, ttl: float, amount: int = 1) -> int:
        """Atomically add `amount` and return the new count.

        An absent (or expired) counter is created at `amount` and expires `ttl` seconds later;
        an existing counter keeps its original expiry (fixed-window rate limiting).
        """
        ...

    def ttl(self, key: str) -> float | None:
        """Seconds until `key` expires, or None if it is absent."""
        ...

    def ping(self) -> None:
        """Raise `EphemeralStoreUnavailable` unless the backend answers."""
        ...


def check_key(key: str) -> None:
    """Reject keys that one backend would store and another would refuse."""
    if len(key) > MAX_KEY_LENGTH:
        raise ValueError(f"ephemeral key longer than {MAX_KEY_LENGTH} characters")
    if "\x00" in key:
        raise ValueError("ephemeral key contains NUL")


def check_ttl(ttl: float) -> None:
    """A TTL must be a finite positive number of seconds (Redis cannot store a zero expiry)."""
    if not 0 < ttl < math.inf:
        raise ValueError(f"ephemeral TTL must be a positive number of seconds, got {ttl!r}")
