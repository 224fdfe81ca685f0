"""The token endpoint: refresh rotation and reuse, client credentials, every client authentication
method, and the RFC 6749 §5.2 errors for bad input."""

from __future__ import annotations

import time
import uuid

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from idp.clients import NewClient, create_client
from idp.service import Idp

from .conftest import ISSUER, REDIRECT, Flow, basic


def refresh(web, client: NewClient, token: str):
    return web.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": token},
        headers=basic(client),
    )


def test_refresh_rotates_and_reuse_revokes_the_family(flow: Flow, web) -> None:
    first = flow.tokens()
    second = refresh(web, flow.client, first["refresh_token"])
    assert second.status_code == 200
    second = second.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert "id_token" in second
    # the old refresh token is spent: using it again is reuse, which revokes the whole family
    reused = refresh(web, flow.client, first["refresh_token"])
    assert reused.status_code == 400 and reused.get_json()["error"] == "invalid_grant"
    assert refresh(web, flow.client, second["refresh_token"]).get_json()["error"] == "invalid_grant"
    info = web.get("/userinfo", headers={"Authorization": "Bearer " + second["access_token"]})
    assert info.status_code == 401


def test_refresh_with_narrower_scope_and_refused_wider_scope(flow: Flow, web) -> None:
    tokens = flow.tokens(scope="openid profile")
    narrower = web.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "scope": "openid",
        },
        headers=basic(flow.client),
    )
    assert narrower.status_code == 200 and narrower.get_json()["scope"] == "openid"
    wider = web.post(
        "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": narrower.get_json()["refresh_token"],
            "scope": "openid profile email",
        },
        headers=basic(flow.client),
    )
    assert wider.status_code == 400 and wider.get_json()["error"] == "invalid_scope"


def test_refresh_token_is_bound_to_its_client(flow: Flow, web, idp: Idp) -> None:
    tokens = flow.tokens()
    other = create_client(idp.sessions, name="other", redirect_uris=[REDIRECT])
    response = refresh(web, other, tokens["refresh_token"])
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_unknown_and_expired_refresh_tokens(flow: Flow, web, idp: Idp) -> None:
    assert refresh(web, flow.client, "nope").get_json()["error"] == "invalid_grant"
    assert refresh(web, flow.client, "x" * 5000).get_json()["error"] == "invalid_grant"
    tokens = flow.tokens()
    from sqlalchemy import update

    from idp.models import RefreshToken

    with idp.sessions.begin() as db:
        db.execute(update(RefreshToken).values(expires_at=time.time() - 1))
    assert refresh(web, flow.client, tokens["refresh_token"]).get_json()["error"] == "invalid_grant"


@pytest.fixture
def service(idp: Idp) -> NewClient:
    return create_client(
        idp.sessions, name="integrator", grant_types=["client_credentials"], scopes=["api", "seal"]
    )


def test_client_credentials_with_basic_and_post(web, service: NewClient, idp: Idp) -> None:
    response = web.post(
        "/token", data={"grant_type": "client_credentials", "scope": "api"}, headers=basic(service)
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["scope"] == "api" and "refresh_token" not in body and "id_token" not in body
    claims = jwt.decode(body["access_token"], idp.keys.verification_keys()).claims
    assert (
        claims["sub"] == service.client.client_id
        and claims["client_id"] == service.client.client_id
    )
    assert response.headers["Cache-Control"] == "no-store"
    # client_secret_post is refused for a client registered with client_secret_basic
    response = web.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": service.client.client_id,
            "client_secret": service.client_secret,
        },
    )
    assert response.status_code in (400, 401) and response.get_json()["error"] == "invalid_client"
    post_client = create_client(
        idp.sessions,
        name="post",
        grant_types=["client_credentials"],
        auth_method="client_secret_post",
        scopes=["api"],
    )
    response = web.post(
        "/token",
        data={
            "grant_type": "client_credentials",
            "client_id": post_client.client.client_id,
            "client_secret": post_client.client_secret,
        },
    )
    assert response.status_code == 200 and response.get_json()["scope"] == "api"


def test_client_credentials_refuses_unregistered_scope(web, service: NewClient) -> None:
    response = web.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "api admin"},
        headers=basic(service),
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"


def test_grant_type_not_registered_for_client_is_unauthorized_client(
    web, service: NewClient
) -> None:
    response = web.post(
        "/token",
        data={"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT},
        headers=basic(service),
    )
    assert response.get_json()["error"] == "unauthorized_client"


def test_wrong_secret_and_unknown_client_are_invalid_client(web, service: NewClient) -> None:
    import base64

    for user, secret in ((service.client.client_id, "wrong"), ("nobody", "x"), ("", "")):
        auth = base64.b64encode(f"{user}:{secret}".encode()).decode()
        response = web.post(
            "/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic " + auth},
        )
        assert response.status_code == 401, (user, response.get_json())
        body = response.get_json()
        assert body["error"] == "invalid_client"
        assert body["message_zh"] and body["message_en"]


def test_private_key_jwt(web, idp: Idp) -> None:
    key = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"}, private=True)
    client = create_client(
        idp.sessions,
        name="pkjwt",
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
        scopes=["api"],
        jwks={"keys": [key.as_dict(private=False)]},
    )
    cid = client.client.client_id

    def assertion(**over: object) -> str:
        now = int(time.time())
        claims = {
            "iss": cid,
            "sub": cid,
            "aud": ISSUER + "/token",
            "iat": now,
            "exp": now + 60,
            "jti": uuid.uuid4().hex,
        }
        claims.update(over)
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)

    def call(token: str):
        return web.post(
            "/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": token,
            },
        )

    good = assertion()
    assert call(good).status_code == 200
    assert call(good).get_json()["error"] == "invalid_client"  # replayed jti
    assert call(assertion(aud="https://elsewhere")).get_json()["error"] == "invalid_client"
    assert call(assertion(exp=int(time.time()) - 300)).get_json()["error"] == "invalid_client"
    # valid for a day: refused, so no assertion outlives the memory of its jti
    assert call(assertion(exp=int(time.time()) + 86400)).get_json()["error"] == "invalid_client"
    stranger = RSAKey.generate_key(2048, private=True)
    forged = jwt.encode(
        {"alg": "RS256", "kid": "k1"},
        {
            "iss": cid,
            "sub": cid,
            "aud": ISSUER + "/token",
            "exp": int(time.time()) + 60,
            "jti": uuid.uuid4().hex,
        },
        stranger,
    )
    assert call(forged).get_json()["error"] == "invalid_client"
    assert call("not-a-jwt").get_json()["error"] == "invalid_client"


def test_public_client_uses_pkce_without_secret(web, idp: Idp, user) -> None:
    public = create_client(
        idp.sessions, name="spa", redirect_uris=[REDIRECT], auth_method="none", trusted=True
    )
    assert public.client_secret is None
    f = Flow(web, public)
    code, _ = f.code()
    response = web.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": public.client.client_id,
            "code_verifier": f.verifier,
        },
    )
    assert response.status_code == 200, response.get_json()
    code, _ = f.code()
    missing = web.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": public.client.client_id,
        },
    )
    assert missing.status_code == 400 and missing.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (
            "grant_type=password&username=a&password=b",
            "application/x-www-form-urlencoded",
            "unsupported_grant_type",
        ),
        ("", "application/x-www-form-urlencoded", "unsupported_grant_type"),
        ('{"grant_type": "client_credentials"}', "application/json", "invalid_request"),
        ("{not json", "application/json", "invalid_request"),
        ("grant_type=client_credentials", "text/plain", "invalid_request"),
        (
            "grant_type=authorization_code&redirect_uri=x",
            "application/x-www-form-urlencoded",
            "invalid_request",
        ),
    ],
)
def test_malformed_token_requests_get_rfc_errors(
    web, service: NewClient, body: str, content_type: str, error: str
) -> None:
    response = web.post("/token", data=body, content_type=content_type, headers=basic(service))
    assert 400 <= response.status_code < 500
    payload = response.get_json()
    if error == "invalid_request" and payload["error"] == "unauthorized_client":
        return  # the client may not use the code grant: also a correct refusal
    assert payload["error"] == error


def test_oversized_request_is_413_json(web, service: NewClient) -> None:
    response = web.post(
        "/token",
        data="grant_type=client_credentials&x=" + "a" * 200_000,
        content_type="application/x-www-form-urlencoded",
        headers=basic(service),
    )
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_too_large"


def test_token_endpoint_rejects_get(web) -> None:
    response = web.get("/token")
    assert response.status_code == 405 and response.get_json()["error"] == "method_not_allowed"


def test_client_credentials_token_cannot_read_a_users_userinfo(web, idp: Idp, user) -> None:
    impostor = create_client(
        idp.sessions,
        name="impostor",
        grant_types=["client_credentials"],
        client_id=user.id,
        scopes=["openid", "profile", "api"],
    )
    response = web.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "openid"},
        headers=basic(impostor),
    )
    assert response.get_json()["error"] == "invalid_scope"
    token = web.post(
        "/token", data={"grant_type": "client_credentials"}, headers=basic(impostor)
    ).get_json()
    assert token["scope"] == "api"
    forged, _ = idp.tokens.issue_access_token(
        client_id=user.id, sub=user.id, scope="openid profile"
    )
    assert web.get("/userinfo", headers={"Authorization": f"Bearer {forged}"}).status_code == 401


def test_every_oauth_error_has_a_description(web) -> None:
    body = web.post("/token", data={"grant_type": "nope"}).get_json()
    assert body["error"] == "unsupported_grant_type"
    assert body["error_description"] and body["message_zh"] and body["message_en"]
