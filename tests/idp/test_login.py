"""Password login: CSRF, throttling and lockout, audit trail, languages, security headers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from config.app import create_app
from config.settings import Settings, SettingsError
from drivers.bridge.server import DEFAULT_PORT as BRIDGE_DEFAULT_PORT
from idp.models import AuditEvent
from idp.service import Idp

from .conftest import PASSWORD, form_value


def _login(web, username: str, password: str, csrf: str | None = None):
    page = web.get("/login").get_data(as_text=True)
    token = csrf if csrf is not None else form_value(page, "csrf_token")
    return web.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


def _audit(idp: Idp) -> list[tuple[str, str | None]]:
    with idp.sessions() as db:
        return [
            (e.kind, e.username) for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_login_page_is_chinese_by_default_and_english_on_request(web) -> None:
    page = web.get("/login")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "登录" in html and 'lang="zh-CN"' in html
    assert 'name="username"' in html and 'name="password"' in html
    english = web.get("/login?lang=en").get_data(as_text=True)
    assert "Sign in" in english and 'lang="en"' in english
    assert "Sign in" in web.get("/login").get_data(as_text=True)  # choice remembered in a cookie


def test_successful_login_is_audited_and_lands_home(web, user, idp: Idp) -> None:
    response = _login(web, "alice", PASSWORD)
    assert response.status_code == 302
    home = web.get("/").get_data(as_text=True)
    assert "张三" in home
    assert ("login.success", "alice") in _audit(idp)


def test_wrong_password_is_refused_and_audited(web, user, idp: Idp) -> None:
    response = _login(web, "alice", "wrong-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert ("login.failure", "alice") in _audit(idp)
    assert _login(web, "nobody", "whatever1").status_code == 401


def test_lockout_after_repeated_failures_says_when_to_retry(web, user, idp: Idp) -> None:
    for _ in range(2):
        assert _login(web, "alice", "bad-password").status_code == 401
    third = _login(web, "alice", "bad-password")
    assert third.status_code == 429
    assert "2 分钟后重试" in third.get_data(as_text=True)
    # even the right password is refused while locked
    locked = _login(web, "alice", PASSWORD)
    assert locked.status_code == 429
    kinds = [k for k, _ in _audit(idp)]
    assert kinds.count("login.failure") == 3 and "login.locked" in kinds
    assert "login.success" not in kinds


def test_lockout_is_per_account(web, user, idp: Idp) -> None:
    from idp.accounts import create_user

    create_user(idp.sessions, username="bob", password=PASSWORD)
    for _ in range(3):
        _login(web, "alice", "bad-password")
    assert _login(web, "bob", PASSWORD).status_code == 302


def test_missing_or_wrong_csrf_token_is_refused(web, user) -> None:
    web.get("/login")
    assert _login(web, "alice", PASSWORD, csrf="forged").status_code == 400
    fresh = web.application.test_client()
    response = fresh.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400


def test_empty_and_oversized_fields(web, user) -> None:
    assert _login(web, "", "").status_code == 400
    assert _login(web, "a" * 5000, "b" * 5000).status_code == 401


def test_security_headers(web) -> None:
    response = web.get("/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    # the certificate tab may call the local USBKey bridge, and nothing else off-site
    csp = response.headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:21800;" in csp + ";"  # HUREN_BRIDGE_PORT default
    assert Settings.bridge_port == BRIDGE_DEFAULT_PORT  # the bridge's own default
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_bridge_port_setting_reaches_the_csp_and_the_certificate_pages(
    app, settings: Settings, idp: Idp, tmp_path
) -> None:
    """A bridge on another port (`huren bridge serve --port`) is only reachable from the
    provider's pages when the CSP and cert-login.js are told the same port."""
    from .test_cert_login import register_org

    register_org(idp)
    other = create_app(replace(settings, bridge_port=31999))
    try:
        web = other.test_client()
        csp = web.get("/login").headers["Content-Security-Policy"]
        assert "connect-src 'self' http://127.0.0.1:31999;" in csp + ";"
        assert "21800" not in csp
        cert_page = web.get("/login?method=cert").get_data(as_text=True)
        assert 'id="cert-panel"' in cert_page and 'data-bridge-port="31999"' in cert_page
        _login(web, "bidder", PASSWORD)
        account = web.get("/account/certificates").get_data(as_text=True)
        assert 'id="bind-bridge"' in account and 'data-bridge-port="31999"' in account
    finally:
        other.extensions["huren.engine"].dispose()
    for bad in ("0", "65536", "port"):
        with pytest.raises(SettingsError, match="HUREN_BRIDGE_PORT must be"):
            Settings.from_values({"data_dir": str(tmp_path), "bridge_port": bad})
    assert Settings.from_values({"data_dir": str(tmp_path), "bridge_port": "1"}).bridge_port == 1


def test_session_handle_changes_on_login_but_the_oidc_sid_stays(web, user, idp: Idp) -> None:
    _login(web, "alice", PASSWORD)
    with web.session_transaction() as s:
        first = s["sso"]
    sid = idp.sso.get(first).sid
    _login(web, "alice", PASSWORD)
    with web.session_transaction() as s:
        second = s["sso"]
    assert second != first and idp.sso.get(first) is None
    assert idp.sso.get(second).sid == sid


def test_client_ip_comes_from_trusted_proxies_only(app, user, idp: Idp) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    web = app.test_client()
    headers = {"X-Forwarded-For": "203.0.113.7"}
    page = web.get("/login").get_data(as_text=True)
    web.post(
        "/login",
        data={
            "username": "alice",
            "password": "bad-password-1",
            "csrf_token": form_value(page, "csrf_token"),
        },
        headers=headers,
    )
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)  # what HUREN_TRUSTED_PROXIES=1 installs
    web.post(
        "/login",
        data={
            "username": "alice",
            "password": "bad-password-1",
            "csrf_token": form_value(page, "csrf_token"),
        },
        headers=headers,
    )
    with idp.sessions() as db:
        ips = [
            e.ip
            for e in db.scalars(
                select(AuditEvent).where(AuditEvent.kind == "login.failure").order_by(AuditEvent.id)
            )
        ]
    assert ips == ["127.0.0.1", "203.0.113.7"]


def test_ui_locales_from_the_relying_party_reaches_the_login_page(flow) -> None:
    response = flow.authorize(ui_locales="en-US zh-CN")
    page = flow.web.get(response.headers["Location"]).get_data(as_text=True)
    assert 'lang="en"' in page and "Sign in" in page
