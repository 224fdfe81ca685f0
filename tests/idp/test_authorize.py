"""The authorization endpoint: redirect-URI safety, PKCE, prompt/max_age/id_token_hint, consent."""

from __future__ import annotations

import json
import time

from joserfc import jwt

from idp.clients import NewClient
from idp.service import Idp

from .conftest import ISSUER, REDIRECT, Flow, basic, form_value, query


def _id_token(idp: Idp, token: str) -> dict:
    return dict(jwt.decode(token, idp.keys.verification_keys()).claims)


def test_code_flow_returns_state_iss_and_a_valid_id_token(
    flow: Flow, idp: Idp, rp: NewClient
) -> None:
    code, params = flow.code(state="xyz", nonce="n-123")
    assert params["state"] == "xyz"
    assert params["iss"] == ISSUER
    tokens = flow.exchange(code).get_json()
    claims = _id_token(idp, tokens["id_token"])
    assert claims["iss"] == ISSUER
    assert claims["aud"] == rp.client.client_id
    assert claims["nonce"] == "n-123"
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == "urn:huren:loa:1"
    assert abs(claims["auth_time"] - time.time()) < 30
    assert "at_hash" in claims and "sid" in claims
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]


def test_access_token_is_an_rfc9068_jwt(flow: Flow, idp: Idp, rp: NewClient) -> None:
    tokens = flow.tokens()
    decoded = jwt.decode(tokens["access_token"], idp.keys.verification_keys())
    assert decoded.header["typ"] == "at+jwt"
    for claim in ("iss", "exp", "aud", "sub", "client_id", "iat", "jti"):
        assert claim in decoded.claims
    assert decoded.claims["client_id"] == rp.client.client_id


def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(flow: Flow) -> None:
    for uri in ("https://evil.example/cb", REDIRECT + "/", REDIRECT + "?x=1", REDIRECT.upper()):
        response = flow.authorize(redirect_uri=uri)
        assert response.status_code == 400
        assert "Location" not in response.headers
        assert "unregistered_redirect_uri" in response.get_data(as_text=True)


def test_missing_or_unknown_client_gets_an_error_page(flow: Flow) -> None:
    for client_id in ("", "nope", "x" * 500):
        response = flow.authorize(client_id=client_id)
        assert response.status_code == 400 and "Location" not in response.headers


def test_missing_redirect_uri_is_an_error_page(flow: Flow) -> None:
    response = flow.authorize(redirect_uri=None)
    assert response.status_code == 400 and "Location" not in response.headers


def test_pkce_is_required_and_plain_is_refused(flow: Flow) -> None:
    for extra in (
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},
    ):
        response = flow.authorize(**extra)
        assert response.status_code == 302
        params = query(response.headers["Location"])
        assert params["error"] == "invalid_request", params
        assert params["iss"] == ISSUER


def test_wrong_code_verifier_is_invalid_grant(flow: Flow) -> None:
    code, _ = flow.code()
    response = flow.exchange(code, verifier="w" * 50)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_grant"


def test_code_reuse_is_refused_and_revokes_the_first_tokens(flow: Flow, web) -> None:
    code, _ = flow.code()
    first = flow.exchange(code)
    assert first.status_code == 200
    tokens = first.get_json()
    again = flow.exchange(code)
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_grant"
    info = web.get("/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert info.status_code == 401
    refreshed = web.post(
        "/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers=basic(flow.client),
    )
    assert refreshed.status_code == 400 and refreshed.get_json()["error"] == "invalid_grant"


def test_code_is_bound_to_its_redirect_uri_and_client(flow: Flow, web, idp: Idp) -> None:
    from idp.clients import create_client

    other = create_client(idp.sessions, name="other", redirect_uris=[REDIRECT])
    code, _ = flow.code()
    response = web.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": flow.verifier,
        },
        headers=basic(other),
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"
    code, _ = flow.code()
    response = web.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT + "x",
            "code_verifier": flow.verifier,
        },
        headers=basic(flow.client),
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_expired_code_is_refused(flow: Flow, idp: Idp, monkeypatch) -> None:
    code, _ = flow.code()
    from idp.tokens import token_hash

    idp.store.delete(f"code:{token_hash(code)}")  # what expiry does
    response = flow.exchange(code)
    assert response.get_json()["error"] == "invalid_grant"


def test_prompt_none_without_session_is_login_required(flow: Flow) -> None:
    response = flow.authorize(prompt="none", state="s1")
    params = query(response.headers["Location"])
    assert params["error"] == "login_required" and params["state"] == "s1"
    assert response.headers["Location"].startswith(REDIRECT)


def test_prompt_none_with_session_succeeds_silently(flow: Flow) -> None:
    flow.code()
    response = flow.authorize(prompt="none")
    assert response.status_code == 302
    assert "code" in query(response.headers["Location"])


def test_prompt_none_combined_with_other_values_is_invalid(flow: Flow) -> None:
    response = flow.authorize(prompt="none login")
    assert query(response.headers["Location"])["error"] == "invalid_request"


def test_prompt_login_forces_reauthentication_and_auth_time_advances(flow: Flow, idp: Idp) -> None:
    first = _id_token(idp, flow.tokens()["id_token"])
    time.sleep(1.1)
    response = flow.authorize(prompt="login")
    assert "/login" in response.headers["Location"]
    response = flow.follow(flow.login(response))
    code = query(response.headers["Location"])["code"]
    second = _id_token(idp, flow.exchange(code).get_json()["id_token"])
    assert second["auth_time"] > first["auth_time"]


def test_max_age_zero_forces_login(flow: Flow) -> None:
    flow.code()
    time.sleep(1.1)
    response = flow.authorize(max_age="0")
    assert "/login" in response.headers["Location"]


def test_max_age_must_be_a_number(flow: Flow) -> None:
    response = flow.authorize(max_age="soon")
    assert query(response.headers["Location"])["error"] == "invalid_request"


def test_id_token_hint_for_the_logged_in_user_allows_prompt_none(flow: Flow) -> None:
    tokens = flow.tokens()
    response = flow.authorize(prompt="none", id_token_hint=tokens["id_token"])
    assert "code" in query(response.headers["Location"])


def test_id_token_hint_that_is_not_ours_is_refused(flow: Flow) -> None:
    response = flow.authorize(prompt="none", id_token_hint="a.b.c")
    assert query(response.headers["Location"])["error"] == "invalid_request"


def test_unknown_parameters_are_ignored(flow: Flow) -> None:
    code, _ = flow.code(foo="bar", vendor_x="1")
    assert flow.exchange(code).status_code == 200


def test_claims_parameter_with_essential_claims(flow: Flow, idp: Idp, web) -> None:
    claims = {
        "id_token": {"email": {"essential": True}, "name": None},
        "userinfo": {"phone_number": {"essential": True}},
    }
    tokens = flow.tokens(claims=json.dumps(claims), scope="openid")
    id_claims = _id_token(idp, tokens["id_token"])
    assert id_claims["email"] == "alice@example.cn" and id_claims["name"] == "张三"
    info = web.get(
        "/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}
    ).get_json()
    assert info["phone_number"] == "13800000001"
    assert "email" not in info  # not in scope and not asked for at userinfo


def test_malformed_claims_parameter_is_invalid_request(flow: Flow) -> None:
    for bad in ("{not json", "[]", '{"id_token": 5}', '{"userinfo": {"email": 1}}'):
        response = flow.authorize(claims=bad)
        assert query(response.headers["Location"])["error"] == "invalid_request", bad


def test_request_objects_are_refused_with_the_named_error(flow: Flow) -> None:
    assert (
        query(flow.authorize(request="x.y.z").headers["Location"])["error"]
        == "request_not_supported"
    )
    assert (
        query(flow.authorize(request_uri="https://x").headers["Location"])["error"]
        == "request_uri_not_supported"
    )


def test_unsupported_response_type_redirects_with_error(flow: Flow) -> None:
    response = flow.authorize(response_type="token")
    assert query(response.headers["Location"])["error"] == "unsupported_response_type"


def test_consent_is_remembered_per_client_and_scope(flow: Flow) -> None:
    flow.code(scope="openid profile")
    response = flow.authorize(scope="openid profile")
    assert "code" in query(response.headers["Location"])  # remembered, no page
    response = flow.authorize(scope="openid profile email")
    assert response.headers["Location"].startswith("/consent")  # wider scope asks again
    response = flow.authorize(scope="openid", prompt="consent")
    assert response.headers["Location"].startswith("/consent")


def test_denied_consent_redirects_with_access_denied(flow: Flow, web) -> None:
    response = flow.login(flow.authorize(state="st"))
    response = web.get(response.headers["Location"])
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    response = web.post(
        "/consent",
        data={
            "rid": form_value(page, "rid"),
            "csrf_token": form_value(page, "csrf_token"),
            "decision": "deny",
        },
    )
    params = query(response.headers["Location"])
    assert params["error"] == "access_denied" and params["state"] == "st"


def test_prompt_none_without_consent_is_consent_required(
    flow: Flow, web, idp: Idp, rp: NewClient
) -> None:
    from idp.clients import create_client

    flow.code()
    other = create_client(idp.sessions, name="B", redirect_uris=[REDIRECT])
    flow.client = other
    response = flow.authorize(prompt="none")
    assert query(response.headers["Location"])["error"] == "consent_required"


def test_trusted_client_skips_consent(web, trusted_rp: NewClient, user) -> None:
    f = Flow(web, trusted_rp)
    response = f.follow(f.login(f.authorize()))
    assert response.headers["Location"].startswith(REDIRECT)
    assert "code" in query(response.headers["Location"])


def test_authorization_request_is_single_use(flow: Flow, web) -> None:
    response = flow.login(flow.authorize())
    cont = response.headers["Location"]
    web.get(cont)  # to consent
    page = web.get("/consent?" + cont.split("?", 1)[1]).get_data(as_text=True)
    data = {
        "rid": form_value(page, "rid"),
        "csrf_token": form_value(page, "csrf_token"),
        "decision": "allow",
    }
    assert web.post("/consent", data=data).status_code == 302
    again = web.post("/consent", data=data)
    assert again.status_code == 400 and "request_expired" in again.get_data(as_text=True)


def test_max_age_zero_completes_after_one_login(flow: Flow) -> None:
    flow.code()
    time.sleep(1.1)
    response = flow.follow(flow.login(flow.authorize(max_age="0")))
    assert response.status_code == 302 and "code" in query(response.headers["Location"])


def test_prompt_login_completes_after_one_login(flow: Flow) -> None:
    flow.code()
    response = flow.follow(flow.login(flow.authorize(prompt="login")))
    assert "code" in query(response.headers["Location"])


def test_claims_parameter_is_limited_to_registered_scopes_and_asks_consent(
    web, idp: Idp, user
) -> None:
    from idp.clients import create_client

    openid_only = create_client(
        idp.sessions, name="narrow", redirect_uris=[REDIRECT], scopes=["openid"]
    )
    f = Flow(web, openid_only)
    claims = {"id_token": {"email": None, "name": None}, "userinfo": {"phone_number": None}}
    tokens = f.tokens(scope="openid", claims=json.dumps(claims))
    assert not {"email", "name"} & set(_id_token(idp, tokens["id_token"]))
    info = web.get(
        "/userinfo", headers={"Authorization": "Bearer " + tokens["access_token"]}
    ).get_json()
    assert set(info) == {"sub"}
    # a client registered for profile gets the claim, but only after the user consents to profile
    wide = create_client(idp.sessions, name="wide", redirect_uris=[REDIRECT])
    g = Flow(web, wide)
    g.code(scope="openid")  # consent to openid alone
    response = g.authorize(scope="openid", claims=json.dumps({"id_token": {"name": None}}))
    assert response.headers["Location"].startswith("/consent")
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "姓名" in page or "name" in page
