"""The self-registration pages (/register, §6.3.1) and the developer SMS page (/dev/sms).

Through the Flask test client on each storage backend (SQLite + SQL store; PostgreSQL + Redis
when the CI servers are set), with a real local SMS gateway and a real local registry server.
After every refusal no market_entity or account row may have been added.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from cert_interop.identifiers import ENTITY_TYPES, ID_TYPES
from config.app import create_app
from config.runtime import MIGRATION_LOCATIONS
from config.settings import Settings
from idp.clients import create_client
from idp.registry.http import HttpRegistry
from idp.service import Idp
from idp.web import register as pages
from storage.migrate import upgrade

from .conftest import ISSUER, REDIRECT, Flow, form_value, query
from .registry_server import RegistryServer, entity
from .sms_gateway import Gateway, SmsGatewayServer
from .test_entities import make_resident_id, make_uscc

PASSWORD = "register-pw-2024"
NAME = "贵州某某建设工程（集团）有限公司"
USCC = make_uscc("12345678")
PI_NAME = "贵州省某某交易服务中心"
PI_USCC = make_uscc("22334455", prefix="12520000")
OO_NAME = "贵阳市某某农民专业合作社"
OO_USCC = make_uscc("33445566", prefix="93520100")
REVOKED_NAME = "贵州某某已吊销有限公司"
REVOKED_USCC = make_uscc("44556677")
UNKNOWN_USCC = make_uscc("11112222")
ID_NUMBER = make_resident_id("123")


def forms() -> dict[str, dict[str, str]]:
    """A valid form of each type (sms_code is added by `Site.register`)."""
    return {
        "legal_person": {
            "name": NAME,
            "uscc": USCC,
            "agent_name": "王五",
            "phone": "13812340001",
            "username": "gz-build",
            "password": PASSWORD,
        },
        "natural_person": {
            "name": "张三",
            "id_type": "resident_id",
            "id_number": ID_NUMBER,
            "phone": "13812340002",
            "username": "zhangsan",
            "password": PASSWORD,
        },
        "public_institution": {
            "name": PI_NAME,
            "uscc": PI_USCC,
            "agent_name": "李四",
            "phone": "13812340003",
            "username": "gz-centre",
            "password": PASSWORD,
        },
        "other_org": {
            "name": OO_NAME,
            "uscc": OO_USCC,
            "agent_name": "赵六",
            "phone": "13812340004",
            "username": "gy-coop",
            "password": PASSWORD,
        },
    }


@dataclass
class Site:
    """One app and a browser-like client on it."""

    app: Flask
    gateway: Gateway | None

    def __post_init__(self) -> None:
        self.web: FlaskClient = self.app.test_client()

    @property
    def idp(self) -> Idp:
        return self.app.extensions["huren.idp"]  # type: ignore[no-any-return]

    def rows(self) -> tuple[int, int]:
        """(market_entity, account) row counts."""
        with self.app.extensions["huren.engine"].connect() as conn:
            entities = conn.execute(text("SELECT count(*) FROM market_entity")).scalar_one()
            accounts = conn.execute(text("SELECT count(*) FROM account")).scalar_one()
        return int(entities), int(accounts)

    def csrf(self, kind: str = "legal_person") -> str:
        page = self.web.get(f"/register/{kind}")
        return form_value(page.get_data(as_text=True), "csrf_token")

    def post(
        self, kind: str, action: str | None, data: dict[str, Any], *, lang: str = "en"
    ) -> TestResponse:
        body: dict[str, Any] = {"csrf_token": self.csrf(kind), **data}
        if action is not None:
            body["action"] = action
        return self.web.post(f"/register/{kind}?lang={lang}", data=body)

    def send_code(self, kind: str, phone: str) -> str:
        response = self.post(kind, "send_code", {"phone": phone})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert self.gateway is not None
        return self.gateway.code_for(phone)

    def register(self, kind: str, form: dict[str, str], **over: str) -> TestResponse:
        """Ask for a code for `form`'s mobile, then register `form` updated with `over`."""
        code = self.send_code(kind, form["phone"])
        return self.post(kind, "register", {**form, "sms_code": code, **over})


def summary(response: TestResponse) -> str:
    page = response.get_data(as_text=True)
    found = re.search(r'<div class="error" role="alert" id="error-summary">(.*?)</div>', page, re.S)
    assert found, page
    return html.unescape(re.sub(r"<[^>]+>", " ", found.group(1)))


def field_error(response: TestResponse, field: str) -> str:
    page = response.get_data(as_text=True)
    found = re.search(rf'<p class="field-error" id="error-{field}">(.*?)</p>', page, re.S)
    assert found, f"no #error-{field} in page"
    return html.unescape(found.group(1))


def assert_refused(
    response: TestResponse, status: int, field: str | None, label: str, message: str
) -> None:
    """The refusal names the field (its label) and the reason, in the summary and at the
    field."""
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    said = " ".join(summary(response).split())
    assert message in said, said
    if field is not None:
        assert label in said, said
        if f'id="{field}"' in response.get_data(as_text=True):  # else: not on this type's form
            assert message in field_error(response, field)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with SmsGatewayServer() as state:
        yield state


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    records = {
        USCC: entity(USCC, NAME),
        PI_USCC: entity(PI_USCC, PI_NAME),
        OO_USCC: entity(OO_USCC, OO_NAME),
        REVOKED_USCC: entity(REVOKED_USCC, REVOKED_NAME, status="revoked"),
    }
    with RegistryServer(records) as server:
        yield server


@pytest.fixture
def make_site(
    backend: dict[str, Any], tmp_path: Path, gateway: Gateway
) -> Iterator[Callable[..., Site]]:
    """Build apps on this test's database; `make_site(sms=False, **settings)`."""
    made: list[Flask] = []
    prefix = f"huren-test-{uuid.uuid4().hex}:"

    def make(*, sms: bool = True, **values: Any) -> Site:
        config: dict[str, Any] = {
            "data_dir": str(tmp_path / "data"),
            "issuer": ISSUER,
            "database_url": backend["database_url"],
            **values,
        }
        if sms:
            config["sms_gateway_url"] = gateway.url
        if backend["redis_url"]:
            config["redis_url"] = backend["redis_url"]
            config["redis_prefix"] = prefix
        settings = Settings.from_values(config)
        upgrade(settings.database_url, MIGRATION_LOCATIONS)
        app = create_app(settings)
        app.config["TESTING"] = True
        made.append(app)
        return Site(app, gateway if sms else None)

    yield make
    if backend["redis_url"]:
        import redis

        conn = redis.Redis.from_url(backend["redis_url"])
        for key in conn.scan_iter(f"{prefix}*"):
            conn.delete(key)
        conn.close()
    for app in made:
        app.extensions["huren.engine"].dispose()


@pytest.fixture
def site(make_site: Callable[..., Site], registry: RegistryServer) -> Site:
    return make_site(registry_url=registry.url, registry_timeout=1)


# --- pages --------------------------------------------------------------------------------------


def test_choose_page_is_chinese_by_default_and_english_on_request(site: Site) -> None:
    page = site.web.get("/register")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="zh-CN">' in body
    for label in ("法人", "自然人", "行政机关/事业单位", "其他组织", "注册市场主体"):
        assert label in body
    for kind in ENTITY_TYPES:
        assert f'href="/register/{kind}"' in body
    english = site.web.get("/register?lang=en").get_data(as_text=True)
    assert "Legal person" in english and "Register a market entity" in english


@pytest.mark.parametrize("kind", ENTITY_TYPES)
def test_form_has_stable_ids_and_limits(site: Site, kind: str) -> None:
    page = site.web.get(f"/register/{kind}").get_data(as_text=True)
    expected = ["name", "phone", "sms_code", "username", "password", "send-code", "submit"]
    expected += ["id_type", "id_number"] if kind == "natural_person" else ["uscc", "agent_name"]
    for ident in expected:
        assert f'id="{ident}"' in page, ident
    absent = ["uscc", "agent_name"] if kind == "natural_person" else ["id_type", "id_number"]
    for ident in absent:
        assert f'id="{ident}"' not in page, ident
    assert 'name="action" value="send_code"' in page and 'name="action" value="register"' in page
    assert re.search(r'id="username"[^>]*maxlength="150"', page)
    assert re.search(r'id="password"[^>]*maxlength="1024"', page)
    assert "获取验证码" in page and "注册" in page
    if kind == "natural_person":
        for id_type in ID_TYPES:
            assert f'value="{id_type}"' in page


def test_unknown_type_is_a_404_page(site: Site) -> None:
    for path in ("/register/company", "/register/%E6%B3%95%E4%BA%BA", "/register/" + "x" * 300):
        response = site.web.get(path)
        assert response.status_code == 404
        assert 'data-reason="not_found"' in response.get_data(as_text=True)
    response = site.web.post("/register/company", data={"csrf_token": site.csrf()})
    assert response.status_code == 404


def test_done_page_without_a_registration_goes_back_to_the_choice(site: Site) -> None:
    response = site.web.get("/register/done")
    assert response.status_code == 302 and response.headers["Location"].endswith("/register")


# --- successful registrations -------------------------------------------------------------------


def sign_in(site: Site, username: str, password: str) -> TestResponse:
    page = site.web.get("/login").get_data(as_text=True)
    return site.web.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": form_value(page, "csrf_token"),
        },
    )


@pytest.mark.parametrize("kind", ENTITY_TYPES)
def test_each_type_registers_verified_and_can_sign_in(site: Site, kind: str) -> None:
    form = forms()[kind]
    response = site.register(kind, form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    assert response.headers["Location"].endswith("/register/done")
    done = site.web.get("/register/done?lang=en")
    page = done.get_data(as_text=True)
    assert done.status_code == 200 and 'data-status="verified"' in page
    assert "You can sign in now" in page and 'href="/login"' in page
    assert unicodedata.normalize("NFKC", form["name"]) in page and form["username"] in page
    assert site.rows() == (1, 1)
    with site.app.extensions["huren.engine"].connect() as conn:
        status = conn.execute(text("SELECT status FROM market_entity")).scalar_one()
    assert status == "verified"
    # the Chinese done page, then the new account signs in
    assert "注册成功" in site.web.get("/register/done?lang=zh").get_data(as_text=True)
    signed_in = sign_in(site, form["username"], PASSWORD)
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/")


def test_send_code_keeps_every_value_but_the_password(site: Site) -> None:
    form = forms()["legal_person"]
    response = site.post("legal_person", "send_code", form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    found = re.search(r'id="notice">(.*?)</p>', page, re.S)
    assert found
    notice = html.unescape(found.group(1))
    assert "138****0001" in notice and "valid for 5 minutes" in notice
    assert "another in 60 seconds" in notice
    for field in ("name", "uscc", "agent_name", "phone", "username"):
        assert form_value(page, field) == html.escape(form[field], quote=True)
    assert PASSWORD not in page and not re.search(r'name="password" value=', page)
    assert 'data-resend-in="60"' in page
    assert site.gateway is not None and site.gateway.messages[-1]["phone"] == form["phone"]
    # the Chinese notice
    zh = site.post("legal_person", "send_code", {"phone": "13812349999"}, lang="zh")
    assert "验证码已发送至 138****9999，5 分钟内有效" in zh.get_data(as_text=True)


def test_send_code_again_too_soon_is_429_at_the_mobile(site: Site) -> None:
    site.send_code("legal_person", "13812340001")
    response = site.post("legal_person", "send_code", {"phone": "13812340001"})
    assert_refused(response, 429, "phone", "Mobile number", "you may request another in")


def test_send_code_with_the_gateway_down_is_503_at_the_mobile(site: Site) -> None:
    assert site.gateway is not None
    site.gateway.status = 503
    response = site.post("natural_person", "send_code", {"phone": "13812340001"})
    assert_refused(response, 503, "phone", "Mobile number", "The SMS service is unavailable")


@pytest.mark.parametrize("phone", ["", "12345", "138123400011", "abc"])
def test_send_code_to_a_bad_number_is_refused(site: Site, phone: str) -> None:
    response = site.post("natural_person", "send_code", {"phone": phone})
    reason = "This field is required." if not phone else "Enter an 11-digit mainland mobile"
    assert_refused(response, 400, "phone", "Mobile number", reason)
    assert site.gateway is not None and site.gateway.messages == []


@pytest.mark.parametrize("case", ["failing", "slow", "contradicting", "not_configured"])
def test_organisation_is_pending_when_the_registry_cannot_confirm_it(
    make_site: Callable[..., Site], registry: RegistryServer, case: str
) -> None:
    if case == "not_configured":
        site = make_site()
        reason, words = "registry_not_configured", "No registry is connected"
    else:
        site = make_site(registry_url=registry.url, registry_timeout=1)
        reason, words = "registry_unreachable", "could not be reached or did not answer in time"
    if case == "failing":
        registry.failing = True
    elif case == "slow":
        registry.slow = 2.5
    elif case == "contradicting":
        # an answer remembered an hour ago, and now the registry says another name
        moment = [datetime.now(UTC) - timedelta(hours=2)]
        lookup = HttpRegistry(
            registry.url, timeout=1, cache=site.idp.store, clock=lambda: moment[0]
        )
        site.idp.onboarding = replace(site.idp.onboarding, registry=lookup)
        lookup.lookup(USCC)
        registry.contradicting = True
        moment[0] = datetime.now(UTC)
        reason, words = "registry_contradiction", "contradict each other"
    form = forms()["legal_person"]
    response = site.register("legal_person", form)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    page = site.web.get("/register/done?lang=en").get_data(as_text=True)
    assert 'data-status="pending"' in page and "waiting for review" in page
    assert f'data-code="{reason}"' in page and words in html.unescape(page)
    with site.app.extensions["huren.engine"].connect() as conn:
        row = conn.execute(text("SELECT status FROM market_entity")).scalar_one()
    assert row == "pending"
    zh = site.web.get("/register/done?lang=zh").get_data(as_text=True)
    assert "待审核" in zh


# --- refusals -----------------------------------------------------------------------------------

BAD_USCC = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")
BAD_ID = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")

REFUSALS: list[tuple[str, str, dict[str, str], int, str | None, str, str]] = [
    # (case, kind, overrides, status, field, label, message)
    (
        "uscc check",
        "legal_person",
        {"uscc": BAD_USCC},
        400,
        "uscc",
        "Unified social credit code",
        "The check character (the last one) does not match the code",
    ),
    (
        "uscc short",
        "other_org",
        {"uscc": USCC[:10]},
        400,
        "uscc",
        "Unified social credit code",
        "has 18 characters",
    ),
    (
        "uscc letters",
        "legal_person",
        {"uscc": "91ABCDEF" + USCC[8:]},
        400,
        "uscc",
        "Unified social credit code",
        "characters 3 to 8 are digits",
    ),
    (
        "id check",
        "natural_person",
        {"id_number": BAD_ID},
        400,
        "id_number",
        "ID number",
        "does not match the number",
    ),
    (
        "id birth",
        "natural_person",
        {"id_number": make_resident_id("123", birth="19901341")},
        400,
        "id_number",
        "ID number",
        "not a real date",
    ),
    (
        "id region",
        "natural_person",
        {"id_number": make_resident_id("123", region="990102")},
        400,
        "id_number",
        "ID number",
        "region code",
    ),
    (
        "passport",
        "natural_person",
        {"id_type": "passport", "id_number": "E1234#5678"},
        400,
        "id_number",
        "ID number",
        "5 to 17 letters or digits",
    ),
    (
        "hk permit",
        "natural_person",
        {"id_type": "hk_macao_permit", "id_number": "X12345678"},
        400,
        "id_number",
        "ID number",
        "H or M followed by 8 digits",
    ),
    (
        "tw permit",
        "natural_person",
        {"id_type": "taiwan_permit", "id_number": "1234567"},
        400,
        "id_number",
        "ID number",
        "Taiwan permit number is 8 digits",
    ),
    (
        "fpr",
        "natural_person",
        {"id_type": "foreign_permanent_resident", "id_number": "AB1234567890123"},
        400,
        "id_number",
        "ID number",
        "3 letters and 12 digits",
    ),
    (
        "id type",
        "natural_person",
        {"id_type": "driving_licence"},
        400,
        "id_type",
        "ID type",
        "Choose one of the offered options.",
    ),
    (
        "name mismatch",
        "legal_person",
        {"name": "另一家建设有限公司"},
        400,
        "name",
        "Enterprise name",
        "differs from the registry's record",
    ),
    (
        "unknown code",
        "public_institution",
        {"uscc": UNKNOWN_USCC},
        400,
        "uscc",
        "Unified social credit code",
        "The registry has no organisation with this credit code.",
    ),
    (
        "revoked",
        "legal_person",
        {"uscc": REVOKED_USCC, "name": REVOKED_NAME},
        400,
        "uscc",
        "Unified social credit code",
        "revoked",
    ),
    (
        "wrong code",
        "natural_person",
        {"sms_code": "WRONG"},
        400,
        "sms_code",
        "SMS code",
        "wrong, has expired or was already used",
    ),
    (
        "no code",
        "natural_person",
        {"sms_code": ""},
        400,
        "sms_code",
        "SMS code",
        "Enter the code from the SMS",
    ),
    (
        "no name",
        "legal_person",
        {"name": " "},
        400,
        "name",
        "Enterprise name",
        "This field is required.",
    ),
    (
        "no agent",
        "public_institution",
        {"agent_name": ""},
        400,
        "agent_name",
        "Agent's name",
        "This field is required.",
    ),
    (
        "no password",
        "natural_person",
        {"password": ""},
        400,
        "password",
        "Password",
        "8 to 1024 characters",
    ),
    (
        "short password",
        "other_org",
        {"password": "short"},
        400,
        "password",
        "Password",
        "8 to 1024 characters",
    ),
    (
        "bad username",
        "natural_person",
        {"username": "no spaces allowed"},
        400,
        "username",
        "Username",
        "may contain letters, digits",
    ),
    (
        "bad phone",
        "legal_person",
        {"phone": "12345678901"},
        400,
        "phone",
        "Mobile number",
        "11-digit mainland mobile",
    ),
    (
        "control char",
        "legal_person",
        {"agent_name": "王\u200b五"},
        400,
        "agent_name",
        "Agent's name",
        "invisible or control characters",
    ),
    (
        "id for org",
        "legal_person",
        {"id_number": ID_NUMBER},
        400,
        "id_number",
        "ID number",
        "does not belong to this type",
    ),
    (
        "id type for org",
        "other_org",
        {"id_type": "passport"},
        400,
        "id_type",
        "ID type",
        "does not belong to this type",
    ),
    (
        "uscc for person",
        "natural_person",
        {"uscc": USCC},
        400,
        "uscc",
        "Unified social credit code",
        "does not belong to this type",
    ),
    (
        "agent for person",
        "natural_person",
        {"agent_name": "王五"},
        400,
        "agent_name",
        "Agent's name",
        "does not belong to this type",
    ),
    (
        "huge name",
        "legal_person",
        {"name": "某" * 5000},
        400,
        "name",
        "Enterprise name",
        "too long or too short",
    ),
    (
        "huge agent",
        "other_org",
        {"agent_name": "x" * 5000},
        400,
        "agent_name",
        "Agent's name",
        "too long or too short",
    ),
    (
        "huge password",
        "natural_person",
        {"password": "p" * 5000},
        400,
        "password",
        "Password",
        "8 to 1024 characters",
    ),
    (
        "huge code",
        "natural_person",
        {"sms_code": "1" * 5000},
        400,
        "sms_code",
        "SMS code",
        "too long or too short",
    ),
]


@pytest.mark.parametrize(
    ("kind", "over", "status", "field", "label", "message"),
    [case[1:] for case in REFUSALS],
    ids=[case[0] for case in REFUSALS],
)
def test_refusal_names_the_field_and_the_reason_and_writes_nothing(
    site: Site,
    kind: str,
    over: dict[str, str],
    status: int,
    field: str | None,
    label: str,
    message: str,
) -> None:
    form = forms()[kind]
    response = site.register(kind, form, **over)
    assert_refused(response, status, field, label, message)
    assert site.rows() == (0, 0)
    page = response.get_data(as_text=True)
    assert PASSWORD not in page  # never echoed
    shown = over.get(field or "", "")
    on_form = f'id="{field}"' in page
    if (
        field in ("uscc", "id_number", "username", "phone")
        and on_form
        and re.fullmatch(r"[\w #-]+", shown)
    ):
        assert f'value="{shown}"' in page  # kept for correcting


def test_a_field_sent_twice_is_refused(site: Site) -> None:
    form = forms()["legal_person"]
    code = site.send_code("legal_person", form["phone"])
    body = {**form, "sms_code": code, "csrf_token": site.csrf(), "action": "register"}
    response = site.web.post(
        "/register/legal_person?lang=en",
        data=MultiDict([*body.items(), ("name", "另一个名称")]),
    )
    assert_refused(response, 400, "name", "Enterprise name", "not sent as one piece of text")
    assert site.rows() == (0, 0)


def test_the_entity_type_comes_from_the_address_not_the_form(site: Site) -> None:
    form = forms()["natural_person"]
    response = site.register("natural_person", form, entity_type="legal_person")
    assert response.status_code == 302
    with site.app.extensions["huren.engine"].connect() as conn:
        kind = conn.execute(text("SELECT entity_type FROM market_entity")).scalar_one()
    assert kind == "natural_person"


def test_a_used_sms_code_cannot_be_replayed(site: Site) -> None:
    first = forms()["natural_person"]
    code = site.send_code("natural_person", first["phone"])
    ok = site.post("natural_person", "register", {**first, "sms_code": code})
    assert ok.status_code == 302
    assert site.rows() == (1, 1)
    second = {
        **first,
        "id_number": make_resident_id("456"),
        "username": "zhangsan2",
        "sms_code": code,
    }
    response = site.post("natural_person", "register", second)
    assert_refused(response, 400, "sms_code", "SMS code", "already used")
    assert site.rows() == (1, 1)


@pytest.mark.parametrize(
    ("kind", "field", "retyped", "said"),
    [
        (
            "legal_person",
            "uscc",
            " ".join(USCC.lower()),
            "this unified social credit code is already registered",
        ),
        ("natural_person", "id_number", ID_NUMBER.lower(), "this ID number is already registered"),
    ],
)
def test_a_second_registration_is_409_with_the_way_back_in(
    site: Site, kind: str, field: str, retyped: str, said: str
) -> None:
    first = forms()[kind]
    assert site.register(kind, first).status_code == 302
    again = {**first, field: retyped, "username": "someone-else", "phone": "13912345678"}
    response = site.register(kind, again)
    assert_refused(response, 409, field, "", said)
    assert "Sign in with the existing administrator account" in summary(response)
    assert "proof of identity" in summary(response)
    assert site.rows() == (1, 1)
    code = site.send_code(kind, "13912345679")
    zh = site.post(kind, "register", {**again, "phone": "13912345679", "sms_code": code}, lang="zh")
    text_zh = summary(zh)
    assert "已注册" in text_zh and "请使用已有的管理员账号登录" in text_zh


def test_a_taken_username_is_refused(site: Site) -> None:
    assert site.register("natural_person", forms()["natural_person"]).status_code == 302
    form = {**forms()["legal_person"], "username": "ZhangSan"}
    response = site.register("legal_person", form)
    assert_refused(response, 400, "username", "Username", "already taken")
    assert site.rows() == (1, 1)


def test_registrations_from_one_address_are_throttled(
    make_site: Callable[..., Site], registry: RegistryServer
) -> None:
    site = make_site(registry_url=registry.url, register_ip_limit=2)
    for n in range(2):
        form = {
            **forms()["natural_person"],
            "id_number": make_resident_id(f"{n:03d}"),
            "phone": f"1381234100{n}",
            "username": f"person{n}",
        }
        assert site.register("natural_person", form).status_code == 302
    assert site.rows() == (2, 2)
    third = {**forms()["legal_person"], "phone": "13812341009"}
    response = site.register("legal_person", third)
    assert_refused(response, 429, None, "", "Too many registrations from this network address")
    assert site.rows() == (2, 2)


def test_forged_posts_without_the_csrf_token_are_400(site: Site) -> None:
    form = forms()["natural_person"]
    code = site.send_code("natural_person", form["phone"])
    data = {**form, "sms_code": code, "action": "register"}
    for token in (None, "", "forged-token"):
        body = dict(data) if token is None else {**data, "csrf_token": token}
        response = site.web.post("/register/natural_person?lang=en", data=body)
        assert response.status_code == 400
        assert 'data-reason="csrf_failed"' in response.get_data(as_text=True)
    other = FlaskClient(site.app)  # another browser: its own session, the first one's token
    response = other.post(
        "/register/natural_person", data={**data, "csrf_token": site.csrf("natural_person")}
    )
    assert response.status_code == 400
    assert site.rows() == (0, 0)
    assert site.gateway is not None and len(site.gateway.messages) == 1


def test_a_body_over_the_limit_is_413(make_site: Callable[..., Site]) -> None:
    site = make_site(max_request_bytes=4096)
    form = forms()["natural_person"]
    body = {**form, "csrf_token": site.csrf("natural_person"), "action": "register"}
    response = site.web.post("/register/natural_person", data={**body, "name": "某" * 5000})
    assert response.status_code == 413
    assert 'data-reason="request_too_large"' in response.get_data(as_text=True)
    assert site.rows() == (0, 0)


def test_production_without_a_gateway_offers_no_registration(
    make_site: Callable[..., Site],
) -> None:
    site = make_site(sms=False)
    assert site.idp.onboarding.available is False
    for path in ("/register", "/register/legal_person", "/register/natural_person?lang=en"):
        response = site.web.get(path)
        assert response.status_code == 503
        assert 'id="unavailable"' in response.get_data(as_text=True)
    token = form_value(site.web.get("/login").get_data(as_text=True), "csrf_token")
    for action in ("send_code", "register"):
        response = site.web.post(
            "/register/natural_person?lang=zh",
            data={**forms()["natural_person"], "csrf_token": token, "action": action},
        )
        assert response.status_code == 503
    assert "暂不能注册" in response.get_data(as_text=True)
    assert site.web.get("/dev/sms").status_code == 404
    assert site.rows() == (0, 0)


# --- the developer SMS page ---------------------------------------------------------------------


def test_dev_sms_lists_codes_in_development_only(make_site: Callable[..., Site]) -> None:
    dev = make_site(sms=False, environment="development")
    assert dev.idp.onboarding.dev_sms is not None
    empty = dev.web.get("/dev/sms")
    assert empty.status_code == 200 and 'id="no-messages"' in empty.get_data(as_text=True)
    token = dev.csrf("natural_person")
    sent = dev.web.post(
        "/register/natural_person",
        data={"csrf_token": token, "action": "send_code", "phone": "13812345670"},
    )
    assert sent.status_code == 200
    listing = dev.web.get("/dev/sms").get_data(as_text=True)
    codes = re.findall(r'data-phone="13812345670" data-code="(\d{6})"', listing)
    assert len(codes) == 1
    # the code works: development registers without a phone
    form = {**forms()["natural_person"], "phone": "13812345670", "sms_code": codes[0]}
    response = dev.post("natural_person", "register", form)
    assert response.status_code == 302
    # with a gateway (even in development) and in production there is no such page
    assert make_site(environment="development").web.get("/dev/sms").status_code == 404
    assert make_site().web.get("/dev/sms").status_code == 404


# --- wording, logging, robustness ---------------------------------------------------------------

REASONS = [
    ("entity_type", "required"), ("entity_type", "unknown"), ("name", "required"),
    ("name", "type"), ("name", "length"), ("name", "control_character"),
    ("uscc", "required"), ("uscc", "length"), ("uscc", "charset"),
    ("uscc", "check_character"), ("uscc", "organization_code"), ("uscc", "not_allowed"),
    ("agent_name", "not_allowed"), ("id_type", "unknown"), ("id_type", "not_allowed"),
    ("id_number", "length"), ("id_number", "format"), ("id_number", "birth_date"),
    ("id_number", "region"), ("id_number", "check_character"),
    ("id_number", "unknown_id_type"), ("id_number", "not_allowed"),
    ("phone", "format"), ("phone", "sms_unavailable"), ("username", "format"),
    ("username", "taken"), ("password", "length"), ("password", "type"),
    ("sms_code", "required"), ("sms_code", "wrong_or_expired"),
    ("uscc", "registry_not_found"), ("name", "registry_name_mismatch"),
    ("uscc", "registry_status_revoked"), ("uscc", "registry_status_cancelled"),
    ("uscc", "registry_status_suspended"), ("uscc", "registry_status_merged"),
    ("uscc", "uscc_malformed"), ("name", "name_missing"),
]  # fmt: skip


@pytest.mark.parametrize("id_type", [None, *ID_TYPES])
def test_every_reason_has_words_in_both_languages(site: Site, id_type: str | None) -> None:
    for lang in ("en", "zh"):
        with site.app.test_request_context(f"/register?lang={lang}"):
            fallback = pages.refusal_text("x", "no_such_reason")
            assert "no_such_reason" in fallback
            for field, reason in REASONS:
                said = pages.refusal_text(field, reason, id_type)
                assert said and said != fallback, (field, reason)
                if lang == "zh":
                    assert re.search(r"[\u4e00-\u9fff]", said), (field, reason, said)
                    assert re.search(r"[\u4e00-\u9fff]", pages.field_label("legal_person", field))
            for code in (
                "registry_unreachable",
                "registry_contradiction",
                "registry_dishonest",
                "registry_not_configured",
            ):
                assert "(" not in pages.pending_reason_text(code)


def test_chinese_refusal_is_chinese(site: Site) -> None:
    form = {**forms()["legal_person"], "uscc": BAD_USCC}
    code = site.send_code("legal_person", form["phone"])
    response = site.post("legal_person", "register", {**form, "sms_code": code}, lang="zh")
    said = summary(response)
    assert response.status_code == 400
    assert "统一社会信用代码" in said and "校验码" in said
    assert "注册未被接受" in said


def test_personal_data_never_reaches_the_log(site: Site, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    form = forms()["natural_person"]
    code = site.send_code("natural_person", form["phone"])
    bad = site.post("natural_person", "register", {**form, "id_number": BAD_ID, "sms_code": code})
    assert bad.status_code == 400
    assert site.post("natural_person", "register", {**form, "sms_code": code}).status_code == 302
    for secret in (form["phone"], form["id_number"], BAD_ID, code, PASSWORD):
        assert secret not in caplog.text


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kind=st.sampled_from(ENTITY_TYPES),
    action=st.sampled_from(["register", "send_code", "", "other"]),
    values=st.dictionaries(
        st.sampled_from([*pages.INPUTS, "entity_type"]),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=1200),
    ),
)
def test_random_input_never_fails_and_never_writes(
    site: Site, kind: str, action: str, values: dict[str, str]
) -> None:
    response = site.post(kind, action, values)
    assert response.status_code in (200, 400, 409, 429, 503), response.status_code
    page = response.get_data(as_text=True)
    assert "Traceback" not in page
    if response.status_code != 200:
        assert 'role="alert"' in page
    assert site.rows() == (0, 0)


# --- after registration: single sign-on to a trading platform ---------------------------------


@pytest.mark.parametrize("kind", ["legal_person", "natural_person"])
def test_a_registrant_signs_in_to_a_platform_and_it_receives_the_entity(
    site: Site, kind: str
) -> None:
    """§6.3.2 b end to end: register on the pages, SSO into a platform with the scopes
    `entity phone`, and the platform's userinfo names the entity and the SMS-proved mobile;
    without `identity` never an ID number."""
    form = forms()[kind]
    assert site.register(kind, form).status_code == 302
    site.idp.keys.ensure()  # what `huren db upgrade` does before serving
    rp = create_client(site.idp.sessions, name="平台", redirect_uris=[REDIRECT])
    flow = Flow(site.web, rp)
    response = flow.authorize(scope="openid profile entity phone")
    response = flow.follow(flow.login(response, form["username"], PASSWORD))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    code = query(response.headers["Location"])["code"]
    tokens = flow.exchange(code).get_json()
    info = site.web.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).get_json()
    assert info["entity_type"] == kind and info["entity_status"] == "verified"
    assert info["entity_name"] == unicodedata.normalize("NFKC", form["name"]).strip()
    assert info["phone_number"] == form["phone"] and info["phone_number_verified"] is True
    assert "id_number" not in info and "id_type" not in info
    if kind == "legal_person":
        assert info["uscc"] == form["uscc"] and info["agent_name"] == form["agent_name"]
    else:
        assert "uscc" not in info and "agent_name" not in info
