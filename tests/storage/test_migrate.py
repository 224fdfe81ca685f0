"""Migrations on SQLite and PostgreSQL: from empty, idempotent, other packages' branches,
failures reported as MigrationError, and the models agreeing with what the migration built."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text

import storage.ephemeral.sql
import storage.outbox.models  # noqa: F401  (the storage models under comparison)
from storage.db import Base, make_engine
from storage.errors import MigrationError
from storage.migrate import MIGRATIONS, VERSIONS, current_revisions, upgrade

STORAGE_TABLES = {"ephemeral_entry", "outbox_event", "outbox_consumer", "outbox_retry"}


def tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_from_empty_creates_the_storage_tables(db_url: str) -> None:
    assert current_revisions(db_url) == set()
    upgrade(db_url)
    assert tables(db_url) >= {*STORAGE_TABLES, "alembic_version"}
    assert current_revisions(db_url) == {"storage_0001"}


def test_second_upgrade_is_a_no_op(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO ephemeral_entry (key, value, expires_at) VALUES ('k', NULL, 1)")
        )
    with caplog.at_level(logging.INFO, logger="alembic"):
        upgrade(db_url)
    assert not [r for r in caplog.records if "Running upgrade" in r.getMessage()]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT key FROM ephemeral_entry")).scalars().all() == ["k"]
    engine.dispose()
    assert current_revisions(db_url) == {"storage_0001"}


def test_postgresql_version_table_lands_in_the_search_path_schema(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    upgrade(db_url)
    schema = db_url.rsplit("%3D", 1)[1]
    engine = make_engine(db_url)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = :schema ORDER BY table_name"
            ),
            {"schema": schema},
        ).scalars()
        assert set(found) == {*STORAGE_TABLES, "alembic_version"}
        assert conn.execute(text("SELECT to_regclass('alembic_version')::text")).scalar() == (
            "alembic_version"  # resolved through the search path, not public
        )
    engine.dispose()


UPGRADE = "import sys; from storage.migrate import upgrade; upgrade(sys.argv[1])"


def test_concurrent_upgrades_of_one_database_all_succeed(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite DDL is not transactional")
    processes = [subprocess.Popen([sys.executable, "-c", UPGRADE, db_url]) for _ in range(3)]
    assert [p.wait(timeout=60) for p in processes] == [0, 0, 0]
    assert current_revisions(db_url) == {"storage_0001"}


def test_concurrent_upgrades_in_one_process_all_succeed(db_url: str) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        barrier.wait()
        try:
            upgrade(db_url)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert current_revisions(db_url) == {"storage_0001"}


EXTRA_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "extra_0001"
down_revision = None
branch_labels = ("extra",)
depends_on = "storage_0001"


def upgrade() -> None:
    op.create_table(
        "extra_thing",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("event_id", sa.BigInteger, sa.ForeignKey("outbox_event.id"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("extra_thing")
"""


def test_other_packages_branches_upgrade_after_storage(db_url: str, tmp_path: Path) -> None:
    versions = tmp_path / "extra_versions"
    versions.mkdir()
    (versions / "extra_0001_thing.py").write_text(textwrap.dedent(EXTRA_REVISION))
    upgrade(db_url, [str(versions)])
    assert tables(db_url) >= {*STORAGE_TABLES, "extra_thing"}
    assert current_revisions(db_url, [str(versions)]) == {"storage_0001", "extra_0001"}
    # Alembic folds storage_0001 into the dependent branch's row; without the extra
    # directory that row cannot be expanded, so it is reported as it is.
    assert current_revisions(db_url) == {"extra_0001"}
    upgrade(db_url, [str(versions)])  # still idempotent with several branches


def test_an_existing_storage_database_picks_up_a_new_branch(db_url: str, tmp_path: Path) -> None:
    upgrade(db_url)
    versions = tmp_path / "extra_versions"
    versions.mkdir()
    (versions / "extra_0001_thing.py").write_text(textwrap.dedent(EXTRA_REVISION))
    upgrade(db_url, [str(versions)])
    assert "extra_thing" in tables(db_url)


def test_missing_version_directory_is_a_migration_error(db_url: str, tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="does not exist"):
        upgrade(db_url, [str(tmp_path / "nowhere")])


def test_unknown_revision_in_the_database_is_a_migration_error(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'from_the_future'"))
    engine.dispose()
    with pytest.raises(MigrationError, match="from_the_future"):
        upgrade(db_url)
    assert current_revisions(db_url) == {"from_the_future"}


def test_unreachable_database_is_a_migration_error() -> None:
    url = "postgresql+psycopg://huren:sekret@127.0.0.1:1/huren?connect_timeout=2"
    with pytest.raises(MigrationError) as caught:
        upgrade(url)
    assert "sekret" not in str(caught.value)
    with pytest.raises(MigrationError):
        current_revisions(url)


def test_models_match_the_migration(db_url: str) -> None:
    upgrade(db_url)
    storage_only = MetaData(naming_convention=Base.metadata.naming_convention)
    for name in STORAGE_TABLES:
        Base.metadata.tables[name].to_metadata(storage_only)
    engine = make_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, type_, _parent: (
                    type_ != "table" or name in STORAGE_TABLES
                ),
            },
        )
        diff = compare_metadata(context, storage_only)
    engine.dispose()
    assert diff == []


def test_migrated_db_url_applies_every_registered_branch(
    migrated_db_url: str, migration_locations: list[str]
) -> None:
    locations = [str(VERSIONS), *migration_locations]
    script = ScriptDirectory(str(MIGRATIONS), version_locations=locations)
    applied = current_revisions(migrated_db_url, migration_locations)
    assert "storage_0001" in applied
    assert set(script.get_heads()) <= applied
