"""Mobile devices of QR-code login: enrollment through the device API (password, SMS code from
the development sink, ECDSA P-256 or SM2 key), the owner's /account/devices, `huren device`,
the schema, and the device API in the OpenAPI document."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect

from cert_interop.keys import dump_public_key, load_public_key
from cert_interop.signatures import verify
from config.settings import Settings
from idp.accounts import User, create_user
from idp.cli import GROUPS
from idp.qrlogin import devices
from idp.qrlogin.cli import device_group
from idp.qrlogin.errors import QrLoginError
from idp.service import Idp
from idp.web import openapi

from .conftest import PASSWORD, form_value
from .qr_support import (
    Device,
    Page,
    add_device,
    assert_error,
    enroll,
    events,
    last_sms_code,
    new_key,
    public_der,
)

PHONE = "13800000001"  # alice's (conftest)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The conftest's settings in development: SMS codes go to the dev sink."""
    return replace(settings, environment="development")


def start(web: FlaskClient, username: str = "alice", password: str = PASSWORD) -> Any:
    return web.post("/api/v1/mobile/enroll", json={"username": username, "password": password})


def finish(web: FlaskClient, enrollment: str, code: str, key: Any, name: Any = "我的手机") -> Any:
    der = key if isinstance(key, bytes) else public_der(key)
    return web.post(
        f"/api/v1/mobile/enroll/{enrollment}",
        json={"code": code, "public_key": base64.b64encode(der).decode(), "name": name},
    )


def sign_in(web: FlaskClient, username: str = "alice") -> None:
    html = web.get("/login").get_data(as_text=True)
    response = web.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": form_value(html, "csrf_token"),
            "rid": "",
        },
    )
    assert response.status_code == 302


# --- enrollment --------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["ES256", "SM2"])
def test_enrollment_with_password_and_sms_code(
    web: FlaskClient, idp: Idp, user: User, algorithm: str
) -> None:
    started = start(web)
    assert started.status_code == 200, started.get_json()
    body = started.get_json()
    assert body["phone"] == "138****0001" and body["expires_in"] == 300
    assert len(body["enrollment"]) >= 22
    assert started.headers["Cache-Control"] == "no-store"
    key = new_key(algorithm)
    done = finish(web, body["enrollment"], last_sms_code(idp, PHONE), key, "张三的手机")
    assert done.status_code == 200, done.get_json()
    answer = done.get_json()
    assert answer["algorithm"] == algorithm and answer["name"] == "张三的手机"
    view = devices.get(idp.sessions, answer["device_id"])
    assert view is not None and view.account_id == user.id and view.active
    assert view.algorithm == algorithm and view.last_used_at is None
    # the enrollment is one-use
    again = finish(web, body["enrollment"], last_sms_code(idp, PHONE), key)
    assert_error(again, "enrollment_not_found", 404)
    enrolled = events(idp, "device.enrolled")[-1]
    assert enrolled["device_id"] == answer["device_id"] and enrolled["user_id"] == user.id
    # the enrolled device logs in at once
    device = Device(answer["device_id"], key)
    page = Page.load(web)
    ticket = page.open()["ticket"]
    assert device.send(web, ticket, "scan").status_code == 200
    view = devices.get(idp.sessions, device.id)
    assert view is not None and view.last_used_at is not None


def test_five_wrong_codes_void_the_enrollment(web: FlaskClient, idp: Idp, user: User) -> None:
    enrollment = start(web).get_json()["enrollment"]
    code = last_sms_code(idp, PHONE)
    wrong = f"{(int(code) + 1) % 1000000:06d}"
    key = new_key("ES256")
    for tries_left in (4, 3, 2, 1, 0):
        body = assert_error(finish(web, enrollment, wrong, key), "wrong_code", 400)
        assert body["tries_left"] == tries_left
    assert_error(finish(web, enrollment, code, key), "enrollment_not_found", 404)
    assert devices.list_for_account(idp.sessions, user.id) == []
    refused = events(idp, "device.enroll_refused")
    assert [e["reason"] for e in refused[-6:]] == ["wrong_code"] * 5 + ["enrollment_not_found"]


def test_a_malformed_key_does_not_spend_a_try(web: FlaskClient, idp: Idp, user: User) -> None:
    enrollment = start(web).get_json()["enrollment"]
    code = last_sms_code(idp, PHONE)
    rsa_key = dump_public_key(rsa.generate_private_key(65537, 2048).public_key(), "der")
    p384 = dump_public_key(ec.generate_private_key(ec.SECP384R1()).public_key(), "der")
    for der in (rsa_key, p384, b"not a key", b"\x30" * 2000):
        assert_error(finish(web, enrollment, code, der), "bad_public_key", 400)
    for name in ("x" * 101, "bell\x07", 12):
        assert_error(finish(web, enrollment, code, new_key("ES256"), name), "invalid_request", 400)
    response = web.post(
        f"/api/v1/mobile/enroll/{enrollment}", json={"code": code, "public_key": "%%%"}
    )
    assert_error(response, "bad_public_key", 400)
    done = finish(web, enrollment, code, new_key("SM2"), name=None)
    assert done.status_code == 200 and done.get_json()["name"] == "未命名设备"


def test_enrollment_refusals(app: Flask, web: FlaskClient, idp: Idp, user: User) -> None:
    assert_error(start(web, password="wrong-password"), "invalid_credentials", 401)
    assert_error(start(web, username="nobody"), "invalid_credentials", 401)
    failure = events(idp, "login.failure")[-1]
    assert failure["method"] == "device_enroll" and failure["reason"] == "invalid_credentials"
    # the login form's lockout (conftest: 3 failures) applies
    start(web, password="wrong-password")
    locked = start(web, password="wrong-password")
    assert_error(locked, "locked", 429)
    assert locked.headers["Retry-After"]
    assert_error(start(web), "locked", 429)  # even with the right password, for now
    assert events(idp, "login.locked")[-1]["method"] == "device_enroll"
    for body in (b"not json", b"[1]", json.dumps({"username": 1, "password": 2}).encode()):
        response = web.post("/api/v1/mobile/enroll", data=body)
        assert_error(response, "invalid_request", 400)
    assert_error(
        web.post("/api/v1/mobile/enroll/" + "A" * 32, json={}), "enrollment_not_found", 404
    )


def test_no_phone_and_resend_too_soon(web: FlaskClient, idp: Idp, user: User) -> None:
    create_user(idp.sessions, username="nophone", password=PASSWORD)
    assert_error(start(web, username="nophone"), "no_phone", 409)
    assert start(web).status_code == 200
    soon = start(web)
    assert_error(soon, "sms_too_soon", 429)
    assert 0 < int(soon.headers["Retry-After"]) <= 60


def test_production_without_an_sms_gateway_cannot_enroll(
    app: Flask, idp: Idp, user: User, settings: Settings
) -> None:
    from config.app import create_app

    production = create_app(replace(settings, environment="production"))
    try:
        response = start(production.test_client())
        assert_error(response, "sms_unavailable", 503)
    finally:
        production.extensions["huren.engine"].dispose()


def test_too_many_devices(idp: Idp, user: User) -> None:
    for _ in range(devices.MAX_DEVICES):
        add_device(idp, user.id)
    with pytest.raises(QrLoginError) as caught:
        add_device(idp, user.id)
    assert caught.value.code == "too_many_devices"
    first = devices.list_for_account(idp.sessions, user.id)[0]
    devices.revoke(idp.sessions, first.id, actor="t", reason="old")
    add_device(idp, user.id)  # revoked devices do not count


def test_enrollment_through_the_helper_both_algorithms(
    web: FlaskClient, idp: Idp, user: User
) -> None:
    device = enroll(web, idp, "alice", PASSWORD, PHONE, "SM2")
    assert devices.get(idp.sessions, device.id) is not None


# --- /account/devices ------------------------------------------------------------------------


def test_owner_lists_and_revokes_devices(
    app: Flask, web: FlaskClient, idp: Idp, user: User
) -> None:
    assert web.get("/account/devices").headers["Location"].startswith("/login")
    phone = add_device(idp, user.id)
    sm2_phone = add_device(idp, user.id, "SM2")
    bob = create_user(idp.sessions, username="bob", password=PASSWORD)
    bobs = add_device(idp, bob.id)
    sign_in(web)
    html = web.get("/account/devices").get_data(as_text=True)
    assert "我的手机" in html and "测试手机" in html
    assert phone.id in html and sm2_phone.id in html and bobs.id not in html
    assert "ES256" in html and "SM2" in html and "从未使用" in html
    en = web.get("/account/devices?lang=en").get_data(as_text=True)
    assert "My phones" in en and "Last used" in en and "never" in en
    csrf = form_value(html, "csrf_token")
    # CSRF first
    no_csrf = web.post("/account/devices", data={"action": "revoke", "device_id": phone.id})
    assert no_csrf.status_code == 400
    # someone else's device is not found
    others = web.post(
        "/account/devices", data={"action": "revoke", "device_id": bobs.id, "csrf_token": csrf}
    )
    assert others.status_code == 404
    bob_view = devices.get(idp.sessions, bobs.id)
    assert bob_view is not None and bob_view.active
    revoked = web.post(
        "/account/devices", data={"action": "revoke", "device_id": phone.id, "csrf_token": csrf}
    )
    assert revoked.status_code == 303
    page = web.get("/account/devices?lang=zh").get_data(as_text=True)  # after ?lang=en above
    assert 'role="status"' in page and "Device revoked: 测试手机" in page  # flashed in English
    assert "已于" in page  # revoked on …
    view = devices.get(idp.sessions, phone.id)
    assert view is not None and not view.active and view.revoked_by == "alice"
    last = events(idp, "device.revoked")[-1]
    assert last["device_id"] == phone.id and last["user_id"] == user.id
    # refused at once
    ticket = Page.load(app.test_client()).open()["ticket"]
    assert_error(phone.send(web, ticket, "scan"), "device_revoked", 401)
    assert sm2_phone.send(web, ticket, "scan").status_code == 200
    bad = web.post("/account/devices", data={"action": "delete", "csrf_token": csrf})
    assert bad.status_code == 400


def test_home_links_the_devices_page(web: FlaskClient, user: User) -> None:
    sign_in(web)
    assert 'id="devices-link"' in web.get("/").get_data(as_text=True)


# --- huren device ------------------------------------------------------------------------------


def test_cli_lists_and_revokes(app: Flask, web: FlaskClient, idp: Idp, user: User) -> None:
    assert device_group in GROUPS
    runtime = SimpleNamespace(sessions=idp.sessions)
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(device_group, list(args), obj=runtime)

    device = add_device(idp, user.id, "SM2")
    bob = create_user(idp.sessions, username="bob", password=PASSWORD)
    add_device(idp, bob.id)
    listed = run("list", "--user", "alice", "--json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [r["id"] for r in rows] == [device.id]
    assert rows[0]["algorithm"] == "SM2" and rows[0]["username"] == "alice"
    assert rows[0]["revoked_at"] is None
    everyone = run("list")
    assert everyone.exit_code == 0 and "alice" in everyone.output and "bob" in everyone.output
    assert run("list", "--user", "nobody").exit_code == 2
    assert run("revoke", device.id).exit_code == 2  # --reason is required
    done = run("revoke", device.id, "--reason", "手机丢失")
    assert done.exit_code == 0, done.output
    assert "revoked" in done.output and "手机丢失" in done.output
    view = devices.get(idp.sessions, device.id)
    assert view is not None and view.revoked_reason == "手机丢失"
    assert view.revoked_by == "operator-cli"
    missing = run("revoke", "no-such-device", "--reason", "x")
    assert missing.exit_code == 2 and "error:" in missing.output
    ticket = Page.load(web).open()["ticket"]
    assert_error(device.send(web, ticket, "scan"), "device_revoked", 401)
    assert events(idp, "device.revoked")[-1]["reason"] == "手机丢失"


# --- schema and OpenAPI ------------------------------------------------------------------------


def test_the_migration_makes_the_device_table(app: Flask) -> None:
    engine = app.extensions["huren.engine"]
    columns = {c["name"] for c in inspect(engine).get_columns("mobile_device")}
    assert columns == {
        "id",
        "account_id",
        "name",
        "algorithm",
        "public_key",
        "created_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
        "revoked_reason",
    }
    keys = inspect(engine).get_foreign_keys("mobile_device")
    assert keys[0]["referred_table"] == "account"


def test_device_api_is_documented_with_examples_that_verify(web: FlaskClient) -> None:
    doc: dict[str, Any] = web.get("/api/v1/openapi.json").get_json()
    paths = doc["paths"]
    for path in (
        "/mobile/enroll",
        "/mobile/enroll/{enrollment}",
        "/mobile/qr/{ticket}/scan",
        "/mobile/qr/{ticket}/confirm",
        "/mobile/qr/{ticket}/cancel",
    ):
        op = paths[path]["post"]
        assert op["security"] == [], path  # no bearer token
        assert "bearer" in op["description"].lower() or "No bearer" in op["description"]
        body = op["requestBody"]["content"]["application/json"]
        assert body["example"] and op["responses"]["200"]["content"]["application/json"]["example"]
    key = load_public_key(base64.b64decode(openapi._PUBLIC_KEY_EXAMPLE))
    for action in ("scan", "confirm", "cancel"):
        op = paths[f"/mobile/qr/{{ticket}}/{action}"]["post"]
        assert "X-Huren-Signature" in op["description"]
        example = op["requestBody"]["content"]["application/json"]["example"]
        # the document shows the example body with its keys sorted; these are its exact bytes
        signed = json.dumps(example, separators=(",", ":"), sort_keys=True).encode()
        header = next(p for p in op["parameters"] if p["name"] == "X-Huren-Signature")
        assert verify(key, "ecdsa-sha256", base64.b64decode(header["example"]), data=signed)
        devices.parse_signed(signed)
    enrolled = paths["/mobile/enroll/{enrollment}"]["post"]["requestBody"]
    assert devices.parse_public_key(
        enrolled["content"]["application/json"]["example"]["public_key"]
    )


def test_signed_request_skew_window(idp: Idp, user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay cache outlives every accepted timestamp: a request is refused either as
    stale or as replayed, never accepted twice."""
    assert devices.NONCE_TTL > 2 * devices.MAX_SKEW
    now = time.time()
    device = add_device(idp, user.id)
    body = device.body("A" * 32, "scan", ts=int(now))
    request, _view = devices.authenticate(
        idp.sessions, body, device.signature(body), ticket="A" * 32, action="scan"
    )
    devices.check_fresh(idp.sessions, idp.store, request)
    with pytest.raises(QrLoginError) as caught:
        devices.check_fresh(idp.sessions, idp.store, request)
    assert caught.value.code == "replayed"
    from idp.qrlogin import tickets

    monkeypatch.setattr(tickets, "clock", lambda: now + devices.MAX_SKEW + 1)
    with pytest.raises(QrLoginError) as caught:
        devices.check_fresh(idp.sessions, idp.store, request)
    assert caught.value.code == "stale_request"
