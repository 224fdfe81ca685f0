"""The OAuth 2.0 / OpenID Connect authorization server, built on Authlib's grants.

Authlib parses requests, authenticates clients and checks PKCE; Huren decides what a code holds,
what tokens look like, and how code reuse and refresh-token reuse revoke a whole token family.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass
from typing import Any, cast

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
)
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Response
from flask import json as flask_json
from joserfc.jwk import KeySet
from sqlalchemy import update

from . import audit
from .accounts import User, find_user
from .claims import id_token_claims
from .clients import AUTH_METHODS, RegisteredClient, get_client
from .messages import error_body
from .models import Grant, RefreshToken
from .tokens import new_refresh_token, token_hash

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .service import Idp

NO_STORE = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
]
SPENT_CODE_TTL = 3600
USER_SCOPES = frozenset(
    {"openid", "profile", "email", "phone", "entity", "identity", "offline_access"}
)


@dataclass(frozen=True)
class AuthorizationCode:
    """What a code stands for; kept in the ephemeral store under the code's hash."""

    client_id: str
    redirect_uri: str
    scope: str
    user_id: str
    nonce: str | None
    auth_time: float
    acr: str
    amr: list[str]
    sid: str
    code_challenge: str
    code_challenge_method: str
    claims: dict[str, Any] | None
    grant_id: str

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True)
class RefreshRecord:
    token_hash: str
    grant_id: str
    client_id: str
    user_id: str
    scope: str
    auth_time: float
    acr: str | None
    amr: list[str]
    sid: str | None
    claims: dict[str, Any] | None

    def check_client(self, client: RegisteredClient) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope


class StoredAuthorizationRequest(OAuth2Request):  # type: ignore[misc]
    """An authorization request replayed from the ephemeral store after login or consent."""

    def __init__(self, uri: str, params: dict[str, str]) -> None:
        super().__init__("GET", uri, headers={})
        self.payload = BasicOAuth2Payload(params)

    @property
    def args(self) -> dict[str, str]:
        return dict(self.payload.data)

    @property
    def form(self) -> dict[str, str]:
        return {}


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE is mandatory for every client and only S256 is accepted (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)


class PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(self, idp: Idp) -> None:
        super().__init__(validate_jti=True, leeway=30)
        self.idp = idp

    MAX_LIFETIME = 600  # assertions valid longer are refused, so a jti is remembered long enough

    def get_audiences(self) -> list[str]:
        issuer = self.idp.config.issuer
        return [issuer, issuer + "/token"]

    def verify_claims(self, claims: Any) -> None:
        exp = claims.get("exp")
        if isinstance(exp, int | float) and exp - time.time() > self.MAX_LIFETIME + self.leeway:
            raise InvalidClientError(description="client assertion 'exp' is over 10 minutes ahead")
        super().verify_claims(claims)

    def validate_jti(self, claims: dict[str, Any], jti: str) -> bool:
        key = f"client-assertion-jti:{claims.get('sub')}:{jti}"
        return self.idp.store.put_if_absent(key, b"1", self.MAX_LIFETIME + 3 * self.leeway)

    def resolve_client_public_key(self, client: RegisteredClient) -> KeySet:
        return KeySet.import_key_set(cast(Any, client.jwks or {"keys": []}))


def _issue(
    idp: Idp,
    client: RegisteredClient,
    user: User,
    *,
    grant_id: str,
    scope: str,
    auth_time: float,
    acr: str | None,
    amr: list[str],
    sid: str | None,
    claims: dict[str, Any] | None,
    nonce: str | None,
    refresh_token: str | None,
) -> dict[str, Any]:
    access_token, ttl = idp.tokens.issue_access_token(
        client_id=client.client_id,
        sub=user.id,
        scope=scope,
        grant_id=grant_id,
        auth_time=auth_time,
        acr=acr,
        amr=amr,
    )
    token: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": scope,
    }
    if refresh_token:
        token["refresh_token"] = refresh_token
    if "openid" in scope.split():
        token["id_token"] = idp.tokens.issue_id_token(
            client_id=client.client_id,
            sub=user.id,
            auth_time=auth_time,
            nonce=nonce,
            acr=acr,
            amr=amr,
            sid=sid,
            access_token=access_token,
            alg=client.id_token_signed_response_alg,
            extra=id_token_claims(
                user, claims, idp.entity_claims(user.id, scope, claims, "id_token"), scope
            ),
        )
    return token


class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)  # noqa: RUF012

    @property
    def idp(self) -> Idp:
        return self.server.idp  # type: ignore[no-any-return]

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        ctx = request.huren
        record = AuthorizationCode(
            client_id=request.client.client_id,
            redirect_uri=data["redirect_uri"],
            scope=ctx["scope"],
            user_id=request.user.id,
            nonce=data.get("nonce") or None,
            auth_time=ctx["auth_time"],
            acr=ctx["acr"],
            amr=ctx["amr"],
            sid=ctx["sid"],
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            claims=ctx["claims"],
            grant_id=str(uuid.uuid4()),
        )
        self.idp.store.put(
            f"code:{token_hash(code)}",
            json.dumps(asdict(record)).encode(),
            self.idp.config.code_ttl,
        )

    def query_authorization_code(
        self, code: str, client: RegisteredClient
    ) -> AuthorizationCode | None:
        if not code or len(code) > 256:
            return None
        digest = token_hash(code)
        raw = self.idp.store.take(f"code:{digest}")
        if raw is None:
            spent = self.idp.store.get(f"code-spent:{digest}")
            if spent is not None:
                grant_id = spent.decode()
                self.idp.tokens.revoke_grant(grant_id, "code_reuse")
                audit.record(
                    self.idp.sessions,
                    "token.code_reuse",
                    client_id=client.client_id,
                    grant_id=grant_id,
                )
            return None
        record = AuthorizationCode(**json.loads(raw))
        self.idp.store.put(f"code-spent:{digest}", record.grant_id.encode(), SPENT_CODE_TTL)
        if record.client_id != client.client_id:
            return None
        return record

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Nothing to do: the code was taken atomically when it was read."""

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User | None:
        return find_user(self.idp.sessions, authorization_code.user_id)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        client: RegisteredClient = self.request.client
        code: AuthorizationCode = self.request.authorization_code
        user = self.authenticate_user(code)
        if user is None:
            raise InvalidGrantError("the account behind this code no longer exists")
        idp = self.idp
        refresh = None
        with idp.sessions.begin() as db:
            grant = idp.tokens.new_grant(
                db,
                grant_id=code.grant_id,
                client_id=client.client_id,
                user_id=user.id,
                scope=code.scope,
                auth_time=code.auth_time,
                amr=code.amr,
                acr=code.acr,
                sid=code.sid,
                claims=code.claims,
            )
            if idp.store.get(f"revoked-grant:{code.grant_id}") is not None:
                grant.revoked_at = time.time()
                grant.revoke_reason = "code_reuse"
            if client.check_grant_type("refresh_token"):
                refresh = new_refresh_token(db, grant.id, idp.config.refresh_token_ttl)
        token = _issue(
            idp,
            client,
            user,
            grant_id=code.grant_id,
            scope=code.scope,
            auth_time=code.auth_time,
            acr=code.acr,
            amr=code.amr,
            sid=code.sid,
            claims=code.claims,
            nonce=code.nonce,
            refresh_token=refresh,
        )
        return 200, token, NO_STORE


class RefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(AUTH_METHODS)  # noqa: RUF012
    INCLUDE_NEW_REFRESH_TOKEN = True

    @property
    def idp(self) -> Idp:
        return self.server.idp  # type: ignore[no-any-return]

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshRecord | None:
        found = self.idp.tokens.find_refresh(refresh_token)
        if found is None:
            return None
        rt, grant = found
        if self.idp.tokens.grant_revoked(grant):
            return None
        if rt.used_at is not None:
            self._reuse(grant)
            return None
        if rt.expires_at < time.time():
            return None
        return RefreshRecord(
            token_hash=rt.token_hash,
            grant_id=grant.id,
            client_id=grant.client_id,
            user_id=grant.user_id,
            scope=grant.scope,
            auth_time=grant.auth_time,
            acr=grant.acr,
            amr=list(grant.amr),
            sid=grant.sid,
            claims=grant.claims,
        )

    def _reuse(self, grant: Grant) -> None:
        self.idp.tokens.revoke_grant(grant.id, "refresh_token_reuse")
        audit.record(
            self.idp.sessions,
            "token.refresh_reuse",
            user_id=grant.user_id,
            client_id=grant.client_id,
            grant_id=grant.id,
        )

    def authenticate_user(self, refresh_token: RefreshRecord) -> User | None:
        return find_user(self.idp.sessions, refresh_token.user_id)

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        record: RefreshRecord = self.request.refresh_token
        client: RegisteredClient = self.request.client
        user = self.authenticate_user(record)
        if user is None:
            raise InvalidGrantError("the account behind this token no longer exists")
        scope = self.request.payload.scope or record.scope
        idp = self.idp
        with idp.sessions.begin() as db:
            spent = db.execute(
                update(RefreshToken)
                .where(RefreshToken.token_hash == record.token_hash, RefreshToken.used_at.is_(None))
                .values(used_at=time.time())
            )
            if getattr(spent, "rowcount", 0) != 1:
                fresh = None
            else:
                fresh = new_refresh_token(db, record.grant_id, idp.config.refresh_token_ttl)
        if fresh is None:  # lost a race with another use of the same token: that is reuse
            with idp.sessions() as db:
                grant = db.get(Grant, record.grant_id)
            if grant is not None:
                self._reuse(grant)
            raise InvalidGrantError("refresh token was already used")
        token = _issue(
            idp,
            client,
            user,
            grant_id=record.grant_id,
            scope=scope,
            auth_time=record.auth_time,
            acr=record.acr,
            amr=record.amr,
            sid=record.sid,
            claims=record.claims,
            nonce=None,
            refresh_token=fresh,
        )
        return 200, token, NO_STORE


class ClientCredentialsGrant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]  # noqa: RUF012

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        client: RegisteredClient = self.request.client
        requested = (self.request.payload.scope or "").split()
        allowed = [s for s in client.scopes if s not in USER_SCOPES]
        if any(s not in allowed for s in requested):
            raise InvalidScopeError(
                "the client may not request that scope (user scopes need a user)"
            )
        scope = " ".join(requested or allowed)
        idp: Idp = self.server.idp
        access_token, ttl = idp.tokens.issue_access_token(
            client_id=client.client_id, sub=client.client_id, scope=scope
        )
        body = {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": scope,
        }
        return 200, body, NO_STORE


class HurenServer(AuthorizationServer):  # type: ignore[misc]
    CLIENT_CACHE_SECONDS = 5.0

    def __init__(self, idp: Idp) -> None:
        super().__init__()
        self.idp = idp
        self.scopes_supported = None
        self.register_client_auth_method("private_key_jwt", PrivateKeyJwt(idp))
        self._clients: dict[str, tuple[float, RegisteredClient]] = {}

    def query_client(self, client_id: str) -> RegisteredClient | None:
        """Registered clients, cached a few seconds per worker: every token request reads one."""
        if not isinstance(client_id, str):
            return None
        now = time.monotonic()
        hit = self._clients.get(client_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        client = get_client(self.idp.sessions, client_id)
        if client is not None:
            if len(self._clients) > 10_000:
                self._clients.clear()
            self._clients[client_id] = (now + self.CLIENT_CACHE_SECONDS, client)
        return client

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Tokens are persisted by the grants themselves."""

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        return super().create_oauth2_request(request)

    def handle_response(self, status: int, payload: Any, headers: Any) -> Response:
        if isinstance(payload, dict):
            if "error" in payload:
                described = error_body(payload["error"], payload.get("error_description"))
                payload = {
                    **described,
                    **payload,
                    "error_description": described["error_description"],
                }
            payload = flask_json.dumps(payload)
        response = Response(payload, status=status, headers=headers)
        response.headers["Cache-Control"] = "no-store"
        return response


def build_server(idp: Idp) -> HurenServer:
    server = HurenServer(idp)
    server.register_grant(CodeGrant, [S256Challenge(required=True)])
    server.register_grant(RefreshGrant)
    server.register_grant(ClientCredentialsGrant)
    return server


__all__ = [
    "AuthorizationCode",
    "CodeGrant",
    "HurenServer",
    "OAuth2Error",
    "StoredAuthorizationRequest",
    "build_server",
]
