"""What only the SQL ephemeral store does: sweeping expired rows, reporting an unusable
database, sharing one table between processes, and `open_store`'s choice of backend."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import Engine, func, select

from storage.db import make_engine
from storage.ephemeral import RedisEphemeralStore, SqlEphemeralStore, open_store
from storage.ephemeral.sql import ephemeral_entry
from storage.errors import EphemeralStoreUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ephemeral_entry)).scalar_one())


def test_purge_expired_deletes_only_expired_rows(storage_engine: Engine) -> None:
    clock = Clock()
    store = SqlEphemeralStore(storage_engine, clock=clock, purge_every=0)
    store.put("short", b"v", 1)
    store.incr("counter", 1)
    store.put("long", b"v", 100)
    clock.now += 5
    assert rows(storage_engine) == 3  # expired rows linger until swept ...
    assert store.purge_expired() == 2
    assert rows(storage_engine) == 1
    assert store.get("long") == b"v"
    assert store.purge_expired() == 0


def test_writes_sweep_expired_rows_now_and_then(storage_engine: Engine) -> None:
    clock = Clock()
    store = SqlEphemeralStore(storage_engine, clock=clock, purge_every=3)
    for i in range(3):
        store.put(f"old{i}", b"v", 1)  # the third write sweeps, nothing expired yet
    clock.now += 5
    store.put("new1", b"v", 100)
    assert rows(storage_engine) == 4
    store.put("new2", b"v", 100)
    store.put("new3", b"v", 100)  # sixth write: sweep
    assert rows(storage_engine) == 3


def test_unmigrated_database_fails_ping(tmp_path: os.PathLike[str]) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
    with pytest.raises(EphemeralStoreUnavailable):
        SqlEphemeralStore(engine).ping()
    engine.dispose()


def test_unreachable_database_is_unavailable() -> None:
    engine = make_engine("postgresql+psycopg://root@127.0.0.1:1/none?connect_timeout=2")
    store = SqlEphemeralStore(engine)
    with pytest.raises(EphemeralStoreUnavailable):
        store.ping()
    with pytest.raises(EphemeralStoreUnavailable):
        store.get("k")
    with pytest.raises(EphemeralStoreUnavailable):
        store.take("k")
    with pytest.raises(EphemeralStoreUnavailable):
        store.incr("k", 10)
    engine.dispose()


WORKER = textwrap.dedent(
    """
    import sys
    from storage.db import make_engine
    from storage.ephemeral import SqlEphemeralStore

    store = SqlEphemeralStore(make_engine(sys.argv[1]))
    taken = sum(store.take(f"once:{i}") is not None for i in range(20))
    for _ in range(50):
        store.incr("shared", 60)
    print(taken)
    """
)


def test_several_processes_share_the_store(storage_url: str) -> None:
    engine = make_engine(storage_url)
    store = SqlEphemeralStore(engine)
    for i in range(20):
        store.put(f"once:{i}", b"v", 60)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, storage_url], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    taken = [int(worker.communicate(timeout=60)[0]) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers)
    assert sum(taken) == 20  # every one-time entry taken exactly once across processes
    assert store.get("shared") == b"200"
    engine.dispose()


def test_open_store_picks_the_backend(storage_engine: Engine) -> None:
    assert isinstance(open_store(storage_engine, None), SqlEphemeralStore)
    assert isinstance(open_store(storage_engine, ""), SqlEphemeralStore)
    redis_store = open_store(storage_engine, "redis://127.0.0.1:1/0", prefix="p:")
    assert isinstance(redis_store, RedisEphemeralStore)
    assert redis_store.prefix == "p:"
