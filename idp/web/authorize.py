"""The authorization endpoint (OpenID Connect Core §3.1.2) and the consent step.

A valid request is parked in the ephemeral store under a request id, so the login and consent
pages carry only that id and the request cannot be altered on the way; it is used up when the code
is issued.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from ..accounts import User
from ..certlogin import acr_level, required_level
from ..claims import (
    ClaimsRequestError,
    implied_scopes,
    limit_claims_request,
    parse_claims_request,
)
from ..clients import RegisteredClient
from ..models import Consent
from ..oauth import StoredAuthorizationRequest
from ..sessions import SsoSession
from ..tokens import InvalidToken
from . import bp
from .context import check_csrf, csrf_token, current_idp, current_login

REQUEST_TTL = 1800
SCOPE_LABELS = ("openid", "profile", "email", "phone", "entity", "identity", "offline_access")


def error_page(reason: str, status: int = 400) -> tuple[str, int]:
    return render_template("error.html", reason=reason), status


def error_redirect(
    redirect_uri: str, error: str, description: str | None, state: str | None
) -> Response:
    params: list[tuple[str, str]] = [("error", error)]
    if description:
        params.append(("error_description", description))
    if state:
        params.append(("state", state))
    params.append(("iss", current_idp().config.issuer))
    return redirect(add_params_to_uri(redirect_uri, params), 302)


class _Refusal(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _validate_extras(params: dict[str, str]) -> None:
    if "request" in params:
        raise _Refusal("request_not_supported", "request objects are not supported")
    if "request_uri" in params:
        raise _Refusal("request_uri_not_supported", "request_uri is not supported")
    prompts = set(params.get("prompt", "").split())
    if "none" in prompts and len(prompts) > 1:
        raise _Refusal("invalid_request", "prompt=none cannot be combined with other values")
    if params.get("max_age") not in (None, ""):
        try:
            if int(params["max_age"]) < 0:
                raise ValueError
        except ValueError:
            raise _Refusal("invalid_request", "max_age must be a non-negative integer") from None
    try:
        parse_claims_request(params.get("claims"))
    except ClaimsRequestError as exc:
        raise _Refusal("invalid_request", str(exc)) from None


@bp.route("/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    idp = current_idp()
    values = request.values
    client_id = values.get("client_id")
    redirect_uri = values.get("redirect_uri")
    client = idp.server.query_client(client_id) if client_id else None
    if client is None:
        return error_page("unknown_client")
    if not redirect_uri or len(values.getlist("redirect_uri")) != 1:
        return error_page("missing_redirect_uri")
    if not client.check_redirect_uri(redirect_uri):
        return error_page("unregistered_redirect_uri")
    state = values.get("state")
    params = {k: values[k] for k in values.keys()}  # noqa: SIM118  (MultiDict: first values)
    try:
        idp.server.get_consent_grant(end_user=None)
        _validate_extras(params)
    except OAuth2Error as exc:
        return error_redirect(redirect_uri, exc.error, exc.description, state)
    except _Refusal as exc:
        return error_redirect(redirect_uri, exc.error, exc.description, state)
    rid = secrets.token_urlsafe(18)
    record = {"params": params, "created_at": time.time()}
    idp.store.put(f"authreq:{rid}", json.dumps(record).encode(), REQUEST_TTL)
    return _decide(rid, record, client)


def load_request(rid: str | None) -> tuple[dict[str, Any], RegisteredClient] | None:
    if not rid or len(rid) > 64:
        return None
    idp = current_idp()
    raw = idp.store.get(f"authreq:{rid}")
    if raw is None:
        return None
    record: dict[str, Any] = json.loads(raw)
    client = idp.server.query_client(record["params"].get("client_id"))
    return (record, client) if client else None


@bp.route("/authorize/continue")
def authorize_continue() -> Any:
    rid = request.args.get("rid")
    loaded = load_request(rid)
    if loaded is None or rid is None:
        return error_page("request_expired")
    record, client = loaded
    return _decide(rid, record, client)


def _ui(params: dict[str, str]) -> dict[str, Any]:
    """Carry the RP's `ui_locales` to our pages (the locale selector reads it)."""
    return {"ui_locales": params["ui_locales"][:64]} if params.get("ui_locales") else {}


def _granted_scope(client: RegisteredClient, params: dict[str, str]) -> str:
    return client.get_allowed_scope(params.get("scope"))


def _consent_scope(client: RegisteredClient, params: dict[str, str]) -> str:
    """What the user is asked to allow: the granted scope plus the scopes of claims asked for
    one by one (`claims` parameter), as far as the client is registered for them."""
    scopes = _granted_scope(client, params).split()
    implied = implied_scopes(parse_claims_request(params.get("claims")))
    scopes += sorted(s for s in implied if s in client.scopes and s not in scopes)
    return " ".join(scopes)


def _decide(rid: str, record: dict[str, Any], client: RegisteredClient) -> Any:
    idp = current_idp()
    params: dict[str, str] = record["params"]
    prompts = set(params.get("prompt", "").split())
    state = params.get("state")
    redirect_uri = params["redirect_uri"]
    login = current_login()
    hint_sub = None
    if params.get("id_token_hint"):
        try:
            hint = idp.tokens.decode(params["id_token_hint"], typ=None, verify_exp=False)
        except InvalidToken:
            return error_redirect(
                redirect_uri, "invalid_request", "id_token_hint is not valid", state
            )
        aud = hint.get("aud")
        if client.client_id not in (aud if isinstance(aud, list) else [aud]):
            return error_redirect(
                redirect_uri, "invalid_request", "id_token_hint was issued to another client", state
            )
        hint_sub = hint.get("sub")
    max_age = int(params["max_age"]) if params.get("max_age") not in (None, "") else None
    # a login made after this request was parked satisfies prompt=login and any max_age
    fresh = login is not None and login[0].auth_time >= record["created_at"]
    stale = max_age is not None and login is not None and time.time() - login[0].auth_time > max_age
    # acr_values naming a stronger method than the session's (certificate login): log in again
    weak = login is not None and acr_level(login[0].acr) < required_level(params.get("acr_values"))
    need_login = (
        login is None
        or weak
        or (not fresh and ("login" in prompts or stale))
        or (hint_sub is not None and hint_sub != login[1].id)
    )
    if need_login:
        if "none" in prompts:
            return error_redirect(
                redirect_uri, "login_required", "the user is not logged in", state
            )
        return redirect(url_for("idp.login", rid=rid, **_ui(params)))
    assert login is not None
    sso, user = login
    scope = _granted_scope(client, params)
    wanted = _consent_scope(client, params)
    if not client.trusted and ("consent" in prompts or not _has_consent(user, client, wanted)):
        if "none" in prompts:
            return error_redirect(
                redirect_uri, "consent_required", "the user has not consented", state
            )
        return redirect(url_for("idp.consent", rid=rid, **_ui(params)))
    return issue_code(rid, record, client, sso, user, scope)


def _has_consent(user: User, client: RegisteredClient, scope: str) -> bool:
    with current_idp().sessions() as db:
        granted = db.scalar(
            select(Consent.scopes).where(
                Consent.user_id == user.id, Consent.client_id == client.client_id
            )
        )
    return granted is not None and set(scope.split()) <= set(granted)


def _remember_consent(user: User, client: RegisteredClient, scope: str) -> None:
    with current_idp().sessions.begin() as db:
        row = db.get(Consent, (user.id, client.client_id))
        if row is None:
            db.add(
                Consent(
                    user_id=user.id,
                    client_id=client.client_id,
                    scopes=sorted(set(scope.split())),
                    granted_at=time.time(),
                )
            )
        else:
            row.scopes = sorted(set(row.scopes) | set(scope.split()))
            row.granted_at = time.time()


def issue_code(
    rid: str,
    record: dict[str, Any],
    client: RegisteredClient,
    sso: SsoSession,
    user: User,
    scope: str,
) -> Any:
    idp = current_idp()
    if idp.store.take(f"authreq:{rid}") is None:
        return error_page("request_expired")
    params: dict[str, str] = record["params"]
    oreq = StoredAuthorizationRequest(idp.config.issuer + "/authorize", params)
    oreq.huren = {
        "scope": scope,
        "auth_time": sso.auth_time,
        "acr": sso.acr,
        "amr": sso.amr,
        "sid": sso.sid,
        "claims": limit_claims_request(
            parse_claims_request(params.get("claims")), set(client.scopes)
        ),
    }
    try:
        grant = idp.server.get_consent_grant(request=oreq, end_user=user)
        response = idp.server.create_authorization_response(
            request=oreq, grant_user=user, grant=grant
        )
    except OAuth2Error as exc:
        return error_redirect(
            params["redirect_uri"], exc.error, exc.description, params.get("state")
        )
    location = response.headers.get("Location")
    if location:
        response.headers["Location"] = add_params_to_uri(location, [("iss", idp.config.issuer)])
    idp.sso.add_client(sso, client.client_id)
    return response


@bp.route("/consent", methods=["GET", "POST"])
def consent() -> Any:
    rid = request.values.get("rid")
    loaded = load_request(rid)
    if loaded is None or rid is None:
        return error_page("request_expired")
    record, client = loaded
    login = current_login()
    if login is None:
        return redirect(url_for("idp.login", rid=rid))
    sso, user = login
    params: dict[str, str] = record["params"]
    scope = _granted_scope(client, params)
    wanted = _consent_scope(client, params)
    if request.method == "GET":
        scopes = [s for s in wanted.split() if s in SCOPE_LABELS] or ["openid"]
        return render_template(
            "consent.html",
            client=client,
            scopes=scopes,
            rid=rid,
            user=user,
            csrf_token=csrf_token(),
        )
    check_csrf()
    if request.form.get("decision") != "allow":
        current_idp().store.delete(f"authreq:{rid}")
        return error_redirect(
            params["redirect_uri"],
            "access_denied",
            "the user denied the request",
            params.get("state"),
        )
    _remember_consent(user, client, wanted)
    return issue_code(rid, record, client, sso, user, scope)
