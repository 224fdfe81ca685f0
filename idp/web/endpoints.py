"""Machine endpoints: discovery, JWKS, token, userinfo, introspection (RFC 7662), revocation
(RFC 7009)."""

from __future__ import annotations

import time
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from flask import jsonify, request
from werkzeug.wrappers import Response

from ..accounts import find_user
from ..claims import SUPPORTED, userinfo_claims
from ..clients import AUTH_METHODS, RegisteredClient, sm2_clients_exist
from ..messages import error_body
from ..models import Grant
from ..tokens import ID_TOKEN_SIGNING_ALGS, SIGNING_ALGS, InvalidToken
from . import bp
from .context import current_idp

FORM = "application/x-www-form-urlencoded"
CLIENT_AUTH = [m for m in AUTH_METHODS if m != "none"]


def json_error(code: str, status: int, english: str | None = None, **headers: str) -> Response:
    response = jsonify(error_body(code, english))
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def require_form() -> Response | None:
    if request.mimetype != FORM:
        return json_error("invalid_request", 400, f"Content-Type must be {FORM}")
    return None


@bp.route("/.well-known/openid-configuration")
def discovery() -> Response:
    issuer = current_idp().config.issuer
    doc = {
        "issuer": issuer,
        "authorization_endpoint": issuer + "/authorize",
        "token_endpoint": issuer + "/token",
        "userinfo_endpoint": issuer + "/userinfo",
        "jwks_uri": issuer + "/jwks",
        "introspection_endpoint": issuer + "/introspect",
        "revocation_endpoint": issuer + "/revoke",
        "end_session_endpoint": issuer + "/logout",
        "scopes_supported": [
            "openid",
            "profile",
            "email",
            "phone",
            "entity",
            "identity",
            "offline_access",
        ],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ID_TOKEN_SIGNING_ALGS,
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": SIGNING_ALGS,
        "introspection_endpoint_auth_methods_supported": CLIENT_AUTH,
        "revocation_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": [
            *SUPPORTED,
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "sid",
        ],
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "acr_values_supported": ["urn:huren:loa:1", "urn:huren:loa:2"],
        "ui_locales_supported": ["zh-CN", "en"],
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }
    response = jsonify(doc)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/jwks")
def jwks() -> Response:
    # SM2 keys (kty EC, crv SM2) only once a client asks for SM2-signed ID tokens: some JOSE
    # libraries (joserfc 1.8) fail on a whole set holding a curve they do not know.
    idp = current_idp()
    response = jsonify(idp.keys.jwks(include_sm2=sm2_clients_exist(idp.sessions)))
    response.headers["Cache-Control"] = "public, max-age=60"
    return response


@bp.route("/token", methods=["POST"])
def token() -> Any:
    return require_form() or current_idp().server.create_token_response()


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    if (
        request.method == "POST"
        and request.mimetype == FORM
        and "Authorization" not in request.headers
    ):
        value = request.form.get("access_token")
        return value or None
    return None


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo() -> Response:
    idp = current_idp()
    token = _bearer()
    if token is None:
        return json_error(
            "invalid_token", 401, "missing bearer token", WWW_Authenticate='Bearer realm="huren"'
        )
    try:
        claims = idp.tokens.verify_access_token(token)
    except InvalidToken:
        return json_error(
            "invalid_token", 401, WWW_Authenticate='Bearer realm="huren", error="invalid_token"'
        )
    if not claims.get("gid"):  # a client-credentials token speaks for a client, not a user
        return json_error(
            "invalid_token",
            401,
            "the access token was not issued for a user",
            WWW_Authenticate='Bearer realm="huren", error="invalid_token"',
        )
    if "openid" not in str(claims.get("scope", "")).split():
        return json_error(
            "insufficient_scope",
            403,
            WWW_Authenticate='Bearer realm="huren", error="insufficient_scope", scope="openid"',
        )
    user = find_user(idp.sessions, str(claims["sub"]))
    if user is None:
        return json_error("invalid_token", 401, WWW_Authenticate='Bearer error="invalid_token"')
    claims_request = None
    if claims.get("gid"):
        with idp.sessions() as db:
            grant = db.get(Grant, claims["gid"])
            claims_request = grant.claims if grant else None
    scope = str(claims["scope"])
    entity = idp.entity_claims(user.id, scope, claims_request, "userinfo")
    response = jsonify(userinfo_claims(user, scope, claims_request, entity))
    response.headers["Cache-Control"] = "no-store"
    return response


def _authenticated_client(methods: list[str], endpoint: str) -> RegisteredClient:
    server = current_idp().server
    oreq = server.create_oauth2_request(None)
    return server.authenticate_client(oreq, methods, endpoint)  # type: ignore[no-any-return]


def _lookup(token: str, hint: str | None) -> tuple[str, dict[str, Any]] | None:
    """An active token of ours as ("access_token", claims) or ("refresh_token", data), else None.

    The hint only orders the search (RFC 7662 §2.1, RFC 7009 §2.1): both kinds are always tried.
    """
    kinds = [_live_access_token, _live_refresh_token]
    if hint == "refresh_token":
        kinds.reverse()
    for find in kinds:
        found = find(token)
        if found is not None:
            return found
    return None


def _live_access_token(token: str) -> tuple[str, dict[str, Any]] | None:
    if token.count(".") != 2:
        return None
    try:
        return "access_token", current_idp().tokens.verify_access_token(token)
    except InvalidToken:
        return None


def _live_refresh_token(token: str) -> tuple[str, dict[str, Any]] | None:
    idp = current_idp()
    found = idp.tokens.find_refresh(token)
    if found is None:
        return None
    rt, grant = found
    if rt.used_at or rt.expires_at < time.time() or idp.tokens.grant_revoked(grant):
        return None
    return "refresh_token", {
        "client_id": grant.client_id,
        "sub": grant.user_id,
        "scope": grant.scope,
        "exp": int(rt.expires_at),
        "iat": int(rt.issued_at),
        "gid": grant.id,
        "iss": idp.config.issuer,
    }


@bp.route("/introspect", methods=["POST"])
def introspect() -> Any:
    bad = require_form()
    if bad:
        return bad
    idp = current_idp()
    try:
        client = _authenticated_client(CLIENT_AUTH, "introspection")
        token = request.form.get("token")
        if not token:
            raise InvalidRequestError("missing 'token'")
    except OAuth2Error as exc:
        return idp.server.handle_error_response(None, exc)
    found = _lookup(token, request.form.get("token_type_hint"))
    inactive = jsonify({"active": False})
    inactive.headers["Cache-Control"] = "no-store"
    if found is None:
        return inactive
    kind, claims = found
    if claims.get("client_id") != client.client_id:  # a client sees only its own tokens
        return inactive
    body: dict[str, Any] = {
        "active": True,
        "token_type": "Bearer" if kind == "access_token" else kind,
    }
    for name in (
        "scope",
        "client_id",
        "sub",
        "exp",
        "iat",
        "iss",
        "aud",
        "jti",
        "auth_time",
        "acr",
        "amr",
    ):
        if name in claims:
            body[name] = claims[name]
    user = find_user(idp.sessions, str(claims.get("sub"))) if claims.get("sub") else None
    if user is not None:
        body["username"] = user.username
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/revoke", methods=["POST"])
def revoke() -> Any:
    bad = require_form()
    if bad:
        return bad
    idp = current_idp()
    try:
        client = _authenticated_client(list(AUTH_METHODS), "revocation")
        token = request.form.get("token")
        if not token:
            raise InvalidRequestError("missing 'token'")
    except OAuth2Error as exc:
        return idp.server.handle_error_response(None, exc)
    hint = request.form.get("token_type_hint")
    if hint not in (None, "", "access_token", "refresh_token"):
        return json_error("unsupported_token_type", 400)
    found = _lookup(token, hint)
    if found is not None:
        kind, claims = found
        if claims.get("client_id") == client.client_id:
            if kind == "access_token":
                idp.tokens.revoke_access_token(claims)
            else:
                idp.tokens.revoke_grant(str(claims["gid"]), "revoked_by_client")
    response = Response("", status=200)
    response.headers["Cache-Control"] = "no-store"
    return response
