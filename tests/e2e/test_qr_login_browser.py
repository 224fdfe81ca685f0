"""QR-code login (§6.3.2 a) in real headless Chromium, with the reference mobile clients.

Nothing is mocked. A live provider (`huren serve`) sends its SMS codes to a real local gateway
(tests/idp/sms_gateway.py) and keeps QR tickets `HUREN_QR_TICKET_TTL` = 30 s (the smallest the
setting allows, so the expiry case waits little). Its accounts are made with `huren user
create`; phones are enrolled with `huren mobile enroll` (a subprocess fed the password, then
the SMS code the gateway received) or with the client library `config.mobile_client` (an SM2
device), and revoked with `huren device revoke`. The trading platform is a real HTTP server at
the redirect URI; Chromium goes from its authorization request (code flow, PKCE S256) to the
login page's QR tab, the test reads the ticket the page opened (`POST /login/qr`'s answer), the
"phone" scans and confirms, the page completes by itself, and the test exchanges the code for
tokens as the platform would.

Covered: tokens after a confirmation (ES256 device by the CLI, SM2 device by the library), the
mobile web page (/m/, /m/qr: WebCrypto P-256 in a phone-sized browser context), cancel, expiry,
a replayed and a reordered device request, a revoked device, and the QR code's ticket used from
a second browser session.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from e2e_support import (
    HUREN,
    LiveServer,
    RelyingParty,
    chromium_or_skip,
    launch_chromium,
    relying_party,
    running_server,
)
from joserfc import jwt
from joserfc.jwk import KeySet

from config.mobile_client import (
    DeviceFile,
    MobileError,
    act,
    finish_enrollment,
    generate_key,
    post_signed,
    sign_request,
    start_enrollment,
)
from tests.idp.sms_gateway import Gateway, SmsGatewayServer

pytestmark = pytest.mark.browser

sync_api = chromium_or_skip()
expect = sync_api.expect

TIMEOUT_MS = 15_000
HTTP_TIMEOUT = 10
TICKET_TTL = 30
PASSWORD = "Saoma-Denglu-2024"
RP_NAME = "招标平台 扫码 e2e"
AMR_QR = {"mca", "swk"}  # multiple channels, proof of a software key (idp/qrlogin/__init__.py)
ACR_QR = "urn:huren:loa:1"
USERS = {  # username: mobile; one enrollment per number (the SMS service allows one a minute)
    "qr-cli": "13800020001",
    "qr-sm2": "13800020002",
    "qr-revoke": "13800020003",
    "qr-web": "13800020004",
}
PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


# -- the trading platform -------------------------------------------------------------------------


# -- the world: provider, gateway, platform, accounts ---------------------------------------------


@dataclass
class World:
    server: LiveServer
    gateway: Gateway
    rp: RelyingParty
    client: dict[str, Any]
    accounts: dict[str, str]
    """Account id by username: the ID token's `sub`."""
    base: Path


def together(*jobs: Callable[[], Any]) -> list[Any]:
    """Independent `huren` commands side by side (each is mostly a second of start-up)."""
    with ThreadPoolExecutor(max_workers=3) as pool:
        return [future.result() for future in [pool.submit(job) for job in jobs]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("qr-e2e")
    state: dict[str, Any] = {}

    def before_start(server: LiveServer) -> None:
        *users, client = together(
            *[
                lambda name=name, phone=phone: server.create_user(name, PASSWORD, phone=phone)
                for name, phone in USERS.items()
            ],
            lambda: server.create_client(
                RP_NAME, redirect_uri=rp.redirect_uri, scope=["openid", "profile"]
            ),
        )
        state["accounts"] = {user["username"]: user["id"] for user in users}
        state["client"] = client

    with SmsGatewayServer() as gateway, relying_party() as rp:
        env = {"HUREN_SMS_GATEWAY_URL": gateway.url, "HUREN_QR_TICKET_TTL": str(TICKET_TTL)}
        with running_server(base / "huren", before_start=before_start, env=env) as server:
            yield World(server, gateway, rp, state["client"], state["accounts"], base)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium(sync_api) as chromium:
        yield chromium


def new_page(browser: Any, **options: Any) -> tuple[Any, Any]:
    context = browser.new_context(
        locale="zh-CN", **({"viewport": {"width": 1000, "height": 800}} | options)
    )
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    return context, context.new_page()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """The person's computer: a fresh browser profile per test, Chinese-speaking."""
    context, tab = new_page(browser)
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    """A phone's browser: small touch screen, mobile user agent, its own profile."""
    context, tab = new_page(
        browser,
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        user_agent=PHONE_UA,
    )
    try:
        yield tab
    finally:
        context.close()


# -- enrolling devices ----------------------------------------------------------------------------


def sms_code(gateway: Gateway, phone: str, seen: int, timeout: float = 15.0) -> str:
    """The code of the first message to `phone` after the first `seen` messages."""
    deadline = time.monotonic() + timeout
    while True:
        with gateway._lock:
            fresh = [m for m in gateway.messages[seen:] if m.get("phone") == phone]
        if fresh:
            return str(fresh[0]["params"]["code"])
        if time.monotonic() > deadline:
            pytest.fail(f"no SMS to {phone} within {timeout} s: {gateway.messages}")
        time.sleep(0.05)


def mobile_env(world: World) -> dict[str, str]:
    """`huren mobile` runs on the phone: none of the provider's settings."""
    return {k: v for k, v in world.server.env.items() if not k.startswith("HUREN_")}


def enroll_with_cli(world: World, username: str, path: Path) -> dict[str, Any]:
    """`huren mobile enroll --password-stdin`: the password first; the SMS code as the second
    line once the gateway has it, as a person reading their phone would type it."""
    seen = len(world.gateway.messages)
    proc = subprocess.Popen(
        [
            str(HUREN),
            "mobile",
            "enroll",
            "--issuer",
            world.server.url,
            "--username",
            username,
            "--password-stdin",
            "--name",
            f"{username} 的命令行手机",
            "--device",
            str(path),
            "--json",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=mobile_env(world),
    )
    assert proc.stdin is not None
    try:
        proc.stdin.write(PASSWORD + "\n")
        proc.stdin.flush()
        code = sms_code(world.gateway, USERS[username], seen)
        out, err = proc.communicate(code + "\n", timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)
    assert proc.returncode == 0, err
    masked = USERS[username][:3] + "****" + USERS[username][7:]
    assert f"短信验证码已发送至 {masked}" in err
    return dict(json.loads(out))


def enroll_with_library(world: World, username: str, algorithm: str) -> DeviceFile:
    seen = len(world.gateway.messages)
    started = start_enrollment(world.server.url, username, PASSWORD)
    code = sms_code(world.gateway, USERS[username], seen)
    key = generate_key("SM2" if algorithm == "SM2" else "ES256")
    return finish_enrollment(
        started, code, key, f"{username} 的 {algorithm} 手机", username=username
    )


@dataclass
class CliDevice:
    path: Path
    device_id: str
    name: str


@pytest.fixture(scope="module")
def cli_device(world: World) -> CliDevice:
    path = world.base / "qr-cli.device.json"
    done = enroll_with_cli(world, "qr-cli", path)
    assert done["algorithm"] == "ES256" and done["device_file"] == str(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    return CliDevice(path, done["device_id"], "qr-cli 的命令行手机")


@pytest.fixture(scope="module")
def sm2_device(world: World) -> DeviceFile:
    device = enroll_with_library(world, "qr-sm2", "SM2")
    assert device.algorithm == "SM2"
    return device


def mobile(world: World, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """`huren mobile ARGS` as the phone runs it."""
    done = subprocess.run(
        [str(HUREN), "mobile", *args],
        env=mobile_env(world),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check and done.returncode != 0:
        pytest.fail(f"`huren mobile {' '.join(args)}` exited {done.returncode}: {done.stderr}")
    return done


# -- the flow in the browser ----------------------------------------------------------------------


@dataclass
class Request:
    url: str
    verifier: str
    state: str
    nonce: str


def authorization_request(world: World) -> Request:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": world.client["client_id"],
            "redirect_uri": world.rp.redirect_uri,
            "scope": "openid profile",
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    return Request(f"{world.server.url}/authorize?{query}", verifier, state, nonce)


@dataclass
class Opened:
    ticket: str
    qr_url: str
    expires_in: int


def open_qr_tab(page: Any, world: World, request: Request | None) -> Opened:
    """From the platform's request (or straight to /login) to the QR tab; the ticket the page
    opened, read from its `POST /login/qr` answer."""
    if request is not None:
        page.goto(request.url)
        page.wait_for_url(re.compile(re.escape(world.server.url) + r"/login\?rid="))
    else:
        page.goto(world.server.url + "/login")
    expect(page.locator("#tab-qr")).to_have_text("扫码登录")
    with page.expect_response(
        lambda r: r.url == world.server.url + "/login/qr" and r.request.method == "POST"
    ) as opened:
        page.click("#tab-qr")
    assert opened.value.status == 200, opened.value.text()
    answer = opened.value.json()
    ticket = answer["ticket"]
    assert answer["qr_url"] == f"{world.server.url}/m/qr?t={ticket}"
    assert TICKET_TTL - 5 <= answer["expires_in"] <= TICKET_TTL
    expect(page.locator("#qr-panel")).to_have_attribute("data-ticket", ticket)
    expect(page.locator("#qr-status")).to_have_attribute("data-state", "created")
    image = page.locator("#qr-image")
    expect(image).to_be_visible()
    assert image.get_attribute("src") == f"/login/qr/{ticket}.svg"
    page.wait_for_function("() => document.getElementById('qr-image').naturalWidth > 0")
    return Opened(ticket, answer["qr_url"], answer["expires_in"])


def finish_at_the_rp(page: Any, world: World, request: Request) -> dict[str, str]:
    """Past the consent page if shown; what the platform received."""
    rp = re.escape(world.rp.redirect_uri)
    consent = re.escape(world.server.url) + r"/consent\?"
    page.wait_for_url(re.compile(f"^({rp}|{consent})"))
    if page.url.startswith(world.server.url + "/consent"):
        expect(page.locator("main")).to_contain_text(RP_NAME)
        page.click("#allow")
        page.wait_for_url(re.compile("^" + rp))
    expect(page.locator("#rp")).to_be_visible()
    (params,) = world.rp.arrivals(request.state)
    return params


def exchange(world: World, request: Request, params: dict[str, str]) -> dict[str, Any]:
    """The platform's token request; the verified ID token's claims."""
    assert params.get("iss") == world.server.url and "error" not in params, params
    response = requests.post(
        world.server.url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": world.rp.redirect_uri,
            "code_verifier": request.verifier,
        },
        auth=(world.client["client_id"], world.client["client_secret"]),
        timeout=HTTP_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["access_token"] and tokens["token_type"].lower() == "bearer"
    jwks = requests.get(world.server.url + "/jwks", timeout=HTTP_TIMEOUT).json()
    token = jwt.decode(tokens["id_token"], KeySet.import_key_set(jwks), ["RS256"])
    claims = dict(token.claims)
    assert claims["iss"] == world.server.url and claims["aud"] == world.client["client_id"]
    assert claims["nonce"] == request.nonce and claims["exp"] > time.time()
    return claims


def assert_qr_login(claims: dict[str, Any], world: World, username: str) -> None:
    """An ID token of the device's account, saying how it signed in."""
    assert set(claims["amr"]) == AMR_QR and claims["acr"] == ACR_QR
    assert claims["sub"] == world.accounts[username]


def state_of(page: Any) -> Any:
    return page.locator("#qr-status")


def stays(page: Any, state: str, seconds: float = 2.0) -> None:
    """The page shows `state` and keeps showing it for a while (it polls every 1.5 s)."""
    expect(state_of(page)).to_have_attribute("data-state", state)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert state_of(page).get_attribute("data-state") == state
        page.wait_for_timeout(250)


# -- expiry: opened first, checked last (the other tests run meanwhile) ---------------------------


@dataclass
class Expiring:
    page: Any
    opened: Opened
    at: float
    request: Request


@pytest.fixture(scope="module", autouse=True)
def expiring(world: World, browser: Any) -> Iterator[Expiring]:
    """A login page whose QR code is left to expire while the module's other tests run."""
    context, tab = new_page(browser)
    try:
        request = authorization_request(world)
        opened = open_qr_tab(tab, world, request)
        yield Expiring(tab, opened, time.monotonic(), request)
    finally:
        context.close()


# -- the tests ------------------------------------------------------------------------------------


def test_cli_device_scans_and_confirms_and_the_rp_gets_tokens(
    page: Any, world: World, cli_device: CliDevice
) -> None:
    request = authorization_request(world)
    opened = open_qr_tab(page, world, request)
    scanned = mobile(world, "scan", opened.qr_url, "--device", str(cli_device.path))
    out = scanned.stdout
    assert out.startswith("登录请求 / Sign-in request\n")
    assert f"平台 / Platform: {RP_NAME}\n" in out
    assert "浏览器 IP / Browser IP: 127.0.0.1\n" in out
    user_agent = page.evaluate("() => navigator.userAgent")
    assert f"浏览器 / Browser: {user_agent}\n" in out  # Chromium's own user agent
    assert re.search(r"打开时间 / Opened at: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(UTC\+8\)", out)
    assert re.search(r"剩余有效期 / Expires in: \d+ 秒 / s", out)
    expect(state_of(page)).to_have_attribute("data-state", "scanned")
    expect(page.locator("#qr-device")).to_contain_text(cli_device.name)
    assert world.rp.arrivals(request.state) == []  # scanning signs nobody in

    confirmed = mobile(world, "confirm", opened.qr_url, "--device", str(cli_device.path))
    assert confirmed.stdout.startswith("已确认登录 / sign-in confirmed")
    claims = exchange(world, request, finish_at_the_rp(page, world, request))
    assert_qr_login(claims, world, "qr-cli")

    # the ticket is spent: the phone cannot act on it again
    again = mobile(world, "confirm", opened.qr_url, "--device", str(cli_device.path), check=False)
    assert again.returncode == 2 and again.stderr.startswith("error: wrong_state: ")


def test_sm2_device_by_the_library(page: Any, world: World, sm2_device: DeviceFile) -> None:
    request = authorization_request(world)
    opened = open_qr_tab(page, world, request)
    answer = act(sm2_device, opened.qr_url, "scan")
    assert answer["state"] == "scanned" and answer["client_name"] == RP_NAME
    assert answer["browser"]["ip"] == "127.0.0.1"
    expect(state_of(page)).to_have_attribute("data-state", "scanned")
    # WebCrypto-style raw r || s works as well as DER
    assert act(sm2_device, opened.qr_url, "confirm", fmt="raw") == {"state": "confirmed"}
    claims = exchange(world, request, finish_at_the_rp(page, world, request))
    assert_qr_login(claims, world, "qr-sm2")


def test_cancel_on_the_phone(page: Any, world: World, cli_device: CliDevice) -> None:
    request = authorization_request(world)
    opened = open_qr_tab(page, world, request)
    mobile(world, "scan", opened.qr_url, "--device", str(cli_device.path), "--json")
    cancelled = mobile(world, "cancel", opened.qr_url, "--device", str(cli_device.path))
    assert cancelled.stdout.startswith("已取消登录 / sign-in cancelled")
    expect(state_of(page)).to_have_attribute("data-state", "cancelled")
    expect(state_of(page)).to_contain_text("取消")
    expect(page.locator("#qr-refresh")).to_be_visible()
    late = mobile(world, "confirm", opened.qr_url, "--device", str(cli_device.path), check=False)
    assert late.returncode == 2 and late.stderr.startswith("error: wrong_state: ")
    assert world.rp.arrivals(request.state) == []

    # a new QR code on the same page: that one signs in
    with page.expect_response(
        lambda r: r.url == world.server.url + "/login/qr" and r.request.method == "POST"
    ) as reopened:
        page.click("#qr-refresh")
    fresh = reopened.value.json()
    assert fresh["ticket"] != opened.ticket
    expect(state_of(page)).to_have_attribute("data-state", "created")
    device = DeviceFile.load(cli_device.path)  # the same device, through the library
    assert act(device, fresh["qr_url"], "scan")["state"] == "scanned"
    assert act(device, fresh["qr_url"], "confirm") == {"state": "confirmed"}
    assert_qr_login(
        exchange(world, request, finish_at_the_rp(page, world, request)), world, "qr-cli"
    )


def test_replayed_and_reordered_device_requests(
    page: Any, world: World, sm2_device: DeviceFile
) -> None:
    request = authorization_request(world)
    opened = open_qr_tab(page, world, request)
    ticket = opened.ticket
    scan_body, scan_headers = sign_request(sm2_device, ticket, "scan")
    confirm_body, confirm_headers = sign_request(sm2_device, ticket, "confirm")

    # reordered: the confirmation arrives before the scan
    with pytest.raises(MobileError) as early:
        post_signed(sm2_device, ticket, "confirm", confirm_body, confirm_headers)
    assert (early.value.code, early.value.status) == ("wrong_state", 409)
    assert post_signed(sm2_device, ticket, "scan", scan_body, scan_headers)["state"] == "scanned"
    with pytest.raises(MobileError) as replayed_scan:
        post_signed(sm2_device, ticket, "scan", scan_body, scan_headers)
    assert (replayed_scan.value.code, replayed_scan.value.status) == ("replayed", 409)
    # the early confirmation cannot be sent again now that it would fit
    with pytest.raises(MobileError) as reordered:
        post_signed(sm2_device, ticket, "confirm", confirm_body, confirm_headers)
    assert reordered.value.code == "replayed"
    stays(page, "scanned", 1.6)

    body, headers = sign_request(sm2_device, ticket, "confirm")
    assert post_signed(sm2_device, ticket, "confirm", body, headers) == {"state": "confirmed"}
    with pytest.raises(MobileError) as replayed:
        post_signed(sm2_device, ticket, "confirm", body, headers)
    assert (replayed.value.code, replayed.value.status) == ("replayed", 409)
    assert replayed.value.message_zh and replayed.value.message_en

    # a body whose signature is not the device's; a stale one
    forged = body.replace(b'"confirm"', b'"cancel"')
    with pytest.raises(MobileError) as bad:
        post_signed(sm2_device, ticket, "cancel", forged, headers)
    assert (bad.value.code, bad.value.status) == ("bad_signature", 401)
    old, old_headers = sign_request(sm2_device, ticket, "cancel", ts=int(time.time()) - 300)
    with pytest.raises(MobileError) as stale:
        post_signed(sm2_device, ticket, "cancel", old, old_headers)
    assert (stale.value.code, stale.value.status) == ("stale_request", 400)

    claims = exchange(world, request, finish_at_the_rp(page, world, request))
    assert_qr_login(claims, world, "qr-sm2")
    assert len(world.rp.arrivals(request.state)) == 1


def test_a_revoked_device_cannot_confirm(page: Any, world: World) -> None:
    device = enroll_with_library(world, "qr-revoke", "ES256")
    path = world.base / "qr-revoke.device.json"
    device.save(path)
    request = authorization_request(world)
    opened = open_qr_tab(page, world, request)
    mobile(world, "scan", opened.qr_url, "--device", str(path))
    expect(state_of(page)).to_have_attribute("data-state", "scanned")

    world.server.cli("device", "revoke", device.device_id, "--reason", "phone lost (e2e)")
    refused = mobile(world, "confirm", opened.qr_url, "--device", str(path), check=False)
    assert refused.returncode == 2
    assert refused.stderr.startswith("error: device_revoked: ")
    assert refused.stderr.count("\n") == 1
    stays(page, "scanned")
    assert world.rp.arrivals(request.state) == []
    with pytest.raises(MobileError) as again:
        act(device, opened.qr_url, "scan")
    assert (again.value.code, again.value.status) == ("device_revoked", 401)

    listed = json.loads(world.server.cli("device", "list", "--user", "qr-revoke", "--json").stdout)
    assert [(d["id"], d["revoked_reason"]) for d in listed] == [
        (device.device_id, "phone lost (e2e)")
    ]
    assert listed[0]["revoked_at"] and listed[0]["last_used_at"]  # it had scanned
    assert world.rp.arrivals(request.state) == []


def test_the_ticket_is_bound_to_the_browser_session_that_opened_it(
    page: Any, browser: Any, world: World, cli_device: CliDevice
) -> None:
    request = authorization_request(world)
    opened = open_qr_tab(page, world, request)
    ticket_url = f"{world.server.url}/login/qr/{opened.ticket}"
    other_context, other = new_page(browser)
    try:
        # a second browser (a photographed QR code, or an attacker's) knows the ticket
        other.goto(world.server.url + "/login")
        csrf = other.locator("input[name=csrf_token]").first.input_value()
        assert other.request.get(ticket_url).status == 404
        assert other.request.get(ticket_url + ".svg").status == 404

        def complete_elsewhere() -> Any:
            return other.request.post(
                ticket_url + "/complete",
                form={"csrf_token": csrf},
                headers={"Origin": world.server.url},
                max_redirects=0,
            )

        early = complete_elsewhere()
        assert early.status == 404 and 'data-reason="ticket_not_found"' in early.text()
        # opened on that browser, the QR code's page has no device to act with
        other.goto(opened.qr_url)
        expect(other.locator("#mobile-error")).to_have_attribute("data-code", "no_device")
        expect(other.locator("#enroll-link")).to_be_visible()

        mobile(world, "scan", opened.qr_url, "--device", str(cli_device.path))
        mobile(world, "confirm", opened.qr_url, "--device", str(cli_device.path))
        late = complete_elsewhere()
        assert late.status == 404 and 'data-reason="ticket_not_found"' in late.text()
        # that browser is signed in nowhere
        account = other.request.get(world.server.url + "/account/devices", max_redirects=0)
        assert account.status in (302, 303) and "/login" in account.headers["location"]
    finally:
        other_context.close()
    # the browser that opened it completes by itself
    assert_qr_login(
        exchange(world, request, finish_at_the_rp(page, world, request)), world, "qr-cli"
    )


def test_the_mobile_web_page_enrolls_and_confirms(page: Any, phone_page: Any, world: World) -> None:
    """A phone's browser scans a login page's QR code before it is enrolled: it is sent to
    enroll (WebCrypto P-256, key in IndexedDB), comes back, and decides."""
    phone = phone_page
    request = authorization_request(world)
    opened = open_qr_tab(page, world, request)
    phone.goto(opened.qr_url)
    expect(phone.locator("h1")).to_have_text("确认登录")
    expect(phone.locator("#mobile-error")).to_have_attribute("data-code", "no_device")
    expect(phone.locator("#mobile-error")).to_contain_text("此浏览器尚未登记为您账户的设备")
    phone.click("#enroll-link a")
    phone.wait_for_url(f"{world.server.url}/m/?t={opened.ticket}")
    expect(phone.locator("h1")).to_have_text("登记本设备")
    seen = len(world.gateway.messages)
    phone.fill("#enroll-username", "qr-web")
    phone.fill("#enroll-password", "wrong-password")
    phone.click("#enroll-start")
    expect(phone.locator("#mobile-error")).to_have_attribute("data-code", "invalid_credentials")
    expect(phone.locator("#mobile-error")).to_have_text("用户名或密码错误。")
    phone.fill("#enroll-password", PASSWORD)
    phone.click("#enroll-start")
    expect(phone.locator("#mobile-notice")).to_contain_text("短信验证码已发送至 138****0004")
    expect(phone.locator("#mobile-error")).to_be_hidden()
    code = sms_code(world.gateway, USERS["qr-web"], seen)
    phone.fill("#enroll-code", "000000" if code != "000000" else "111111")
    phone.click("#enroll-finish")
    expect(phone.locator("#mobile-error")).to_have_attribute("data-code", "wrong_code")
    expect(phone.locator("#mobile-error")).to_have_text("短信验证码错误，请核对后重试。")
    phone.fill("#enroll-code", code)
    phone.click("#enroll-finish")
    expect(phone.locator("#device-status")).to_be_visible()
    expect(phone.locator("#device-summary")).to_contain_text("qr-web")
    device_id = phone.locator("#device-status").get_attribute("data-device-id")

    # back to the sign-in that sent it: refuse this one
    phone.click("#continue-link a")
    phone.wait_for_url(opened.qr_url)
    expect(phone.locator("#request-details")).to_be_visible()
    expect(phone.locator("#detail-client")).to_have_text(RP_NAME)
    expect(phone.locator("#detail-ip")).to_have_text("127.0.0.1")
    expect(phone.locator("#detail-ua")).to_have_text(page.evaluate("() => navigator.userAgent"))
    expect(phone.locator("#detail-expires")).to_contain_text("秒")
    expect(phone.locator("#confirm-login")).to_have_text("确认登录")
    expect(phone.locator("#cancel-login")).to_have_text("取消")
    expect(state_of(page)).to_have_attribute("data-state", "scanned")
    phone.click("#cancel-login")
    expect(phone.locator("#qr-done")).to_have_attribute("data-state", "cancelled")
    expect(phone.locator("#qr-done")).to_contain_text("已取消登录")
    expect(state_of(page)).to_have_attribute("data-state", "cancelled")
    assert world.rp.arrivals(request.state) == []

    # the key lives in IndexedDB, generated non-extractable
    stored = phone.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("huren-mobile", 1);
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
              const get = open.result.transaction("devices").objectStore("devices").get("current");
              get.onsuccess = () => {
                const r = get.result;
                resolve({id: r.device_id, alg: r.algorithm, type: r.privateKey.type,
                         extractable: r.privateKey.extractable,
                         curve: r.privateKey.algorithm.namedCurve});
              };
            };
        })"""
    )
    assert stored == {
        "id": device_id,
        "alg": "ES256",
        "type": "private",
        "extractable": False,
        "curve": "P-256",
    }
    listed = json.loads(world.server.cli("device", "list", "--user", "qr-web", "--json").stdout)
    assert [(d["id"], d["algorithm"]) for d in listed] == [(device_id, "ES256")]

    # a new QR code on the same login page: confirm it
    with page.expect_response(
        lambda r: r.url == world.server.url + "/login/qr" and r.request.method == "POST"
    ) as reopened:
        page.click("#qr-refresh")
    fresh = reopened.value.json()["qr_url"]
    phone.goto(fresh)
    expect(phone.locator("#confirm-login")).to_be_enabled()
    phone.click("#confirm-login")
    expect(phone.locator("#qr-done")).to_have_attribute("data-state", "confirmed")
    expect(phone.locator("#qr-done")).to_contain_text("已确认登录")
    assert_qr_login(
        exchange(world, request, finish_at_the_rp(page, world, request)), world, "qr-web"
    )
    # the used QR code, opened again: refused with a message saying what to do
    phone.goto(fresh)
    expect(phone.locator("#mobile-error")).to_have_attribute("data-code", "wrong_state")
    expect(phone.locator("#mobile-error")).to_contain_text("请刷新登录页面上的二维码后重新扫描")
    expect(phone.locator("#request-details")).to_be_hidden()


def test_an_expired_qr_code(expiring: Expiring, world: World, cli_device: CliDevice) -> None:
    """The page opened when the module started; by now (or after a short wait) it expired."""
    page = expiring.page
    left = expiring.at + expiring.opened.expires_in + 1 - time.monotonic()
    if left > 0:
        time.sleep(left)
    expect(state_of(page)).to_have_attribute("data-state", "expired")
    expect(state_of(page)).to_contain_text("过期")
    expect(page.locator("#qr-refresh")).to_be_visible()
    late = mobile(
        world, "scan", expiring.opened.qr_url, "--device", str(cli_device.path), check=False
    )
    assert late.returncode == 2 and late.stderr.startswith("error: ticket_expired: ")
    # the page's own completion is refused too
    csrf = page.locator("#qr-form input[name=csrf_token]").input_value()
    refused = page.request.post(
        f"{world.server.url}/login/qr/{expiring.opened.ticket}/complete",
        form={"csrf_token": csrf, "rid": ""},
        headers={"Origin": world.server.url},
        max_redirects=0,
    )
    assert refused.status in (404, 409) and "ticket_expired" in refused.text()
    assert world.rp.arrivals(expiring.request.state) == []
