"""The ephemeral store contract, run against every backend: the SQL store on SQLite and on
PostgreSQL, and Redis. Both implementations must be interchangeable behind `open_store`."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pytest

from storage.ephemeral import EphemeralStore

pytestmark = pytest.mark.parametrize("ephemeral", ["sql", "sql-postgresql", "redis"], indirect=True)

T = TypeVar("T")


def race(threads: int, action: Callable[[int], T]) -> list[T]:
    """Run `action(i)` in `threads` threads released at the same instant."""
    barrier = threading.Barrier(threads)

    def run(i: int) -> T:
        barrier.wait()
        return action(i)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(run, range(threads)))


def test_put_get_and_overwrite(ephemeral: EphemeralStore) -> None:
    assert ephemeral.get("k") is None
    ephemeral.put("k", b"one", 60)
    assert ephemeral.get("k") == b"one"
    ephemeral.put("k", b"two", 300)
    assert ephemeral.get("k") == b"two"
    left = ephemeral.ttl("k")
    assert left is not None and 290 < left <= 300


def test_binary_and_empty_values_round_trip(ephemeral: EphemeralStore) -> None:
    every_byte = bytes(range(256)) * 4
    ephemeral.put("bin", every_byte, 60)
    ephemeral.put("empty", b"", 60)
    assert ephemeral.get("bin") == every_byte
    assert ephemeral.get("empty") == b""
    assert ephemeral.take("empty") == b""
    assert ephemeral.get("empty") is None


def test_keys_up_to_255_characters(ephemeral: EphemeralStore) -> None:
    long_a = "码" * 254 + "a"
    long_b = "码" * 254 + "b"
    ephemeral.put(long_a, b"a", 60)
    ephemeral.put(long_b, b"b", 60)
    assert ephemeral.get(long_a) == b"a"
    assert ephemeral.take(long_b) == b"b"
    with pytest.raises(ValueError):
        ephemeral.put("x" * 256, b"v", 60)
    with pytest.raises(ValueError):
        ephemeral.get("nul\x00key")


@pytest.mark.parametrize("ttl", [0, -1, math.nan, math.inf])
def test_ttl_must_be_positive_and_finite(ephemeral: EphemeralStore, ttl: float) -> None:
    with pytest.raises(ValueError):
        ephemeral.put("k", b"v", ttl)
    with pytest.raises(ValueError):
        ephemeral.put_if_absent("k", b"v", ttl)
    with pytest.raises(ValueError):
        ephemeral.incr("k", ttl)
    assert ephemeral.get("k") is None


def test_take_returns_the_value_once(ephemeral: EphemeralStore) -> None:
    ephemeral.put("code:abc", b"grant", 60)
    assert ephemeral.take("code:abc") == b"grant"
    assert ephemeral.take("code:abc") is None
    assert ephemeral.get("code:abc") is None
    assert ephemeral.take("never") is None


def test_delete_reports_whether_something_was_there(ephemeral: EphemeralStore) -> None:
    ephemeral.put("k", b"v", 60)
    assert ephemeral.delete("k") is True
    assert ephemeral.delete("k") is False
    assert ephemeral.get("k") is None


def test_put_if_absent(ephemeral: EphemeralStore) -> None:
    assert ephemeral.put_if_absent("jti:1", b"first", 60) is True
    assert ephemeral.put_if_absent("jti:1", b"second", 60) is False
    assert ephemeral.get("jti:1") == b"first"


def test_incr_counts_and_keeps_its_window(ephemeral: EphemeralStore) -> None:
    assert ephemeral.incr("rate:ip", 100) == 1
    assert ephemeral.incr("rate:ip", 1000) == 2
    assert ephemeral.incr("rate:ip", 1000, amount=5) == 7
    assert ephemeral.incr("rate:ip", 1000, amount=-3) == 4
    left = ephemeral.ttl("rate:ip")
    assert left is not None and 90 < left <= 100  # later calls did not extend it
    assert ephemeral.get("rate:ip") == b"4"  # reads back like a Redis counter
    assert ephemeral.take("rate:ip") == b"4"
    assert ephemeral.incr("rate:ip", 10) == 1


def test_incr_refuses_a_plain_value(ephemeral: EphemeralStore) -> None:
    ephemeral.put("k", b"not a number", 60)
    with pytest.raises(ValueError):
        ephemeral.incr("k", 60)
    assert ephemeral.get("k") == b"not a number"
    left = ephemeral.ttl("k")
    assert left is not None and left > 50


def test_put_replaces_a_counter(ephemeral: EphemeralStore) -> None:
    ephemeral.incr("k", 60, amount=3)
    ephemeral.put("k", b"value", 60)
    assert ephemeral.get("k") == b"value"
    assert ephemeral.put_if_absent("k", b"other", 60) is False


def test_expired_entries_behave_as_absent(ephemeral: EphemeralStore) -> None:
    ephemeral.put("value", b"v", 0.15)
    ephemeral.put("taken", b"v", 0.15)
    ephemeral.put("deleted", b"v", 0.15)
    ephemeral.put("reput", b"old", 0.15)
    ephemeral.incr("counter", 0.15, amount=41)
    ephemeral.put("long", b"stays", 60)
    time.sleep(0.3)
    assert ephemeral.get("value") is None
    assert ephemeral.ttl("value") is None
    assert ephemeral.take("taken") is None
    assert ephemeral.delete("deleted") is False
    assert ephemeral.put_if_absent("reput", b"new", 60) is True
    assert ephemeral.get("reput") == b"new"
    assert ephemeral.incr("counter", 60) == 1  # a fresh window, not 42
    left = ephemeral.ttl("counter")
    assert left is not None and left > 50
    assert ephemeral.get("long") == b"stays"


def test_take_under_concurrency_has_exactly_one_winner(ephemeral: EphemeralStore) -> None:
    for round_ in range(5):
        key = f"code:{round_}"
        ephemeral.put(key, b"secret", 60)
        results = race(16, lambda _i, key=key: ephemeral.take(key))
        assert sorted(results, key=lambda r: r is None) == [b"secret"] + [None] * 15


def test_incr_under_concurrency_loses_no_update(ephemeral: EphemeralStore) -> None:
    def fifty(_i: int) -> list[int]:
        return [ephemeral.incr("hits", 60) for _ in range(50)]

    seen = [n for batch in race(8, fifty) for n in batch]
    assert sorted(seen) == list(range(1, 401))  # every caller saw a distinct count
    assert ephemeral.get("hits") == b"400"


def test_put_if_absent_race_has_exactly_one_winner(ephemeral: EphemeralStore) -> None:
    results = race(16, lambda i: ephemeral.put_if_absent("nonce", str(i).encode(), 60))
    assert results.count(True) == 1
    assert ephemeral.get("nonce") == str(results.index(True)).encode()


def test_ping(ephemeral: EphemeralStore) -> None:
    ephemeral.ping()
