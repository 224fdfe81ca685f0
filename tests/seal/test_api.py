"""/api/v1/seals: lookup and picture for client-credentials callers; errors; OpenAPI."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cert_interop.truststore import TrustStore
from idp.clients import NewClient, create_client
from idp.service import Idp
from seal.records import service
from seal.records.making import sign_draft
from tests.idp.conftest import basic

from .conftest import PNG, Directory, KeyMaker, Pki


@pytest.fixture
def seal_id(app: Flask, idp: Idp, pki: Pki, directory: Directory) -> str:
    store: TrustStore = app.extensions["huren.trust_store"]
    store.add(pki.sm2.cert.pem(), profile="default", name=pki.sm2.name)
    store.upload_crl(pki.sm2.crl())
    view = service.make(
        idp.sessions,
        directory,
        store,
        KeyMaker(pki.sm2.key, pki.sm2.cert),
        sign_draft,
        service.SealRequest(
            entity_id="e-verified",
            seal_type="contract",
            name="测试投标有限公司合同专用章",
            picture=PNG,
            certificates=[pki.sm2.issue().cert],
        ),
        actor="tester",
        activate=True,
    )
    return view.id


def bearer(web: FlaskClient, client: NewClient, scope: str) -> dict[str, str]:
    resp = web.post(
        "/token", data={"grant_type": "client_credentials", "scope": scope}, headers=basic(client)
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {"Authorization": "Bearer " + resp.get_json()["access_token"]}


@pytest.fixture
def caller(idp: Idp) -> NewClient:
    return create_client(
        idp.sessions,
        name="交易系统",
        grant_types=["client_credentials"],
        scopes=["seal:read", "crypto:verify"],
    )


def test_lookup_and_picture(web: FlaskClient, caller: NewClient, seal_id: str) -> None:
    auth = bearer(web, caller, "seal:read")
    resp = web.get(f"/api/v1/seals/{seal_id}", headers=auth)
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
    body = resp.get_json()
    assert body["seal_id"] == seal_id and body["status"] == "active" and body["usable"] is True
    assert body["type_name"] == "合同专用章" and body["certificates"][0]["key_algorithm"] == "sm2"
    picture = web.get(f"/api/v1/seals/{seal_id}/picture", headers=auth)
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert picture.data == PNG


def test_refusals(web: FlaskClient, caller: NewClient, seal_id: str) -> None:
    missing = web.get(f"/api/v1/seals/{seal_id}")
    assert missing.status_code == 401 and missing.get_json()["error"] == "invalid_token"
    wrong_scope = web.get(f"/api/v1/seals/{seal_id}", headers=bearer(web, caller, "crypto:verify"))
    assert wrong_scope.status_code == 403
    assert wrong_scope.get_json()["error"] == "insufficient_scope"
    auth = bearer(web, caller, "seal:read")
    unknown = web.get("/api/v1/seals/5200000000000", headers=auth)
    body = unknown.get_json()
    assert unknown.status_code == 404 and body["error"] == "seal_not_found"
    assert body["message_zh"] and body["message_en"]
    assert web.get("/api/v1/seals/5200000000000/picture", headers=auth).status_code == 404


def test_openapi_documents_the_seal_paths(web: FlaskClient) -> None:
    doc = web.get("/api/v1/openapi.json").get_json()
    assert {"/seals/{seal_id}", "/seals/{seal_id}/picture"} <= set(doc["paths"])
    scopes = doc["components"]["securitySchemes"]["bearer"]["flows"]["clientCredentials"]["scopes"]
    assert "seal:read" in scopes
