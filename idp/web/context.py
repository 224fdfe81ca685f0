"""Access to the process's `Idp` from a request, and small helpers every view shares."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from flask import abort, current_app, request, session

from ..accounts import User, find_user
from ..service import Idp
from ..sessions import SsoSession

EXTENSION = "huren.idp"


def current_idp() -> Idp:
    return current_app.extensions[EXTENSION]  # type: ignore[no-any-return]


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf_failed")


def current_login() -> tuple[SsoSession, User] | None:
    idp = current_idp()
    sso = idp.sso.get(session.get("sso"))
    if sso is None:
        return None
    user = find_user(idp.sessions, sso.user_id)
    return (sso, user) if user else None


def client_ip() -> str:
    return request.remote_addr or "unknown"


def form_or_args(name: str) -> Any:
    return request.values.get(name)


def browser_handle(session_key: str, create: bool, salt: bytes = b"") -> str | None:
    """A hash of a random handle kept in this browser session under `session_key` (made on
    first use when `create`): what one-time challenges and QR tickets are bound to, so a value
    photographed or replayed in another browser is worthless. `salt` keeps uses apart."""
    handle = session.get(session_key)
    if not isinstance(handle, str):
        if not create:
            return None
        handle = secrets.token_urlsafe(24)
        session[session_key] = handle
    return hashlib.sha256(salt + handle.encode()).hexdigest()[:40]
