"""The operators' seal pages (/operator/seals…): access, making a seal through the form, every
refusal (values kept, nothing written), the life cycle through the action forms, stale versions,
CSRF, the picture endpoint, English, and the Chinese catalogue.

Everything is real: the app from `create_app`, sign-in through the provider's /login form,
market entities from the provider's entity service (so config's `IdpEntityDirectory` answers),
the app's own trust store, and a seal-making key file named by HUREN_PLATFORM_KEYS and
HUREN_SEAL_MAKER.
"""

from __future__ import annotations

import dataclasses
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import Flask
from flask.testing import FlaskClient

from config.app import create_app
from config.settings import Settings
from idp.entities import service as entities
from idp.service import Idp
from seal.records import service
from seal.records.making import sign_draft
from seal.web.pages import MAX_BODY_BYTES
from tests.idp.conftest import PASSWORD, form_value
from tests.idp.test_entities import make_resident_id
from tests.idp.test_operator_pages import sign_in

from ..conftest import OTHER_USCC, PNG, KeyMaker, Pki
from .conftest import OPERATOR, ORG_NAME

ROOT = Path(__file__).resolve().parents[3]
SEAL_NAME = "测试投标有限公司合同专用章"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="42" height="42">'
    b'<circle cx="21" cy="21" r="20" fill="none" stroke="red"/></svg>'
)


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def pem(pki: Pki, alg: str = "sm2", **issue: Any) -> bytes:
    ca = {"sm2": pki.sm2, "rsa": pki.rsa, "stranger": pki.stranger}[alg]
    return bytes(ca.issue(**issue).cert.pem())


def form_data(web: FlaskClient, pki: Pki, entity_id: str, **change: Any) -> dict[str, Any]:
    """A complete making form (CSRF token read off the page); `change` replaces fields, a
    value of None leaves the field out."""
    token = form_value(text(web.get("/operator/seals/new")), "csrf_token")
    data: dict[str, Any] = {
        "csrf_token": token,
        "entity": entity_id,
        "type": "contract",
        "name": SEAL_NAME,
        "width": "",
        "height": "",
        "valid_days": "",
        "picture": (io.BytesIO(PNG), "seal.png"),
        "cert": [(io.BytesIO(pem(pki)), "holder-sm2.pem")],
    }
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def post_new(web: FlaskClient, data: dict[str, Any], path: str = "/operator/seals/new") -> Any:
    return web.post(path, data=data, content_type="multipart/form-data")


def made_seal(idp: Idp, app: Flask, pki: Pki, entity_id: str, **request: Any) -> service.SealView:
    """A seal made straight through the service (for the pages that show and change seals)."""
    values: dict[str, Any] = {
        "entity_id": entity_id,
        "seal_type": "contract",
        "name": SEAL_NAME,
        "picture": PNG,
        "certificates": [pki.sm2.issue().cert],
    }
    values.update(request)
    return service.make(
        idp.sessions,
        app.extensions["huren.seal_pages"].directory,
        app.extensions["huren.trust_store"],
        KeyMaker(pki.sm2.key, pki.sm2.cert),
        sign_draft,
        service.SealRequest(**values),
        actor="someone-else",
    )


def action(web: FlaskClient, seal_id: str, name: str, **form: Any) -> Any:
    """POST an action form of the seal's page with its CSRF token and version."""
    html = text(web.get(f"/operator/seals/{seal_id}"))
    data = {"csrf_token": form_value(html, "csrf_token"), "version": form_value(html, "version")}
    data.update({k: v for k, v in form.items() if v is not None})
    for k in [k for k, v in form.items() if v is None]:
        data.pop(k, None)
    return web.post(f"/operator/seals/{seal_id}/{name}", data=data)


def seal_count(idp: Idp) -> int:
    return service.list(idp.sessions)[1]


# access ------------------------------------------------------------------------------------


def test_anonymous_visitors_sign_in_first_and_come_back(
    web: FlaskClient, operator: str, idp: Idp, app: Flask, pki: Pki, org: str
) -> None:
    seal = made_seal(idp, app, pki, org)
    for path in (
        "/operator/seals",
        "/operator/seals?status=active",
        f"/operator/seals/new?entity={org}",
        f"/operator/seals/{seal.id}",
        f"/operator/seals/{seal.id}/picture",
    ):
        response = web.get(path)
        assert response.status_code == 302, path
        location = urlsplit(response.headers["Location"])
        assert location.path == "/login" and parse_qs(location.query)["next"] == [path]
    posted = web.post(f"/operator/seals/{seal.id}/revoke", data={"reason": "x", "confirm": "1"})
    assert posted.status_code == 302
    assert parse_qs(urlsplit(posted.headers["Location"]).query)["next"] == [
        f"/operator/seals/{seal.id}"
    ]
    made = web.post("/operator/seals/new", data={"entity": org})
    assert parse_qs(urlsplit(made.headers["Location"]).query)["next"] == ["/operator/seals/new"]
    assert service.get(idp.sessions, seal.id).status == "made" and seal_count(idp) == 1

    back = sign_in(web, operator, "/operator/seals?status=active")
    assert back.status_code == 302 and back.headers["Location"] == "/operator/seals?status=active"
    assert web.get(back.headers["Location"]).status_code == 200


def test_accounts_without_the_operator_role_get_a_403_page(
    web: FlaskClient, idp: Idp, app: Flask, pki: Pki, org: str
) -> None:
    seal = made_seal(idp, app, pki, org)
    assert sign_in(web, "org-admin").status_code == 302  # the entity's own administrator
    for path in (
        "/operator/seals",
        "/operator/seals/new",
        f"/operator/seals/{seal.id}",
        f"/operator/seals/{seal.id}/picture",
    ):
        refused = web.get(path)
        assert refused.status_code == 403, path
        assert 'role="alert"' in text(refused) and "运营人员" in text(refused)
        assert refused.headers["Cache-Control"] == "no-store"
    csrf = form_value(text(web.get("/account/entity")), "csrf_token")
    posted = web.post(
        f"/operator/seals/{seal.id}/revoke",
        data={"csrf_token": csrf, "version": "1", "reason": "x", "confirm": "1"},
    )
    assert posted.status_code == 403
    assert service.get(idp.sessions, seal.id).status == "made"


def test_the_operator_role_is_checked_on_every_request(signed_in: FlaskClient, idp: Idp) -> None:
    from idp.accounts import set_operator

    assert signed_in.get("/operator/seals").status_code == 200
    set_operator(idp.sessions, OPERATOR, False)
    assert signed_in.get("/operator/seals").status_code == 403


# making a seal -----------------------------------------------------------------------------


def test_make_a_seal_through_the_form(signed_in: FlaskClient, idp: Idp, pki: Pki, org: str) -> None:
    web = signed_in
    empty = web.get("/operator/seals")
    assert empty.status_code == 200 and 'id="empty"' in text(empty)
    assert "制作电子印章" in text(empty) and empty.headers["Cache-Control"] == "no-store"

    form = web.get(f"/operator/seals/new?entity={org}")
    html = text(form)
    assert form.status_code == 200 and form.headers["Cache-Control"] == "no-store"
    assert f'name="entity" value="{org}"' in html and ORG_NAME in html and "已核验" in html
    assert "合同专用章" in html and "个人签名章" in html and "maker-missing" not in html
    assert 'enctype="multipart/form-data"' in html and "<script" not in html

    data = form_data(
        web,
        pki,
        org,
        cert=[
            (io.BytesIO(pem(pki, "sm2")), "holder-sm2.pem"),
            (io.BytesIO(pki.rsa.issue(alg="rsa").cert.der), "holder-rsa.cer"),  # DER, 2nd field
        ],
        width="40",
        height="40",
        valid_days="365",
    )
    made = post_new(web, data)
    assert made.status_code == 303, text(made)
    seal_id = made.headers["Location"].rsplit("/", 1)[1]
    assert made.headers["Location"] == f"/operator/seals/{seal_id}"

    page = web.get(made.headers["Location"])
    html = text(page)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert 'id="notice"' in html and seal_id in html and "已制作" in html
    assert SEAL_NAME in html and "合同专用章" in html and "已制作（未启用）" in html
    assert f'href="/operator/entities/{org}"' in html and ORG_NAME in html
    assert html.count('class="certificate"') == 2 and "SM2" in html and "RSA" in html
    assert re.findall(r'class="step" data-status="(\w+)"', html) == ["requested", "made"]
    assert html.count(f"<td>{OPERATOR}</td>") == 2
    assert f'src="/operator/seals/{seal_id}/picture"' in html and "40 × 40 mm" in html
    assert 'id="activate-form"' in html and 'id="revoke-form"' in html
    assert 'id="suspend-form"' not in html  # a made seal cannot be suspended

    stored = service.get(idp.sessions, seal_id)
    assert (stored.status, stored.created_by, stored.width_mm) == ("made", OPERATOR, 40)
    assert stored.valid_until - stored.valid_from == 365 * 86400

    listed = text(web.get("/operator/seals"))
    assert f'id="seal-{seal_id}"' in listed and ORG_NAME in listed and "已制作（未启用）" in listed
    assert f'id="seal-{seal_id}"' in text(web.get(f"/operator/seals?entity={org}"))
    assert f'id="seal-{seal_id}"' in text(web.get("/operator/seals?status=made"))
    assert f'id="seal-{seal_id}"' not in text(web.get("/operator/seals?status=active"))
    assert f'id="seal-{seal_id}"' not in text(web.get("/operator/seals?entity=someone-else"))

    at_once = post_new(web, form_data(web, pki, org, activate="1", type="finance", name="财务章"))
    assert at_once.status_code == 303
    active = service.get(idp.sessions, at_once.headers["Location"].rsplit("/", 1)[1])
    assert active.status == "active" and active.seal_type == "finance"
    assert [h.status for h in active.history] == ["requested", "made", "active"]


def _refusal_cases(pki: Pki, person: str, pending: str) -> list[tuple[dict[str, Any], str, str]]:
    """(form changes, the field marked, a piece of the Chinese message)."""
    expired = pem(
        pki,
        not_before=datetime.now(UTC) - timedelta(days=400),
        not_after=datetime.now(UTC) - timedelta(days=1),
    )
    return [
        ({"entity": "no-such-entity"}, "entity", "没有这个市场主体"),
        ({"entity": pending}, "entity", "尚未通过核验"),
        ({"entity": person}, "type", "自然人不能持有单位印章"),
        ({"type": ""}, "type", "印章类型无效"),
        ({"name": "   "}, "name", "印章名称须为"),
        ({"picture": None}, "picture", "印模图片为空"),
        ({"picture": (io.BytesIO(b"GIF89a not allowed"), "seal.gif")}, "picture", "PNG、JPEG"),
        ({"width": "4.5"}, "width", "宽度须为整数"),
        ({"height": "200"}, "height", "印模尺寸须在"),
        ({"valid_days": "0"}, "valid_days", "有效期须为"),
        ({"valid_days": "ten"}, "valid_days", "有效期须为整数"),
        ({"cert": None}, "cert", "至少须绑定一张"),
        ({"cert": [(io.BytesIO(b"not a certificate"), "x.pem")]}, "cert", "不是证书文件"),
        (
            {"cert": [(io.BytesIO(pem(pki, uscc=OTHER_USCC)), "other.pem")]},
            "cert",
            "不是该主体的",
        ),
        ({"cert": [(io.BytesIO(pem(pki, "stranger")), "x.pem")]}, "cert", "证书未通过验证"),
        ({"cert": [(io.BytesIO(expired), "old.pem")]}, "cert", "证书未通过验证"),
    ]


def test_every_refusal_keeps_the_values_and_writes_nothing(
    signed_in: FlaskClient, idp: Idp, pki: Pki, org: str
) -> None:
    web = signed_in
    person = entities.register(
        idp.sessions,
        idp.pii,
        entity_type="natural_person",
        name="王小明",
        username="wang",
        password=PASSWORD,
        phone="13700001111",
        id_type="resident_id",
        id_number=make_resident_id("321"),
        status="verified",
    ).id
    pending = entities.register(
        idp.sessions,
        idp.pii,
        entity_type="legal_person",
        name="待审核有限公司",
        username="pending-admin",
        password=PASSWORD,
        phone="13912345679",
        uscc=OTHER_USCC,
        agent_name="赵六",
    ).id
    for change, field, message in _refusal_cases(pki, person, pending):
        data = form_data(web, pki, org, **change)
        refused = post_new(web, data)
        html = text(refused)
        assert refused.status_code == 400, (change, html)
        assert 'role="alert"' in html and 'id="error-summary"' in html, change
        assert f'data-field="{field}"' in html and message in html, (change, field)
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', html), (change, field)
        assert html.count('aria-invalid="true"') == 1, change
        for name in ("entity", "name", "width", "height", "valid_days"):
            value = str(data.get(name, ""))
            assert f'name="{name}" value="{value}"' in html, (change, name)
        selected = data.get("type") or None
        if selected:
            assert f'value="{selected}" selected' in html, change
        if data.get("picture") or data.get("cert"):
            assert 'id="choose-again"' in html, change
        assert refused.headers["Cache-Control"] == "no-store"
        assert seal_count(idp) == 0, change


def test_refusals_in_english_and_the_activate_box_kept(
    signed_in: FlaskClient, idp: Idp, pki: Pki, org: str
) -> None:
    web = signed_in
    data = form_data(web, pki, "no-such-entity", activate="1")
    refused = post_new(web, data, "/operator/seals/new?lang=en")
    html = text(refused)
    assert refused.status_code == 400
    assert "The seal was not made" in html and "no such market entity" in html
    assert ">Market entity ID</a>" in html and 'id="activate" checked' in html
    assert '<html lang="en">' in html and seal_count(idp) == 0


def test_without_a_seal_making_key_the_form_says_so(
    settings: Settings, app: Flask, idp: Idp, pki: Pki, org: str, operator: str
) -> None:
    unset = create_app(dataclasses.replace(settings, seal_maker=None, platform_keys=()))
    unset.config["TESTING"] = True
    try:
        web = unset.test_client()
        assert sign_in(web, operator).status_code == 302
        form = text(web.get("/operator/seals/new"))
        assert 'id="maker-missing"' in form and "HUREN_SEAL_MAKER" in form
        refused = post_new(web, form_data(web, pki, org))
        assert refused.status_code == 503
        html = text(refused)
        assert 'id="error-summary"' in html and "HUREN_SEAL_MAKER" in html
        assert f'name="name" value="{SEAL_NAME}"' in html and seal_count(idp) == 0
    finally:
        unset.extensions["huren.engine"].dispose()


def test_bodies_over_two_megabytes_are_refused(
    signed_in: FlaskClient, idp: Idp, pki: Pki, org: str
) -> None:
    big = PNG + b"\0" * MAX_BODY_BYTES
    refused = post_new(
        signed_in, form_data(signed_in, pki, org, picture=(io.BytesIO(big), "x.png"))
    )
    assert refused.status_code == 413
    assert "上传内容过大" in text(refused) and 'role="alert"' in text(refused)
    assert seal_count(idp) == 0
    # under the limit but over the picture's own limit: the service's refusal, on the form
    large = PNG + b"\0" * (600 << 10)
    over = post_new(signed_in, form_data(signed_in, pki, org, picture=(io.BytesIO(large), "x.png")))
    assert over.status_code == 400 and "不能超过 512 KB" in text(over)


def test_csrf_is_checked_on_every_post(
    signed_in: FlaskClient, idp: Idp, app: Flask, pki: Pki, org: str
) -> None:
    seal = made_seal(idp, app, pki, org)
    for name, form in (
        ("activate", {}),
        ("suspend", {"reason": "x"}),
        ("revoke", {"reason": "x", "confirm": "1"}),
    ):
        for token in (None, "forged"):
            response = action(signed_in, seal.id, name, csrf_token=token, **form)
            assert response.status_code == 400 and "csrf_failed" in text(response)
    for token in ("forged", None):
        refused = post_new(signed_in, form_data(signed_in, pki, org, csrf_token=token))
        assert refused.status_code == 400
    assert service.get(idp.sessions, seal.id).status == "made" and seal_count(idp) == 1


# the life cycle ----------------------------------------------------------------------------


def test_activate_suspend_and_revoke_through_the_forms(
    signed_in: FlaskClient, idp: Idp, app: Flask, pki: Pki, org: str
) -> None:
    web = signed_in
    seal = made_seal(idp, app, pki, org)
    path = f"/operator/seals/{seal.id}"

    activated = action(web, seal.id, "activate")
    assert activated.status_code == 303 and activated.headers["Location"] == path
    html = text(web.get(path))
    assert "已启用" in html and 'id="notice"' in html
    assert 'id="suspend-form"' in html and 'id="activate-form"' not in html

    missing = action(web, seal.id, "suspend", reason="  ")
    html = text(missing)
    assert missing.status_code == 400 and "请填写暂停印章的原因" in html
    assert re.search(r'id="suspend-reason"[^>]*aria-invalid="true"', html)
    assert service.get(idp.sessions, seal.id).status == "active"

    suspended = action(web, seal.id, "suspend", reason="印章遗失")
    assert suspended.status_code == 303
    html = text(web.get(path))
    assert "已暂停" in html and "（印章遗失）" in html and 'id="activate-form"' in html
    token = form_value(html, "csrf_token")

    unconfirmed = action(web, seal.id, "revoke", reason="单位注销")
    html = text(unconfirmed)
    assert unconfirmed.status_code == 400 and "请勾选确认框" in html
    assert "单位注销</textarea>" in html  # the reason typed is kept
    assert re.search(r'id="revoke-confirm"[^>]*aria-invalid="true"', html)
    assert "我确认吊销，吊销后不可恢复" in html
    no_reason = action(web, seal.id, "revoke", confirm="1")
    assert no_reason.status_code == 400 and "请填写吊销印章的原因" in text(no_reason)
    assert service.get(idp.sessions, seal.id).status == "suspended"

    revoked = action(web, seal.id, "revoke", reason="单位注销", confirm="1")
    assert revoked.status_code == 303
    html = text(web.get(path))
    assert "已吊销" in html and "（单位注销）" in html and '<form method="post"' not in html
    steps = re.findall(r'class="step" data-status="(\w+)"', html)
    assert steps == ["requested", "made", "active", "suspended", "revoked"]
    assert html.count(f"<td>{OPERATOR}</td>") == 3 and "<td>印章遗失</td>" in html

    # a form from an older page: the seal can no longer be activated
    version = service.get(idp.sessions, seal.id).version
    late = web.post(f"{path}/activate", data={"csrf_token": token, "version": str(version)})
    assert late.status_code == 400 and "不能执行“启用印章”" in text(late)
    assert web.post(f"{path}/destroy", data={"csrf_token": token}).status_code in (404, 405)
    assert service.get(idp.sessions, seal.id).status == "revoked"


def test_a_change_by_someone_else_meanwhile_is_not_overwritten(
    signed_in: FlaskClient, idp: Idp, app: Flask, pki: Pki, org: str
) -> None:
    web = signed_in
    seal = made_seal(idp, app, pki, org)
    service.change(idp.sessions, seal.id, "activate", actor="someone-else")
    html = text(web.get(f"/operator/seals/{seal.id}"))  # the page as the operator opened it
    service.change(idp.sessions, seal.id, "suspend", actor="someone-else", reason="另一人暂停")
    stale = web.post(
        f"/operator/seals/{seal.id}/revoke",
        data={
            "csrf_token": form_value(html, "csrf_token"),
            "version": form_value(html, "version"),
            "reason": "吊销原因",
            "confirm": "1",
        },
    )
    page = text(stale)
    assert stale.status_code == 409 and "他人已修改" in page and "已暂停" in page
    assert "吊销原因</textarea>" in page
    now = service.get(idp.sessions, seal.id)
    assert now.status == "suspended" and now.status_reason == "另一人暂停"
    bad = web.post(
        f"/operator/seals/{seal.id}/activate",
        data={"csrf_token": form_value(html, "csrf_token"), "version": "v1"},
    )
    assert bad.status_code == 400 and service.get(idp.sessions, seal.id).status == "suspended"


# the picture, unknown seals, lists ---------------------------------------------------------


def test_the_picture_is_served_to_operators_as_made(
    signed_in: FlaskClient, idp: Idp, app: Flask, pki: Pki, org: str
) -> None:
    for data, mimetype in ((PNG, "image/png"), (JPEG, "image/jpeg"), (SVG, "image/svg+xml")):
        seal = made_seal(idp, app, pki, org, picture=data)
        response = signed_in.get(f"/operator/seals/{seal.id}/picture")
        assert response.status_code == 200 and response.mimetype == mimetype
        assert response.data == data
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
        policy = response.headers["Content-Security-Policy"]
        if mimetype == "image/svg+xml":
            assert "sandbox" in policy and "default-src 'none'" in policy
        else:
            assert "img-src 'self'" in policy  # the app's policy lets the page show it
    assert signed_in.get("/operator/seals/5200000000000/picture").status_code == 404
    missing = signed_in.get("/operator/seals/5200000000000")
    assert missing.status_code == 404 and "没有编码为 5200000000000 的电子印章" in text(missing)


def test_the_list_pages_and_filters(
    signed_in: FlaskClient, idp: Idp, app: Flask, pki: Pki, org: str
) -> None:
    cert = pki.sm2.issue().cert
    made = [made_seal(idp, app, pki, org, certificates=[cert]) for _ in range(21)]
    service.change(idp.sessions, made[0].id, "revoke", actor="x", reason="作废")
    first = text(signed_in.get("/operator/seals"))
    assert first.count('<tr id="seal-') == 20 and "共 21 枚印章" in first
    assert 'id="next-page"' in first and 'id="previous-page"' not in first
    second = text(signed_in.get("/operator/seals?page=2"))
    assert second.count('<tr id="seal-') == 1 and 'id="previous-page"' in second
    revoked = text(signed_in.get(f"/operator/seals?status=revoked&entity={org}"))
    assert revoked.count('<tr id="seal-') == 1 and f'id="seal-{made[0].id}"' in revoked
    assert f"/operator/seals/new?entity={org}" in revoked and ORG_NAME in revoked
    assert 'aria-current="page">已吊销' in revoked
    odd = signed_in.get("/operator/seals?status=unknown&page=zero")
    assert odd.status_code == 200
    assert 'id="status-all" href="/operator/seals" aria-current="page"' in text(odd)
    assert 'id="empty"' in text(signed_in.get("/operator/seals?status=suspended"))


def test_pages_in_english(signed_in: FlaskClient, idp: Idp, app: Flask, pki: Pki, org: str) -> None:
    seal = made_seal(idp, app, pki, org)
    listed = text(signed_in.get("/operator/seals?lang=en"))
    assert "Electronic seals" in listed and "Make an electronic seal" in listed
    assert "Contract seal" in listed and "Made, not yet in use" in listed
    page = text(signed_in.get(f"/operator/seals/{seal.id}"))  # the language is remembered
    assert "Change the seal&#39;s status" in page and "I confirm the revocation" in page
    refused = action(signed_in, seal.id, "suspend", reason="x")
    assert refused.status_code == 400
    assert "cannot be changed with “Suspend the seal”" in text(refused)
    chinese = text(signed_in.get("/operator/seals?lang=zh"))
    assert "电子印章" in chinese and "合同专用章" in chinese


# the catalogue -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogues() -> Iterator[tuple[Any, Any]]:
    seal_po = ROOT / "seal" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    idp_po = ROOT / "idp" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"
    with seal_po.open("rb") as a, idp_po.open("rb") as b:
        yield read_po(a), read_po(b)


def test_the_seal_catalogue_is_complete_compiled_and_agrees_with_the_provider(
    catalogues: tuple[Any, Any],
) -> None:
    """Both catalogues are merged into one: a message the two translate differently would
    change the provider's pages (or ours) depending on the load order."""
    seal_po, idp_po = catalogues
    compiled = Translations.load(str(ROOT / "seal" / "translations"), ["zh"])
    for message in seal_po:
        if not message.id:
            continue
        assert message.string and not message.fuzzy, message.id
        assert compiled.gettext(message.id) == message.string, f"recompile: {message.id}"
        other = idp_po.get(message.id)
        if other is not None and other.string:
            assert other.string == message.string, message.id
