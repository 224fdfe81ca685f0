"""Fixtures for the identity provider: a real app on each storage backend, and flow helpers."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config.app import create_app
from config.runtime import MIGRATION_LOCATIONS
from config.settings import Settings
from idp.accounts import User, create_user
from idp.clients import NewClient, create_client
from idp.service import Idp
from storage.migrate import upgrade
from tests.conftest import postgresql_schema

ISSUER = "http://127.0.0.1:8000"
REDIRECT = "https://rp.example.cn/cb"
PASSWORD = "correct-horse-9"


@pytest.fixture(params=["sqlite+sqlstore", "postgresql+redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[dict[str, Any]]:
    """SQLite with the embedded store, and PostgreSQL with Redis (when the CI servers are set)."""
    if request.param == "sqlite+sqlstore":
        yield {"database_url": f"sqlite:///{tmp_path}/huren.db", "redis_url": None}
        return
    pg = os.environ.get("HUREN_TEST_DATABASE_URL")
    redis_url = os.environ.get("HUREN_TEST_REDIS_URL")
    if not pg or not redis_url:
        pytest.skip("HUREN_TEST_DATABASE_URL / HUREN_TEST_REDIS_URL not set")
    with postgresql_schema(pg) as url:
        yield {"database_url": url, "redis_url": redis_url}


@pytest.fixture
def settings(backend: dict[str, Any], tmp_path: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": str(tmp_path / "data"),
        "issuer": ISSUER,
        "database_url": backend["database_url"],
        "login_max_failures": 3,
        "login_window": 60,
        "login_lockout": 120,
    }
    if backend["redis_url"]:
        values["redis_url"] = backend["redis_url"]
        values["redis_prefix"] = f"huren-test-{uuid.uuid4().hex}:"
    return Settings.from_values(values)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    upgrade(settings.database_url, MIGRATION_LOCATIONS)
    app = create_app(settings)
    app.config["TESTING"] = True
    idp: Idp = app.extensions["huren.idp"]
    idp.keys.ensure()
    yield app
    if settings.redis_url:
        import redis

        conn = redis.Redis.from_url(settings.redis_url)
        for key in conn.scan_iter(f"{settings.redis_prefix}*"):
            conn.delete(key)
        conn.close()
    app.extensions["huren.engine"].dispose()


@pytest.fixture
def idp(app: Flask) -> Idp:
    return app.extensions["huren.idp"]  # type: ignore[no-any-return]


@pytest.fixture
def web(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def user(idp: Idp) -> User:
    return create_user(
        idp.sessions,
        username="alice",
        password=PASSWORD,
        name="张三",
        phone="13800000001",
        email="alice@example.cn",
        pii=idp.pii,
    )


@pytest.fixture
def rp(idp: Idp) -> NewClient:
    return create_client(
        idp.sessions,
        name="Trading platform A",
        redirect_uris=[REDIRECT],
        post_logout_redirect_uris=["https://rp.example.cn/bye"],
    )


@pytest.fixture
def trusted_rp(idp: Idp) -> NewClient:
    return create_client(
        idp.sessions, name="Province platform", redirect_uris=[REDIRECT], trusted=True
    )


def basic(client: NewClient) -> dict[str, str]:
    raw = f"{client.client.client_id}:{client.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


def form_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} in page"
    return match.group(1)


def query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class Flow:
    """Drives a browser through /authorize, login and consent with the Flask test client."""

    web: FlaskClient
    client: NewClient
    verifier: str = ""

    def authorize(self, **extra: str) -> Any:
        self.verifier, challenge = pkce()
        params = {
            "response_type": "code",
            "client_id": self.client.client.client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid profile email phone",
            "state": "s-" + secrets.token_hex(4),
            "nonce": "n-" + secrets.token_hex(4),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(extra)
        params = {k: v for k, v in params.items() if v is not None}
        return self.web.get("/authorize", query_string=params)

    def login(self, response: Any, username: str = "alice", password: str = PASSWORD) -> Any:
        assert response.status_code == 302 and "/login" in response.headers["Location"], (
            response.data
        )
        page = self.web.get(response.headers["Location"])
        html = page.get_data(as_text=True)
        return self.web.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": form_value(html, "csrf_token"),
                "rid": form_value(html, "rid"),
            },
        )

    def follow(self, response: Any) -> Any:
        """Follow redirects inside the provider until one leaves it (to the RP) or a page shows."""
        while response.status_code == 302 and response.headers["Location"].startswith("/"):
            location = response.headers["Location"]
            if location.startswith("/consent"):
                page = self.web.get(location)
                html = page.get_data(as_text=True)
                response = self.web.post(
                    "/consent",
                    data={
                        "rid": form_value(html, "rid"),
                        "csrf_token": form_value(html, "csrf_token"),
                        "decision": "allow",
                    },
                )
                continue
            if location.startswith("/login"):
                return response
            response = self.web.get(location)
        return response

    def code(self, **extra: str) -> tuple[str, dict[str, str]]:
        """Log in if needed and return (code, redirect params)."""
        response = self.authorize(**extra)
        if response.status_code == 302 and response.headers["Location"].startswith("/login"):
            response = self.login(response)
        response = self.follow(response)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        params = query(response.headers["Location"])
        assert "code" in params, params
        return params["code"], params

    def exchange(self, code: str, verifier: str | None = None) -> Any:
        return self.web.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": verifier or self.verifier,
            },
            headers=basic(self.client),
        )

    def tokens(self, **extra: str) -> dict[str, Any]:
        code, _ = self.code(**extra)
        response = self.exchange(code)
        assert response.status_code == 200, response.get_json()
        return response.get_json()  # type: ignore[no-any-return]


@pytest.fixture
def flow(web: FlaskClient, rp: NewClient, user: User) -> Flow:
    return Flow(web, rp)
