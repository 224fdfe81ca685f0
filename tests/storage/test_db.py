"""The engine factory: SQLite safety settings, in-memory sharing, PostgreSQL schema options,
ping, and the session factory."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.pool import StaticPool

from storage.db import Base, make_engine, make_session_factory, ping
from storage.errors import DatabaseUnavailable
from storage.outbox import OutboxEvent


def test_sqlite_file_gets_its_directory_and_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "huren.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    assert path.exists()
    engine.dispose()


def test_sqlite_pragmas_hold_on_every_pooled_connection(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    connections = [engine.connect() for _ in range(3)]
    assert [c.exec_driver_sql("PRAGMA foreign_keys").scalar() for c in connections] == [1, 1, 1]
    for conn in connections:
        conn.close()
    engine.dispose()


def test_relative_sqlite_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite:///var/relative.db")
    ping(engine)
    assert (tmp_path / "var" / "relative.db").exists()
    engine.dispose()


def test_in_memory_database_is_shared_between_threads() -> None:
    engine = make_engine("sqlite://")
    assert isinstance(engine.pool, StaticPool)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (42)"))
    seen: list[int] = []

    def read() -> None:
        with engine.connect() as conn:
            seen.append(conn.execute(text("SELECT x FROM t")).scalar_one())

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert seen == [42]


def test_postgresql_search_path_and_pre_ping(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    engine = make_engine(db_url)
    assert engine.pool._pre_ping  # type: ignore[attr-defined]
    schema = db_url.rsplit("%3D", 1)[1]
    with engine.connect() as conn:
        assert conn.execute(text("SHOW search_path")).scalar() == schema
        conn.execute(text("CREATE TABLE lands_here (x integer)"))
        conn.commit()
        where = conn.execute(
            text(
                "SELECT count(*) FROM information_schema.tables"
                " WHERE table_schema = :schema AND table_name = 'lands_here'"
            ),
            {"schema": schema},
        ).scalar_one()
    assert where == 1  # created unqualified, landed in the search_path schema
    engine.dispose()


def test_ping_passes_on_a_live_database(db_url: str) -> None:
    engine = make_engine(db_url)
    ping(engine)
    engine.dispose()


def test_ping_raises_database_unavailable_without_leaking_the_password() -> None:
    engine = make_engine("postgresql+psycopg://huren:sekret@127.0.0.1:1/huren?connect_timeout=2")
    with pytest.raises(DatabaseUnavailable) as caught:
        ping(engine)
    assert "sekret" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)
    engine.dispose()


def test_unwritable_sqlite_directory_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(DatabaseUnavailable):
        make_engine(f"sqlite:///{blocker}/sub/huren.db")


def test_sessions_keep_objects_readable_after_commit(storage_url: str) -> None:
    engine = make_engine(storage_url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        event = OutboxEvent(topic="t", payload="{}", created_at=1.0)
        session.add(event)
        session.commit()
    assert event.topic == "t"  # no DetachedInstanceError: nothing was expired on commit
    assert event.id >= 1
    engine.dispose()


def test_one_declarative_base_holds_the_storage_tables() -> None:
    assert {"ephemeral_entry", "outbox_event", "outbox_consumer", "outbox_retry"} <= set(
        Base.metadata.tables
    )
