"""/api/v1/seals: stamp with a server-held key, stamp in two steps through a real local bridge
holding an SM2 key file, verify; the platform TSA at /tsa; every refusal.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from cert_interop import keys
from cert_interop.truststore import TrustStore
from config.settings import Settings
from drivers.bridge import BridgeConfig, BridgeServer, KioskConsent, TokenRegistry
from idp.clients import NewClient, create_client
from idp.service import Idp
from seal.records import service
from seal.records.making import sign_draft
from tests.idp.conftest import basic
from tests.seal.pdf.pdfs import make_pdf

from .conftest import PNG, Directory, KeyMaker, Leaf, Pki

ORIGIN = "https://ggzy.example.cn"


@pytest.fixture
def holders(pki: Pki) -> dict[str, Leaf]:
    return {"rsa": pki.rsa.issue(), "sm2": pki.sm2.issue()}


@pytest.fixture
def settings(settings: Settings, tmp_path: Path, holders: dict[str, Leaf]) -> Settings:
    """The RSA holder's key is a platform key (a seal the service stamps with itself); the
    platform's TSA key too."""
    from tests.seal.tsa.conftest import pki_for

    tsa = pki_for("ec")
    leaf = holders["rsa"]
    (tmp_path / "holder.key").write_bytes(keys.dump_private_key(leaf.key, "pem", None))
    (tmp_path / "holder.pem").write_bytes(leaf.cert.pem())
    (tmp_path / "tsa.key").write_bytes(keys.dump_private_key(tsa.key, "pem", None))
    (tmp_path / "tsa.pem").write_bytes(tsa.cert.pem())
    return replace(
        settings,
        platform_keys=(
            ("holder", f"file:{tmp_path / 'holder.key'}?cert={tmp_path / 'holder.pem'}"),
            ("tsa", f"file:{tmp_path / 'tsa.key'}?cert={tmp_path / 'tsa.pem'}"),
        ),
        tsa_key="tsa",
    )


@pytest.fixture
def store(app: Flask, pki: Pki) -> TrustStore:
    ts: TrustStore = app.extensions["huren.trust_store"]
    for ca in (pki.rsa, pki.sm2):
        ts.add(ca.cert.pem(), profile="default", name=ca.name)
        ts.upload_crl(ca.crl())
    return ts


def _seal(idp: Idp, store: TrustStore, directory: Directory, pki: Pki, *certs: Leaf) -> str:
    view = service.make(
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
            certificates=[c.cert for c in certs],
        ),
        actor="tester",
        activate=True,
    )
    return view.id


def _client(idp: Idp, name: str = "交易系统") -> NewClient:
    return create_client(
        idp.sessions,
        name=name,
        grant_types=["client_credentials"],
        scopes=["seal:read", "seal:verify", "seal:stamp"],
    )


def bearer(web: FlaskClient, client: NewClient, scope: str) -> dict[str, str]:
    resp = web.post(
        "/token", data={"grant_type": "client_credentials", "scope": scope}, headers=basic(client)
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {"Authorization": "Bearer " + resp.get_json()["access_token"]}


def _verify(web: FlaskClient, auth: dict[str, str], pdf: bytes) -> dict[str, Any]:
    resp = web.post("/api/v1/seals/verify", data=pdf, content_type="application/pdf", headers=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body: dict[str, Any] = resp.get_json()
    return body


def test_server_key_stamp_then_verify_by_us_and_by_pyhanko(
    web: FlaskClient,
    idp: Idp,
    store: TrustStore,
    directory: Directory,
    pki: Pki,
    holders: dict[str, Leaf],
) -> None:
    seal_id = _seal(idp, store, directory, pki, holders["rsa"])
    caller = _client(idp)
    auth = bearer(web, caller, "seal:stamp seal:verify")
    source = make_pdf(20)
    resp = web.post(
        f"/api/v1/seals/{seal_id}/stamp?page=1&x=300&y=200&paging=true&level=B-T",
        data=source,
        content_type="application/pdf",
        headers=auth,
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/pdf" and resp.headers["X-Huren-Seal-Id"] == seal_id
    signed = resp.data
    report = _verify(web, auth, signed)
    assert report["verdict"] == "valid", json.dumps(report)[:2000]
    [sig] = report["signatures"]
    assert sig["seal"]["seal_id"] == seal_id and sig["document"]["timestamp"]["valid"]
    assert sig["document"]["paging_seal_pages"][:3] == [1, 2, 3]

    # the second, independent validator: pyhanko trusting the test CA
    context = ValidationContext(trust_roots=[load_cert_from_pemder_bytes(pki.rsa.cert.der)])
    [embedded] = PdfFileReader(io.BytesIO(signed)).embedded_signatures
    status = validate_pdf_signature(embedded, context)
    assert status.intact and status.valid and status.trusted

    # suspended: no more stamps, and the stamped document now reports it
    service.change(idp.sessions, seal_id, "suspend", actor="op", reason="遗失")
    refused = web.post(
        f"/api/v1/seals/{seal_id}/stamp?page=1&x=300&y=200",
        data=source,
        content_type="application/pdf",
        headers=auth,
    )
    assert refused.status_code == 409 and refused.get_json()["error"] == "seal_not_usable"
    assert refused.get_json()["message_zh"]
    again = _verify(web, auth, signed)
    assert again["verdict"] == "invalid"
    assert [p["code"] for p in again["signatures"][0]["problems"]] == ["seal_suspended"]


def load_cert_from_pemder_bytes(der: bytes) -> Any:
    return load_cert_from_pemder(_tmp_file(der))


def _tmp_file(data: bytes) -> str:
    import tempfile

    with tempfile.NamedTemporaryFile(delete=False, suffix=".der") as fh:
        fh.write(data)
        return fh.name


@pytest.fixture
def bridge(tmp_path: Path, holders: dict[str, Leaf]) -> Iterator[int]:
    """A real local bridge (kiosk consent) holding the SM2 holder's encrypted key file."""
    leaf = holders["sm2"]
    (tmp_path / "sm2.key").write_bytes(keys.dump_private_key(leaf.key, "pem", b"pin-8888"))
    (tmp_path / "sm2.pem").write_bytes(leaf.cert.pem())
    registry = TokenRegistry([f"file:{tmp_path / 'sm2.key'}?cert={tmp_path / 'sm2.pem'}"])
    server = BridgeServer(
        BridgeConfig(
            allowed_origins=[ORIGIN], consent=KioskConsent("pin-8888"), registry=registry, port=0
        )
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _bridge(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Origin": ORIGIN, "Host": f"127.0.0.1:{port}"}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers |= {"Content-Type": "application/json", "X-Huren-Bridge": "1"}
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = json.loads(response.read())
    assert response.status == 200, data
    return data


def test_two_step_stamp_through_the_bridge(
    web: FlaskClient,
    idp: Idp,
    store: TrustStore,
    directory: Directory,
    pki: Pki,
    holders: dict[str, Leaf],
    bridge: int,
) -> None:
    seal_id = _seal(idp, store, directory, pki, holders["sm2"])
    caller = _client(idp)
    auth = bearer(web, caller, "seal:stamp seal:verify")
    [listed] = _bridge(bridge, "GET", "/v1/certificates")["certificates"]
    prepared = web.post(
        f"/api/v1/seals/{seal_id}/stamps",
        json={
            "pdf": base64.b64encode(make_pdf(3)).decode(),
            "certificate": listed["certificate"],
            "keyword": "Page 2",
            "paging": True,
        },
        headers=auth,
    )
    assert prepared.status_code == 200, prepared.get_data(as_text=True)
    job = prepared.get_json()
    assert job["algorithm"] == "sm2-sm3" and job["expires_in"] == 600
    signed = _bridge(
        bridge,
        "POST",
        "/v1/sign",
        {"certificate_id": listed["id"], "data": job["to_be_signed"], "purpose": "签章"},
    )
    done = web.post(job["complete"], json={"signature": signed["signature"]}, headers=auth)
    assert done.status_code == 200, done.get_data(as_text=True)
    report = _verify(web, auth, done.data)
    assert report["verdict"] == "valid", json.dumps(report)[:2000]
    [sig] = report["signatures"]
    assert sig["document"]["algorithm"] == "sm2" and sig["seal"]["seal_id"] == seal_id

    # single use
    replay = web.post(job["complete"], json={"signature": signed["signature"]}, headers=auth)
    assert replay.status_code == 404 and replay.get_json()["error"] == "stamp_not_found"


def test_two_step_refusals(
    web: FlaskClient,
    idp: Idp,
    store: TrustStore,
    directory: Directory,
    pki: Pki,
    holders: dict[str, Leaf],
) -> None:
    seal_id = _seal(idp, store, directory, pki, holders["sm2"])
    caller, other = _client(idp), _client(idp, "另一个系统")
    auth = bearer(web, caller, "seal:stamp")
    pdf = base64.b64encode(make_pdf(1)).decode()
    unbound = web.post(
        f"/api/v1/seals/{seal_id}/stamps",
        json={
            "pdf": pdf,
            "certificate": base64.b64encode(holders["rsa"].cert.der).decode(),
            "page": 1,
            "x": 100,
            "y": 100,
        },
        headers=auth,
    )
    assert unbound.status_code == 403 and unbound.get_json()["error"] == "signer_not_bound"

    def prepare() -> dict[str, Any]:
        resp = web.post(
            f"/api/v1/seals/{seal_id}/stamps",
            json={
                "pdf": pdf,
                "certificate": holders["sm2"].cert.pem().decode(),
                "page": 1,
                "x": 100,
                "y": 100,
            },
            headers=auth,
        )
        assert resp.status_code == 200, resp.get_data(as_text=True)
        job: dict[str, Any] = resp.get_json()
        return job

    job = prepare()
    wrong = base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()
    rejected = web.post(job["complete"], json={"signature": wrong}, headers=auth)
    assert rejected.status_code == 400 and rejected.get_json()["error"]
    assert web.post(job["complete"], json={"signature": wrong}, headers=auth).status_code == 404

    job = prepare()
    from cert_interop.signatures import sign

    good = base64.b64encode(
        sign(holders["sm2"].key, "sm2-sm3", data=base64.b64decode(job["to_be_signed"]))
    ).decode()
    stranger = web.post(
        job["complete"], json={"signature": good}, headers=bearer(web, other, "seal:stamp")
    )
    assert stranger.status_code == 404
    no_server_key = web.post(
        f"/api/v1/seals/{seal_id}/stamp?page=1&x=1&y=1",
        data=make_pdf(1),
        content_type="application/pdf",
        headers=auth,
    )
    assert no_server_key.status_code == 409
    assert no_server_key.get_json()["error"] == "no_server_key"


def test_verify_and_stamp_input_errors(
    web: FlaskClient,
    idp: Idp,
    store: TrustStore,
    directory: Directory,
    pki: Pki,
    holders: dict[str, Leaf],
) -> None:
    seal_id = _seal(idp, store, directory, pki, holders["rsa"])
    caller = _client(idp)
    auth = bearer(web, caller, "seal:stamp seal:verify")
    assert web.post("/api/v1/seals/verify", data=b"%PDF").status_code == 401
    read_only = bearer(web, caller, "seal:read")
    assert (
        web.post(
            "/api/v1/seals/verify", data=b"x", content_type="application/pdf", headers=read_only
        ).status_code
        == 403
    )
    wrong_type = web.post(
        "/api/v1/seals/verify", data=b"x", content_type="text/plain", headers=auth
    )
    assert wrong_type.status_code == 415
    report = _verify(web, auth, b"not a pdf at all")
    assert report["verdict"] == "invalid" and report["malformed"]
    for query, code in (
        ("", "invalid_request"),
        ("?page=1&x=1", "invalid_request"),
        ("?keyword=x&x=1&y=1", "invalid_request"),
        ("?page=1&x=1&y=1&level=B-Z", "invalid_request"),
        ("?page=1&x=abc&y=1", "invalid_request"),
        ("?page=9&x=1&y=1", "pdf_page_out_of_range"),
    ):
        resp = web.post(
            f"/api/v1/seals/{seal_id}/stamp{query}",
            data=make_pdf(1),
            content_type="application/pdf",
            headers=auth,
        )
        assert resp.status_code == 400, (query, resp.get_data(as_text=True))
        assert resp.get_json()["error"] == code, (query, resp.get_json())
    not_pdf = web.post(
        f"/api/v1/seals/{seal_id}/stamp?page=1&x=1&y=1",
        data=b"hello",
        content_type="application/pdf",
        headers=auth,
    )
    assert not_pdf.status_code == 400 and not_pdf.get_json()["message_zh"]
    unknown = web.post(
        "/api/v1/seals/5200000000000/stamp?page=1&x=1&y=1",
        data=make_pdf(1),
        content_type="application/pdf",
        headers=auth,
    )
    assert unknown.status_code == 404


def test_platform_tsa_answers_rfc3161(web: FlaskClient) -> None:
    from seal.tsa import build_request, parse_response

    query = build_request(b"\x11" * 32, "sha256", nonce=7)
    resp = web.post("/tsa", data=query, content_type="application/timestamp-query")
    assert resp.status_code == 200 and resp.mimetype == "application/timestamp-reply"
    assert parse_response(resp.data).status == "granted"
    assert web.get("/tsa").status_code == 405
