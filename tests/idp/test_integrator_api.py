"""The integrator API in the assembled service: provider access tokens (client credentials),
the SQL trust store with online revocation against a real responder, and a platform key opened
from a token URI."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cert_interop import keys, sm2
from cert_interop.pki_cli import DEFAULT_CREDIT_CODE, Hierarchy, write_hierarchy
from cert_interop.revocation.responder import Authority, RevocationResponder
from cert_interop.truststore import TrustStore
from config.app import create_app
from config.runtime import MIGRATION_LOCATIONS
from config.settings import Settings
from idp.clients import NewClient, create_client
from idp.service import Idp
from storage.migrate import upgrade
from tests.idp.conftest import basic

SCOPES = ["crypto:verify", "crypto:sign", "crypto:encrypt", "crypto:decrypt"]


@pytest.fixture(scope="module")
def responder() -> Iterator[RevocationResponder]:
    with RevocationResponder() as r:
        yield r


@pytest.fixture(scope="module")
def pki(
    responder: RevocationResponder, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Hierarchy]:
    out = tmp_path_factory.mktemp("api-sm2")
    h = write_hierarchy(out, alg="sm2", dual=True, base_url=responder.url("pki/sm2"))
    responder.files["/pki/sm2/intermediate.crl"] = h.crl.der
    responder.files["/pki/sm2/root.crl"] = h.root_crl.der
    revoked = {e.serial_number: (e.revocation_date, e.reason) for e in h.crl.revoked}
    inter_key = keys.load_private_key((out / "intermediate.key").read_bytes())
    root_key = keys.load_private_key((out / "root.key").read_bytes())
    responder.authorities += [
        Authority(h.intermediate, h.intermediate, inter_key, revoked),
        Authority(h.root, h.root, root_key),
    ]
    return out, h


@pytest.fixture
def app(settings: Settings, pki: tuple[Path, Hierarchy]) -> Iterator[Flask]:
    out, _h = pki
    uri = f"file:{out / 'leaf-enc.key'}?cert={out / 'leaf-enc.pem'}"
    signer = f"file:{out / 'leaf.key'}?cert={out / 'leaf.pem'}"
    settings = replace(settings, platform_keys=(("bid-opening", uri), ("seal", signer)))
    upgrade(settings.database_url, MIGRATION_LOCATIONS)
    app = create_app(settings)
    app.config["TESTING"] = True
    app.extensions["huren.idp"].keys.ensure()
    yield app
    app.extensions["huren.engine"].dispose()


@pytest.fixture
def store(app: Flask, pki: tuple[Path, Hierarchy]) -> TrustStore:
    ts: TrustStore = app.extensions["huren.trust_store"]
    _out, h = pki
    ts.add(h.root.pem() + h.intermediate.pem(), profile="gmt0015-2012", revocation_policy="hard")
    return ts


@pytest.fixture
def service(idp: Idp) -> NewClient:
    return create_client(
        idp.sessions, name="bidding system", grant_types=["client_credentials"], scopes=SCOPES
    )


def token(web: FlaskClient, client: NewClient, scope: str) -> dict[str, str]:
    resp = web.post(
        "/token", data={"grant_type": "client_credentials", "scope": scope}, headers=basic(client)
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {"Authorization": "Bearer " + resp.get_json()["access_token"]}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_validate_with_identity_and_ocsp(
    web: FlaskClient,
    service: NewClient,
    store: TrustStore,
    pki: Any,
    responder: RevocationResponder,
) -> None:
    _out, h = pki
    auth = token(web, service, "crypto:verify")
    body = web.post(
        "/api/v1/certificates/validate", json={"certificate": h.leaf.pem().decode()}, headers=auth
    ).get_json()
    assert body["valid"] is True, body
    assert body["revocation_checked"] is True
    assert body["profile"] == "gmt0015-2012" and body["ca"]
    assert body["identity"]["credit_code"] == DEFAULT_CREDIT_CODE
    revoked = web.post(
        "/api/v1/certificates/validate",
        json={"certificate": h.revoked.pem().decode()},
        headers=auth,
    ).get_json()
    assert (revoked["valid"], revoked["reason"]) == (False, "revoked")


def test_unreachable_revocation_hard_and_soft(
    web: FlaskClient,
    service: NewClient,
    store: TrustStore,
    pki: Any,
    responder: RevocationResponder,
) -> None:
    """Each test has its own ephemeral store, so nothing is cached: with the responder failing,
    the hard-fail CA refuses, and once set to soft-fail the answer is valid with a note."""
    _out, h = pki
    auth = token(web, service, "crypto:verify")
    cert = {"certificate": h.leaf.pem().decode()}
    with responder.behaving(http_status=500):
        hard = web.post("/api/v1/certificates/validate", json=cert, headers=auth).get_json()
        assert (hard["valid"], hard["reason"]) == (False, "revocation_unknown")
        assert "hard-fail" in hard["detail"]
        for ca in store.list():
            store.configure(ca.name, revocation_policy="soft")
        soft = web.post("/api/v1/certificates/validate", json=cert, headers=auth).get_json()
        assert soft["valid"] is True and soft["revocation_checked"] is False
        assert soft["notes"] and "soft-fail" in soft["notes"][0]


def test_scope_and_token_checks(
    web: FlaskClient, service: NewClient, store: TrustStore, pki: Any
) -> None:
    verify_only = token(web, service, "crypto:verify")
    resp = web.post(
        "/api/v1/signatures", json={"key": "seal", "data": b64(b"x")}, headers=verify_only
    )
    assert resp.status_code == 403 and resp.get_json()["error"] == "insufficient_scope"
    resp = web.post(
        "/api/v1/certificates/validate", json={}, headers={"Authorization": "Bearer abc.def.ghi"}
    )
    assert resp.status_code == 401 and resp.get_json()["error"] == "invalid_token"
    assert resp.get_json()["message_zh"]


def test_sign_with_platform_key_and_verify(
    web: FlaskClient, service: NewClient, store: TrustStore, pki: Any
) -> None:
    _out, h = pki
    auth = token(web, service, "crypto:sign crypto:verify")
    signed = web.post(
        "/api/v1/signatures", json={"key": "seal", "data": b64("评标报告".encode())}, headers=auth
    ).get_json()
    assert signed["algorithm"] == "sm2-sm3"
    sig = base64.b64decode(signed["signature"])
    assert sm2.verify(h.leaf.public_key, sig, "评标报告".encode())  # type: ignore[arg-type]
    verified = web.post(
        "/api/v1/signatures/verify",
        json={
            "certificate": signed["certificate"],
            "data": b64("评标报告".encode()),
            "signature": signed["signature"],
        },
        headers=auth,
    ).get_json()
    assert (
        verified["valid"] is True
        and verified["certificate"]["identity"]["credit_code"] == DEFAULT_CREDIT_CODE
    )


def test_platform_keys_listed(web: FlaskClient) -> None:
    body = web.get("/api/v1/platform-keys").get_json()
    names = {k["name"]: k for k in body["keys"]}
    assert set(names) == {"bid-opening", "seal"}
    assert "key_encipherment" in names["bid-opening"]["key_usage"]


def test_unavailable_platform_key(settings: Settings, tmp_path: Path) -> None:
    settings = replace(
        settings,
        platform_keys=(
            ("gone", f"file:{tmp_path / 'missing.key'}?cert={tmp_path / 'missing.pem'}"),
        ),
    )
    upgrade(settings.database_url, MIGRATION_LOCATIONS)
    app = create_app(settings)
    try:
        app.extensions["huren.idp"].keys.ensure()
        web = app.test_client()
        client = create_client(
            app.extensions["huren.idp"].sessions,
            name="x",
            grant_types=["client_credentials"],
            scopes=SCOPES,
        )
        auth = token(web, client, "crypto:sign")
        resp = web.post("/api/v1/signatures", json={"data": b64(b"x")}, headers=auth)
        assert resp.status_code == 503 and resp.get_json()["error"] == "key_unavailable"
        listed = web.get("/api/v1/platform-keys").get_json()["keys"]
        assert listed == [{"name": "gone", "available": False, "error": "key_unavailable"}]
        assert "Traceback" not in resp.get_data(as_text=True)
    finally:
        app.extensions["huren.engine"].dispose()
