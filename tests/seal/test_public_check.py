"""/seals/check: anyone uploads a stamped PDF and reads the report, Chinese first."""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cert_interop.truststore import TrustStore
from idp.service import Idp
from seal.pdf import PdfSealSigner, Placement, stamp_pdf
from seal.records import service
from seal.records.making import sign_draft
from tests.idp.conftest import form_value
from tests.seal.pdf.pdfs import make_pdf

from .conftest import PNG, Directory, KeyMaker, Leaf, Pki


@pytest.fixture
def stamped(app: Flask, idp: Idp, pki: Pki, directory: Directory) -> tuple[str, bytes]:
    store: TrustStore = app.extensions["huren.trust_store"]
    store.add(pki.sm2.cert.pem(), profile="default", name=pki.sm2.name)
    store.upload_crl(pki.sm2.crl())
    holder: Leaf = pki.sm2.issue()
    seal = service.make(
        idp.sessions,
        directory,
        store,
        KeyMaker(pki.sm2.key, pki.sm2.cert),
        sign_draft,
        service.SealRequest(
            entity_id="e-verified",
            seal_type="contract",
            name="测试投标有限公司合同专用章",
            picture=PNG,
            certificates=[holder.cert],
        ),
        actor="tester",
        activate=True,
    )
    pdf = stamp_pdf(
        make_pdf(3),
        signer=PdfSealSigner(holder.key, holder.cert),
        placement=Placement.at(1, 300, 300),
        picture=PNG,
        seal_id=seal.id,
    )
    return seal.id, pdf


def upload(
    web: FlaskClient, data: bytes, name: str = "合同.pdf", query: str = ""
) -> tuple[int, str]:
    page = web.get("/seals/check" + query).get_data(as_text=True)
    resp = web.post(
        "/seals/check" + query,
        data={"csrf_token": form_value(page, "csrf_token"), "pdf": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    return resp.status_code, resp.get_data(as_text=True)


def test_anyone_checks_a_stamped_document(
    web: FlaskClient, idp: Idp, stamped: tuple[str, bytes]
) -> None:
    seal_id, pdf = stamped
    page = web.get("/seals/check")
    assert page.status_code == 200 and "验证电子签章文件" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    status, html = upload(web, pdf)
    assert status == 200
    assert "有效：所有签章完好且印章有效" in html and seal_id in html and "签章后未被修改" in html
    assert "合同专用章" in html

    service.change(idp.sessions, seal_id, "revoke", actor="op", reason="单位注销")
    status, html = upload(web, pdf)
    assert status == 200 and "无效" in html and "电子印章已吊销" in html and "单位注销" in html

    raw = bytearray(pdf)
    raw[300] ^= 1
    status, html = upload(web, bytes(raw))
    assert "与签名不符" in html

    status, html = upload(web, pdf, query="?lang=en")
    assert "Not valid" in html and "The seal is revoked." in html


def test_bad_uploads(web: FlaskClient, app: Flask) -> None:
    status, html = upload(web, b"not a pdf", "x.txt")
    assert status == 200 and "文件不是可读取的 PDF" in html
    page = web.get("/seals/check").get_data(as_text=True)
    no_file = web.post("/seals/check", data={"csrf_token": form_value(page, "csrf_token")})
    assert no_file.status_code == 400 and "请选择 PDF 文件" in no_file.get_data(as_text=True)
    no_csrf = web.post(
        "/seals/check",
        data={"pdf": (io.BytesIO(b"%PDF"), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert no_csrf.status_code == 400
    check = app.extensions["huren.seal_public"]
    big = b"%PDF-1.7\n" + b"0" * (check.max_pdf_bytes + 10)
    status, html = upload(web, big)
    assert status == 413


def test_checks_per_address_are_limited(web: FlaskClient, app: Flask) -> None:
    check = app.extensions["huren.seal_public"]
    statuses = [upload(web, b"x")[0] for _ in range(check.per_address + 1)]
    assert statuses[:-1] == [200] * check.per_address and statuses[-1] == 429
