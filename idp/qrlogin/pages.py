"""The browser's side of QR login, and `/account/devices`.

    POST /login/qr                    open a ticket (CSRF header); JSON {ticket, qr_url, expires_in}
    GET  /login/qr/{T}                its state, JSON (the page polls every ~1.5 s)
    GET  /login/qr/{T}.svg            its QR code
    POST /login/qr/{T}/complete       when confirmed: log in the device's account, 303 onwards
    GET/POST /account/devices         the signed-in person's devices; revoke (CSRF)

Each ticket route answers only the browser session that opened the ticket (a hash of a random
handle kept in the signed session cookie, as certificate login's challenges do); to any other
it does not exist (404). The page follows the state by polling rather than server-sent events:
a poll is one small read of the ephemeral store, works through every proxy, and holds no worker
thread while the person reaches for their phone.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import (
    abort,
    flash,
    get_flashed_messages,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from .. import audit
from ..accounts import User, find_user
from ..web import bp
from ..web.authorize import load_request
from ..web.context import (
    browser_handle,
    check_csrf,
    client_ip,
    csrf_token,
    current_idp,
    current_login,
)
from ..web.i18n import _
from ..web.login import after_login, certificate_required, local_path, start_session
from ..web.operator import sign_in_first
from . import ACR_QR, AMR_QR, METHOD, devices, qr, tickets
from .errors import QrLoginError

SESSION_KEY = "qr_login"
OPEN_RATE_LIMIT = 120
"""Tickets one client address may open per minute (an office behind one address included)."""
REFUSAL_LIMIT = 300
"""Refused polls and completions of unknown or others' tickets one client address may make per
`REFUSAL_WINDOW` seconds; beyond, `slow_down` (429) without an audit row each."""
REFUSAL_WINDOW = 600
MAX_RID = 64
DEVICES_PAGE = "/account/devices"

PAGE_STATUS = {
    "ticket_not_found": 404,
    "ticket_expired": 409,
    "cancelled": 409,
    "not_confirmed": 409,
    "already_used": 409,
    "device_revoked": 403,
    "account_disabled": 403,
}


def _browser(create: bool) -> str | None:
    return browser_handle(SESSION_KEY, create, b"qr-login\x00")


def _mine(ticket_id: str) -> tickets.Ticket | None:
    """The ticket if this browser session opened it (None for unknown and for others')."""
    ticket = tickets.load(current_idp().store, ticket_id)
    browser = _browser(create=False)
    if ticket is None or browser is None:
        return None
    if not hmac.compare_digest(ticket.browser.encode(), browser.encode()):
        return None
    return ticket


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _error(code: str) -> Response:
    error = QrLoginError(code)
    status = {"certificate_required": 403, "slow_down": 429}.get(code, error.status)
    return _json(error.body(), status)


def _too_many_refusals() -> bool:
    """Count a refused poll or completion of this client address; True beyond the limit."""
    digest = hashlib.sha256(client_ip().encode()).hexdigest()[:32]
    return current_idp().store.incr(f"qr-page-fail:{digest}", REFUSAL_WINDOW) > REFUSAL_LIMIT


def _not_yours(ticket_id: str) -> Response:
    """An unknown ticket, or another browser session's: the same 404, one audit row."""
    if _too_many_refusals():
        return _error("slow_down")
    audit.record(
        current_idp().sessions,
        "qr.refused",
        ip=client_ip(),
        reason="ticket_not_found",
        ticket=tickets.ref(ticket_id) if tickets.valid_id(ticket_id) else None,
        action="poll",
    )
    return _error("ticket_not_found")


def _check_csrf_header() -> None:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf_failed")


def qr_url(ticket_id: str) -> str:
    """What the QR code encodes: the reference mobile page of this provider with the ticket."""
    return f"{current_idp().config.issuer}/m/qr?t={ticket_id}"


@bp.route("/login/qr", methods=["POST"])
def qr_open() -> Response:
    _check_csrf_header()
    idp = current_idp()
    values: Any = request.form
    if request.is_json:
        doc = request.get_json(silent=True)
        values = doc if isinstance(doc, dict) else {}
    rid = values.get("rid")
    rid = rid if isinstance(rid, str) and 0 < len(rid) <= MAX_RID else ""
    next_url = local_path(values.get("next")) or ""
    if rid and certificate_required(rid):
        return _error("certificate_required")
    ip_key = hashlib.sha256(client_ip().encode()).hexdigest()[:32]
    if idp.store.incr(f"qr-open-rate:{ip_key}", 60) > OPEN_RATE_LIMIT:
        return _error("slow_down")
    loaded = load_request(rid) if rid else None
    if loaded is None:
        rid = ""
    browser = _browser(create=True)
    assert browser is not None
    ticket = tickets.open_ticket(
        idp.store,
        browser=browser,
        client_name=loaded[1].name if loaded else tickets.DEFAULT_CLIENT_NAME,
        client_id=loaded[1].client_id if loaded else None,
        rid=rid,
        next_url=next_url,
        ip=client_ip(),
        user_agent=request.headers.get("User-Agent", ""),
        ttl=idp.config.qr_ticket_ttl,
    )
    return _json(
        {
            "ticket": ticket.id,
            "qr_url": qr_url(ticket.id),
            "expires_in": ticket.expires_in(),
        }
    )


@bp.route("/login/qr/<ticket_id>")
def qr_state(ticket_id: str) -> Response:
    ticket = _mine(ticket_id)
    if ticket is None:
        return _not_yours(ticket_id)
    body: dict[str, Any] = {"state": ticket.state, "expires_in": ticket.expires_in()}
    if ticket.state in ("scanned", "confirmed") and ticket.device_name:
        body["device_name"] = ticket.device_name
    if ticket.completed:
        body["completed"] = True
    return _json(body)


@bp.route("/login/qr/<ticket_id>.svg")
def qr_image(ticket_id: str) -> Response:
    ticket = _mine(ticket_id)
    if ticket is None:
        return _not_yours(ticket_id)
    response = Response(qr.svg(qr_url(ticket.id)), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


# completing the login --------------------------------------------------------------------------


def refusal_text(reason: str) -> str:
    return {
        "ticket_not_found": _(
            "This QR code is unknown here: it was opened in another browser, or it is too old. "
            "Open the sign-in page again and scan the new QR code."
        ),
        "ticket_expired": _(
            "The QR code has expired before the sign-in was finished. Refresh the QR code and "
            "scan it again."
        ),
        "cancelled": _("The sign-in was cancelled on the phone. Refresh the QR code to try again."),
        "not_confirmed": _(
            "The sign-in has not been confirmed on the phone yet. Confirm it in the app, or "
            "refresh the QR code."
        ),
        "already_used": _(
            "This QR code was already used to sign in. Each QR code signs in once; refresh it "
            "to sign in again."
        ),
        "device_revoked": _(
            "The phone that confirmed has been revoked meanwhile. Sign in another way or "
            "enroll the phone again."
        ),
        "account_disabled": _("The account of the phone that confirmed is disabled."),
    }.get(reason, _("QR code login failed."))


def _refused(reason: str, ticket_id: str, **detail: Any) -> Any:
    idp = current_idp()
    if reason == "ticket_not_found" and _too_many_refusals():
        abort(429)
    audit.record(
        idp.sessions,
        "login.failure",
        user_id=detail.pop("user_id", None),
        ip=client_ip(),
        method=METHOD,
        reason=reason,
        ticket=tickets.ref(ticket_id) if tickets.valid_id(ticket_id) else None,
        **detail,
    )
    rid = request.values.get("rid", "")
    return (
        render_template(
            "qr_login_refused.html",
            reason=reason,
            message=refusal_text(reason),
            rid=rid if len(rid) <= MAX_RID else "",
            next_url=local_path(request.values.get("next")) or "",
        ),
        PAGE_STATUS.get(reason, 400),
    )


@bp.route("/login/qr/<ticket_id>/complete", methods=["POST"])
def qr_complete(ticket_id: str) -> Any:
    check_csrf()
    idp = current_idp()
    try:
        ticket = tickets.complete(idp.store, ticket_id, _browser(create=False))
    except QrLoginError as exc:
        return _refused(exc.code, ticket_id)
    assert ticket.account_id is not None and ticket.device_id is not None
    device = devices.get(idp.sessions, ticket.device_id)
    if device is None or not device.active or device.account_id != ticket.account_id:
        return _refused(
            "device_revoked", ticket_id, user_id=ticket.account_id, device_id=ticket.device_id
        )
    user: User | None = find_user(idp.sessions, ticket.account_id)
    if user is None:
        return _refused(
            "account_disabled", ticket_id, user_id=ticket.account_id, device_id=ticket.device_id
        )
    # the renewed session keeps this browser's ticket handle: a second completion is then
    # told "already used" rather than "unknown"
    handle = session.get(SESSION_KEY)
    start_session(user, list(AMR_QR), ACR_QR)
    if isinstance(handle, str):
        session[SESSION_KEY] = handle
    audit.record(
        idp.sessions,
        "login.success",
        user_id=user.id,
        username=user.username,
        client_id=ticket.client_id,
        ip=client_ip(),
        method=METHOD,
        device_id=device.id,
        ticket=ticket.ref,
    )
    response = after_login(ticket.rid or None, ticket.next_url or None)
    response.status_code = 303
    return response


# /account/devices ------------------------------------------------------------------------------


@bp.route(DEVICES_PAGE, methods=["GET", "POST"])
def account_devices() -> Any:
    login = current_login()
    if login is None:
        return sign_in_first(DEVICES_PAGE)
    user = login[1]
    idp = current_idp()
    error: str | None = None
    status = 200
    if request.method == "POST":
        check_csrf()
        if request.form.get("action") != "revoke":
            error, status = _("The request is malformed."), 400
        else:
            try:
                view = devices.revoke(
                    idp.sessions,
                    (request.form.get("device_id") or "")[:64],
                    actor=user.username,
                    reason="revoked by its owner at /account/devices",
                    acting_account_id=user.id,
                )
            except QrLoginError:
                error, status = _("No such device."), 404
            else:
                flash(_("Device revoked: %(name)s", name=view.name))
                return redirect(url_for("idp.account_devices"), 303)
    return (
        render_template(
            "account_devices.html",
            user=user,
            devices=devices.list_for_account(idp.sessions, user.id),
            when=devices.when,
            error=error,
            notices=get_flashed_messages() if error is None else (),
            csrf_token=csrf_token(),
        ),
        status,
    )
