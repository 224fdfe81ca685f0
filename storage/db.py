"""The SQL engine, session factory and declarative base shared by every package.

One place decides how we talk to SQLite (the embedded default) and PostgreSQL (production), so
that connection tuning and safety settings are not re-invented per package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import StaticPool

from storage.errors import DatabaseUnavailable

SQLITE_BUSY_TIMEOUT = 30.0
"""Seconds a SQLite writer waits for another writer instead of failing with "database is locked"."""


NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Deterministic constraint names, so migrations can name (and later alter or drop) them the same
way on SQLite and PostgreSQL."""


class Base(DeclarativeBase):
    """The one declarative base: all tables of all packages share a single metadata."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def make_engine(url: str) -> Engine:
    """Create an engine for `url` with the settings each backend needs to be safe under load.

    SQLite gets WAL (readers never block the writer), a 30 s busy timeout, foreign keys on and
    may be shared between threads; an in-memory database is pinned to one connection so every
    thread sees the same data. Other backends (PostgreSQL) get pre-ping so a restarted server
    costs one reconnect instead of one failed request per pooled connection.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (handy when returning them to views)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


def ping(engine: Engine) -> None:
    """Run `SELECT 1`; raise `DatabaseUnavailable` if the database does not answer."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseUnavailable(f"database {describe(engine.url)} did not answer: {exc}") from exc


def describe(url: URL | str) -> str:
    """The URL with its password masked, fit for error messages and logs."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_engine(url: URL) -> Engine:
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT}
    if _sqlite_in_memory(url):
        engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)
    else:
        _create_parent_directory(url)
        engine = create_engine(url, connect_args=connect_args)
    event.listen(engine, "connect", _sqlite_on_connect)
    return engine


def _sqlite_in_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or url.query.get("mode") == "memory"


def _create_parent_directory(url: URL) -> None:
    database = url.database or ""
    if database.startswith("file:"):  # a URI filename (?uri=true): leave it to SQLite
        return
    parent = Path(database).parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot create directory {parent} for {database}: {exc}"
        ) from exc


def _sqlite_on_connect(dbapi_connection: Any, _connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()
