"""`/account/entity`: members see their entity; administrators add, disable and remove agents."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient

from idp.accounts import check_password, create_user
from idp.entities import service
from idp.entities.service import EntityView
from idp.service import Idp

from .conftest import PASSWORD, form_value
from .test_entities import make_resident_id, make_uscc

ADMIN_PHONE = "13912345678"
AGENT_PHONE = "13600002222"
ID_NUMBER = make_resident_id("456")
PAGE = "/account/entity"


def sign_in(web: FlaskClient, username: str, password: str = PASSWORD) -> Any:
    html = web.get("/login").get_data(as_text=True)
    return web.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": form_value(html, "csrf_token"),
        },
    )


def html_of(response: Any) -> str:
    return str(response.get_data(as_text=True))


def organisation(idp: Idp, n: int = 1) -> EntityView:
    return service.register(
        idp.sessions,
        idp.pii,
        entity_type="legal_person",
        name=f"贵州测试建设有限公司{n}",
        username=f"admin-{n}",
        password=PASSWORD,
        phone=ADMIN_PHONE,
        uscc=make_uscc(f"{n:08d}"),
        agent_name="李四",
    )


@pytest.fixture
def entity(idp: Idp) -> EntityView:
    return organisation(idp)


@pytest.fixture
def admin(web: FlaskClient, entity: EntityView) -> FlaskClient:
    assert sign_in(web, "admin-1").status_code == 302
    return web


def csrf(web: FlaskClient) -> str:
    return form_value(html_of(web.get(PAGE)), "csrf_token")


def add_agent(web: FlaskClient, **fields: str) -> Any:
    data = {
        "username": "agent-1",
        "name": "赵六",
        "phone": AGENT_PHONE,
        "password": "agent-password-1",
        "csrf_token": csrf(web),
    }
    data.update(fields)
    return web.post(PAGE + "/agents", data=data)


def member_id(idp: Idp, entity: EntityView, username: str) -> str:
    view = service.get(idp.sessions, idp.pii, entity.id)
    return next(m.account_id for m in view.members if m.username == username)


def test_anonymous_visitors_sign_in_first_and_come_back(
    web: FlaskClient, entity: EntityView
) -> None:
    for response in (
        web.get(PAGE),
        web.post(PAGE + "/agents", data={"username": "x"}),
        web.post(PAGE + "/members/whoever/remove"),
    ):
        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login" and parse_qs(location.query)["next"] == [PAGE]
    login = html_of(web.get("/login?next=" + PAGE))
    back = web.post(
        "/login",
        data={
            "username": "admin-1",
            "password": PASSWORD,
            "csrf_token": form_value(login, "csrf_token"),
            "next": form_value(login, "next"),
        },
    )
    assert back.status_code == 302 and back.headers["Location"] == PAGE


def test_accounts_in_no_entity_are_pointed_to_registration(web: FlaskClient, idp: Idp) -> None:
    create_user(idp.sessions, username="loner", password=PASSWORD)
    assert sign_in(web, "loner").status_code == 302
    response = web.get(PAGE)
    html = html_of(response)
    assert response.status_code == 200
    assert 'id="no-entity"' in html and 'href="/register"' in html and "不属于任何市场主体" in html
    refused = web.post(
        PAGE + "/agents",
        data={"csrf_token": form_value(html_of(web.get("/login")), "csrf_token")},
    )
    assert refused.status_code == 403 and 'id="no-entity"' in html_of(refused)


def test_administrator_sees_the_entity_masked_and_the_management_forms(
    admin: FlaskClient, entity: EntityView
) -> None:
    html = html_of(admin.get(PAGE))
    assert entity.name in html and entity.uscc and entity.uscc in html
    assert "管理员" in html and 'id="member-admin-1"' in html
    assert ADMIN_PHONE not in html and "139****5678" in html
    for element in ("add-agent", "agent-username", "agent-name", "agent-phone", "agent-password"):
        assert f'id="{element}"' in html
    assert 'id="disable-admin-1"' not in html  # not offered on one's own row


def test_administrator_adds_an_agent_who_can_then_sign_in(
    admin: FlaskClient, entity: EntityView, idp: Idp
) -> None:
    response = add_agent(admin)
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    html = html_of(admin.get(PAGE))
    assert 'id="notice"' in html and "agent-1" in html
    assert 'id="member-agent-1"' in html and "经办人" in html and "赵六" in html
    assert AGENT_PHONE not in html and "136****2222" in html
    assert check_password(idp.sessions, "agent-1", "agent-password-1") is not None

    agent = admin.application.test_client()
    assert sign_in(agent, "agent-1", "agent-password-1").status_code == 302
    agent_page = html_of(agent.get(PAGE))
    assert entity.name in agent_page and 'id="read-only"' in agent_page
    assert 'id="add-agent"' not in agent_page and 'id="remove-admin-1"' not in agent_page


def test_refused_agent_fields_are_named_and_nothing_is_written(
    admin: FlaskClient, entity: EntityView, idp: Idp
) -> None:
    cases = [
        ({"phone": "12345"}, "请填写中国大陆手机号码"),
        ({"password": "short"}, "初始密码须为 8 至 1024 个字符"),
        ({"username": "admin-1"}, "用户名已被占用"),
        ({"username": "bad name!"}, "用户名只能包含"),
        ({"name": ""}, "经办人姓名为必填项"),
    ]
    for fields, message in cases:
        response = add_agent(admin, **fields)
        html = html_of(response)
        assert response.status_code == 400, fields
        assert 'id="error"' in html and message in html, (fields, html)
        assert AGENT_PHONE not in html and "agent-password-1" not in html  # never echoed
    view = service.get(idp.sessions, idp.pii, entity.id)
    assert [m.username for m in view.members] == ["admin-1"]
    english = add_agent(admin, phone="12345", csrf_token=csrf(admin))
    assert english.status_code == 400
    assert "mainland mobile number" in html_of(
        admin.post(
            PAGE + "/agents?lang=en",
            data={
                "username": "agent-9",
                "name": "赵六",
                "phone": "12345",
                "password": "agent-password-1",
                "csrf_token": csrf(admin),
            },
        )
    )


def test_administrator_disables_and_removes_agents(
    admin: FlaskClient, entity: EntityView, idp: Idp
) -> None:
    assert add_agent(admin).status_code == 303
    agent_id = member_id(idp, entity, "agent-1")
    token = csrf(admin)
    disabled = admin.post(f"{PAGE}/members/{agent_id}/disable", data={"csrf_token": token})
    assert disabled.status_code == 303
    html = html_of(admin.get(PAGE))
    assert 'id="notice"' in html
    assert re.search(r'id="member-agent-1" data-disabled="true"', html)

    agent = admin.application.test_client()
    assert sign_in(agent, "agent-1", "agent-password-1").status_code == 302
    assert 'id="member-disabled"' in html_of(agent.get(PAGE))  # withdrawn access, said so

    removed = admin.post(f"{PAGE}/members/{agent_id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    view = service.get(idp.sessions, idp.pii, entity.id)
    assert [m.username for m in view.members] == ["admin-1"]
    assert 'id="no-entity"' in html_of(agent.get(PAGE))


def test_the_last_administrator_cannot_be_disabled_or_removed(
    admin: FlaskClient, entity: EntityView, idp: Idp
) -> None:
    own = entity.members[0].account_id
    for action in ("disable", "remove"):
        response = admin.post(f"{PAGE}/members/{own}/{action}", data={"csrf_token": csrf(admin)})
        assert response.status_code == 409
        assert "admin-1" in html_of(response) and "最后一名" in html_of(response)
    view = service.get(idp.sessions, idp.pii, entity.id)
    assert len(view.members) == 1 and not view.members[0].disabled


def test_agents_cannot_manage_members(admin: FlaskClient, entity: EntityView, idp: Idp) -> None:
    assert add_agent(admin).status_code == 303
    assert add_agent(admin, username="agent-2").status_code == 303
    agent = admin.application.test_client()
    assert sign_in(agent, "agent-1", "agent-password-1").status_code == 302
    token = form_value(html_of(agent.get("/")), "csrf_token")  # the read-only page has no forms
    other = member_id(idp, entity, "agent-2")
    attempts = [
        agent.post(
            PAGE + "/agents",
            data={
                "username": "agent-3",
                "name": "钱七",
                "phone": "13600003333",
                "password": "agent-password-3",
                "csrf_token": token,
            },
        ),
        agent.post(f"{PAGE}/members/{other}/disable", data={"csrf_token": token}),
        agent.post(
            f"{PAGE}/members/{entity.members[0].account_id}/remove", data={"csrf_token": token}
        ),
    ]
    for response in attempts:
        assert response.status_code == 403
        assert "仅市场主体管理员可以添加、停用或移除成员" in html_of(response)
    view = service.get(idp.sessions, idp.pii, entity.id)
    assert sorted((m.username, m.disabled) for m in view.members) == [
        ("admin-1", False),
        ("agent-1", False),
        ("agent-2", False),
    ]


def test_an_administrator_cannot_touch_another_entitys_members(
    admin: FlaskClient, entity: EntityView, idp: Idp
) -> None:
    other = organisation(idp, 2)
    victim = other.members[0].account_id
    token = csrf(admin)
    for action in ("disable", "remove"):
        response = admin.post(f"{PAGE}/members/{victim}/{action}", data={"csrf_token": token})
        assert response.status_code == 404 and 'id="error"' in html_of(response)
    view = service.get(idp.sessions, idp.pii, other.id)
    assert len(view.members) == 1 and not view.members[0].disabled


def test_posts_without_the_csrf_token_are_refused(
    admin: FlaskClient, entity: EntityView, idp: Idp
) -> None:
    for forged in ({}, {"csrf_token": "forged"}):
        response = admin.post(
            PAGE + "/agents",
            data={
                "username": "agent-1",
                "name": "赵六",
                "phone": AGENT_PHONE,
                "password": "agent-password-1",
                **forged,
            },
        )
        assert response.status_code == 400 and "csrf_failed" in html_of(response)
        own = entity.members[0].account_id
        assert admin.post(f"{PAGE}/members/{own}/remove", data=forged).status_code == 400
    assert len(service.get(idp.sessions, idp.pii, entity.id).members) == 1


def test_natural_persons_see_their_id_number_masked_only(web: FlaskClient, idp: Idp) -> None:
    service.register(
        idp.sessions,
        idp.pii,
        entity_type="natural_person",
        name="王小明",
        username="wang",
        password=PASSWORD,
        phone=ADMIN_PHONE,
        id_type="resident_id",
        id_number=ID_NUMBER,
    )
    assert sign_in(web, "wang").status_code == 302
    for lang in ("zh", "en"):
        html = html_of(web.get(PAGE, query_string={"lang": lang}))
        assert ID_NUMBER not in html and ID_NUMBER[6:14] not in html and ADMIN_PHONE not in html
        assert ID_NUMBER[:4] + "*" in html
    english = html_of(web.get(PAGE + "?lang=en"))
    assert "Natural person" in english and "Resident identity card" in english
    assert "Add an agent" in english and 'lang="en"' in english
