"""Fixtures shared by every package's tests: real databases and real ephemeral stores.

SQLite always runs. PostgreSQL runs when HUREN_TEST_DATABASE_URL is set (each test gets a fresh
schema, reached through the URL's search_path) and Redis when HUREN_TEST_REDIS_URL is set (each
test gets a fresh key prefix); otherwise those parameters are skipped.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage.db import make_engine
from storage.ephemeral import EphemeralStore, RedisEphemeralStore, SqlEphemeralStore
from storage.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent

DATABASE_URL_ENV = "HUREN_TEST_DATABASE_URL"
REDIS_URL_ENV = "HUREN_TEST_REDIS_URL"

MIGRATION_LOCATIONS: list[str] = [
    str(path)
    for path in [
        ROOT / "idp" / "migrations" / "versions",
        ROOT / "cert_interop" / "migrations" / "versions",
        ROOT / "seal" / "migrations" / "versions",
    ]
    if path.is_dir()
]
"""Versions directories of the packages on top of storage; `migrated_db_url` applies them all."""


def with_search_path(url: str, schema: str) -> str:
    """`url` with `-csearch_path=<schema>` added to its libpq `options` (other options kept)."""
    parsed = make_url(url)
    options = parsed.query.get("options")
    existing = [options] if isinstance(options, str) else list(options or ())
    merged = " ".join([*existing, f"-csearch_path={schema}"])
    return parsed.update_query_dict({"options": merged}).render_as_string(hide_password=False)


@contextmanager
def postgresql_schema(base_url: str) -> Iterator[str]:
    """A fresh schema on the server at `base_url`; yields a URL that works inside it."""
    schema = f"t_{uuid.uuid4().hex[:20]}"
    admin = create_engine(base_url, poolclass=NullPool)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield with_search_path(base_url, schema)
    finally:
        with admin.begin() as conn:
            # a test that leaks an open transaction in the schema fails here instead of hanging
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _postgresql_base_url() -> str:
    url = os.environ.get(DATABASE_URL_ENV)
    if not url:
        pytest.skip(f"{DATABASE_URL_ENV} is not set")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a new SQLite file, or a new schema on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'huren.db'}"
        return
    with postgresql_schema(_postgresql_base_url()) as url:
        yield url


@pytest.fixture
def migration_locations() -> list[str]:
    """`MIGRATION_LOCATIONS`, for tests that need the other packages' revisions too."""
    return list(MIGRATION_LOCATIONS)


@pytest.fixture
def migrated_db_url(db_url: str) -> str:
    """`db_url` upgraded to every head: storage's and those in `MIGRATION_LOCATIONS`."""
    upgrade(db_url, MIGRATION_LOCATIONS)
    return db_url


@pytest.fixture
def engine(migrated_db_url: str) -> Iterator[Engine]:
    """An engine on the migrated database, disposed afterwards."""
    engine = make_engine(migrated_db_url)
    yield engine
    engine.dispose()


@contextmanager
def _sql_store(url: str) -> Iterator[SqlEphemeralStore]:
    upgrade(url)
    engine = make_engine(url)
    try:
        yield SqlEphemeralStore(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=["sql", "redis"])
def ephemeral(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EphemeralStore]:
    """An empty ephemeral store: SQL on a migrated SQLite file, or Redis under a fresh prefix.

    Storage's own contract tests also pass `"sql-postgresql"` (the SQL store in a fresh
    PostgreSQL schema) through indirect parametrization.
    """
    kind = request.param
    if kind == "sql":
        with _sql_store(f"sqlite:///{tmp_path / 'ephemeral.db'}") as store:
            yield store
    elif kind == "sql-postgresql":
        with postgresql_schema(_postgresql_base_url()) as url, _sql_store(url) as store:
            yield store
    elif kind == "redis":
        redis_url = os.environ.get(REDIS_URL_ENV)
        if not redis_url:
            pytest.skip(f"{REDIS_URL_ENV} is not set")
        prefix = f"huren-test:{uuid.uuid4().hex}:"
        redis_store = RedisEphemeralStore(redis_url, prefix=prefix)
        try:
            yield redis_store
        finally:
            client = redis_store.client
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
            client.close()
    else:
        raise ValueError(f"unknown ephemeral store kind {kind!r}")


def settle_outbox(engine: Engine) -> None:
    """Wait until every outbox event committed so far is visible to consumers.

    On PostgreSQL a consumer reads only events of transactions older than every transaction
    still running in the cluster (see storage.outbox.models), and other tests — other xdist
    workers, other runs — share the server; this waits for their transactions instead of
    failing on them.
    """
    if engine.dialect.name != "postgresql":
        return
    deadline = time.monotonic() + 60
    with engine.connect() as conn:
        while True:
            newest = conn.execute(text("SELECT coalesce(max(txid), 0) FROM outbox_event")).scalar()
            xmin = conn.execute(text("SELECT txid_snapshot_xmin(txid_current_snapshot())")).scalar()
            conn.rollback()
            if newest is not None and xmin is not None and newest < xmin:
                return
            if time.monotonic() > deadline:
                pytest.fail("a transaction elsewhere on the server kept outbox events invisible")
            time.sleep(0.05)
