"""Self-registration in real Chromium (Playwright) against a live `huren serve`, with a real
local SMS gateway (the code is read from what the gateway received) and a real local registry.

Each entity type registers end to end on the Chinese pages, sees the done page, and its new
administrator signs in at /login; one refusal is shown in the browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_support import SCREENSHOTS, LiveServer, chromium_or_skip, launch_chromium, running_server

from tests.idp.registry_server import RegistryServer, entity
from tests.idp.sms_gateway import Gateway, SmsGatewayServer
from tests.idp.test_entities import make_resident_id, make_uscc

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
PASSWORD = "browser-pw-2024"

sync_api = chromium_or_skip()
expect = sync_api.expect

LP_USCC, PI_USCC, OO_USCC = (
    make_uscc("51234567"),
    make_uscc("52345678", prefix="12520000"),
    make_uscc("53456789", prefix="93520100"),
)
ENTITIES = {
    LP_USCC: "贵州浏览器测试建设有限公司",
    PI_USCC: "贵州省浏览器测试交易服务中心",
    OO_USCC: "贵阳市浏览器测试农民专业合作社",
}
CASES: dict[str, dict[str, str]] = {
    "legal_person": {
        "name": ENTITIES[LP_USCC],
        "uscc": LP_USCC,
        "agent_name": "王五",
        "phone": "13800010001",
        "username": "e2e-company",
    },
    "natural_person": {
        "name": "张三",
        "id_type": "passport",
        "id_number": "E12345678",
        "phone": "13800010002",
        "username": "e2e-person",
    },
    "public_institution": {
        "name": ENTITIES[PI_USCC],
        "uscc": PI_USCC,
        "agent_name": "李四",
        "phone": "13800010003",
        "username": "e2e-centre",
    },
    "other_org": {
        "name": ENTITIES[OO_USCC],
        "uscc": OO_USCC,
        "agent_name": "赵六",
        "phone": "13800010004",
        "username": "e2e-coop",
    },
}


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with SmsGatewayServer() as state:
        yield state


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, gateway: Gateway) -> Iterator[LiveServer]:
    records = {code: entity(code, name) for code, name in ENTITIES.items()}
    with RegistryServer(records) as registry:
        env = {"HUREN_SMS_GATEWAY_URL": gateway.url, "HUREN_REGISTRY_URL": registry.url}
        with running_server(tmp_path_factory.mktemp("huren-register"), env=env) as live:
            yield live


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium(sync_api) as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh profile per test, Chinese-speaking."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


def fill_form(page: Any, kind: str, values: dict[str, str]) -> None:
    for field, value in values.items():
        if field == "id_type":
            page.select_option("#id_type", value)
        elif field != "phone":
            page.fill(f"#{field}", value)


def ask_for_code(page: Any, gateway: Gateway, phone: str) -> str:
    page.fill("#phone", phone)
    page.click("#send-code")
    expect(page.locator("#notice")).to_contain_text("验证码已发送至")
    expect(page.locator("#notice")).to_contain_text(phone[:3] + "****" + phone[7:])
    # the page keeps what was typed, except the password; JS counts down until a resend
    expect(page.locator("#phone")).to_have_value(phone)
    expect(page.locator("#password")).to_have_value("")
    expect(page.locator("#send-code")).to_be_disabled()
    return gateway.code_for(phone)


@pytest.mark.parametrize("kind", list(CASES))
def test_register_each_type_then_sign_in(
    page: Any, server: LiveServer, gateway: Gateway, kind: str
) -> None:
    values = CASES[kind]
    page.goto(server.url + "/login")
    page.click("#register-link")
    page.wait_for_url(re.compile(re.escape(server.url) + r"/register$"))
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    for label in ("法人", "自然人", "行政机关/事业单位", "其他组织"):
        expect(page.locator("#entity-types")).to_contain_text(label)
    page.click(f"#type-{kind}")
    page.wait_for_url(re.compile(re.escape(server.url) + f"/register/{kind}$"))
    expect(page.locator("#submit")).to_have_text("注册")
    expect(page.locator("#send-code")).to_have_text("获取验证码")
    fill_form(page, kind, {k: v for k, v in values.items()})
    code = ask_for_code(page, gateway, values["phone"])
    expect(page.locator("#username")).to_have_value(values["username"])
    page.fill("#sms_code", code)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(re.escape(server.url) + r"/register/done$"))
    expect(page.locator("#outcome")).to_have_attribute("data-status", "verified")
    expect(page.locator("#outcome")).to_have_text("注册成功")
    expect(page.locator("#outcome-text")).to_contain_text(values["username"])
    page.screenshot(path=str(SCREENSHOTS / f"huren-e2e-register-{kind}.png"), full_page=True)
    page.click("#login-link")
    page.wait_for_url(re.compile(re.escape(server.url) + r"/login"))
    page.fill("#username", values["username"])
    page.fill("#password", PASSWORD)
    page.click("#submit")
    expect(page.locator("#who")).to_be_visible()


def test_a_refusal_is_shown_at_the_field(page: Any, server: LiveServer, gateway: Gateway) -> None:
    number = make_resident_id("321")
    wrong = number[:-1] + ("0" if number[-1] != "0" else "1")
    page.goto(server.url + "/register/natural_person")
    page.select_option("#id_type", "resident_id")
    fill_form(page, "natural_person", {"name": "李雷", "id_number": wrong, "username": "lilei"})
    code = ask_for_code(page, gateway, "13800010009")
    page.fill("#sms_code", code)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    assert summary.get_attribute("role") == "alert"
    expect(summary).to_contain_text("证件号码")
    expect(page.locator("#error-id_number")).to_contain_text("校验码")
    expect(page.locator("#id_number")).to_have_value(wrong)
    expect(page.locator("#id_number")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=str(SCREENSHOTS / "huren-e2e-register-refused.png"), full_page=True)
    # the same code still works once the number is corrected (nothing was spent or written)
    page.fill("#id_number", number)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(re.compile(re.escape(server.url) + r"/register/done$"))
    expect(page.locator("#outcome")).to_have_attribute("data-status", "verified")
