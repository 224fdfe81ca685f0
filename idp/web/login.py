"""Password login (§6.3.2 a). Other methods (certificate, QR) plug in beside it: each one ends by
calling `start_session(user, amr, acr)` and `after_login(rid)`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import redirect, render_template, request, session, url_for

from .. import audit
from ..accounts import User, check_password
from ..certlogin import required_level
from . import bp
from .authorize import load_request
from .context import check_csrf, client_ip, csrf_token, current_idp, current_login
from .i18n import _
from .logout import terminate

ACR_PASSWORD = "urn:huren:loa:1"
MAX_FIELD = 1024
MAX_NEXT = 2000


def start_session(user: User, amr: list[str], acr: str) -> None:
    """Begin a fresh SSO session under a new cookie handle (against session fixation).

    Re-authenticating the same user continues the session (same `sid`, same platforms); a
    different user first ends the previous session, telling its platforms.
    """
    idp = current_idp()
    previous = idp.sso.get(session.get("sso"))
    if previous is not None:
        idp.sso.end(previous.handle)
        if previous.user_id != user.id:
            terminate(previous)
            previous = None
    sso = idp.sso.create(user.id, amr, acr, continues=previous)
    csrf = session.get("csrf")
    session.clear()
    session["sso"] = sso.handle
    if csrf:
        session["csrf"] = csrf
    session.permanent = True


def local_path(value: object) -> str | None:
    """`value` if it is a path on this site ("/operator/entities?status=rejected"), else None.

    Refused: anything not starting with one "/" ("//host" and "/\\host" are other hosts to a
    browser), a scheme or host, backslashes and control or space characters anywhere (browsers
    drop tabs and newlines, so "/\t/host" would become "//host"), and absurd lengths.
    """
    if not isinstance(value, str) or not value.startswith("/") or len(value) > MAX_NEXT:
        return None
    if value.startswith(("//", "/\\")) or "\\" in value:
        return None
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        return None
    return value


def after_login(rid: str | None, next_url: str | None = None) -> Any:
    """Continue a pending authorization (`rid`, first), else go to `next_url` (a local path
    only, see `local_path`), else home."""
    if rid and load_request(rid) is not None:
        return redirect(url_for("idp.authorize_continue", rid=rid))
    target = local_path(next_url)
    if target is not None:
        return redirect(target)
    return redirect(url_for("idp.home"))


def certificate_required(rid: str | None) -> bool:
    """The pending authorization asks (`acr_values`) for more than a password gives."""
    loaded = load_request(rid)
    return loaded is not None and required_level(loaded[0]["params"].get("acr_values")) > 1


def _form(error: str | None = None, status: int = 200, username: str = "") -> Any:
    rid = request.values.get("rid", "")
    next_url = local_path(request.values.get("next")) or ""
    cert_only = certificate_required(rid)
    asked = request.args.get("method")
    method = "cert" if cert_only or asked == "cert" else "qr" if asked == "qr" else "password"
    return (
        render_template(
            "login.html",
            error=error,
            rid=rid,
            next_url=next_url,
            username=username,
            csrf_token=csrf_token(),
            method=method,
            cert_only=cert_only,
            bridge_port=current_idp().config.bridge_port,
        ),
        status,
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        return _form()
    check_csrf()
    idp = current_idp()
    username = (request.form.get("username") or "").strip()[:MAX_FIELD]
    password = (request.form.get("password") or "")[:MAX_FIELD]
    ip = client_ip()
    if certificate_required(request.form.get("rid")):
        message = _("This application requires certificate login (数字证书登录).")
        return _form(message, 403, username)
    if not username or not password:
        return _form(_("Please enter your username and password."), 400, username)
    wait = idp.throttle.locked_for(username, ip)
    if wait:
        audit.record(idp.sessions, "login.locked", username=username, ip=ip, method="pwd")
        return _form(_locked_message(wait), 429, username)
    user = check_password(idp.sessions, username, password)
    if user is None:
        locked = idp.throttle.failure(username, ip)
        audit.record(idp.sessions, "login.failure", username=username, ip=ip, method="pwd")
        if locked:
            return _form(_locked_message(locked), 429, username)
        return _form(_("Wrong username or password."), 401, username)
    idp.throttle.success(username)
    start_session(user, ["pwd"], ACR_PASSWORD)
    audit.record(
        idp.sessions, "login.success", user_id=user.id, username=user.username, ip=ip, method="pwd"
    )
    return after_login(request.form.get("rid"), request.form.get("next"))


def _locked_message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return _("Too many failed attempts. Try again in %(minutes)d minutes.", minutes=minutes)


@bp.route("/")
def home() -> Any:
    login = current_login()
    return render_template("home.html", user=login[1] if login else None, csrf_token=csrf_token())


from ..certlogin import challenge, pages, verify  # noqa: E402, F401  (certificate login routes)
from ..qrlogin import device_api, mobile_page  # noqa: E402, F401  (QR login: device API, /m/qr)
from ..qrlogin import pages as qr_pages  # noqa: E402, F401  (QR login: browser routes)
