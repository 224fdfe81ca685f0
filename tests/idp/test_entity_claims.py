"""What trading platforms receive about the market entity (§6.3.2 b): the `entity` scope for
everyone, `identity` (a natural person's ID number) only for clients granted it, in userinfo and,
asked one by one, in the ID token."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from idp.clients import DEFAULT_SCOPES, NewClient, create_client
from idp.entities import service as entities
from idp.service import Idp
from tests.idp.conftest import PASSWORD, REDIRECT, Flow

ID_NUMBER = "11010519491231002X"
USCC = "91350100M000100Y43"


@pytest.fixture
def person(idp: Idp) -> Any:
    return entities.register(
        idp.sessions,
        idp.pii,
        entity_type="natural_person",
        name="张三",
        username="zhangsan",
        password=PASSWORD,
        phone="138 0000 0002",
        id_type="resident_id",
        id_number=ID_NUMBER,
    )


@pytest.fixture
def company(idp: Idp) -> Any:
    return entities.register(
        idp.sessions,
        idp.pii,
        entity_type="legal_person",
        name="测试投标有限公司",
        username="bidco",
        password=PASSWORD,
        phone="13800000003",
        uscc=USCC,
        agent_name="李四",
    )


def client(idp: Idp, *, identity: bool) -> NewClient:
    scopes = [*DEFAULT_SCOPES, "identity"] if identity else list(DEFAULT_SCOPES)
    return create_client(idp.sessions, name="platform", redirect_uris=[REDIRECT], scopes=scopes)


def login(web: FlaskClient, rp: NewClient, username: str, **extra: str) -> dict[str, Any]:
    flow = Flow(web, rp)
    response = flow.authorize(**extra)
    response = flow.follow(flow.login(response, username=username))
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    code = dict(p.split("=", 1) for p in response.headers["Location"].split("?", 1)[1].split("&"))
    tokens = flow.exchange(code["code"])
    assert tokens.status_code == 200, tokens.get_json()
    return tokens.get_json()  # type: ignore[no-any-return]


def userinfo(web: FlaskClient, tokens: dict[str, Any]) -> dict[str, Any]:
    resp = web.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert resp.status_code == 200
    return resp.get_json()  # type: ignore[no-any-return]


def id_token(tokens: dict[str, Any]) -> dict[str, Any]:
    payload = tokens["id_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def test_natural_person_with_identity(web: FlaskClient, idp: Idp, person: Any) -> None:
    tokens = login(
        web, client(idp, identity=True), "zhangsan", scope="openid entity identity phone"
    )
    claims = userinfo(web, tokens)
    assert claims["entity_id"] == person.id and claims["entity_type"] == "natural_person"
    assert claims["entity_name"] == "张三" and claims["entity_status"] == "pending"
    assert (claims["id_type"], claims["id_number"]) == ("resident_id", ID_NUMBER)
    assert claims["phone_number"] == "13800000002" and claims["phone_number_verified"] is False
    assert "uscc" not in claims and "agent_name" not in claims


def test_identity_never_reaches_a_client_without_the_scope(
    web: FlaskClient, idp: Idp, person: Any
) -> None:
    asked = json.dumps(
        {"userinfo": {"id_number": None}, "id_token": {"id_number": None, "entity_name": None}}
    )
    tokens = login(
        web, client(idp, identity=False), "zhangsan", scope="openid entity identity", claims=asked
    )
    assert "identity" not in tokens["scope"].split()
    claims = userinfo(web, tokens)
    assert claims["entity_id"] == person.id
    assert "id_number" not in claims and "id_type" not in claims
    token = id_token(tokens)
    assert token["entity_name"] == "张三" and "id_number" not in token
    assert ID_NUMBER not in json.dumps(claims) + json.dumps(token)


def test_identity_claim_in_id_token_when_granted(web: FlaskClient, idp: Idp, person: Any) -> None:
    asked = json.dumps({"id_token": {"id_number": None, "entity_id": None}})
    tokens = login(
        web, client(idp, identity=True), "zhangsan", scope="openid identity", claims=asked
    )
    token = id_token(tokens)
    assert token["id_number"] == ID_NUMBER and token["entity_id"] == person.id


def test_legal_person_claims(web: FlaskClient, idp: Idp, company: Any) -> None:
    tokens = login(web, client(idp, identity=True), "bidco", scope="openid entity identity")
    claims = userinfo(web, tokens)
    assert claims["entity_type"] == "legal_person" and claims["uscc"] == USCC
    assert claims["agent_name"] == "李四" and claims["entity_name"] == "测试投标有限公司"
    assert "id_number" not in claims


def test_account_without_entity_gets_no_entity_claims(
    web: FlaskClient, idp: Idp, user: Any
) -> None:
    tokens = login(web, client(idp, identity=True), "alice", scope="openid entity identity")
    claims = userinfo(web, tokens)
    assert not {"entity_id", "entity_type", "id_number"} & set(claims)


def test_verdict_shows_in_entity_status(web: FlaskClient, idp: Idp, company: Any) -> None:
    entities.apply_verdict(
        idp.sessions, idp.pii, company.id, "verified", [], actor="operator", note=None
    )
    tokens = login(web, client(idp, identity=False), "bidco", scope="openid entity")
    assert userinfo(web, tokens)["entity_status"] == "verified"


def test_discovery_lists_scopes_and_claims(web: FlaskClient) -> None:
    doc = web.get("/.well-known/openid-configuration").get_json()
    assert {"entity", "identity"} <= set(doc["scopes_supported"])
    assert {
        "entity_id",
        "entity_type",
        "entity_name",
        "uscc",
        "entity_status",
        "agent_name",
        "id_type",
        "id_number",
    } <= set(doc["claims_supported"])


def test_consent_page_names_the_new_scopes(web: FlaskClient, idp: Idp, person: Any) -> None:
    flow = Flow(web, client(idp, identity=True))
    response = flow.login(flow.authorize(scope="openid entity identity"), username="zhangsan")
    while not response.headers["Location"].startswith("/consent"):
        response = web.get(response.headers["Location"])
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "您所代表的市场主体" in page and "证件类型和证件号码" in page


# --- GET /api/v1/entities/{id} (client credentials, entities:read) ------------------------------


def api_token(web: FlaskClient, idp: Idp, scopes: list[str]) -> dict[str, str]:
    from tests.idp.conftest import basic

    svc = create_client(
        idp.sessions, name="platform-api", grant_types=["client_credentials"], scopes=scopes
    )
    resp = web.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": " ".join(scopes)},
        headers=basic(svc),
    )
    assert resp.status_code == 200, resp.get_json()
    return {"Authorization": "Bearer " + resp.get_json()["access_token"]}


def test_entities_api(web: FlaskClient, idp: Idp, company: Any, person: Any) -> None:
    auth = api_token(web, idp, ["entities:read"])
    body = web.get(f"/api/v1/entities/{company.id}", headers=auth).get_json()
    assert body == {
        "entity_id": company.id,
        "entity_type": "legal_person",
        "entity_name": "测试投标有限公司",
        "entity_status": "pending",
        "uscc": USCC,
        "updated_at": int(company.updated_at),
    }
    natural = web.get(f"/api/v1/entities/{person.id}", headers=auth)
    assert natural.status_code == 200 and ID_NUMBER not in natural.get_data(as_text=True)
    assert "1101" not in natural.get_data(as_text=True)


def test_entities_api_refusals(web: FlaskClient, idp: Idp, company: Any) -> None:
    missing = web.get(f"/api/v1/entities/{company.id}")
    assert missing.status_code == 401 and missing.get_json()["error"] == "invalid_token"
    wrong = web.get(f"/api/v1/entities/{company.id}", headers=api_token(web, idp, ["api"]))
    assert wrong.status_code == 403 and wrong.get_json()["error"] == "insufficient_scope"
    assert wrong.get_json()["message_zh"]
    auth = api_token(web, idp, ["entities:read"])
    unknown = web.get("/api/v1/entities/00000000-0000-0000-0000-000000000000", headers=auth)
    assert unknown.status_code == 404 and unknown.get_json()["error"] == "not_found"
    assert web.get("/api/v1/entities/" + "x" * 300, headers=auth).status_code == 404
