"""A real OpenID Connect relying party (idpyoidc, which Huren itself does not use) against a real
`huren serve` process: discovery, code flow with PKCE, ID token verification against JWKS,
userinfo, refresh rotation, introspection/revocation, logout (RP-initiated and back-channel),
key rotation, and client credentials.

The user's browser is a `requests.Session` that fills in the login and consent forms.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from cryptojwt.key_jar import KeyJar
from e2e_support import BackchannelReceiver, LiveServer
from idpyoidc.client.exception import OidcServiceError
from idpyoidc.client.oauth2.stand_alone_client import StandAloneClient, backchannel_logout
from idpyoidc.exception import MissingSigningKey
from idpyoidc.message.oidc import IdToken
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

REDIRECT_URI = "https://rp.example.cn/callback"
POST_LOGOUT_URI = "https://rp.example.cn/signed-out"
PASSWORD = "Zhengque-Ma-Huren-2024"
HTTP_TIMEOUT = 10
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"

SERVICES = {
    "discovery": {"class": "idpyoidc.client.oidc.provider_info_discovery.ProviderInfoDiscovery"},
    "authorization": {"class": "idpyoidc.client.oidc.authorization.Authorization"},
    "access_token": {"class": "idpyoidc.client.oidc.access_token.AccessToken"},
    "refresh_access_token": {
        "class": "idpyoidc.client.oidc.refresh_access_token.RefreshAccessToken"
    },
    "userinfo": {"class": "idpyoidc.client.oidc.userinfo.UserInfo"},
    "end_session": {"class": "idpyoidc.client.oidc.end_session.EndSession"},
    "introspection": {"class": "idpyoidc.client.oauth2.introspection.Introspection"},
    "token_revocation": {"class": "idpyoidc.client.oauth2.token_revocation.TokenRevocation"},
    "client_credentials": {
        "class": "idpyoidc.client.oauth2.client_credentials.CCAccessTokenRequest"
    },
}
PKCE = {
    "pkce": {
        "function": "idpyoidc.client.oauth2.add_on.pkce.add_support",
        "kwargs": {"code_challenge_length": 64, "code_challenge_method": "S256"},
    }
}


# -- helpers -------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jose_header(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    return dict(json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4))))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def jwks_of(server: LiveServer) -> dict[str, Any]:
    response = requests.get(server.url + "/jwks", timeout=HTTP_TIMEOUT)
    assert response.status_code == 200
    return dict(response.json())


def kids(server: LiveServer) -> set[str]:
    return {key["kid"] for key in jwks_of(server)["keys"]}


def verify_id_token_with_fresh_jwks(server: LiveServer, raw: str, client_id: str) -> IdToken:
    """Verify an ID token with idpyoidc against the JWKS the provider publishes right now."""
    keyjar = KeyJar()
    keyjar.import_jwks(jwks_of(server), server.url)
    token = IdToken().from_jwt(raw, keyjar=keyjar)
    token.verify(iss=server.url, client_id=client_id)
    return token


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.25) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class _Forms(HTMLParser):
    """The forms of a page: action, hidden/text fields, submit buttons by id."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": a.get("action", ""), "fields": {}, "buttons": {}})
        elif self.forms and tag == "input" and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value", "")
        elif self.forms and tag == "button" and a.get("name"):
            self.forms[-1]["buttons"][a.get("id", "")] = (a["name"], a.get("value", ""))


def forms_of(html: str) -> list[dict[str, Any]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class UserAgent:
    """A user's browser: follows the provider's redirects and fills in its login/consent forms."""

    def __init__(self, issuer: str) -> None:
        self.issuer = issuer
        self.session = requests.Session()
        self.pages: list[str] = []  # paths of the provider's HTML pages shown to the user

    def _next(self, base: str, response: requests.Response) -> str:
        assert response.is_redirect, (
            f"expected a redirect from {response.request.method} {response.url}, got "
            f"{response.status_code}: {response.text[:500]}"
        )
        return urljoin(base, response.headers["Location"])

    def go(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        decision: str = "allow",
    ) -> str:
        """Open `url`, go on until the provider sends the browser elsewhere; return that URL."""
        for _ in range(12):
            if not url.startswith(self.issuer + "/"):
                return url
            response = self.session.get(url, allow_redirects=False, timeout=HTTP_TIMEOUT)
            if response.is_redirect:
                url = self._next(url, response)
                continue
            assert response.status_code == 200, (
                f"GET {url}: {response.status_code} {response.text[:500]}"
            )
            path = urlsplit(response.url).path
            self.pages.append(path)
            (form,) = forms_of(response.text)
            data = dict(form["fields"])
            if form["action"].endswith("/login"):
                assert username is not None and password is not None, "unexpected login page"
                data.update(username=username, password=password)
            elif form["action"].endswith("/consent"):
                name, value = form["buttons"][decision]
                data[name] = value
            else:
                pytest.fail(f"unexpected form on {path}: {form}")
            target = urljoin(url, form["action"])
            response = self.session.post(
                target, data=data, allow_redirects=False, timeout=HTTP_TIMEOUT
            )
            url = self._next(target, response)
        pytest.fail("too many redirects on the front channel")


def relying_party(
    server: LiveServer, registered: dict[str, Any], auth_method: str = "client_secret_basic"
) -> StandAloneClient:
    """An idpyoidc RP: provider discovery, static registration, PKCE S256."""
    config: dict[str, Any] = {
        "client_type": "oidc",
        "client_id": registered["client_id"],
        "client_secret": registered["client_secret"],
        "redirect_uris": registered["redirect_uris"] or [REDIRECT_URI],
        "provider_info": {"issuer": server.url},  # the rest comes from discovery
        "client_authn_methods": ["client_secret_basic", "client_secret_post", "bearer_header"],
        "preference": {
            "response_types": ["code"],
            "token_endpoint_auth_method": auth_method,
            "id_token_signed_response_alg": "RS256",
        },
        "add_ons": PKCE,
        "services": SERVICES,
    }
    if registered["post_logout_redirect_uris"]:
        config["post_logout_redirect_uris"] = registered["post_logout_redirect_uris"]
    rp = StandAloneClient(config=config, httpc_params={"timeout": HTTP_TIMEOUT})
    assert rp.do_provider_info() == server.url
    rp.do_client_registration()
    return rp


def sign_in(
    rp: StandAloneClient,
    ua: UserAgent,
    user: dict[str, Any],
    scope: str = "openid",
    **extra: str,
) -> dict[str, Any]:
    """Authorization request → login (+ consent) → idpyoidc finalize (token, ID token, userinfo)."""
    request_url = rp.init_authorization(req_args={"scope": scope, **extra})
    redirect = ua.go(request_url, username=user["username"], password=PASSWORD)
    assert redirect.startswith(REDIRECT_URI + "?"), redirect
    response = query_of(redirect)
    result = dict(rp.finalize(response))
    assert "error" not in result, result
    result["request"] = query_of(request_url)
    result["response"] = response
    # a snapshot: idpyoidc updates its session record in place on refresh
    result["session"] = dict(rp.get_session_information(result["state"]))
    return result


def revoke(rp: StandAloneClient, token: str, hint: str) -> requests.Response:
    """RFC 7009 request built (and client-authenticated) by idpyoidc, sent as is.

    idpyoidc's parser refuses the empty 200 body RFC 7009 prescribes, so only the request is its.
    """
    service = rp.get_service("token_revocation")
    info = service.get_request_parameters(
        request_args={"token": token, "token_type_hint": hint}, authn_method="client_secret_basic"
    )
    return requests.request(
        info["method"],
        info["url"],
        data=info["body"],
        headers=info["headers"],
        timeout=HTTP_TIMEOUT,
    )


def introspect(rp: StandAloneClient, token: str, hint: str) -> dict[str, Any]:
    response = rp.do_request(
        "introspection",
        request_args={"token": token, "token_type_hint": hint},
        authn_method="client_secret_basic",
    )
    return dict(response.to_dict())


def userinfo_status(server: LiveServer, access_token: str) -> int:
    response = requests.get(
        server.url + "/userinfo",
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=HTTP_TIMEOUT,
    )
    return response.status_code


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def user(live_server: LiveServer) -> dict[str, Any]:
    username = f"zhang.wei.{uuid.uuid4().hex[:8]}"
    created = live_server.create_user(
        username, PASSWORD, name="张伟", email=f"{username}@example.cn", phone="13912345678"
    )
    return {**created, "username": username}


@pytest.fixture
def ua(live_server: LiveServer) -> UserAgent:
    return UserAgent(live_server.url)


@pytest.fixture(scope="module")
def platform(live_server: LiveServer) -> dict[str, Any]:
    """A trusted platform (no consent page), shared by the tests that need nothing special.

    Each test still makes its own idpyoidc RP and browser, so no session state is shared.
    """
    return new_client(live_server, trusted=True, post_logout_redirect_uri=POST_LOGOUT_URI)


@pytest.fixture(scope="module")
def bystander(live_server: LiveServer) -> dict[str, Any]:
    """Another (untrusted) client, which must not see or touch the platform's tokens."""
    return new_client(live_server)


def new_client(server: LiveServer, **options: Any) -> dict[str, Any]:
    options.setdefault("redirect_uri", REDIRECT_URI)
    return server.create_client(name=f"交易平台 {uuid.uuid4().hex[:6]}", **options)


# -- discovery and the code flow -------------------------------------------------------------


def test_discovery_document(live_server: LiveServer, platform: dict[str, Any]) -> None:
    rp = relying_party(live_server, platform)
    info = rp.get_context().provider_info
    assert info["issuer"] == live_server.url
    assert info["jwks_uri"] == live_server.url + "/jwks"
    assert info["code_challenge_methods_supported"] == ["S256"]
    assert info["authorization_response_iss_parameter_supported"] is True
    assert info["backchannel_logout_supported"] is True
    # idpyoidc loaded the provider's keys from jwks_uri
    assert rp.keyjar.get_issuer_keys(live_server.url)


def test_code_flow_with_pkce_and_verified_id_token(
    live_server: LiveServer, ua: UserAgent, user: dict[str, Any]
) -> None:
    registered = new_client(live_server)
    rp = relying_party(live_server, registered)
    result = sign_in(rp, ua, user, scope="openid profile")

    # the request idpyoidc sent: PKCE S256 and a nonce
    request = result["request"]
    assert request["code_challenge_method"] == "S256"
    verifier = result["session"]["code_verifier"]
    assert request["code_challenge"] == b64url(hashlib.sha256(verifier.encode()).digest())
    # the user saw the login page and (untrusted client) the consent page
    assert ua.pages == ["/login", "/consent"]
    # RFC 9207: the authorization response names the issuer
    assert result["response"]["iss"] == live_server.url
    assert set(result["response"]) == {"code", "state", "iss"}

    # idpyoidc verified signature (JWKS), iss, aud, exp/iat, nonce binding and at_hash;
    # check the values again here so a lax library cannot hide a missing claim
    id_token: IdToken = result["id_token"]
    assert id_token["iss"] == live_server.url
    assert id_token["aud"] == [registered["client_id"]]
    assert id_token["nonce"] == request["nonce"]
    assert id_token["sub"] == user["id"]
    assert id_token["amr"] == ["pwd"]
    assert id_token["sid"]
    access_token = result["session"]["access_token"]
    assert id_token["at_hash"] == b64url(hashlib.sha256(access_token.encode()).digest()[:16])
    raw = result["session"]["id_token"]
    header = jose_header(raw)
    assert header["alg"] == "RS256"
    assert header["kid"] in kids(live_server)
    # and an independent verifier agrees (fresh key jar, only the published JWKS)
    verify_id_token_with_fresh_jwks(live_server, raw, registered["client_id"])

    # the access token is an RFC 9068 JWT
    at_header = jose_header(access_token)
    assert at_header["typ"] == "at+jwt"
    claims = jwt.decode(access_token, KeySet.import_key_set(jwks_of(live_server))).claims
    assert claims["client_id"] == registered["client_id"]
    assert claims["sub"] == user["id"]
    assert claims["iss"] == live_server.url


def test_pkce_is_mandatory_and_checked(
    live_server: LiveServer, ua: UserAgent, user: dict[str, Any], platform: dict[str, Any]
) -> None:
    rp = relying_party(live_server, platform)

    # an authorization request without code_challenge is refused back to the client
    url = rp.init_authorization(req_args={"scope": "openid"})
    stripped = {k: v for k, v in query_of(url).items() if not k.startswith("code_challenge")}
    response = ua.session.get(
        live_server.url + "/authorize", params=stripped, allow_redirects=False, timeout=HTTP_TIMEOUT
    )
    assert response.is_redirect
    error = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(REDIRECT_URI + "?")
    assert error["error"] == "invalid_request"
    assert error["state"] == stripped["state"]
    assert error["iss"] == live_server.url

    # a code redeemed with the wrong code_verifier is refused
    request_url = rp.init_authorization(req_args={"scope": "openid"})
    answer = query_of(ua.go(request_url, username=user["username"], password=PASSWORD))
    rp.finalize_auth(answer)
    rp.get_context().cstate.update(answer["state"], {"code_verifier": secrets.token_urlsafe(48)})
    with pytest.raises(OidcServiceError, match="invalid_grant"):
        rp.get_tokens(answer["state"])


def test_consent_denied_returns_access_denied(
    live_server: LiveServer, ua: UserAgent, user: dict[str, Any]
) -> None:
    rp = relying_party(live_server, new_client(live_server))
    request_url = rp.init_authorization(req_args={"scope": "openid email"})
    redirect = ua.go(request_url, username=user["username"], password=PASSWORD, decision="deny")
    assert ua.pages == ["/login", "/consent"]
    assert redirect.startswith(REDIRECT_URI + "?")
    answer = query_of(redirect)
    assert answer["error"] == "access_denied"
    assert answer["state"] == query_of(request_url)["state"]
    assert answer["iss"] == live_server.url
    assert "code" not in answer
    assert rp.finalize_auth(answer)["error"] == "access_denied"


def test_code_reuse_is_refused_and_revokes_its_tokens(
    live_server: LiveServer, ua: UserAgent, user: dict[str, Any], platform: dict[str, Any]
) -> None:
    registered = platform
    rp = relying_party(live_server, registered)
    result = sign_in(rp, ua, user, scope="openid offline_access")
    session = result["session"]
    replay = requests.post(
        live_server.url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": result["response"]["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": session["code_verifier"],
        },
        auth=(registered["client_id"], registered["client_secret"]),
        timeout=HTTP_TIMEOUT,
    )
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # RFC 6749 §4.1.2: tokens issued from the code are revoked
    assert userinfo_status(live_server, session["access_token"]) == 401
    assert introspect(rp, session["refresh_token"], "refresh_token") == {"active": False}


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("openid", {"sub"}),
        ("openid profile", {"sub", "name", "preferred_username", "updated_at"}),
        ("openid email", {"sub", "email", "email_verified"}),
        ("openid phone", {"sub", "phone_number", "phone_number_verified"}),
        (
            "openid profile email phone",
            {"sub", "name", "preferred_username", "updated_at", "email", "email_verified"}
            | {"phone_number", "phone_number_verified"},
        ),
    ],
)
def test_userinfo_claims_follow_scope(
    live_server: LiveServer,
    ua: UserAgent,
    user: dict[str, Any],
    platform: dict[str, Any],
    scope: str,
    expected: set[str],
) -> None:
    rp = relying_party(live_server, platform)
    result = sign_in(rp, ua, user, scope=scope)
    info = result["userinfo"].to_dict()  # fetched by idpyoidc with the access token
    assert set(info) == expected
    assert info["sub"] == result["id_token"]["sub"] == user["id"]
    if "name" in expected:
        assert info["name"] == "张伟"
        assert info["preferred_username"] == user["username"]
    if "email" in expected:
        assert info["email"] == f"{user['username']}@example.cn"
    if "phone_number" in expected:
        assert info["phone_number"] == "13912345678"


def test_userinfo_refuses_bad_tokens(live_server: LiveServer) -> None:
    response = requests.get(live_server.url + "/userinfo", timeout=HTTP_TIMEOUT)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    response = requests.get(
        live_server.url + "/userinfo",
        headers={"Authorization": "Bearer not.a.token"},
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


# -- refresh tokens --------------------------------------------------------------------------


def test_refresh_rotation_and_reuse_revokes_the_family(
    live_server: LiveServer, ua: UserAgent, user: dict[str, Any], platform: dict[str, Any]
) -> None:
    rp = relying_party(live_server, platform)
    result = sign_in(rp, ua, user, scope="openid profile offline_access")
    state = result["state"]
    first_refresh = result["session"]["refresh_token"]

    # a refresh rotates the refresh token; the new one works in turn
    second = rp.refresh_access_token(state)
    assert second["refresh_token"] != first_refresh
    assert second["access_token"] != result["session"]["access_token"]
    assert second["__verified_id_token"]["sub"] == user["id"]
    third = rp.refresh_access_token(state)
    newest_refresh, newest_access = third["refresh_token"], third["access_token"]
    assert newest_refresh not in (first_refresh, second["refresh_token"])
    assert userinfo_status(live_server, newest_access) == 200

    # replaying a spent refresh token is refused ...
    replay = rp.do_request(
        "refresh_token",
        state=state,
        request_args={"refresh_token": first_refresh},
        authn_method="client_secret_basic",
    )
    assert replay["error"] == "invalid_grant"
    # ... and revokes the whole family: the newest refresh token and access token die too
    after = rp.do_request(
        "refresh_token",
        state=state,
        request_args={"refresh_token": newest_refresh},
        authn_method="client_secret_basic",
    )
    assert after["error"] == "invalid_grant"
    assert userinfo_status(live_server, newest_access) == 401
    assert introspect(rp, newest_access, "access_token") == {"active": False}
    assert introspect(rp, newest_refresh, "refresh_token") == {"active": False}


# -- introspection and revocation -------------------------------------------------------------


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_introspection_before_and_after_revocation(
    live_server: LiveServer,
    ua: UserAgent,
    user: dict[str, Any],
    platform: dict[str, Any],
    bystander: dict[str, Any],
    kind: str,
) -> None:
    registered = platform
    rp = relying_party(live_server, registered)
    other = relying_party(live_server, bystander)
    result = sign_in(rp, ua, user, scope="openid offline_access")
    token = result["session"][kind]

    active = introspect(rp, token, kind)
    assert active["active"] is True
    assert active["client_id"] == registered["client_id"]
    assert active["sub"] == user["id"]
    assert set(active["scope"].split()) == {"openid", "offline_access"}
    assert active["exp"] > time.time()
    # another client may not see it (nor revoke it)
    assert introspect(other, token, kind) == {"active": False}
    assert revoke(other, token, kind).status_code == 200
    assert introspect(rp, token, kind)["active"] is True

    response = revoke(rp, token, kind)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert introspect(rp, token, kind) == {"active": False}
    # revoking again (an unknown or dead token) is still 200 (RFC 7009 §2.2)
    assert revoke(rp, token, kind).status_code == 200
    if kind == "access_token":
        assert userinfo_status(live_server, token) == 401
    else:
        refused = rp.do_request(
            "refresh_token",
            state=result["state"],
            request_args={"refresh_token": token},
            authn_method="client_secret_basic",
        )
        assert refused["error"] == "invalid_grant"
        # revoking a refresh token revokes its family's access tokens as well
        assert userinfo_status(live_server, result["session"]["access_token"]) == 401


@pytest.mark.parametrize("kind", ["access_token", "refresh_token"])
def test_trusted_client_cannot_introspect_another_clients_token(
    live_server: LiveServer,
    ua: UserAgent,
    user: dict[str, Any],
    platform: dict[str, Any],
    kind: str,
) -> None:
    """Introspection shows a client only its own tokens, however trusted the asking client is."""
    owner = relying_party(live_server, platform)
    trusted_other = relying_party(live_server, new_client(live_server, trusted=True))
    token = sign_in(owner, ua, user, scope="openid profile offline_access")["session"][kind]
    assert introspect(owner, token, kind)["active"] is True
    assert introspect(trusted_other, token, kind) == {"active": False}


def test_introspection_token_type_hint_is_only_a_hint(
    live_server: LiveServer, ua: UserAgent, user: dict[str, Any], platform: dict[str, Any]
) -> None:
    rp = relying_party(live_server, platform)
    access_token = sign_in(rp, ua, user)["session"]["access_token"]
    assert introspect(rp, access_token, "access_token")["active"] is True
    assert introspect(rp, access_token, "refresh_token")["active"] is True


def test_revocation_token_type_hint_is_only_a_hint(
    live_server: LiveServer, ua: UserAgent, user: dict[str, Any], platform: dict[str, Any]
) -> None:
    rp = relying_party(live_server, platform)
    access_token = sign_in(rp, ua, user)["session"]["access_token"]
    assert revoke(rp, access_token, "refresh_token").status_code == 200
    assert introspect(rp, access_token, "access_token") == {"active": False}
    assert userinfo_status(live_server, access_token) == 401


def test_introspection_requires_client_authentication(live_server: LiveServer) -> None:
    response = requests.post(
        live_server.url + "/introspect", data={"token": "whatever"}, timeout=HTTP_TIMEOUT
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


# -- logout ------------------------------------------------------------------------------------


def test_rp_initiated_logout_ends_the_sso_session(
    live_server: LiveServer, ua: UserAgent, user: dict[str, Any], platform: dict[str, Any]
) -> None:
    rp = relying_party(live_server, platform)
    result = sign_in(rp, ua, user)

    # while signed in, prompt=none succeeds silently
    silent = rp.init_authorization(req_args={"scope": "openid", "prompt": "none"})
    answer = query_of(ua.go(silent))
    assert "code" in answer, answer

    logout = rp.logout(result["state"])  # idpyoidc: id_token_hint, post_logout_redirect_uri, state
    sent = query_of(logout["url"])
    assert sent["id_token_hint"] == result["session"]["id_token"]
    assert sent["post_logout_redirect_uri"] == POST_LOGOUT_URI
    back = ua.go(logout["url"])
    assert back.startswith(POST_LOGOUT_URI + "?"), back
    assert query_of(back) == {"state": sent["state"]}

    # the SSO session is gone: prompt=none now answers login_required
    silent = rp.init_authorization(req_args={"scope": "openid", "prompt": "none"})
    redirect = ua.go(silent)
    assert redirect.startswith(REDIRECT_URI + "?")
    answer = query_of(redirect)
    assert answer["error"] == "login_required"
    assert answer["iss"] == live_server.url
    parsed = rp.finalize_auth(answer)
    assert parsed["error"] == "login_required"
    assert parsed["state"] == query_of(silent)["state"]


@pytest.mark.parametrize("failures", [0, 1], ids=["first-attempt", "after-a-500"])
def test_backchannel_logout_delivery(
    live_server: LiveServer,
    ua: UserAgent,
    user: dict[str, Any],
    backchannel_receiver: BackchannelReceiver,
    failures: int,
) -> None:
    backchannel_receiver.fail_first(failures)
    registered = new_client(
        live_server,
        trusted=True,
        post_logout_redirect_uri=POST_LOGOUT_URI,
        backchannel_logout_uri=backchannel_receiver.url,
    )
    rp = relying_party(live_server, registered)
    result = sign_in(rp, ua, user)
    id_token = result["id_token"]
    assert backchannel_receiver.deliveries == []

    started = time.monotonic()
    assert ua.go(rp.logout(result["state"])["url"]).startswith(POST_LOGOUT_URI)
    (delivery,) = backchannel_receiver.wait_for(1, timeout=20)
    elapsed = time.monotonic() - started
    attempts = backchannel_receiver.deliveries
    assert [d.status for d in attempts] == [500] * failures + [200]
    assert elapsed < 15, f"delivery took {elapsed:.1f} s"

    assert delivery.path == "/backchannel-logout"
    assert delivery.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert list(delivery.form) == ["logout_token"]
    logout_token = delivery.form["logout_token"][0]

    # idpyoidc's own back-channel handler verifies it (signature via JWKS, iss, aud, events,
    # no nonce, sub or sid) and finds the RP session it ends
    assert backchannel_logout(rp, request=delivery.body.decode()) == result["state"]

    # and joserfc, independently, against the published JWKS
    header = jose_header(logout_token)
    assert header["typ"] == "logout+jwt"
    assert header["kid"] in kids(live_server)
    claims = jwt.decode(logout_token, KeySet.import_key_set(jwks_of(live_server))).claims
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": live_server.url},
        aud={"essential": True, "value": registered["client_id"]},
        iat={"essential": True},
        exp={"essential": True},
        jti={"essential": True},
    ).validate(claims)
    assert claims["events"] == {BACKCHANNEL_EVENT: {}}
    assert claims["sid"] == id_token["sid"]
    assert claims["sub"] == id_token["sub"]
    assert "nonce" not in claims

    if failures:
        # a delivered notification is not sent again
        time.sleep(2.5)
        assert len(backchannel_receiver.successful()) == 1


def test_backchannel_logout_reaches_every_rp_of_the_session(
    live_server: LiveServer,
    ua: UserAgent,
    user: dict[str, Any],
    backchannel_receiver: BackchannelReceiver,
) -> None:
    """One sign-in, two platforms (the second by SSO); signing out of one notifies both."""
    parties = []
    for name in ("a", "b"):
        registered = new_client(
            live_server,
            trusted=True,
            post_logout_redirect_uri=POST_LOGOUT_URI,
            backchannel_logout_uri=f"{backchannel_receiver.url}/{name}",
        )
        parties.append((registered, relying_party(live_server, registered)))
    (first, rp_a), (second, rp_b) = parties
    result_a = sign_in(rp_a, ua, user)
    result_b = sign_in(rp_b, ua, user)
    assert ua.pages == ["/login"]  # the second platform needed no login
    assert result_a["id_token"]["sid"] == result_b["id_token"]["sid"]

    assert ua.go(rp_a.logout(result_a["state"])["url"]).startswith(POST_LOGOUT_URI)
    deliveries = backchannel_receiver.wait_for(2, timeout=20)
    by_path = {d.path: d for d in deliveries}
    assert set(by_path) == {"/backchannel-logout/a", "/backchannel-logout/b"}
    for path, registered, rp, result in (
        ("/backchannel-logout/a", first, rp_a, result_a),
        ("/backchannel-logout/b", second, rp_b, result_b),
    ):
        body = by_path[path].body.decode()
        assert backchannel_logout(rp, request=body) == result["state"]
        claims = jwt.decode(
            by_path[path].form["logout_token"][0], KeySet.import_key_set(jwks_of(live_server))
        ).claims
        assert claims["aud"] == registered["client_id"]
        assert claims["sid"] == result["id_token"]["sid"]


# -- signing keys ------------------------------------------------------------------------------


def test_key_rotation_and_retirement(fresh_server: LiveServer) -> None:
    server = fresh_server
    username = "li.na"
    server.create_user(username, PASSWORD, name="李娜")
    registered = new_client(server, trusted=True)
    rp = relying_party(server, registered)
    ua = UserAgent(server.url)
    result = sign_in(rp, ua, {"username": username}, scope="openid offline_access")
    old_id_token = result["session"]["id_token"]
    old_access_token = result["session"]["access_token"]
    old_kid = jose_header(old_id_token)["kid"]
    assert old_kid in kids(server)

    rotated = server.cli("keys", "rotate").stdout.split("\n")
    new_kid = next(line.split()[0] for line in rotated if " RS256 " in f" {line} ")
    assert new_kid != old_kid
    listed = {k["kid"]: k for k in json.loads(server.cli("keys", "list", "--json").stdout)}
    assert listed[old_kid]["status"] == "previous"
    assert listed[new_kid]["status"] == "active"

    # the running server publishes the new key soon, next to the previous one
    wait_until(lambda: new_kid in kids(server), 10, "the new key in JWKS")
    assert old_kid in kids(server)
    # a token signed before the rotation still verifies against the new JWKS
    assert userinfo_status(server, old_access_token) == 200
    verify_id_token_with_fresh_jwks(server, old_id_token, registered["client_id"])

    # new tokens carry the new kid (idpyoidc verifies the new ID token, learning the new key)
    refreshed = rp.refresh_access_token(result["state"])
    assert jose_header(refreshed["id_token"])["kid"] == new_kid
    assert jose_header(refreshed["access_token"])["kid"] == new_kid
    verify_id_token_with_fresh_jwks(server, refreshed["id_token"], registered["client_id"])

    server.cli("keys", "retire", old_kid)
    wait_until(lambda: old_kid not in kids(server), 10, "the retired key to leave JWKS")
    assert new_kid in kids(server)
    with pytest.raises(MissingSigningKey):  # no published key can verify it any more
        verify_id_token_with_fresh_jwks(server, old_id_token, registered["client_id"])
    assert userinfo_status(server, old_access_token) == 401
    assert userinfo_status(server, refreshed["access_token"]) == 200
    # retiring the active key is refused
    refused = server.cli("keys", "retire", new_kid, check=False)
    assert refused.returncode != 0
    assert "active" in refused.stderr


def test_keys_retire_accepts_a_kid_beginning_with_a_dash(live_server: LiveServer) -> None:
    kid = "-" + secrets.token_urlsafe(32)[1:]  # not a key of this server
    result = live_server.cli("keys", "retire", kid, check=False)
    assert result.returncode == 2
    assert f"no signing key with kid {kid!r}" in result.stderr, result.stderr


# -- client credentials ------------------------------------------------------------------------


def _verify_client_token(server: LiveServer, token: str, client_id: str, scope: str) -> None:
    assert jose_header(token)["typ"] == "at+jwt"
    claims = jwt.decode(token, KeySet.import_key_set(jwks_of(server)), algorithms=["RS256"]).claims
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": server.url},
        sub={"essential": True, "value": client_id},
        client_id={"essential": True, "value": client_id},
        exp={"essential": True},
        jti={"essential": True},
    ).validate(claims)
    assert claims["scope"] == scope


def test_client_credentials_with_client_secret_post(live_server: LiveServer) -> None:
    registered = live_server.create_client(
        name="数据交换服务",
        grant_type="client_credentials",
        auth_method="client_secret_post",
        scope="trading.read trading.write",
    )
    assert registered["token_endpoint_auth_method"] == "client_secret_post"
    rp = relying_party(live_server, registered, auth_method="client_secret_post")
    service = rp.get_service("client_credentials")
    info = service.get_request_parameters(
        request_args={"scope": "trading.read"}, authn_method="client_secret_post"
    )
    assert "Authorization" not in info["headers"]
    assert f"client_id={registered['client_id']}" in info["body"]
    answer = rp.do_request(
        "client_credentials",
        request_args={"scope": "trading.read"},
        authn_method="client_secret_post",
    )
    assert answer["token_type"] == "Bearer"
    assert answer["scope"] == ["trading.read"]  # idpyoidc splits the space-separated list
    assert "refresh_token" not in answer and "id_token" not in answer
    _verify_client_token(
        live_server, answer["access_token"], registered["client_id"], "trading.read"
    )

    # the same secret in the Basic header is the wrong method for this client
    wrong = rp.do_request("client_credentials", authn_method="client_secret_basic")
    assert wrong["error"] == "invalid_client"
    # a scope the client was not registered for is refused
    bad_scope = rp.do_request(
        "client_credentials", request_args={"scope": "admin"}, authn_method="client_secret_post"
    )
    assert bad_scope["error"] == "invalid_scope"


def test_client_credentials_with_private_key_jwt(live_server: LiveServer, tmp_path: Path) -> None:
    key = RSAKey.generate_key(2048, private=True)
    kid = key.thumbprint()
    public = {**key.as_dict(private=False), "kid": kid, "alg": "RS256", "use": "sig"}
    jwks_file = tmp_path / "client-jwks.json"
    jwks_file.write_text(json.dumps({"keys": [public]}))
    registered = live_server.create_client(
        name="结算服务",
        grant_type="client_credentials",
        auth_method="private_key_jwt",
        jwks=jwks_file,
        scope="settlement.read",
    )
    client_id = registered["client_id"]
    assert registered["client_secret"] is None
    token_endpoint = live_server.url + "/token"

    def assertion(audience: str = token_endpoint, jti: str | None = None) -> str:
        now = int(time.time())
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 60,
            "jti": jti or secrets.token_urlsafe(16),
        }
        return jwt.encode({"alg": "RS256", "kid": kid, "typ": "JWT"}, claims, key)

    def token_request(client_assertion: str) -> requests.Response:
        return requests.post(
            token_endpoint,
            data={
                "grant_type": "client_credentials",
                "scope": "settlement.read",
                "client_id": client_id,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": client_assertion,
            },
            timeout=HTTP_TIMEOUT,
        )

    signed = assertion()
    response = token_request(signed)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    _verify_client_token(live_server, body["access_token"], client_id, "settlement.read")

    # the issuer as audience is accepted too (RFC 7523 §3)
    assert token_request(assertion(audience=live_server.url)).status_code == 200
    # a replayed assertion (same jti) is refused
    replay = token_request(signed)
    assert replay.status_code in (400, 401)
    assert replay.json()["error"] == "invalid_client"
    # an assertion for another audience is refused
    wrong_aud = token_request(assertion(audience="https://other.example.cn/token"))
    assert wrong_aud.json()["error"] == "invalid_client"
    # an assertion signed by another key is refused
    stranger = RSAKey.generate_key(2048, private=True)
    now = int(time.time())
    forged = jwt.encode(
        {"alg": "RS256", "kid": kid},
        {
            "iss": client_id,
            "sub": client_id,
            "aud": token_endpoint,
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(16),
        },
        stranger,
    )
    assert token_request(forged).json()["error"] == "invalid_client"
