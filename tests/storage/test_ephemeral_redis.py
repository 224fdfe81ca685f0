"""What only the Redis ephemeral store does: key prefixes and an unreachable server."""

from __future__ import annotations

import os

import pytest

from storage.ephemeral import EphemeralStore, RedisEphemeralStore
from storage.errors import EphemeralStoreUnavailable

DOWN = "redis://127.0.0.1:1/0"


def test_unreachable_redis_raises_unavailable() -> None:
    store = RedisEphemeralStore(DOWN, timeout=1)
    with pytest.raises(EphemeralStoreUnavailable):
        store.ping()
    with pytest.raises(EphemeralStoreUnavailable):
        store.put("k", b"v", 10)
    with pytest.raises(EphemeralStoreUnavailable):
        store.take("k")
    with pytest.raises(EphemeralStoreUnavailable):
        store.incr("k", 10)
    with pytest.raises(EphemeralStoreUnavailable):
        store.ttl("k")


@pytest.mark.parametrize("ephemeral", ["redis"], indirect=True)
def test_prefix_separates_stores(ephemeral: EphemeralStore) -> None:
    assert isinstance(ephemeral, RedisEphemeralStore)
    other = RedisEphemeralStore(os.environ["HUREN_TEST_REDIS_URL"], prefix=ephemeral.prefix + "x:")
    ephemeral.put("k", b"mine", 60)
    assert other.get("k") is None
    assert other.put_if_absent("k", b"theirs", 60) is True
    assert ephemeral.get("k") == b"mine"
    assert ephemeral.client.get(ephemeral.prefix + "k") == b"mine"  # stored under the prefix
    other.delete("k")
    other.client.close()
