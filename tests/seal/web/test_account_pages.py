"""An entity's own seal pages (/account/seals…) and the operators' side of requests.

The administrator of a verified entity requests a seal through the form; an operator makes it
(or rejects it) on /operator/seals/<id>; the administrator sees the outcome, withdraws a request;
agents only read; another entity's seal is "not found". Real app, real sign-in, real trust store
and seal-making key file (the fixtures of test_pages).
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient

from idp.entities import service as entities
from idp.service import Idp
from seal.records import service
from seal.ses import parse_seal, verify_seal
from tests.idp.conftest import PASSWORD, form_value
from tests.idp.test_operator_pages import sign_in

from ..conftest import OTHER_USCC, PNG, Pki
from .conftest import OPERATOR
from .test_operator_pages import SEAL_NAME, made_seal, pem, text


def request_form(web: FlaskClient, pki: Pki, **change: Any) -> dict[str, Any]:
    token = form_value(text(web.get("/account/seals")), "csrf_token")
    data: dict[str, Any] = {
        "csrf_token": token,
        "type": "contract",
        "name": SEAL_NAME,
        "width": "",
        "height": "",
        "valid_days": "",
        "picture": (io.BytesIO(PNG), "seal.png"),
        "cert": [(io.BytesIO(pem(pki)), "holder.pem")],
    }
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def post(web: FlaskClient, data: dict[str, Any]) -> Any:
    return web.post("/account/seals", data=data, content_type="multipart/form-data")


def other_org(idp: Idp) -> str:
    return entities.register(
        idp.sessions,
        idp.pii,
        entity_type="legal_person",
        name="另一家有限公司",
        username="other-admin",
        password=PASSWORD,
        phone="13912345679",
        uscc=OTHER_USCC,
        agent_name="王五",
        status="verified",
    ).id


def test_request_made_by_an_operator_end_to_end(
    web: FlaskClient, idp: Idp, app: Flask, pki: Pki, org: str, operator: str
) -> None:
    assert sign_in(web, "org-admin").status_code == 302
    entity_page = text(web.get("/account/entity"))
    assert 'href="/account/seals"' in entity_page
    empty = web.get("/account/seals")
    html = text(empty)
    assert empty.status_code == 200 and empty.headers["Cache-Control"] == "no-store"
    assert 'id="empty"' in html and "测试投标有限公司" in html and 'id="seal-form"' in html
    assert "<script" not in html

    sent = post(web, request_form(web, pki, valid_days="365"))
    assert sent.status_code == 303, text(sent)
    seal_id = sent.headers["Location"].rsplit("/", 1)[1]
    page = text(web.get(sent.headers["Location"]))
    assert 'id="notice"' in page and "已申请" in page and 'id="withdraw"' in page
    assert 'id="validity"' not in page  # no validity until it is made
    assert f'src="/account/seals/{seal_id}/picture"' in page
    assert web.get(f"/account/seals/{seal_id}/picture").data == PNG
    stored = service.get(idp.sessions, seal_id)
    assert (stored.status, stored.created_by, stored.entity_id) == ("requested", "org-admin", org)

    # the operator sees the request and makes it
    web.get("/logout")
    operator_web = app.test_client()
    assert sign_in(operator_web, OPERATOR).status_code == 302
    listed = text(operator_web.get("/operator/seals"))
    assert 'id="waiting"' in listed and "有 1 个市场主体的印章申请待处理" in listed
    waiting = text(operator_web.get("/operator/seals?status=requested"))
    assert 'id="waiting"' not in waiting
    assert f'id="seal-{seal_id}"' in waiting
    seal_page = text(operator_web.get(f"/operator/seals/{seal_id}"))
    assert 'id="make-form"' in seal_page and 'id="reject-form"' in seal_page
    assert 'id="revoke-form"' not in seal_page and 'id="activate-form"' not in seal_page
    made = operator_web.post(
        f"/operator/seals/{seal_id}/make",
        data={
            "csrf_token": form_value(seal_page, "csrf_token"),
            "version": form_value(seal_page, "version"),
            "activate": "1",
        },
    )
    assert made.status_code == 303, text(made)
    after = service.get(idp.sessions, seal_id)
    assert after.status == "active" and after.maker == "seal-maker"
    assert [h.status for h in after.history] == ["requested", "made", "active"]
    assert verify_seal(parse_seal(service.signed_seal(idp.sessions, seal_id))).ok
    # making it again from the same (now stale) page is refused, nothing changes
    again = operator_web.post(
        f"/operator/seals/{seal_id}/make",
        data={
            "csrf_token": form_value(seal_page, "csrf_token"),
            "version": form_value(seal_page, "version"),
        },
    )
    assert again.status_code == 409 and 'role="alert"' in text(again)
    assert service.get(idp.sessions, seal_id).version == after.version

    # the administrator sees the seal in use
    assert sign_in(web, "org-admin").status_code == 302
    mine = text(web.get(f"/account/seals/{seal_id}"))
    assert (
        'data-status="active"' in mine and 'id="validity"' in mine and 'id="withdraw"' not in mine
    )
    assert OPERATOR not in mine  # operators' login names stay on the operators' pages


def test_rejected_with_a_reason_the_requester_reads(
    web: FlaskClient, idp: Idp, app: Flask, pki: Pki, org: str, operator: str
) -> None:
    assert sign_in(web, "org-admin").status_code == 302
    seal_id = post(web, request_form(web, pki)).headers["Location"].rsplit("/", 1)[1]
    operator_web = app.test_client()
    assert sign_in(operator_web, OPERATOR).status_code == 302
    page = text(operator_web.get(f"/operator/seals/{seal_id}"))
    form = {"csrf_token": form_value(page, "csrf_token"), "version": form_value(page, "version")}
    no_reason = operator_web.post(f"/operator/seals/{seal_id}/reject", data=form)
    assert no_reason.status_code == 400 and "拒绝申请的原因" in text(no_reason)
    rejected = operator_web.post(
        f"/operator/seals/{seal_id}/reject", data={**form, "reason": "印模图片不清晰"}
    )
    assert rejected.status_code == 303
    mine = text(web.get(f"/account/seals/{seal_id}"))
    assert 'data-status="rejected"' in mine and "印模图片不清晰" in mine
    listed = text(web.get("/account/seals"))
    assert f'id="seal-{seal_id}"' in listed and "印模图片不清晰" in listed


def test_withdraw_and_refusals_keep_values(web: FlaskClient, idp: Idp, pki: Pki, org: str) -> None:
    assert sign_in(web, "org-admin").status_code == 302
    refused = post(web, request_form(web, pki, name="保留的名称", picture=None))
    html = text(refused)
    assert refused.status_code == 400 and 'id="error-summary"' in html
    assert 'value="保留的名称"' in html and 'id="error-picture"' in html
    other_cert = post(
        web,
        request_form(web, pki, cert=[(io.BytesIO(pem(pki, uscc=OTHER_USCC)), "other.pem")]),
    )
    assert other_cert.status_code == 400 and "不是该主体的" in text(other_cert)
    assert service.list(idp.sessions)[1] == 0

    seal_id = post(web, request_form(web, pki)).headers["Location"].rsplit("/", 1)[1]
    page = text(web.get(f"/account/seals/{seal_id}"))
    form = {"csrf_token": form_value(page, "csrf_token"), "version": form_value(page, "version")}
    assert web.post(f"/account/seals/{seal_id}/withdraw", data={"version": "1"}).status_code == 400
    done = web.post(f"/account/seals/{seal_id}/withdraw", data=form)
    assert done.status_code == 303
    assert service.get(idp.sessions, seal_id).status == "withdrawn"
    twice = web.post(f"/account/seals/{seal_id}/withdraw", data=form)
    assert twice.status_code == 409 and "已撤回" in text(twice)


def test_agents_read_and_other_entities_see_nothing(
    web: FlaskClient, idp: Idp, app: Flask, pki: Pki, org: str
) -> None:
    seal = made_seal(idp, app, pki, org)
    view = entities.get(idp.sessions, idp.pii, org)
    entities.add_agent(
        idp.sessions,
        idp.pii,
        org,
        view.members[0].account_id,
        username="org-agent",
        name="赵六",
        phone="13900000009",
        password=PASSWORD,
    )
    assert sign_in(web, "org-agent").status_code == 302
    listed = text(web.get("/account/seals"))
    assert f'id="seal-{seal.id}"' in listed and 'id="admins-only"' in listed
    assert 'id="seal-form"' not in listed
    token = form_value(text(web.get("/account/certificates")), "csrf_token")
    refused = post(web, {"csrf_token": token, "type": "contract", "name": "x"})
    assert refused.status_code == 403
    assert web.get(f"/account/seals/{seal.id}").status_code == 200
    assert service.list(idp.sessions)[1] == 1

    other_org(idp)
    web.get("/logout")
    assert sign_in(web, "other-admin").status_code == 302
    assert f'id="seal-{seal.id}"' not in text(web.get("/account/seals"))
    for path in (f"/account/seals/{seal.id}", f"/account/seals/{seal.id}/picture"):
        assert web.get(path).status_code == 404, path
    csrf = form_value(text(web.get("/account/seals")), "csrf_token")
    stolen = web.post(
        f"/account/seals/{seal.id}/withdraw", data={"csrf_token": csrf, "version": "1"}
    )
    assert stolen.status_code == 404


def test_access(web: FlaskClient, idp: Idp, pki: Pki, org: str, operator: str) -> None:
    for path in ("/account/seals", "/account/seals/520000/picture"):
        response = web.get(path)
        assert response.status_code == 302
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login" and parse_qs(location.query)["next"] == [path]
    # an account that acts for no entity (here: the operator) is told where to go
    assert sign_in(web, OPERATOR).status_code == 302
    page = web.get("/account/seals")
    assert page.status_code == 403 and 'href="/account/entity"' in text(page)
    # CSRF
    web.get("/logout")
    assert sign_in(web, "org-admin").status_code == 302
    forged = post(web, {k: v for k, v in request_form(web, pki).items() if k != "csrf_token"})
    assert forged.status_code == 400
    assert service.list(idp.sessions)[1] == 0


def test_english(web: FlaskClient, org: str) -> None:
    assert sign_in(web, "org-admin").status_code == 302
    html = text(web.get("/account/seals?lang=en"))
    assert "Request an electronic seal" in html
    assert re.search(r"<h1>Our electronic seals</h1>", html)
