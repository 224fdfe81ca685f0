"""Storage's own fixtures: databases migrated with storage's revisions only, so a broken
migration in another package cannot make storage's tests fail."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from storage.db import make_engine
from storage.migrate import upgrade


@pytest.fixture
def storage_url(db_url: str) -> str:
    upgrade(db_url)
    return db_url


@pytest.fixture
def storage_engine(storage_url: str) -> Iterator[Engine]:
    engine = make_engine(storage_url)
    yield engine
    engine.dispose()
