"""The device API of QR login, ``/api/v1/mobile/...``: JSON in and out, no cookies, no bearer
tokens. Enrollment is authenticated by the password and an SMS code; every later request by the
device key's signature (see `devices`).

    POST /api/v1/mobile/enroll                 {"username", "password"}
    POST /api/v1/mobile/enroll/{enrollment}    {"code", "public_key", "name"}
    POST /api/v1/mobile/qr/{ticket}/scan       signed
    POST /api/v1/mobile/qr/{ticket}/confirm    signed
    POST /api/v1/mobile/qr/{ticket}/cancel     signed

A refusal is ``{"error", "error_description", "message_zh", "message_en"}`` with the status of
`errors.MESSAGES`; every refusal and every accepted decision is audited. A client address whose
requests keep failing is slowed down (`slow_down`, 429) for a while.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import jsonify, request
from werkzeug.wrappers import Response

from .. import audit
from ..web import bp
from ..web.context import client_ip, current_idp
from . import devices, tickets
from .errors import QrLoginError

PREFIX = "/api/v1/mobile"
SIGNATURE_HEADER = "X-Huren-Signature"
MAX_BODY = 8192
FAILURE_LIMIT = 300
"""Refused device API requests one client address may make per `FAILURE_WINDOW` seconds."""
FAILURE_WINDOW = 600


def _answer(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _failure_key() -> str:
    return "qr-api-fail:" + hashlib.sha256(client_ip().encode()).hexdigest()[:32]


def _slowed() -> Response | None:
    raw = current_idp().store.get(_failure_key())
    if raw is not None and raw.isdigit() and int(raw) >= FAILURE_LIMIT:
        error = QrLoginError("slow_down", retry_after=FAILURE_WINDOW)
        return _answer(error.body(), error.status)
    return None


def _refused(exc: QrLoginError, kind: str, **detail: Any) -> Response:
    idp = current_idp()
    idp.store.incr(_failure_key(), FAILURE_WINDOW)
    user_id = detail.pop("user_id", None)
    username = detail.pop("username", None)
    audit.record(
        idp.sessions,
        kind,
        user_id=user_id,
        username=username,
        ip=client_ip(),
        reason=exc.code,
        **detail,
    )
    response = _answer(exc.body(), exc.status)
    retry = exc.extra.get("retry_after")
    if isinstance(retry, int) and exc.status in (429, 503):
        response.headers["Retry-After"] = str(retry)
    return response


def _json_object() -> dict[str, Any]:
    raw = request.get_data(cache=False)
    if len(raw) > MAX_BODY:
        raise QrLoginError("invalid_request", f"the body must be at most {MAX_BODY} bytes")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise QrLoginError("invalid_request", "the body must be a JSON object") from None
    if not isinstance(doc, dict):
        raise QrLoginError("invalid_request", "the body must be a JSON object")
    return doc


@bp.route(f"{PREFIX}/enroll", methods=["POST"])
def mobile_enroll() -> Response:
    """Step 1 of enrolling a device: the password, then an SMS code to the account's mobile."""
    slowed = _slowed()
    if slowed is not None:
        return slowed
    idp = current_idp()
    username: object = None
    try:
        doc = _json_object()
        username = doc.get("username")
        started = devices.start_enrollment(idp, username, doc.get("password"), client_ip())
    except QrLoginError as exc:
        name = username[:150] if isinstance(username, str) else None
        if exc.code == "invalid_credentials":
            return _refused(exc, "login.failure", username=name, method="device_enroll")
        if exc.code == "locked":
            return _refused(exc, "login.locked", username=name, method="device_enroll")
        return _refused(exc, "device.enroll_refused", username=name)
    audit.record(
        idp.sessions,
        "device.enroll_started",
        username=username if isinstance(username, str) else None,
        ip=client_ip(),
    )
    return _answer(
        {
            "enrollment": started.enrollment,
            "phone": started.phone,
            "expires_in": started.expires_in,
        }
    )


@bp.route(f"{PREFIX}/enroll/<enrollment>", methods=["POST"])
def mobile_enroll_finish(enrollment: str) -> Response:
    """Step 2: the SMS code and the device's public key; answers the new device's id."""
    slowed = _slowed()
    if slowed is not None:
        return slowed
    idp = current_idp()
    try:
        doc = _json_object()
        view = devices.finish_enrollment(
            idp, enrollment, doc.get("code"), doc.get("public_key"), doc.get("name")
        )
    except QrLoginError as exc:
        return _refused(exc, "device.enroll_refused")
    return _answer({"device_id": view.id, "algorithm": view.algorithm, "name": view.name})


def _signed(ticket: str, action: str) -> Response:
    slowed = _slowed()
    if slowed is not None:
        return slowed
    idp = current_idp()
    body = request.get_data(cache=False)
    device: devices.DeviceView | None = None
    try:
        signed, device = devices.authenticate(
            idp.sessions,
            body[: devices.MAX_SIGNED_BODY + 1],
            request.headers.get(SIGNATURE_HEADER),
            ticket=ticket,
            action=action,
        )
        devices.check_fresh(idp.sessions, idp.store, signed)
        if action == "scan":
            done = tickets.scan(
                idp.store,
                signed.ticket,
                device_id=device.id,
                device_name=device.name,
                account_id=device.account_id,
            )
        elif action == "confirm":
            done = tickets.confirm(
                idp.store, signed.ticket, device_id=device.id, account_id=device.account_id
            )
        else:
            done = tickets.cancel(
                idp.store, signed.ticket, device_id=device.id, account_id=device.account_id
            )
    except QrLoginError as exc:
        detail: dict[str, Any] = {"action": action}
        if tickets.valid_id(ticket):
            detail["ticket"] = tickets.ref(ticket)
        if device is not None:
            detail.update(device_id=device.id, user_id=device.account_id)
        return _refused(exc, "qr.refused", **detail)
    audit.record(
        idp.sessions,
        {"scan": "qr.scanned", "confirm": "qr.confirmed", "cancel": "qr.cancelled"}[action],
        user_id=device.account_id,
        username=device.username,
        client_id=done.client_id,
        ip=client_ip(),
        device_id=device.id,
        ticket=done.ref,
        browser_ip=done.ip,
        browser_user_agent=done.user_agent,
    )
    if action != "scan":
        return _answer({"state": done.state})
    return _answer(
        {
            "state": done.state,
            "client_name": done.client_name,
            "browser": {
                "ip": done.ip,
                "user_agent": done.user_agent,
                "opened_at": done.opened_at,
            },
            "expires_in": done.expires_in(),
        }
    )


@bp.route(f"{PREFIX}/qr/<ticket>/scan", methods=["POST"])
def mobile_qr_scan(ticket: str) -> Response:
    """The device scanned the QR code: who is asking (platform, browser) comes back."""
    return _signed(ticket, "scan")


@bp.route(f"{PREFIX}/qr/<ticket>/confirm", methods=["POST"])
def mobile_qr_confirm(ticket: str) -> Response:
    """The person confirmed on the device that scanned: the browser may complete the login."""
    return _signed(ticket, "confirm")


@bp.route(f"{PREFIX}/qr/<ticket>/cancel", methods=["POST"])
def mobile_qr_cancel(ticket: str) -> Response:
    """The person declined: the ticket is dead; the page offers a fresh QR code."""
    return _signed(ticket, "cancel")
