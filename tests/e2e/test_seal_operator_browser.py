"""Real Chromium (Playwright) through the seal operators' pages of a live `huren serve`.

The operator, made with `huren user create --operator`, follows /login?next=… back to the seal
list, makes a seal by uploading a PNG picture and the entity's certificate (a test SM2 PKI built
here, its CA trusted with `huren ca add`), activates it, suspends it with a reason, and reads
the history. The seal-making key is an encrypted key file named by HUREN_PLATFORM_KEYS and
HUREN_SEAL_MAKER; the verified entity is written by a separate Python process through the
provider's own registration service on the live server's database.
"""

from __future__ import annotations

import json
import re
import struct
import subprocess
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    HUREN,
    SCREENSHOTS,
    LiveServer,
    chromium_or_skip,
    launch_chromium,
    running_server,
)

from cert_interop import keys, sm2
from cert_interop.x509 import build_certificate, string_extension

pytestmark = pytest.mark.browser

sync_api = chromium_or_skip()
expect = sync_api.expect

TIMEOUT_MS = 10_000
PASSWORD = "correct-horse-9"
OPERATOR = "seal-operator-e2e"
USCC = "91350100M000100Y43"
ORG = "贵州浏览器印章测试有限公司"
SEAL_NAME = ORG + "合同专用章"
OID_ORG_CODE = "1.2.156.10260.4.1.4"  # GM/T 0015-2012: unified social credit code

_REGISTER = """
import json, sys
from config.runtime import Runtime
from idp.entities import service
from idp.entities.pii import PersonalData

rt = Runtime()
view = service.register(rt.sessions, PersonalData(rt.master_secret), **json.load(sys.stdin))
print(view.id)
"""


def seal_png(size: int = 96) -> bytes:
    """A red ring on transparency: a picture a person can recognise in the screenshots."""
    rows = []
    centre, outer, inner = (size - 1) / 2, size / 2 - 1, size / 2 - 8
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            r = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            row += bytes((200, 30, 30, 255)) if inner <= r <= outer else bytes(4)
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def write_pki(base: Path) -> dict[str, Path]:
    """An SM2 CA, the entity's signing certificate (with its credit code) and the seal-making
    key file; the paths of what the test uses."""
    now = datetime.now(UTC) - timedelta(minutes=10)
    ca_key = sm2.generate_private_key()
    ca = build_certificate(
        subject=[("C", "CN"), ("O", "Huren e2e"), ("CN", "Huren e2e Seal CA")],
        subject_public_key=ca_key.public_key(),
        issuer_key=ca_key,
        not_before=now,
        not_after=now + timedelta(days=3650),
        ca=True,
        key_usage={"key_cert_sign", "crl_sign"},
    )

    def leaf(cn: str, extra: list[Any]) -> tuple[Any, Any]:
        key = sm2.generate_private_key()
        cert = build_certificate(
            subject=[("C", "CN"), ("O", cn), ("CN", cn)],
            subject_public_key=key.public_key(),
            issuer_key=ca_key,
            issuer=ca,
            not_before=now,
            not_after=now + timedelta(days=365),
            ca=False,
            key_usage={"digital_signature", "non_repudiation"},
            extra_extensions=extra,
        )
        return key, cert

    _, holder = leaf(ORG, [string_extension(OID_ORG_CODE, USCC)])
    maker_key, maker = leaf("电子印章制作中心", [])
    paths = {name: base / name for name in ("ca.pem", "holder.pem", "maker.key", "maker.pem")}
    paths["ca.pem"].write_bytes(ca.pem())
    paths["holder.pem"].write_bytes(holder.pem())
    paths["maker.key"].write_bytes(keys.dump_private_key(maker_key, "pem", b"maker-pin"))
    paths["maker.pem"].write_bytes(maker.pem())
    paths["maker.pin"] = base / "maker.pin"
    paths["maker.pin"].write_text("maker-pin\n")
    paths["seal.png"] = base / "seal.png"
    paths["seal.png"].write_bytes(seal_png())
    return paths


def register_entity(server: LiveServer, **fields: Any) -> str:
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
def seal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, Any]]:
    base = tmp_path_factory.mktemp("huren-seal")
    files = write_pki(base)
    found: dict[str, Any] = {"files": files}

    def prepare(server: LiveServer) -> None:
        server.cli(
            "user",
            "create",
            "--username",
            OPERATOR,
            "--name",
            "制章员",
            "--operator",
            "--password-stdin",
            input=PASSWORD + "\n",
        )
        server.cli(
            "ca", "add", str(files["ca.pem"]), "--profile", "default", "--revocation", "soft"
        )
        found["entity"] = register_entity(
            server,
            entity_type="legal_person",
            name=ORG,
            username="seal-org-admin",
            password=PASSWORD,
            phone="13912345678",
            uscc=USCC,
            agent_name="李四",
            status="verified",
        )

    uri = f"file:{files['maker.key']}?cert={files['maker.pem']}&pin-source={files['maker.pin']}"
    env = {
        "HUREN_PLATFORM_KEYS": f"seal-maker={uri}",
        "HUREN_SEAL_MAKER": "seal-maker",
        "HUREN_REVOCATION_ONLINE": "false",
    }
    with running_server(base, before_start=prepare, env=env) as server:
        yield server, found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch_chromium(sync_api) as chromium:
        yield chromium


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"huren-e2e-{name}.png"), full_page=True)


def test_operator_makes_activates_and_suspends_a_seal(
    browser: Any, seal_server: tuple[LiveServer, Any]
) -> None:
    server, found = seal_server
    files, entity_id = found["files"], found["entity"]
    context = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    page = context.new_page()
    try:
        page.goto(server.url + "/operator/seals")
        page.wait_for_url(re.compile(re.escape(server.url) + r"/login\?next="))
        page.fill("#username", OPERATOR)
        page.fill("#password", PASSWORD)
        page.click("#submit")
        page.wait_for_url(server.url + "/operator/seals")
        expect(page.locator("h1")).to_have_text("电子印章")
        expect(page.locator("#empty")).to_be_visible()

        page.click("#new-seal")
        page.wait_for_url(server.url + "/operator/seals/new")
        page.fill("#entity", entity_id)
        page.select_option("#type", "contract")
        page.fill("#name", SEAL_NAME)
        page.set_input_files("#picture", str(files["seal.png"]))
        page.set_input_files("#cert", str(files["holder.pem"]))
        shot(page, "seal-form")
        page.click("#make")
        page.wait_for_url(re.compile(re.escape(server.url) + r"/operator/seals/52\d+$"))
        seal_id = page.url.rsplit("/", 1)[1]
        expect(page.locator("#notice")).to_contain_text("已制作")
        expect(page.locator("#seal-name")).to_have_text(SEAL_NAME)
        expect(page.locator("#seal-type")).to_have_text("合同专用章")
        expect(page.locator("#seal-status")).to_have_text("已制作（未启用）")
        expect(page.locator("#seal-entity")).to_contain_text(ORG)
        expect(page.locator("#certificates")).to_contain_text(ORG)
        loaded = page.locator("#seal-picture").evaluate("img => img.complete && img.naturalWidth")
        assert loaded == 96  # served to the operator, allowed by the page's CSP

        page.click("#activate")
        expect(page.locator("#notice")).to_contain_text("已启用")
        expect(page.locator("#seal-status")).to_have_text("已启用")

        page.fill("#suspend-reason", "印章遗失")
        page.click("#suspend")
        expect(page.locator("#notice")).to_contain_text("已暂停")
        expect(page.locator("#seal-status")).to_have_text("已暂停")
        expect(page.locator("#status-reason")).to_contain_text("印章遗失")
        history = page.locator("#history tbody tr")
        expect(history).to_have_count(4)
        statuses = [row.get_attribute("data-status") for row in history.all()]
        assert statuses == ["requested", "made", "active", "suspended"]
        expect(history.nth(3)).to_contain_text(OPERATOR)
        expect(history.nth(3)).to_contain_text("印章遗失")
        shot(page, "seal-suspended")

        page.click("#back")
        expect(page.locator(f"#seal-{seal_id}")).to_contain_text("已暂停")
    finally:
        context.close()
    shown = json.loads(server.cli("seal", "show", seal_id, "--json").stdout)
    assert shown["status"] == "suspended" and shown["status_reason"] == "印章遗失"
    assert shown["history"][-1]["actor"] == OPERATOR


def sign_in_as(page: Any, server: LiveServer, username: str, path: str) -> None:
    page.goto(server.url + path)
    page.wait_for_url(re.compile(re.escape(server.url) + r"/login\?next="))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    page.wait_for_url(server.url + path)


def test_entity_requests_a_seal_and_an_operator_makes_it(
    browser: Any, seal_server: tuple[LiveServer, Any]
) -> None:
    """The entity's administrator requests a seal on /account/seals; the operator finds it under
    "requested" and makes it; the administrator then sees it in use."""
    server, found = seal_server
    files = found["files"]
    admin = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    operator = browser.new_context(locale="zh-CN", viewport={"width": 1100, "height": 900})
    for context in (admin, operator):
        context.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    name = ORG + "财务专用章"
    try:
        page = admin.new_page()
        sign_in_as(page, server, "seal-org-admin", "/account/entity")
        page.click("#seals-link")
        page.wait_for_url(server.url + "/account/seals")
        expect(page.locator("h1")).to_have_text("本主体的电子印章")
        # a refused request keeps what was typed and says which field is wrong
        page.select_option("#type", "finance")
        page.fill("#name", name)
        page.set_input_files("#cert", str(files["holder.pem"]))
        page.click("#send-request")
        expect(page.locator("#error-summary")).to_contain_text("印模图片为空")
        expect(page.locator("#name")).to_have_value(name)
        page.set_input_files("#picture", str(files["seal.png"]))
        page.set_input_files("#cert", str(files["holder.pem"]))
        page.click("#send-request")
        page.wait_for_url(re.compile(re.escape(server.url) + r"/account/seals/52\d+$"))
        seal_id = page.url.rsplit("/", 1)[1]
        expect(page.locator("#notice")).to_contain_text("申请已提交")
        expect(page.locator("#seal-status")).to_have_text("已申请")
        loaded = page.locator("#seal-picture").evaluate("img => img.complete && img.naturalWidth")
        assert loaded == 96
        shot(page, "seal-requested")

        desk = operator.new_page()
        sign_in_as(desk, server, OPERATOR, "/operator/seals")
        desk.click("#status-requested")
        desk.click(f"#seal-{seal_id} a")
        desk.wait_for_url(server.url + f"/operator/seals/{seal_id}")
        expect(desk.locator("#created-by")).to_contain_text("seal-org-admin")
        desk.check("#make-activate")
        desk.click("#make")
        expect(desk.locator("#notice")).to_contain_text("已制作")
        expect(desk.locator("#seal-status")).to_have_text("已启用")
        shot(desk, "seal-request-made")

        page.reload()
        expect(page.locator("#seal-status")).to_have_text("已启用")
        expect(page.locator("#validity")).to_be_visible()
        expect(page.locator("#withdraw")).to_have_count(0)
    finally:
        admin.close()
        operator.close()
    shown = json.loads(server.cli("seal", "show", seal_id, "--json").stdout)
    assert shown["status"] == "active" and shown["maker"] == "seal-maker"
    assert [h["actor"] for h in shown["history"]] == ["seal-org-admin", OPERATOR, OPERATOR]
