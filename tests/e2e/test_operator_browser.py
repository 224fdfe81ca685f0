"""Real Chromium (Playwright) through the review queue and the entity administrator's page.

An operator made with `huren user create --operator` follows /login?next=… back to the queue and
approves a pending organisation; the organisation's administrator adds an agent, who then signs
in with their own login. The pending organisation is written by a separate Python process that
uses the provider's own registration service on the live server's database (registration over
the web needs an SMS gateway, which is another suite's business).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import HUREN, SCREENSHOTS, LiveServer, chromium_or_skip, launch_chromium

pytestmark = pytest.mark.browser

TIMEOUT_MS = 10_000
PASSWORD = "correct-horse-9"
ADMIN_PHONE = "13912345678"
AGENT_PHONE = "13600002222"

sync_api = chromium_or_skip()
expect = sync_api.expect

_REGISTER = """
import json, sys
from config.runtime import Runtime
from idp.entities import service
from idp.entities.pii import PersonalData

rt = Runtime()
view = service.register(rt.sessions, PersonalData(rt.master_secret), **json.load(sys.stdin))
print(view.id)
"""


def register_entity(server: LiveServer, **fields: Any) -> str:
    """Register an entity in the live server's database; returns its id."""
    python = Path(HUREN).with_name("python")
    result = subprocess.run(
        [str(python), "-c", _REGISTER],
        input=json.dumps(fields),
        env=server.env,
        cwd=server.data_dir,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium(sync_api) as chromium:
        yield chromium


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A way to open fresh browser profiles (no cookies), Chinese-speaking by default."""
    opened: list[Any] = []

    def new_page() -> Any:
        ctx = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
        ctx.set_default_timeout(TIMEOUT_MS)
        opened.append(ctx)
        return ctx.new_page()

    expect.set_options(timeout=TIMEOUT_MS)
    try:
        yield new_page
    finally:
        for ctx in opened:
            ctx.close()


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"huren-e2e-{name}.png"), full_page=True)


def sign_in(page: Any, username: str, password: str) -> None:
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#submit")


def test_operator_approves_and_admin_adds_an_agent_who_signs_in(
    context: Any, live_server: LiveServer
) -> None:
    server = live_server
    server.cli(
        "user",
        "create",
        "--username",
        "reviewer-e2e",
        "--name",
        "审核员",
        "--operator",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    entity_id = register_entity(
        server,
        entity_type="legal_person",
        name="贵州浏览器测试有限公司",
        username="org-admin-e2e",
        password=PASSWORD,
        phone=ADMIN_PHONE,
        uscc="91520100E2E000013N",
        agent_name="李四",
        reasons=["registry_unreachable"],
    )

    # the operator: the queue sends them to sign in, and back
    operator = context()
    operator.goto(server.url + "/operator/entities")
    operator.wait_for_url(re.compile(re.escape(server.url) + r"/login\?next="))
    expect(operator.locator("h1")).to_have_text("登录")
    sign_in(operator, "reviewer-e2e", PASSWORD)
    operator.wait_for_url(server.url + "/operator/entities")
    row = operator.locator(f"#entity-{entity_id}")
    expect(row).to_contain_text("贵州浏览器测试有限公司")
    expect(row).to_contain_text("登记机关系统无法访问或未及时答复")
    shot(operator, "operator-queue")
    row.locator("a").click()
    operator.wait_for_url(server.url + f"/operator/entities/{entity_id}")
    expect(operator.locator("#entity-status")).to_have_text("待审核")
    expect(operator.locator("#member-org-admin-e2e")).to_contain_text("139****5678")
    assert ADMIN_PHONE not in operator.content()
    operator.fill("#note", "营业执照核验通过")
    shot(operator, "operator-entity")
    operator.click("#approve")
    expect(operator.locator("#notice")).to_contain_text("已审核通过")
    expect(operator.locator("#entity-status")).to_have_text("已通过")
    expect(operator.locator("#history")).to_contain_text("reviewer-e2e")
    expect(operator.locator("#history")).to_contain_text("营业执照核验通过")
    shot(operator, "operator-approved")
    shown = json.loads(server.cli("entity", "show", entity_id, "--json").stdout)
    assert shown["status"] == "verified"
    assert shown["reviews"][-1]["actor"] == "reviewer-e2e"

    # the entity's administrator adds an agent
    admin = context()
    admin.goto(server.url + "/account/entity")
    admin.wait_for_url(re.compile(re.escape(server.url) + r"/login\?next="))
    sign_in(admin, "org-admin-e2e", PASSWORD)
    admin.wait_for_url(server.url + "/account/entity")
    expect(admin.locator("#entity-status")).to_have_text("已通过")
    admin.fill("#agent-username", "agent-e2e")
    admin.fill("#agent-name", "赵六")
    admin.fill("#agent-phone", AGENT_PHONE)
    admin.fill("#agent-password", "agent-password-1")
    admin.click("#add-agent")
    expect(admin.locator("#notice")).to_contain_text("agent-e2e")
    expect(admin.locator("#member-agent-e2e")).to_contain_text("136****2222")
    assert AGENT_PHONE not in admin.content()
    shot(admin, "entity-admin")

    # the agent signs in with their own login and sees the entity read-only
    agent = context()
    agent.goto(server.url + "/login?next=/account/entity")
    sign_in(agent, "agent-e2e", "agent-password-1")
    agent.wait_for_url(server.url + "/account/entity")
    expect(agent.locator("#entity-name")).to_have_text("贵州浏览器测试有限公司")
    expect(agent.locator("#my-role")).to_contain_text("经办人")
    expect(agent.locator("#read-only")).to_be_visible()
    expect(agent.locator("#add-agent")).to_have_count(0)
    shot(agent, "entity-agent")
