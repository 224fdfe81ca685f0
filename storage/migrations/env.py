"""Alembic environment shared by every package's migrations; `storage.migrate` drives it.

`storage.migrate.upgrade` hands over an open connection (so the URL's options, such as a
PostgreSQL search_path, apply to the version table too); the `sqlalchemy.url` option is the
fallback for running Alembic by hand.
"""

from alembic import context
from sqlalchemy import Connection, text

import storage.ephemeral.sql
import storage.outbox.models  # noqa: F401  (registers storage's tables on Base.metadata)
from storage.db import Base, make_engine

MIGRATION_LOCK = 0x6875_7265_6E00  # "huren": one advisory lock id for all upgrades
"""Concurrent upgrades of one PostgreSQL database wait for each other instead of colliding."""


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as connection:
            run_with(connection)
    finally:
        engine.dispose()


def run_offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
