"""RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and back-channel notification.

Without a valid `id_token_hint` for the current user the logout must be confirmed on a page of
ours, so a cross-site link cannot sign a user out silently.
"""

from __future__ import annotations

import time
from typing import Any

from authlib.common.urls import add_params_to_uri
from flask import redirect, render_template, request, session
from sqlalchemy import select

from ..backchannel import enqueue
from ..clients import RegisteredClient, get_client
from ..models import AuditEvent, Grant
from ..sessions import SsoSession
from ..tokens import InvalidToken, unverified_claims
from . import bp
from .authorize import error_page
from .context import check_csrf, client_ip, csrf_token, current_idp, current_login


def end_session() -> None:
    """End the browser's SSO session (if any) and everything hanging off it."""
    idp = current_idp()
    handle = session.get("sso")
    session.clear()
    if isinstance(handle, str):
        sso = idp.sso.end(handle)
        if sso is not None:
            terminate(sso)


def terminate(sso: SsoSession) -> None:
    """Tell every platform of an ended session (back-channel, via the outbox, in the same
    transaction as the audit row) and revoke the session-bound token families; grants with
    `offline_access` are meant to outlive the session and are kept."""
    idp = current_idp()
    with idp.sessions.begin() as db:
        db.add(
            AuditEvent(
                at=time.time(),
                kind="logout",
                user_id=sso.user_id,
                ip=client_ip(),
                detail={"sid": sso.sid},
            )
        )
        for client_id in sso.clients:
            client = get_client(idp.sessions, client_id)
            if client is not None and client.backchannel_logout_uri:
                enqueue(
                    db,
                    client_id=client_id,
                    uri=client.backchannel_logout_uri,
                    sub=sso.user_id,
                    sid=sso.sid,
                )
        grants = db.execute(
            select(Grant.id, Grant.scope).where(Grant.sid == sso.sid, Grant.revoked_at.is_(None))
        ).all()
    for grant_id, scope in grants:
        if "offline_access" not in scope.split():
            idp.tokens.revoke_grant(grant_id, "logout")
    if idp.backchannel is not None:
        idp.backchannel.kick()


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Any:
    idp = current_idp()
    values = request.values
    hint_raw = values.get("id_token_hint")
    client_id = values.get("client_id")
    target = values.get("post_logout_redirect_uri")
    state = values.get("state")
    hint: dict[str, Any] | None = None  # verified: may sign the user out without asking
    hint_claims: dict[
        str, Any
    ] = {}  # possibly unverifiable (e.g. its key was retired): names the client
    if hint_raw:
        try:
            hint = idp.tokens.decode(hint_raw, typ=None, verify_exp=False)
            hint_claims = hint
        except InvalidToken:
            hint_claims = unverified_claims(hint_raw, idp.config.issuer)
            if not hint_claims:
                return error_page("invalid_id_token_hint")
    aud = hint_claims.get("aud")
    hint_client = aud[0] if isinstance(aud, list) and aud else aud
    if client_id and hint_client and client_id != hint_client:
        return error_page("client_mismatch")
    client: RegisteredClient | None = None
    if client_id or hint_client:
        client = get_client(idp.sessions, str(client_id or hint_client))
        if client is None:
            return error_page("unknown_client")
    if target and (client is None or target not in client.post_logout_redirect_uris):
        return error_page("unregistered_post_logout_redirect_uri")
    login = current_login()
    confirmed = request.method == "POST" and values.get("confirm") == "yes"
    if confirmed:
        check_csrf()
    silent = login is None or (hint is not None and hint.get("sub") == login[1].id)
    if not (confirmed or silent):
        return render_template(
            "logout_confirm.html",
            client=client,
            params={
                k: v
                for k, v in values.items()
                if k
                in ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")
            },
            csrf_token=csrf_token(),
        )
    end_session()
    if target:
        return redirect(add_params_to_uri(target, [("state", state)] if state else []))
    return render_template("logged_out.html")
