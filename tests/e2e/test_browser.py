"""Real Chromium (Playwright) through the demo relying party at /demo/ and Huren's own pages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import SCREENSHOTS, LiveServer, chromium_or_skip, launch_chromium

pytestmark = pytest.mark.browser

TIMEOUT_MS = 10_000

sync_api = chromium_or_skip()
expect = sync_api.expect


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium(sync_api) as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser profile (no cookies) per test; Chinese-speaking by default."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 760})
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture(scope="module")
def demo(demo_server: LiveServer) -> dict[str, Any]:
    return dict(json.loads((demo_server.data_dir / "demo.json").read_text()))


def shot(page: Any, name: str) -> Path:
    path = SCREENSHOTS / f"huren-e2e-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def open_login_page(page: Any, server: LiveServer) -> None:
    page.goto(server.url + "/demo/")
    expect(page.locator("#rp-welcome")).to_have_count(0)
    page.click("#rp-login")
    page.wait_for_url(re.compile(re.escape(server.url) + r"/login\?rid="))


def test_sign_in_consent_and_sign_out(
    page: Any, demo_server: LiveServer, demo: dict[str, Any]
) -> None:
    server = demo_server
    open_login_page(page, server)
    # Chinese by default
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.locator("#submit")).to_have_text("登录")
    expect(page.locator("label[for=username]")).to_have_text("用户名")
    shot(page, "login")

    page.fill("#username", demo["username"])
    page.fill("#password", demo["password"])
    page.click("#submit")

    page.wait_for_url(re.compile(re.escape(server.url) + r"/consent\?rid="))
    expect(page.locator("h1")).to_have_text("授权访问")
    expect(page.locator("main")).to_contain_text("演示交易平台")
    expect(page.locator(".scopes li")).to_have_count(4)  # openid profile phone email
    shot(page, "consent")
    page.click("#allow")

    page.wait_for_url(server.url + "/demo/")
    expect(page.locator("#rp-welcome")).to_be_visible()
    expect(page.locator("#rp-welcome")).to_contain_text("演示用户")
    expect(page.locator("#rp-error")).to_have_count(0)
    claims = json.loads(page.locator("#id-token-claims").inner_text())
    assert claims["amr"] == ["pwd"]
    assert claims["iss"] == server.url
    assert claims["aud"] == demo["client_id"]
    assert claims["acr"] == "urn:huren:loa:1"
    assert claims["sid"]
    userinfo = json.loads(page.locator("#userinfo").inner_text())
    assert userinfo["preferred_username"] == "demo"
    assert userinfo["phone_number"] == "13800000000"
    assert userinfo["email"] == "demo@example.cn"
    shot(page, "welcome")

    page.click("#rp-logout")
    page.wait_for_url(server.url + "/demo/")
    expect(page.locator("#rp-login")).to_be_visible()
    expect(page.locator("#rp-welcome")).to_have_count(0)
    shot(page, "signed-out")
    # the provider's SSO session ended too: signing in again asks for the password
    page.click("#rp-login")
    page.wait_for_url(re.compile(re.escape(server.url) + r"/login\?rid="))
    expect(page.locator("#password")).to_be_visible()


def test_wrong_password_shows_the_chinese_error(
    page: Any, demo_server: LiveServer, demo: dict[str, Any]
) -> None:
    open_login_page(page, demo_server)
    login_url = page.url
    page.fill("#username", demo["username"])
    page.fill("#password", demo["password"] + "-wrong")
    page.click("#submit")
    expect(page.locator("#login-error")).to_have_text("用户名或密码错误。")
    assert page.url.split("?")[0] == demo_server.url + "/login"
    expect(page.locator("h1")).to_have_text("登录")
    expect(page.locator("#username")).to_have_value(demo["username"])
    expect(page.locator("#password")).to_have_value("")
    shot(page, "wrong-password")

    # the request survives the failed attempt: the right password now completes it (consent
    # is remembered per user and client, so the page may or may not be asked again)
    page.fill("#password", demo["password"])
    page.click("#submit")
    page.wait_for_url(re.compile(re.escape(demo_server.url) + r"/(consent\?rid=|demo/$)"))
    if "/consent" in page.url:
        page.click("#allow")
    page.wait_for_url(demo_server.url + "/demo/")
    expect(page.locator("#rp-welcome")).to_be_visible()
    assert login_url.startswith(demo_server.url + "/login?rid=")


def test_english_on_request(page: Any, demo_server: LiveServer, demo: dict[str, Any]) -> None:
    open_login_page(page, demo_server)
    page.goto(page.url + "&lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("label[for=username]")).to_have_text("Username")
    expect(page.locator("main")).not_to_contain_text("登录")
    shot(page, "login-en")

    # the choice sticks (cookie): the error after a wrong password is English too
    page.fill("#username", demo["username"])
    page.fill("#password", "not-the-password")
    page.click("#submit")
    expect(page.locator("#login-error")).to_have_text("Wrong username or password.")
    # and the language switch leads back to Chinese
    page.click("nav.lang a:has-text('中文')")
    expect(page.locator("h1")).to_have_text("登录")
