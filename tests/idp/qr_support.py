"""Helpers for the QR login tests: a device with a real key (ECDSA P-256 or SM2) that signs its
requests exactly as the device API wants, enrollment through the API with the SMS dev sink, and
the browser's side of the login page."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from flask.testing import FlaskClient
from sqlalchemy import select

from cert_interop import sm2
from cert_interop.keys import dump_public_key
from idp.models import AuditEvent
from idp.qrlogin import devices, tickets
from idp.service import Idp

from .conftest import form_value

DeviceKey = ec.EllipticCurvePrivateKey | sm2.Sm2PrivateKey


def new_key(algorithm: str) -> DeviceKey:
    return (
        sm2.generate_private_key()
        if algorithm == "SM2"
        else ec.generate_private_key(ec.SECP256R1())
    )


def public_der(key: DeviceKey) -> bytes:
    return dump_public_key(key.public_key(), "der")


def sign(key: DeviceKey, body: bytes, raw: bool = False) -> bytes:
    if isinstance(key, sm2.Sm2PrivateKey):
        return sm2.sign(key, body, fmt="raw" if raw else "der")
    der = key.sign(body, ec.ECDSA(hashes.SHA256()))
    if not raw:
        return der
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


@dataclass
class Device:
    id: str
    key: DeviceKey
    raw: bool = False
    """Sign as raw r || s (WebCrypto's format) instead of DER."""

    def body(
        self, ticket: str, action: str, *, nonce: str | None = None, ts: int | None = None
    ) -> bytes:
        doc = {
            "device_id": self.id,
            "ticket": ticket,
            "action": action,
            "nonce": nonce or secrets.token_urlsafe(24),
            "ts": int(tickets.clock()) if ts is None else ts,
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    def signature(self, body: bytes) -> str:
        return base64.b64encode(sign(self.key, body, self.raw)).decode()

    def send(
        self,
        web: FlaskClient,
        ticket: str,
        action: str,
        *,
        body: bytes | None = None,
        signature: str | None = None,
        path_ticket: str | None = None,
        **fields: Any,
    ) -> Any:
        body = body if body is not None else self.body(ticket, action, **fields)
        headers = {"Content-Type": "application/json"}
        headers["X-Huren-Signature"] = signature if signature is not None else self.signature(body)
        return web.post(
            f"/api/v1/mobile/qr/{path_ticket or ticket}/{action}", data=body, headers=headers
        )


def add_device(idp: Idp, account_id: str, algorithm: str = "ES256", raw: bool = False) -> Device:
    """A device enrolled directly through the service (the API's SMS step is tested apart)."""
    key = new_key(algorithm)
    view = devices.add_device(
        idp.sessions, account_id=account_id, public_key=public_der(key), name="测试手机", actor="t"
    )
    return Device(view.id, key, raw)


def last_sms_code(idp: Idp, phone: str) -> str:
    sender = idp.onboarding.dev_sms
    assert sender is not None, "the tests need HUREN_ENVIRONMENT=development (the dev sink)"
    for message in sender.recent():
        if message.phone == phone and message.template == devices.SMS_PURPOSE:
            return message.params["code"]
    raise AssertionError(f"no device-enroll SMS to {phone}")


def enroll(
    web: FlaskClient,
    idp: Idp,
    username: str,
    password: str,
    phone: str,
    algorithm: str = "ES256",
    name: str = "张三的手机",
) -> Device:
    """Both enrollment steps through the device API, the code read from the dev sink."""
    started = web.post("/api/v1/mobile/enroll", json={"username": username, "password": password})
    assert started.status_code == 200, started.get_json()
    key = new_key(algorithm)
    finished = web.post(
        f"/api/v1/mobile/enroll/{started.get_json()['enrollment']}",
        json={
            "code": last_sms_code(idp, phone),
            "public_key": base64.b64encode(public_der(key)).decode(),
            "name": name,
        },
    )
    assert finished.status_code == 200, finished.get_json()
    assert finished.get_json()["algorithm"] == algorithm
    return Device(finished.get_json()["device_id"], key)


@dataclass
class Page:
    """The login page's QR tab in one browser (a test client)."""

    web: FlaskClient
    csrf: str
    rid: str

    @classmethod
    def load(cls, web: FlaskClient, path: str = "/login?method=qr") -> Page:
        html = web.get(path).get_data(as_text=True)
        assert 'id="qr-panel"' in html, html[:800]
        return cls(web, form_value(html, "csrf_token"), form_value(html, "rid"))

    def open(self) -> dict[str, Any]:
        response = self.web.post(
            "/login/qr", data={"rid": self.rid}, headers={"X-CSRF-Token": self.csrf}
        )
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        assert response.headers["Cache-Control"] == "no-store"
        return response.get_json()  # type: ignore[no-any-return]

    def poll(self, ticket: str) -> Any:
        return self.web.get(f"/login/qr/{ticket}")

    def state(self, ticket: str) -> str:
        response = self.poll(ticket)
        assert response.status_code == 200, response.get_json()
        return str(response.get_json()["state"])

    def complete(self, ticket: str) -> Any:
        return self.web.post(
            f"/login/qr/{ticket}/complete", data={"csrf_token": self.csrf, "rid": self.rid}
        )


def events(idp: Idp, kind: str) -> list[dict[str, Any]]:
    with idp.sessions() as db:
        rows = db.scalars(
            select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
        ).all()
        return [{**dict(r.detail), "user_id": r.user_id, "ip": r.ip} for r in rows]


def assert_error(response: Any, code: str, status: int) -> dict[str, Any]:
    body = response.get_json()
    assert response.status_code == status, (code, body)
    assert body["error"] == code, body
    assert body["message_zh"] and body["message_en"] and body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    return body  # type: ignore[no-any-return]
