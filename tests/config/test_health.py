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
    app = _app(tmp_path)
    web = app.test_client()
    assert web.get("/healthz").get_json() == {"status": "ok"}
    assert (
        web.get("/readyz").status_code == 503
    )  # no signing keys yet: `huren db upgrade` makes them
    app.extensions["huren.idp"].keys.ensure()
    ready = web.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"] == {
        "database": "ok",
        "ephemeral_store": "ok",
        "signing_keys": "ok",
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


def test_not_ready_when_the_master_secret_cannot_open_the_keys(tmp_path: Path) -> None:
    import base64
    import os

    app = _app(tmp_path)
    app.extensions["huren.idp"].keys.ensure()
    other = base64.urlsafe_b64encode(os.urandom(32)).decode()
    wrong = _app(tmp_path, secret_key=other).test_client()
    ready = wrong.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["signing_keys"].startswith(
        "unavailable"
    )
