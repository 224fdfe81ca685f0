"""QR-code login (§6.3.2 a): the login page's ticket, the device's signed scan / confirm /
cancel, the browser's poll and completion, and every refusal, on both storage backends.

Devices have real keys (ECDSA P-256 through `cryptography`, SM2 through `cert_interop.sm2`) and
sign exactly the body bytes they send; the ephemeral store is the real one of each backend.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from config.app import create_app
from config.settings import Settings, SettingsError
from idp.accounts import User, create_user
from idp.certlogin import ACR_CERTIFICATE
from idp.clients import NewClient
from idp.qrlogin import ACR_QR, AMR_QR, devices, qr, tickets
from idp.qrlogin.errors import QrLoginError
from idp.service import Idp

from .conftest import ISSUER, PASSWORD, Flow, query
from .qr_support import Device, Page, add_device, assert_error, events, new_key, sign


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The conftest's settings in development: SMS codes go to the dev sink."""
    return replace(settings, environment="development")


@pytest.fixture
def device(idp: Idp, user: User) -> Device:
    return add_device(idp, user.id)


@pytest.fixture
def bob(idp: Idp) -> User:
    return create_user(
        idp.sessions,
        username="bob",
        password=PASSWORD,
        name="李四",
        phone="13800000009",
        pii=idp.pii,
    )


def id_token_claims(tokens: dict[str, Any]) -> dict[str, Any]:
    payload = tokens["id_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def confirmed_ticket(page: Page, device: Device) -> str:
    ticket = page.open()["ticket"]
    assert device.send(page.web, ticket, "scan").status_code == 200
    assert device.send(page.web, ticket, "confirm").status_code == 200
    return str(ticket)


def assert_refused_page(idp: Idp, response: Any, reason: str, status: int) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == status, (reason, html[:600])
    assert f'data-reason="{reason}"' in html
    last = events(idp, "login.failure")[-1]
    assert last["method"] == "qr" and last["reason"] == reason, last


# --- the whole flow ---------------------------------------------------------------------------


@pytest.mark.parametrize(("algorithm", "raw"), [("ES256", True), ("SM2", False)])
def test_relying_party_gets_tokens_after_a_qr_login(
    app: Flask, idp: Idp, user: User, rp: NewClient, algorithm: str, raw: bool
) -> None:
    web = app.test_client()
    flow = Flow(web, rp)
    device = add_device(idp, user.id, algorithm, raw=raw)
    response = flow.authorize()
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    location = response.headers["Location"]
    rid = query(location)["rid"]

    page = Page.load(web, location + "&method=qr")
    html = web.get(location + "&method=qr").get_data(as_text=True)
    assert 'id="tab-qr"' in html and 'id="tab-password"' in html and 'id="tab-cert"' in html
    assert "扫码登录" in html and "qr-login.js" in html and "<script>" not in html
    assert page.rid == rid

    opened = page.open()
    ticket = opened["ticket"]
    assert len(ticket) >= 22 and tickets.valid_id(ticket)
    assert opened["qr_url"] == f"{ISSUER}/m/qr?t={ticket}"
    assert opened["expires_in"] == 120

    image = web.get(f"/login/qr/{ticket}.svg")
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"
    assert image.headers["Cache-Control"] == "no-store"
    assert image.data == qr.svg(opened["qr_url"]) and b"<svg" in image.data

    assert page.state(ticket) == "created"
    scanned = device.send(web, ticket, "scan")
    assert scanned.status_code == 200, scanned.get_json()
    answer = scanned.get_json()
    assert answer["state"] == "scanned"
    assert answer["client_name"] == "Trading platform A"
    assert answer["browser"]["ip"] == "127.0.0.1"
    assert answer["browser"]["user_agent"].startswith("Werkzeug")
    assert abs(answer["browser"]["opened_at"] - time.time()) < 60
    assert 0 < answer["expires_in"] <= 120

    polled = page.poll(ticket).get_json()
    assert polled["state"] == "scanned" and polled["device_name"] == "测试手机"
    assert device.send(web, ticket, "confirm").get_json() == {"state": "confirmed"}
    assert page.state(ticket) == "confirmed"

    done = page.complete(ticket)
    assert done.status_code == 303
    assert done.headers["Location"] == f"/authorize/continue?rid={rid}"
    response = flow.follow(web.get(done.headers["Location"]))
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    params = query(response.headers["Location"])
    tokens = flow.exchange(params["code"])
    assert tokens.status_code == 200, tokens.get_json()
    claims = id_token_claims(tokens.get_json())
    assert claims["sub"] == user.id
    assert claims["amr"] == list(AMR_QR) == ["mca", "swk"]
    assert claims["acr"] == ACR_QR == "urn:huren:loa:1"

    success = events(idp, "login.success")[-1]
    assert success["method"] == "qr" and success["device_id"] == device.id
    assert success["user_id"] == user.id and success["ticket"] == tickets.ref(ticket)
    confirmed = events(idp, "qr.confirmed")[-1]
    assert confirmed["device_id"] == device.id and confirmed["browser_ip"] == "127.0.0.1"
    assert ticket not in json.dumps(events(idp, "qr.scanned") + events(idp, "login.success"))


def test_without_a_pending_request_the_platform_is_this_one_and_next_is_followed(
    web: FlaskClient, idp: Idp, user: User, device: Device
) -> None:
    page = Page.load(web, "/login?method=qr&next=/account/devices")
    response = web.post(
        "/login/qr",
        data={"rid": "", "next": "/account/devices"},
        headers={"X-CSRF-Token": page.csrf},
    )
    ticket = response.get_json()["ticket"]
    assert device.send(web, ticket, "scan").get_json()["client_name"] == "本平台"
    device.send(web, ticket, "confirm")
    done = page.complete(ticket)
    assert done.status_code == 303 and done.headers["Location"] == "/account/devices"
    listed = web.get("/account/devices").get_data(as_text=True)
    assert device.id in listed


def test_json_open_and_the_state_of_the_login_page(web: FlaskClient) -> None:
    page = Page.load(web)
    opened = web.post("/login/qr", json={"rid": ""}, headers={"X-CSRF-Token": page.csrf})
    assert opened.status_code == 200 and opened.get_json()["expires_in"] == 120
    zh = web.get("/login?method=qr").get_data(as_text=True)
    for element in ("qr-image", "qr-status", "qr-refresh", "qr-error", "qr-form", "tab-qr"):
        assert f'id="{element}"' in zh
    for words in (
        "请使用互认 App 扫描二维码",
        "已扫描，请在手机上确认",
        "正在登录…",
        "已在手机上取消，可刷新二维码",
        "二维码已过期",
        "刷新二维码",
    ):
        assert words in zh, words
    en = web.get("/login?method=qr&lang=en").get_data(as_text=True)
    assert "Scan the QR code with the Huren app." in en and "QR code login" in en
    assert "Refresh the QR code" in en
    script = web.get("/assets/qr-login.js")
    assert script.status_code == 200 and b"/login/qr/" in script.data
    assert "<script>" not in zh
    csp = web.get("/login?method=qr").headers["Content-Security-Policy"]
    assert "img-src 'self'" in csp and "'unsafe-inline'" not in csp


def test_opening_needs_the_page_csrf_token(web: FlaskClient) -> None:
    Page.load(web)
    assert web.post("/login/qr", data={"rid": ""}).status_code == 400
    assert web.post("/login/qr", headers={"X-CSRF-Token": "forged"}).status_code == 400


def test_the_ticket_ttl_setting_reaches_the_tickets(
    app: Flask, settings: Settings, tmp_path: Any
) -> None:
    other = create_app(replace(settings, qr_ticket_ttl=30))
    try:
        web = other.test_client()
        assert Page.load(web).open()["expires_in"] == 30
    finally:
        other.extensions["huren.engine"].dispose()
    base = {"data_dir": str(tmp_path)}
    assert Settings.from_values(base).qr_ticket_ttl == 120
    assert Settings.from_values({**base, "qr_ticket_ttl": "600"}).qr_ticket_ttl == 600
    for bad in ("29", "601", "two minutes"):
        with pytest.raises(SettingsError, match="HUREN_QR_TICKET_TTL"):
            Settings.from_values({**base, "qr_ticket_ttl": bad})


def test_certificate_only_requests_offer_no_qr_login(
    web: FlaskClient, idp: Idp, rp: NewClient
) -> None:
    response = Flow(web, rp).authorize(acr_values=ACR_CERTIFICATE)
    location = response.headers["Location"]
    html = web.get(location + "&method=qr").get_data(as_text=True)
    assert 'id="tab-qr"' not in html and 'id="qr-panel"' not in html and 'id="cert-panel"' in html
    csrf = html.split('name="csrf_token" value="')[1].split('"')[0]
    refused = web.post(
        "/login/qr", data={"rid": query(location)["rid"]}, headers={"X-CSRF-Token": csrf}
    )
    assert_error(refused, "certificate_required", 403)


# --- refusals: the browser session -----------------------------------------------------------


def test_a_ticket_of_another_browser_session_cannot_be_polled_shown_or_completed(
    app: Flask, idp: Idp, device: Device
) -> None:
    page = Page.load(app.test_client())
    ticket = confirmed_ticket(page, device)
    thief = Page.load(app.test_client())  # the QR code photographed and opened elsewhere
    assert_error(thief.poll(ticket), "ticket_not_found", 404)
    assert thief.web.get(f"/login/qr/{ticket}.svg").status_code == 404
    assert_refused_page(idp, thief.complete(ticket), "ticket_not_found", 404)
    assert events(idp, "qr.refused")[-1]["reason"] == "ticket_not_found"
    assert "sso" not in _session(thief.web)
    # the refusal used nothing up: the browser that opened it still signs in
    assert page.complete(ticket).status_code == 303
    assert "sso" in _session(page.web)


def _session(web: FlaskClient) -> dict[str, Any]:
    with web.session_transaction() as s:
        return dict(s)


def test_unknown_tickets(web: FlaskClient, idp: Idp, device: Device) -> None:
    page = Page.load(web)
    page.open()
    unknown = "A" * 32
    assert_error(page.poll(unknown), "ticket_not_found", 404)
    assert web.get(f"/login/qr/{unknown}.svg").status_code == 404
    assert_error(page.poll("not a ticket!"), "ticket_not_found", 404)
    assert_refused_page(idp, page.complete(unknown), "ticket_not_found", 404)
    assert_error(device.send(web, unknown, "scan"), "ticket_not_found", 404)


def test_refused_polls_are_limited_per_address(
    web: FlaskClient, idp: Idp, monkeypatch: pytest.MonkeyPatch
) -> None:
    from idp.qrlogin import pages

    monkeypatch.setattr(pages, "REFUSAL_LIMIT", 2)
    page = Page.load(web)
    unknown = "B" * 32
    before = len(events(idp, "qr.refused"))
    for _ in range(2):
        assert_error(page.poll(unknown), "ticket_not_found", 404)
    assert_error(page.poll(unknown), "slow_down", 429)
    assert page.complete(unknown).status_code == 429
    assert len(events(idp, "qr.refused")) == before + 2  # no audit row beyond the limit
    ticket = page.open()["ticket"]
    assert page.state(ticket) == "created"  # the browser's own tickets still answer


def test_complete_needs_csrf_and_a_confirmation_and_works_once(
    web: FlaskClient, idp: Idp, device: Device
) -> None:
    page = Page.load(web)
    ticket = page.open()["ticket"]
    assert_refused_page(idp, page.complete(ticket), "not_confirmed", 409)
    device.send(web, ticket, "scan")
    assert_refused_page(idp, page.complete(ticket), "not_confirmed", 409)
    device.send(web, ticket, "confirm")
    assert web.post(f"/login/qr/{ticket}/complete").status_code == 400  # no CSRF token
    assert page.complete(ticket).status_code == 303
    assert_refused_page(idp, page.complete(ticket), "already_used", 409)
    assert page.poll(ticket).get_json()["completed"] is True
    assert_error(device.send(web, ticket, "confirm"), "wrong_state", 409)


# --- refusals: the device's requests ---------------------------------------------------------


def test_cancel(web: FlaskClient, idp: Idp, device: Device, bob: User) -> None:
    page = Page.load(web)
    ticket = page.open()["ticket"]
    device.send(web, ticket, "scan")
    other = add_device(idp, bob.id)
    assert_error(other.send(web, ticket, "cancel"), "wrong_state", 409)  # not the scanner
    assert device.send(web, ticket, "cancel").get_json() == {"state": "cancelled"}
    assert page.state(ticket) == "cancelled"
    assert_error(device.send(web, ticket, "confirm"), "wrong_state", 409)
    assert_error(device.send(web, ticket, "scan"), "wrong_state", 409)
    assert_error(device.send(web, ticket, "cancel"), "wrong_state", 409)
    assert_refused_page(idp, page.complete(ticket), "cancelled", 409)
    assert events(idp, "qr.cancelled")[-1]["device_id"] == device.id
    # cancelling an unscanned QR code: any enrolled device holding it may
    second = page.open()["ticket"]
    assert other.send(web, second, "cancel").get_json() == {"state": "cancelled"}
    assert page.state(second) == "cancelled"


def test_expiry(
    web: FlaskClient, idp: Idp, device: Device, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = Page.load(web)
    fresh = page.open()["ticket"]
    confirmed = confirmed_ticket(page, device)
    scanned = page.open()["ticket"]
    device.send(web, scanned, "scan")
    later = time.time() + 121
    monkeypatch.setattr(tickets, "clock", lambda: later)
    for ticket in (fresh, confirmed, scanned):
        polled = page.poll(ticket).get_json()
        assert polled == {"state": "expired", "expires_in": 0}
    assert_error(device.send(web, fresh, "scan"), "ticket_expired", 410)
    assert_error(device.send(web, scanned, "confirm"), "ticket_expired", 410)
    assert_refused_page(idp, page.complete(confirmed), "ticket_expired", 409)
    assert "sso" not in _session(web)


def test_replayed_requests(web: FlaskClient, idp: Idp, device: Device) -> None:
    page = Page.load(web)
    ticket = page.open()["ticket"]
    body = device.body(ticket, "scan")
    signature = device.signature(body)
    assert device.send(web, ticket, "scan", body=body, signature=signature).status_code == 200
    replay = device.send(web, ticket, "scan", body=body, signature=signature)
    assert_error(replay, "replayed", 409)
    # a confirmation replayed after it was accepted: replayed, nothing moves
    confirm = device.body(ticket, "confirm")
    sig = device.signature(confirm)
    assert device.send(web, ticket, "confirm", body=confirm, signature=sig).status_code == 200
    assert_error(device.send(web, ticket, "confirm", body=confirm, signature=sig), "replayed", 409)
    # the same nonce in a new body is a replay too: nonces are per device, not per action
    nonce = json.loads(body)["nonce"]
    other_page_ticket = page.open()["ticket"]
    assert_error(device.send(web, other_page_ticket, "scan", nonce=nonce), "replayed", 409)
    assert events(idp, "qr.refused")[-1]["reason"] == "replayed"
    assert events(idp, "qr.refused")[-1]["device_id"] == device.id


@pytest.mark.parametrize("offset", [-61, 61, -3600])
def test_stale_timestamps(web: FlaskClient, device: Device, offset: int) -> None:
    ticket = Page.load(web).open()["ticket"]
    stale = device.send(web, ticket, "scan", ts=int(time.time()) + offset)
    assert_error(stale, "stale_request", 400)
    assert device.send(web, ticket, "scan", ts=int(time.time()) - 50).status_code == 200


def test_bad_signatures(web: FlaskClient, idp: Idp, device: Device) -> None:
    ticket = Page.load(web).open()["ticket"]
    body = device.body(ticket, "scan")
    stranger = base64.b64encode(sign(new_key("ES256"), body)).decode()
    sm2_stranger = base64.b64encode(sign(new_key("SM2"), body)).decode()
    good = base64.b64decode(device.signature(body))
    flipped = base64.b64encode(good[:-1] + bytes([good[-1] ^ 1])).decode()
    for signature in (stranger, sm2_stranger, flipped, "", "%%%", "AAAA", "A" * 500):
        response = device.send(web, ticket, "scan", body=body, signature=signature)
        assert_error(response, "bad_signature", 401)
    tampered = body.replace(b'"scan"', b'"scan" ')
    response = device.send(web, ticket, "scan", body=tampered, signature=device.signature(body))
    assert_error(response, "bad_signature", 401)
    # none of those spent the nonce: the genuine request still passes
    assert device.send(web, ticket, "scan", body=body).status_code == 200
    missing = web.post(f"/api/v1/mobile/qr/{ticket}/scan", data=device.body(ticket, "scan"))
    assert_error(missing, "bad_signature", 401)


def test_confirm_before_scan_and_by_another_device(
    web: FlaskClient, idp: Idp, user: User, device: Device, bob: User
) -> None:
    page = Page.load(web)
    ticket = page.open()["ticket"]
    assert_error(device.send(web, ticket, "confirm"), "wrong_state", 409)
    assert page.state(ticket) == "created"
    assert device.send(web, ticket, "scan").status_code == 200
    assert device.send(web, ticket, "scan").status_code == 200  # the same device again
    bobs = add_device(idp, bob.id, "SM2")
    alices_other = add_device(idp, user.id)
    assert_error(bobs.send(web, ticket, "scan"), "wrong_state", 409)
    assert_error(bobs.send(web, ticket, "confirm"), "wrong_state", 409)
    assert_error(alices_other.send(web, ticket, "confirm"), "wrong_state", 409)
    assert page.state(ticket) == "scanned"
    device.send(web, ticket, "confirm")
    assert page.complete(ticket).status_code == 303
    assert events(idp, "login.success")[-1]["user_id"] == user.id  # exactly the scanner's


def test_revoked_devices_are_refused_at_once(
    web: FlaskClient, idp: Idp, user: User, device: Device
) -> None:
    page = Page.load(web)
    ticket = confirmed_ticket(page, device)
    devices.revoke(idp.sessions, device.id, actor="operator-cli", reason="lost")
    # confirmed before the revocation, completed after: refused
    assert_refused_page(idp, page.complete(ticket), "device_revoked", 403)
    fresh = page.open()["ticket"]
    assert_error(device.send(web, fresh, "scan"), "device_revoked", 401)
    unknown = Device("00000000-0000-0000-0000-000000000000", device.key)
    assert_error(unknown.send(web, fresh, "scan"), "device_revoked", 401)
    assert page.state(fresh) == "created"


def test_body_and_url_must_agree(web: FlaskClient, device: Device) -> None:
    page = Page.load(web)
    ticket, other = page.open()["ticket"], page.open()["ticket"]
    body = device.body(ticket, "scan")
    assert_error(
        device.send(web, ticket, "scan", body=body, path_ticket=other), "request_mismatch", 400
    )
    confirm = device.body(ticket, "confirm")
    response = web.post(
        f"/api/v1/mobile/qr/{ticket}/scan",
        data=confirm,
        headers={"X-Huren-Signature": device.signature(confirm)},
    )
    assert_error(response, "request_mismatch", 400)
    assert page.state(ticket) == "created" and page.state(other) == "created"


def test_a_disabled_account_cannot_log_in_with_its_device(
    web: FlaskClient, idp: Idp, user: User, device: Device
) -> None:
    from idp.models import Account

    page = Page.load(web)
    ticket = confirmed_ticket(page, device)
    with idp.sessions.begin() as db:
        row = db.get(Account, user.id)
        assert row is not None
        row.disabled = True
    assert_refused_page(idp, page.complete(ticket), "account_disabled", 403)
    assert_error(device.send(web, page.open()["ticket"], "scan"), "device_revoked", 401)


# --- the parser never fails otherwise --------------------------------------------------------


_FIELD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=80),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@hsettings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000) | st.text(max_size=300).map(str.encode))
def test_parser_fuzz_arbitrary_bytes(data: bytes) -> None:
    try:
        parsed = devices.parse_signed(data)
    except QrLoginError as exc:
        assert exc.code == "invalid_request" and exc.status == 400
    else:
        assert parsed.action in devices.ACTIONS


@hsettings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["device_id", "ticket", "action", "nonce", "ts", "extra"]),
        _FIELD_VALUES,
    )
)
def test_parser_fuzz_json_objects(doc: dict[str, Any]) -> None:
    try:
        body = json.dumps(doc).encode()
    except ValueError:
        return
    try:
        devices.parse_signed(body)
    except QrLoginError as exc:
        assert exc.code == "invalid_request"


def test_parser_refuses_duplicate_keys_constants_and_extras(device: Device) -> None:
    good = json.loads(device.body("A" * 32, "scan"))
    assert devices.parse_signed(json.dumps(good).encode()).ticket == "A" * 32
    compact = json.dumps(good, separators=(",", ":"))
    for bad in (
        compact.replace('{"device_id"', '{"device_id":"x","device_id"', 1),
        compact.replace(f'"ts":{good["ts"]}', '"ts":NaN'),
        compact.replace(f'"ts":{good["ts"]}', '"ts":Infinity'),
        json.dumps({**good, "ts": True}),
        json.dumps({**good, "ts": 1.5}),
        json.dumps({**good, "ts": 10**12}),
        json.dumps({**good, "nonce": "short"}),
        json.dumps({**good, "nonce": "n" * 21 + "!"}),
        json.dumps({**good, "action": "Confirm"}),
        json.dumps({**good, "ticket": "A" * 15}),
        json.dumps({**good, "device_id": "../etc"}),
        json.dumps({**good, "extra": 1}),
        json.dumps({k: v for k, v in good.items() if k != "nonce"}),
        json.dumps([good]),
        "[" * 2000,
        "",
    ):
        with pytest.raises(QrLoginError) as caught:
            devices.parse_signed(bad.encode())
        assert caught.value.code == "invalid_request"
    with pytest.raises(QrLoginError):
        devices.parse_signed(b"\xff" + compact.encode())


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=600),
    signature=st.one_of(st.none(), st.text(max_size=120)),
    action=st.sampled_from(["scan", "confirm", "cancel"]),
    ticket=st.text(alphabet="ABCabc_-019", min_size=1, max_size=40),
)
def test_device_endpoint_fuzz_never_500(
    web: FlaskClient, device: Device, body: bytes, signature: str | None, action: str, ticket: str
) -> None:
    headers = {}
    if signature is not None and all(ord(c) < 128 and c.isprintable() for c in signature):
        headers["X-Huren-Signature"] = signature
    response = web.post(f"/api/v1/mobile/qr/{ticket}/{action}", data=body, headers=headers)
    assert response.status_code in (400, 401, 404, 409, 410, 429), response.get_data()[:300]
    assert response.get_json()["error"]
