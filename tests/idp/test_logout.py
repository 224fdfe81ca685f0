"""RP-initiated logout and back-channel logout delivery through the outbox."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from joserfc import jwt

from idp.clients import create_client
from idp.service import Idp
from tests.conftest import settle_outbox

from .conftest import ISSUER, REDIRECT, Flow, form_value, query


class Receiver:
    """A real HTTP server standing in for an RP's back-channel logout endpoint."""

    def __init__(self, fail_first: int = 0) -> None:
        self.tokens: list[str] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    self.send_response(503)
                else:
                    receiver.tokens.append(parse_qs(body)["logout_token"][0])
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/bcl"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_logout_with_id_token_hint_redirects_back_with_state(flow: Flow, web) -> None:
    tokens = flow.tokens()
    response = web.get(
        "/logout",
        query_string={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://rp.example.cn/bye",
            "state": "bye-1",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "https://rp.example.cn/bye?state=bye-1"
    after = flow.authorize(prompt="none")
    assert query(after.headers["Location"])["error"] == "login_required"


def test_logout_without_hint_asks_for_confirmation(flow: Flow, web) -> None:
    flow.tokens()
    page = web.get("/logout")
    assert page.status_code == 200 and "confirm-logout" in page.get_data(as_text=True)
    assert "code" in query(flow.authorize(prompt="none").headers["Location"])  # still logged in
    html = page.get_data(as_text=True)
    done = web.post(
        "/logout", data={"confirm": "yes", "csrf_token": form_value(html, "csrf_token")}
    )
    assert done.status_code == 200 and "logged-out" in done.get_data(as_text=True)
    assert query(flow.authorize(prompt="none").headers["Location"])["error"] == "login_required"


def test_logout_confirmation_needs_csrf(flow: Flow, web) -> None:
    flow.tokens()
    assert web.post("/logout", data={"confirm": "yes", "csrf_token": "x"}).status_code == 400


def test_unregistered_post_logout_redirect_is_an_error_page(flow: Flow, web) -> None:
    tokens = flow.tokens()
    for target in ("https://evil.example/", REDIRECT):
        response = web.get(
            "/logout",
            query_string={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": target},
        )
        assert response.status_code == 400 and "Location" not in response.headers
    no_client = web.get(
        "/logout", query_string={"post_logout_redirect_uri": "https://rp.example.cn/bye"}
    )
    assert no_client.status_code == 400
    bad_hint = web.get("/logout", query_string={"id_token_hint": "x.y.z"})
    assert bad_hint.status_code == 400


def _rp_with_backchannel(idp: Idp, url: str):
    return create_client(
        idp.sessions,
        name="BCL RP",
        redirect_uris=[REDIRECT],
        backchannel_logout_uri=url,
        post_logout_redirect_uris=["https://rp.example.cn/bye"],
        trusted=True,
    )


def test_backchannel_logout_token_is_delivered(web, user, idp: Idp, receiver: Receiver) -> None:
    rp = _rp_with_backchannel(idp, receiver.url)
    f = Flow(web, rp)
    tokens = f.tokens()
    id_claims = jwt.decode(tokens["id_token"], idp.keys.verification_keys()).claims
    web.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    settle_outbox(idp.sessions.kw["bind"])
    result = idp.backchannel.run_once()
    assert result.delivered == 1
    assert len(receiver.tokens) == 1
    decoded = jwt.decode(receiver.tokens[0], idp.keys.verification_keys())
    assert decoded.header["typ"] == "logout+jwt"
    claims = decoded.claims
    assert claims["iss"] == ISSUER and claims["aud"] == rp.client.client_id
    assert claims["sub"] == user.id and claims["sid"] == id_claims["sid"]
    assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]
    assert "nonce" not in claims
    assert idp.backchannel.run_once().delivered == 0  # delivered once only


def test_backchannel_logout_is_retried_until_the_rp_answers(web, user, idp: Idp) -> None:
    receiver = Receiver(fail_first=2)
    try:
        rp = _rp_with_backchannel(idp, receiver.url)
        tokens = Flow(web, rp).tokens()
        web.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
        settle_outbox(idp.sessions.kw["bind"])
        assert idp.backchannel.run_once().failed == 1
        assert receiver.tokens == []
        now = time.time()
        idp.backchannel.run_once(now + 5)
        idp.backchannel.run_once(now + 60)
        assert len(receiver.tokens) == 1
    finally:
        receiver.close()


def test_backchannel_to_an_unreachable_rp_ends_as_a_dead_letter(web, user, idp: Idp) -> None:
    from storage.outbox import dead_letters

    rp = _rp_with_backchannel(idp, "http://127.0.0.1:9/nothing-listens")
    tokens = Flow(web, rp).tokens()
    web.get("/logout", query_string={"id_token_hint": tokens["id_token"]})
    now = time.time()
    settle_outbox(idp.sessions.kw["bind"])
    for step in range(idp.config.backchannel_max_attempts + 1):
        idp.backchannel.run_once(now + step * 1000)
    dead = dead_letters(idp.backchannel.consumer._engine, "idp.backchannel_logout")
    assert len(dead) == 1 and "127.0.0.1:9" in dead[0][1]


def test_logout_revokes_session_tokens_but_keeps_offline_access(flow: Flow, web, idp: Idp) -> None:
    from .conftest import basic

    online = flow.tokens(scope="openid profile")
    offline = flow.tokens(scope="openid offline_access")
    web.get("/logout", query_string={"id_token_hint": online["id_token"]})

    def refresh(token: str) -> int:
        return web.post(
            "/token",
            data={"grant_type": "refresh_token", "refresh_token": token},
            headers=basic(flow.client),
        ).status_code

    assert refresh(online["refresh_token"]) == 400
    assert (
        web.get(
            "/userinfo", headers={"Authorization": "Bearer " + online["access_token"]}
        ).status_code
        == 401
    )
    assert refresh(offline["refresh_token"]) == 200


def test_relogin_keeps_platforms_for_backchannel_logout(
    web, user, idp: Idp, receiver: Receiver
) -> None:
    first = _rp_with_backchannel(idp, receiver.url)
    second = create_client(idp.sessions, name="second", redirect_uris=[REDIRECT], trusted=True)
    Flow(web, first).tokens()
    f2 = Flow(web, second)
    response = f2.follow(f2.login(f2.authorize(prompt="login")))
    assert "code" in query(response.headers["Location"])
    page = web.get("/logout").get_data(as_text=True)
    web.post("/logout", data={"confirm": "yes", "csrf_token": form_value(page, "csrf_token")})
    settle_outbox(idp.sessions.kw["bind"])
    assert idp.backchannel.run_once().delivered == 1
    assert len(receiver.tokens) == 1


def test_login_as_another_user_ends_the_previous_session(
    web, user, idp: Idp, receiver: Receiver
) -> None:
    from idp.accounts import create_user

    from .conftest import PASSWORD

    create_user(idp.sessions, username="bob", password=PASSWORD)
    Flow(web, _rp_with_backchannel(idp, receiver.url)).tokens()
    page = web.get("/login").get_data(as_text=True)
    web.post(
        "/login",
        data={
            "username": "bob",
            "password": PASSWORD,
            "csrf_token": form_value(page, "csrf_token"),
        },
    )
    settle_outbox(idp.sessions.kw["bind"])
    assert idp.backchannel.run_once().delivered == 1
    claims = jwt.decode(receiver.tokens[0], idp.keys.verification_keys()).claims
    assert claims["sub"] == user.id


def test_logout_hint_signed_by_a_retired_key_asks_for_confirmation(
    flow: Flow, web, idp: Idp
) -> None:
    tokens = flow.tokens()
    old = jwt.decode(tokens["id_token"], idp.keys.verification_keys()).header["kid"]
    idp.keys.rotate(["RS256"])
    idp.keys.retire(old)
    response = web.get(
        "/logout",
        query_string={
            "id_token_hint": tokens["id_token"],
            "post_logout_redirect_uri": "https://rp.example.cn/bye",
        },
    )
    assert response.status_code == 200 and "confirm-logout" in response.get_data(as_text=True)
