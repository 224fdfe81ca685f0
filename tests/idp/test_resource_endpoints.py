"""userinfo, introspection (RFC 7662), revocation (RFC 7009), discovery and JWKS."""

from __future__ import annotations

from idp.clients import NewClient, create_client
from idp.service import Idp

from .conftest import ISSUER, REDIRECT, Flow, basic


def introspect(web, client: NewClient, token: str, hint: str | None = None):
    data = {"token": token}
    if hint:
        data["token_type_hint"] = hint
    return web.post("/introspect", data=data, headers=basic(client))


def revoke(web, client: NewClient, token: str, hint: str | None = None):
    data = {"token": token}
    if hint:
        data["token_type_hint"] = hint
    return web.post("/revoke", data=data, headers=basic(client))


def test_discovery_document(web) -> None:
    doc = web.get("/.well-known/openid-configuration").get_json()
    assert doc["issuer"] == ISSUER
    for name in (
        "authorization",
        "token",
        "userinfo",
        "introspection",
        "revocation",
        "end_session",
    ):
        assert doc[f"{name}_endpoint"].startswith(ISSUER + "/")
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "RS256" in doc["id_token_signing_alg_values_supported"]
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    }


def test_jwks_publishes_rs256_and_es256_public_keys_only(web) -> None:
    keys = web.get("/jwks").get_json()["keys"]
    assert {k["alg"] for k in keys} == {"RS256", "ES256"}
    for key in keys:
        assert "d" not in key and key["use"] == "sig" and key["kid"]


def test_userinfo_get_and_post(flow: Flow, web) -> None:
    token = flow.tokens(scope="openid profile email phone")["access_token"]
    got = web.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200
    info = got.get_json()
    assert info["name"] == "张三" and info["email"] == "alice@example.cn"
    assert info["phone_number"] == "13800000001" and info["preferred_username"] == "alice"
    posted = web.post("/userinfo", data={"access_token": token})
    assert posted.get_json() == info


def test_userinfo_scopes_limit_claims(flow: Flow, web) -> None:
    token = flow.tokens(scope="openid")["access_token"]
    info = web.get("/userinfo", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert set(info) == {"sub"}


def test_userinfo_refuses_bad_tokens(web, idp: Idp) -> None:
    for header in (
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer a.b.c"},
        {"Authorization": "Bearer " + "x" * 9000},
        {"Authorization": "Basic abc"},
    ):
        response = web.get("/userinfo", headers=header)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_userinfo_needs_openid_scope(web, idp: Idp, user) -> None:
    token, _ = idp.tokens.issue_access_token(client_id="c", sub=user.id, scope="api", grant_id="g1")
    response = web.get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert (
        response.status_code == 403 and "insufficient_scope" in response.headers["WWW-Authenticate"]
    )


def test_userinfo_refuses_an_id_token_as_access_token(flow: Flow, web) -> None:
    id_token = flow.tokens()["id_token"]
    assert web.get("/userinfo", headers={"Authorization": f"Bearer {id_token}"}).status_code == 401


def test_introspection_before_and_after_revocation(flow: Flow, web) -> None:
    tokens = flow.tokens()
    active = introspect(web, flow.client, tokens["access_token"]).get_json()
    assert active["active"] is True and active["client_id"] == flow.client.client.client_id
    assert active["username"] == "alice" and "openid" in active["scope"]
    assert revoke(web, flow.client, tokens["access_token"]).status_code == 200
    assert introspect(web, flow.client, tokens["access_token"]).get_json() == {"active": False}
    refresh = introspect(web, flow.client, tokens["refresh_token"], "refresh_token").get_json()
    assert refresh["active"] is True and refresh["token_type"] == "refresh_token"
    assert revoke(web, flow.client, tokens["refresh_token"], "refresh_token").status_code == 200
    assert introspect(web, flow.client, tokens["refresh_token"]).get_json() == {"active": False}


def test_revoking_a_refresh_token_revokes_its_access_tokens(flow: Flow, web) -> None:
    tokens = flow.tokens()
    revoke(web, flow.client, tokens["refresh_token"])
    assert introspect(web, flow.client, tokens["access_token"]).get_json() == {"active": False}


def test_introspection_hides_other_clients_tokens_and_needs_auth(flow: Flow, web, idp: Idp) -> None:
    tokens = flow.tokens()
    other = create_client(idp.sessions, name="other", redirect_uris=[REDIRECT])
    assert introspect(web, other, tokens["access_token"]).get_json() == {"active": False}
    # another client's revocation request is accepted but does nothing (RFC 7009 §2.1)
    assert revoke(web, other, tokens["access_token"]).status_code == 200
    assert introspect(web, flow.client, tokens["access_token"]).get_json()["active"] is True
    response = web.post("/introspect", data={"token": tokens["access_token"]})
    assert response.status_code in (400, 401) and response.get_json()["error"] == "invalid_client"


def test_introspection_and_revocation_input_errors(flow: Flow, web) -> None:
    assert (
        web.post("/introspect", data={}, headers=basic(flow.client)).get_json()["error"]
        == "invalid_request"
    )
    assert (
        web.post("/revoke", data={}, headers=basic(flow.client)).get_json()["error"]
        == "invalid_request"
    )
    bad_hint = web.post(
        "/revoke", data={"token": "x", "token_type_hint": "bogus"}, headers=basic(flow.client)
    )
    assert bad_hint.get_json()["error"] == "unsupported_token_type"
    as_json = web.post("/introspect", json={"token": "x"}, headers=basic(flow.client))
    assert as_json.status_code == 400 and as_json.get_json()["error"] == "invalid_request"
    assert introspect(web, flow.client, "garbage").get_json() == {"active": False}
    assert revoke(web, flow.client, "garbage").status_code == 200


def test_unknown_paths_get_json_or_html_errors(web) -> None:
    api = web.get("/token/nope")
    assert api.status_code == 404 and api.get_json()["error"] == "not_found"
    page = web.get("/nope", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "text/html" in page.headers["Content-Type"]


def test_token_type_hint_only_orders_the_search(flow: Flow, web) -> None:
    tokens = flow.tokens()
    assert introspect(web, flow.client, tokens["access_token"], "refresh_token").get_json()[
        "active"
    ]
    assert introspect(web, flow.client, tokens["refresh_token"], "access_token").get_json()[
        "active"
    ]
    revoke(web, flow.client, tokens["access_token"], "refresh_token")
    assert introspect(web, flow.client, tokens["access_token"]).get_json() == {"active": False}


def test_trusted_clients_see_only_their_own_tokens_too(flow: Flow, web, idp: Idp) -> None:
    tokens = flow.tokens()
    trusted = create_client(idp.sessions, name="trusted", redirect_uris=[REDIRECT], trusted=True)
    assert introspect(web, trusted, tokens["access_token"]).get_json() == {"active": False}
