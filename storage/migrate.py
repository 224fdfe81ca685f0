"""Bring a database's schema up to date: storage's revisions plus those of other packages.

Each package keeps its Alembic revisions in its own versions directory, on its own branch that
depends on `storage_0001`; upgrading to `heads` applies all branches in dependency order. Runs
programmatically (no alembic.ini), on the connection made from the URL, so options such as a
PostgreSQL `search_path` hold for the `alembic_version` table as well.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError, RevisionMap

from storage.db import describe, make_engine
from storage.errors import MigrationError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSIONS = MIGRATIONS / "versions"

_ALEMBIC = threading.Lock()
"""Alembic keeps the running environment in module globals: one upgrade per process at a time.
(Across processes, env.py serializes upgrades of a PostgreSQL database with an advisory lock.)"""


def upgrade(url: str, version_locations: Sequence[str] = ()) -> None:
    """Upgrade the database at `url` to every head; a no-op when it is already there."""
    config = _config(url, version_locations)
    engine = make_engine(url)
    try:
        with _ALEMBIC, engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")
    except Exception as exc:
        raise MigrationError(f"upgrading {describe(url)} failed: {exc}") from exc
    finally:
        engine.dispose()


def current_revisions(url: str, version_locations: Sequence[str] = ()) -> set[str]:
    """Every revision applied to the database at `url` (empty before the first upgrade).

    Alembic's version table keeps only branch tips and folds a revision into the row of a branch
    that depends on it (after `idp_0001`, which depends on `storage_0001`, the table holds just
    `idp_0001`). The tips are therefore expanded to their ancestors and dependencies, as far as
    storage's versions plus `version_locations` can resolve them.
    """
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            tips = MigrationContext.configure(connection).get_current_heads()
    except Exception as exc:
        raise MigrationError(f"reading the revisions of {describe(url)} failed: {exc}") from exc
    finally:
        engine.dispose()
    revisions = _revision_map(version_locations)
    applied = set(tips)
    for tip in tips:
        with suppress(RevisionError):  # a tip from a package not given here stays as it is
            applied.update(r.revision for r in revisions.iterate_revisions(tip, "base"))
    return applied


def _locations(version_locations: Sequence[str]) -> list[Path]:
    locations = [VERSIONS, *(Path(location).resolve() for location in version_locations)]
    for location in locations:
        if not location.is_dir():
            raise MigrationError(f"migration directory {location} does not exist")
    return list(dict.fromkeys(locations))


def _revision_map(version_locations: Sequence[str]) -> RevisionMap:
    locations = [str(p) for p in _locations(version_locations)]
    try:
        return ScriptDirectory(str(MIGRATIONS), version_locations=locations).revision_map
    except Exception as exc:
        raise MigrationError(f"cannot read the migration scripts in {locations}: {exc}") from exc


def _config(url: str, version_locations: Sequence[str]) -> Config:
    config = Config()
    config.set_main_option("script_location", _escape(str(MIGRATIONS)))
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", _escape(os.pathsep.join(map(str, _locations(version_locations))))
    )
    config.set_main_option("sqlalchemy.url", _escape(url))
    return config


def _escape(value: str) -> str:
    """ConfigParser interpolates `%`; URL-encoded options (`%3D`) must survive."""
    return value.replace("%", "%%")
