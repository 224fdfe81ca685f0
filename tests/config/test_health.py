"""/healthz and /readyz, including a store that cannot be reached."""

from __future__ import annotations

from pathlib import Path

from config.app import create_app
from config.runtime import MIGRATION_LOCATIONS
from config.settings import Settings
from storage.migrate import upgrade


def _app(tmp_path: Path, **extra: str):
    settings = Settings.from_values({"data_dir": str(tmp_path), **extra})
    upgrade(settings.database_url, MIGRATION_LOCATIONS)
    return create_app(settings)


def test_health_and_ready(tmp_path: Path) -> None:
    web = _app(tmp_path).test_client()
    assert web.get("/healthz").get_json() == {"status": "ok"}
    ready = web.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"] == {
        "database": "ok",
        "ephemeral_store": "ok",
    }


def test_not_ready_when_redis_is_down(tmp_path: Path) -> None:
    web = _app(tmp_path, redis_url="redis://127.0.0.1:1/0").test_client()
    ready = web.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["ephemeral_store"].startswith(
        "unavailable"
    )
    # a request that needs the store gets a clean 503, not a stack trace
    page = web.get("/authorize?client_id=x", headers={"Accept": "application/json"})
    assert page.status_code in (400, 503)
