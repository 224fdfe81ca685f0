"""The operators' review pages: access, the queue, verdicts, member changes, wording, masking.

Also `/login?next=…`, which brings an operator back to the page that sent them to sign in.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.accounts import create_user
from idp.entities import service
from idp.entities.service import EntityView
from idp.models import AuditEvent
from idp.service import Idp

from .conftest import PASSWORD, Flow, form_value
from .test_entities import make_resident_id, make_uscc

OPERATOR = "reviewer"
ORG_PHONE = "13912345678"
PERSON_PHONE = "13700001111"
ID_NUMBER = make_resident_id("321")


def sign_in(web: FlaskClient, username: str, next_url: str | None = None) -> Any:
    page = web.get("/login", query_string={"next": next_url} if next_url else None)
    html = page.get_data(as_text=True)
    data = {
        "username": username,
        "password": PASSWORD,
        "csrf_token": form_value(html, "csrf_token"),
    }
    if next_url is not None and 'name="next"' in html:
        data["next"] = form_value(html, "next")
    return web.post("/login", data=data)


def token(web: FlaskClient, path: str) -> str:
    """The CSRF token of the signed-in session, read off a page that has forms."""
    html = web.get(path).get_data(as_text=True)
    return form_value(html, "csrf_token")


def page_text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def organisation(idp: Idp, n: int = 1, **extra: Any) -> EntityView:
    return service.register(
        idp.sessions,
        idp.pii,
        entity_type="legal_person",
        name=f"贵州测试建设有限公司{n}",
        username=f"org-admin-{n}",
        password=PASSWORD,
        phone=ORG_PHONE,
        uscc=make_uscc(f"{n:08d}"),
        agent_name="李四",
        **extra,
    )


def person(idp: Idp) -> EntityView:
    return service.register(
        idp.sessions,
        idp.pii,
        entity_type="natural_person",
        name="王小明",
        username="wang",
        password=PASSWORD,
        phone=PERSON_PHONE,
        id_type="resident_id",
        id_number=ID_NUMBER,
    )


@pytest.fixture
def operator(idp: Idp) -> str:
    create_user(idp.sessions, username=OPERATOR, password=PASSWORD, name="审核员", operator=True)
    return OPERATOR


@pytest.fixture
def signed_in(web: FlaskClient, operator: str) -> FlaskClient:
    assert sign_in(web, operator).status_code == 302
    return web


def verdict(web: FlaskClient, entity: EntityView, decision: str, **form: Any) -> Any:
    path = f"/operator/entities/{entity.id}"
    html = web.get(path).get_data(as_text=True)
    data: dict[str, Any] = {
        "csrf_token": form_value(html, "csrf_token"),
        "version": form_value(html, "version"),
        "decision": decision,
    }
    data.update(form)
    return web.post(path + "/verdict", data=data)


# signing in and access -----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in_and_come_back(
    web: FlaskClient, operator: str, idp: Idp
) -> None:
    entity = organisation(idp)
    for path in ("/operator/entities", "/operator/entities?status=rejected"):
        response = web.get(path)
        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login" and parse_qs(location.query)["next"] == [path]
    posted = web.post(f"/operator/entities/{entity.id}/verdict", data={"decision": "verified"})
    assert posted.status_code == 302 and "/login?next=" in posted.headers["Location"]
    assert service.get(idp.sessions, idp.pii, entity.id).status == "pending"

    back = sign_in(web, operator, "/operator/entities?status=rejected")
    assert back.status_code == 302
    assert back.headers["Location"] == "/operator/entities?status=rejected"
    assert web.get(back.headers["Location"]).status_code == 200


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/x",
        "//evil.example/x",
        "/\\evil.example/x",
        "/\t/evil.example",
        "javascript:alert(1)",
        "operator/entities",
        "",
    ],
)
def test_next_is_only_followed_to_a_local_path(
    web: FlaskClient, operator: str, target: str
) -> None:
    page = page_text(web.get("/login", query_string={"next": target}))
    assert 'name="next"' not in page  # a foreign target is not even carried in the form
    response = web.post(
        "/login",
        data={
            "username": operator,
            "password": PASSWORD,
            "csrf_token": form_value(page, "csrf_token"),
            "next": target,  # sent anyway, as a forged form would
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_pending_authorization_wins_over_next(flow: Flow) -> None:
    response = flow.authorize()
    page = flow.web.get(response.headers["Location"]).get_data(as_text=True)
    signed = flow.web.post(
        "/login",
        data={
            "username": "alice",
            "password": PASSWORD,
            "csrf_token": form_value(page, "csrf_token"),
            "rid": form_value(page, "rid"),
            "next": "/operator/entities",
        },
    )
    assert signed.status_code == 302
    assert signed.headers["Location"].startswith("/authorize/continue")


def test_accounts_without_the_operator_role_get_a_403_page(web: FlaskClient, idp: Idp) -> None:
    entity = organisation(idp)
    assert sign_in(web, "org-admin-1").status_code == 302
    for path in ("/operator/entities", f"/operator/entities/{entity.id}"):
        refused = web.get(path)
        assert refused.status_code == 403
        assert "org-admin-1" in page_text(refused) and 'id="error"' in page_text(refused)
    csrf = form_value(page_text(web.get("/account/entity")), "csrf_token")
    posted = web.post(
        f"/operator/entities/{entity.id}/verdict",
        data={"csrf_token": csrf, "decision": "verified", "version": "1"},
    )
    assert posted.status_code == 403
    assert service.get(idp.sessions, idp.pii, entity.id).status == "pending"


def test_the_operator_role_is_checked_on_every_request(signed_in: FlaskClient, idp: Idp) -> None:
    from idp.accounts import set_operator

    assert signed_in.get("/operator/entities").status_code == 200
    set_operator(idp.sessions, OPERATOR, False)
    assert signed_in.get("/operator/entities").status_code == 403


# the queue -----------------------------------------------------------------------------------


def test_queue_shows_pending_entities_and_the_other_statuses_on_request(
    signed_in: FlaskClient, idp: Idp
) -> None:
    waiting = organisation(idp, 1, reasons=["registry_unreachable"])
    done = organisation(idp, 2, status="verified", actor="system")
    html = page_text(signed_in.get("/operator/entities"))
    assert f'id="entity-{waiting.id}"' in html and f'id="entity-{done.id}"' not in html
    assert "待审核" in html and "registry_unreachable" in html
    assert "登记机关系统无法访问或未及时答复" in html  # the reason in words, and its code
    verified = page_text(signed_in.get("/operator/entities?status=verified"))
    assert f'id="entity-{done.id}"' in verified and f'id="entity-{waiting.id}"' not in verified
    assert "No entity has this status." in page_text(
        signed_in.get("/operator/entities?status=rejected&lang=en")
    )
    # nonsense parameters fall back to the queue's first page, never an error
    odd = signed_in.get("/operator/entities?status=deleted&page=-3x")
    assert odd.status_code == 200 and f'id="entity-{waiting.id}"' in page_text(odd)


def test_queue_pages_through_many_entities(signed_in: FlaskClient, idp: Idp) -> None:
    from idp.web.operator import PAGE_SIZE

    ids = [organisation(idp, n).id for n in range(1, PAGE_SIZE + 3)]
    first = page_text(signed_in.get("/operator/entities"))
    second = page_text(signed_in.get("/operator/entities?page=2"))
    shown_first = set(re.findall(r'id="entity-([0-9a-f-]{36})"', first))
    shown_second = set(re.findall(r'id="entity-([0-9a-f-]{36})"', second))
    assert len(shown_first) == PAGE_SIZE and len(shown_second) == 2
    assert shown_first | shown_second == set(ids)
    assert 'id="next-page"' in first and 'id="next-page"' not in second
    assert 'id="previous-page"' in second


# one entity ----------------------------------------------------------------------------------


def test_entity_page_shows_declared_data_masked_members_and_history(
    signed_in: FlaskClient, idp: Idp
) -> None:
    entity = person(idp)
    html = page_text(signed_in.get(f"/operator/entities/{entity.id}"))
    assert "王小明" in html and "自然人" in html and "居民身份证" in html
    assert entity.id_number_masked and entity.id_number_masked in html
    assert ID_NUMBER not in html and ID_NUMBER[6:14] not in html
    assert PERSON_PHONE not in html and "137****1111" in html
    assert 'id="member-wang"' in html and "管理员" in html
    assert 'id="approve"' in html and 'id="reject"' in html and 'id="reopen"' not in html
    assert 'id="reason-registry_name_mismatch"' in html and 'id="note"' in html
    org = organisation(idp)
    org_html = page_text(signed_in.get(f"/operator/entities/{org.id}"))
    assert org.uscc and org.uscc in org_html and ORG_PHONE not in org_html


def test_unknown_entity_is_a_404_page(signed_in: FlaskClient) -> None:
    for entity_id in ("no-such-entity", "x" * 300):
        response = signed_in.get(f"/operator/entities/{entity_id}")
        assert response.status_code == 404 and 'id="error"' in page_text(response)


def test_approve_records_the_operator_and_shows_a_notice(signed_in: FlaskClient, idp: Idp) -> None:
    entity = organisation(idp, reasons=["registry_unreachable"])
    response = verdict(signed_in, entity, "verified", note="营业执照核验通过")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/operator/entities/{entity.id}"
    html = page_text(signed_in.get(response.headers["Location"]))
    assert 'id="notice"' in html and "已通过" in html
    assert service.get(idp.sessions, idp.pii, entity.id).status == "verified"
    last = service.reviews(idp.sessions, entity.id)[-1]
    assert (last.decision, last.actor, last.note) == ("verified", OPERATOR, "营业执照核验通过")
    assert 'id="approve"' not in html and 'id="reject"' in html  # verified can still be revoked
    # the notice is shown once
    assert 'id="notice"' not in page_text(signed_in.get(f"/operator/entities/{entity.id}"))
    with idp.sessions() as db:
        actors = db.scalars(select(AuditEvent.username).where(AuditEvent.kind == "entity.verdict"))
        assert OPERATOR in list(actors)


def test_reject_needs_a_reason(signed_in: FlaskClient, idp: Idp) -> None:
    entity = organisation(idp)
    refused = verdict(signed_in, entity, "rejected", note="无理由")
    assert refused.status_code == 400
    html = page_text(refused)
    assert 'id="error"' in html and "请至少选择一项驳回理由" in html
    assert "无理由" in html  # what was typed is kept
    assert service.get(idp.sessions, idp.pii, entity.id).status == "pending"
    bad = verdict(signed_in, entity, "rejected", reason_other="Not A Code")
    assert bad.status_code == 400 and service.reviews(idp.sessions, entity.id) == ()


def test_reject_then_reopen_keeps_reasons_in_the_history(signed_in: FlaskClient, idp: Idp) -> None:
    entity = organisation(idp)
    rejected = verdict(
        signed_in,
        entity,
        "rejected",
        reasons=["registry_name_mismatch", "documents_insufficient"],
        reason_other="licence_expired",
        note="名称与登记机关不一致",
    )
    assert rejected.status_code == 303
    view = service.get(idp.sessions, idp.pii, entity.id)
    assert view.status == "rejected"
    assert view.reasons == ("registry_name_mismatch", "documents_insufficient", "licence_expired")
    html = page_text(signed_in.get(f"/operator/entities/{entity.id}"))
    assert "名称与登记机关记录不一致" in html and "licence_expired" in html
    assert 'id="reopen"' in html and 'id="approve"' not in html

    reopened = verdict(signed_in, entity, "pending", note="已补充材料")
    assert reopened.status_code == 303
    history = service.reviews(idp.sessions, entity.id)
    assert [(r.decision, r.actor) for r in history] == [
        ("rejected", OPERATOR),
        ("pending", OPERATOR),
    ]
    assert history[0].reasons == view.reasons and history[1].reasons == ()
    page = page_text(signed_in.get(f"/operator/entities/{entity.id}"))
    assert page.count('class="review"') == 2 and "registry_name_mismatch" in page
    assert "已补充材料" in page and "名称与登记机关不一致" in page


def test_invalid_transition_and_stale_page_are_explained(signed_in: FlaskClient, idp: Idp) -> None:
    entity = organisation(idp)
    html = page_text(signed_in.get(f"/operator/entities/{entity.id}"))
    csrf, version = form_value(html, "csrf_token"), form_value(html, "version")
    path = f"/operator/entities/{entity.id}/verdict"
    reopen = signed_in.post(
        path, data={"csrf_token": csrf, "version": version, "decision": "pending"}
    )
    assert reopen.status_code == 409
    assert "不能变更为" in page_text(reopen) and 'id="error"' in page_text(reopen)

    # another operator approves meanwhile; this page's form is now stale
    service.apply_verdict(idp.sessions, idp.pii, entity.id, "verified", actor="someone-else")
    stale = signed_in.post(
        path,
        data={
            "csrf_token": csrf,
            "version": version,
            "decision": "rejected",
            "reasons": "registry_dishonest",
        },
    )
    assert stale.status_code == 409
    assert "已被修改" in page_text(stale) and "已通过" in page_text(stale)
    assert service.get(idp.sessions, idp.pii, entity.id).status == "verified"
    nonsense = signed_in.post(
        path, data={"csrf_token": csrf, "version": version, "decision": "deleted"}
    )
    assert nonsense.status_code == 400


def test_posts_without_the_csrf_token_are_refused(signed_in: FlaskClient, idp: Idp) -> None:
    entity = organisation(idp)
    admin = entity.members[0]
    for path, data in (
        (f"/operator/entities/{entity.id}/verdict", {"decision": "verified", "version": "1"}),
        (f"/operator/entities/{entity.id}/members/{admin.account_id}/remove", {}),
    ):
        for forged in ({}, {"csrf_token": "forged"}):
            response = signed_in.post(path, data={**data, **forged})
            assert response.status_code == 400
            assert "csrf_failed" in page_text(response)
    view = service.get(idp.sessions, idp.pii, entity.id)
    assert view.status == "pending" and len(view.members) == 1


def test_operator_disables_and_removes_members_but_keeps_the_last_admin(
    signed_in: FlaskClient, idp: Idp
) -> None:
    entity = organisation(idp)
    admin = entity.members[0]
    with_agents = service.add_agent(
        idp.sessions,
        idp.pii,
        entity.id,
        admin.account_id,
        username="agent-1",
        name="赵六",
        phone="13600002222",
        password=PASSWORD,
    )
    agent = next(m for m in with_agents.members if m.username == "agent-1")
    base = f"/operator/entities/{entity.id}/members"
    csrf = token(signed_in, f"/operator/entities/{entity.id}")

    disabled = signed_in.post(f"{base}/{agent.account_id}/disable", data={"csrf_token": csrf})
    assert disabled.status_code == 303
    html = page_text(signed_in.get(disabled.headers["Location"]))
    assert 'id="notice"' in html and "agent-1" in html
    assert re.search(r'id="member-agent-1" data-disabled="true"', html)
    assert "13600002222" not in html and "136****2222" in html

    last = signed_in.post(f"{base}/{admin.account_id}/disable", data={"csrf_token": csrf})
    assert last.status_code == 409
    assert "org-admin-1" in page_text(last) and "最后一名" in page_text(last)
    also_last = signed_in.post(f"{base}/{admin.account_id}/remove", data={"csrf_token": csrf})
    assert also_last.status_code == 409

    removed = signed_in.post(f"{base}/{agent.account_id}/remove", data={"csrf_token": csrf})
    assert removed.status_code == 303
    members = service.get(idp.sessions, idp.pii, entity.id).members
    assert [m.username for m in members] == ["org-admin-1"] and not members[0].disabled
    gone = signed_in.post(f"{base}/{agent.account_id}/remove", data={"csrf_token": csrf})
    assert gone.status_code == 404 and 'id="error"' in page_text(gone)


def test_pages_are_in_english_on_request(signed_in: FlaskClient, idp: Idp) -> None:
    entity = organisation(idp, reasons=["registry_dishonest"])
    queue = page_text(signed_in.get("/operator/entities?lang=en"))
    assert 'lang="en"' in queue and "Pending review" in queue and "Market entities" in queue
    html = page_text(signed_in.get(f"/operator/entities/{entity.id}"))  # the choice is kept
    assert "Legal person" in html and "Approve" in html and "Review history" in html
    assert "On a list of dishonest persons subject to enforcement" in html
    refused = verdict(signed_in, entity, "rejected")
    assert "Choose at least one reason to reject." in page_text(refused)
    chinese = page_text(signed_in.get(f"/operator/entities/{entity.id}?lang=zh"))
    assert "通过" in chinese and "审核记录" in chinese


def test_no_page_shows_full_personal_data(signed_in: FlaskClient, idp: Idp) -> None:
    entity = person(idp)
    organisation(idp)
    verdict(signed_in, entity, "rejected", reasons=["identity_mismatch"])
    pages = [
        signed_in.get("/operator/entities"),
        signed_in.get("/operator/entities?status=rejected"),
        signed_in.get(f"/operator/entities/{entity.id}"),
        signed_in.get(f"/operator/entities/{entity.id}?lang=en"),
        verdict(signed_in, entity, "verified"),  # refused: rejected → verified
    ]
    for response in pages:
        html = page_text(response)
        assert response.status_code < 500
        for secret in (ID_NUMBER, PERSON_PHONE, ORG_PHONE):
            assert secret not in html


def test_language_switch_after_a_refused_post_points_to_a_page(web: FlaskClient, idp: Idp) -> None:
    """A POST-only route that re-renders its form must not offer a link that answers 405."""
    from config.app import _page_of

    app = web.application
    with app.test_request_context("/operator/entities/abc/verdict", method="POST"):
        assert _page_of(app, "/operator/entities/abc/verdict") == "/operator/entities/abc"
    with app.test_request_context("/register/legal_person", method="POST"):
        assert _page_of(app, "/register/legal_person") == "/register/legal_person"
    with app.test_request_context("/no/such/thing", method="POST"):
        assert _page_of(app, "/no/such/thing") == "/"
