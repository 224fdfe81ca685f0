"""Minting and checking the tokens Huren issues.

Access tokens are RFC 9068 JWTs (`typ: at+jwt`), so resource servers can check them offline;
revocation is a deny-list entry in the ephemeral store that outlives the token. Refresh tokens are
opaque and only their SHA-256 is stored. ID tokens follow OpenID Connect Core §2.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from authlib.oidc.core.util import create_half_hash
from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.jose_sm2 import ALG as SM2_ALG
from cert_interop.sm3 import sm3
from storage.ephemeral import EphemeralStore

from .keys import KeyRing
from .models import Grant, RefreshToken

SIGNING_ALGS = ["RS256", "ES256"]
# ID tokens may also be signed with SM2 (clients that ask for it); RS256 stays first and default.
ID_TOKEN_SIGNING_ALGS = [*SIGNING_ALGS, SM2_ALG]


class InvalidToken(Exception):
    """The token is malformed, not ours, expired or revoked; `reason` says which (for logs)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class TokenPolicy:
    issuer: str
    access_token_ttl: int
    id_token_ttl: int
    refresh_token_ttl: int


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenService:
    def __init__(
        self,
        keys: KeyRing,
        store: EphemeralStore,
        sessions: sessionmaker[Session],
        policy: TokenPolicy,
    ) -> None:
        self.keys = keys
        self.store = store
        self.sessions = sessions
        self.policy = policy

    # -- access tokens (RFC 9068) ------------------------------------------------------------

    def issue_access_token(
        self,
        *,
        client_id: str,
        sub: str,
        scope: str,
        grant_id: str | None = None,
        auth_time: float | None = None,
        acr: str | None = None,
        amr: list[str] | None = None,
    ) -> tuple[str, int]:
        key = self.keys.signing_key("RS256")
        now = int(time.time())
        ttl = self.policy.access_token_ttl
        claims: dict[str, Any] = {
            "iss": self.policy.issuer,
            "sub": sub,
            "aud": self.policy.issuer,
            "client_id": client_id,
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
        }
        if grant_id:
            claims["gid"] = grant_id
        if auth_time is not None:
            claims["auth_time"] = int(auth_time)
        if acr:
            claims["acr"] = acr
        if amr:
            claims["amr"] = amr
        header = {"alg": "RS256", "typ": "at+jwt", "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=["RS256"]), ttl

    def decode(self, token: str, *, typ: str | None, verify_exp: bool = True) -> dict[str, Any]:
        """Verify one of our JWTs. `typ=None` is for ID tokens (e.g. `id_token_hint`), which may
        be SM2-signed; typed tokens (access, logout) are only ever RS256/ES256."""
        if not token or len(token) > 8192 or token.count(".") != 2:
            raise InvalidToken("malformed")
        algorithms = ID_TOKEN_SIGNING_ALGS if typ is None else SIGNING_ALGS
        try:
            decoded = jwt.decode(token, self.keys.verification_keys(), algorithms=algorithms)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise InvalidToken(f"signature: {type(exc).__name__}") from None
        if typ is not None and decoded.header.get("typ", "").lower() != typ:
            raise InvalidToken("wrong token type")
        claims = dict(decoded.claims)
        if claims.get("iss") != self.policy.issuer:
            raise InvalidToken("wrong issuer")
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            raise InvalidToken("no exp")
        if verify_exp and exp < time.time():
            raise InvalidToken("expired")
        return claims

    def verify_access_token(self, token: str) -> dict[str, Any]:
        claims = self.decode(token, typ="at+jwt")
        if self.store.get(f"revoked-jti:{claims.get('jti')}") is not None:
            raise InvalidToken("revoked")
        gid = claims.get("gid")
        if gid and self.store.get(f"revoked-grant:{gid}") is not None:
            raise InvalidToken("grant revoked")
        return claims

    def revoke_access_token(self, claims: dict[str, Any]) -> None:
        left = float(claims["exp"]) - time.time() + 60
        if left > 0:
            self.store.put(f"revoked-jti:{claims['jti']}", b"1", left)

    # -- grants and refresh tokens -----------------------------------------------------------

    def new_grant(
        self,
        db: Session,
        *,
        client_id: str,
        user_id: str,
        scope: str,
        auth_time: float,
        amr: list[str],
        acr: str | None,
        sid: str | None,
        claims: dict[str, Any] | None,
        grant_id: str | None = None,
    ) -> Grant:
        grant = Grant(
            id=grant_id or str(uuid.uuid4()),
            client_id=client_id,
            user_id=user_id,
            sid=sid,
            scope=scope,
            auth_time=auth_time,
            acr=acr,
            amr=amr,
            claims=claims,
            created_at=time.time(),
        )
        db.add(grant)
        return grant

    def revoke_grant(self, grant_id: str, reason: str) -> bool:
        """Revoke a whole token family: its refresh tokens (SQL) and access tokens (deny-list)."""
        self.store.put(f"revoked-grant:{grant_id}", b"1", self.policy.access_token_ttl + 120)
        with self.sessions.begin() as db:
            result = db.execute(
                update(Grant)
                .where(Grant.id == grant_id, Grant.revoked_at.is_(None))
                .values(revoked_at=time.time(), revoke_reason=reason)
            )
        return bool(getattr(result, "rowcount", 0))

    def mark_grant_revoked(self, grant_id: str) -> None:
        """Deny-list a family whose code was spent before its grant row existed."""
        self.store.put(f"revoked-grant:{grant_id}", b"1", self.policy.access_token_ttl + 120)

    def find_refresh(self, token: str) -> tuple[RefreshToken, Grant] | None:
        """The refresh token's row and its grant, whatever their state (callers judge liveness)."""
        if not token or len(token) > 256:
            return None
        with self.sessions() as db:
            row = db.execute(
                select(RefreshToken, Grant)
                .join(Grant, Grant.id == RefreshToken.grant_id)
                .where(RefreshToken.token_hash == token_hash(token))
            ).first()
        return (row[0], row[1]) if row else None

    def grant_revoked(self, grant: Grant) -> bool:
        return (
            grant.revoked_at is not None or self.store.get(f"revoked-grant:{grant.id}") is not None
        )

    # -- ID tokens (OpenID Connect Core §2) --------------------------------------------------

    def issue_id_token(
        self,
        *,
        client_id: str,
        sub: str,
        auth_time: float,
        nonce: str | None = None,
        acr: str | None = None,
        amr: list[str] | None = None,
        sid: str | None = None,
        access_token: str | None = None,
        alg: str = "RS256",
        extra: dict[str, Any] | None = None,
    ) -> str:
        key = self.keys.signing_key(alg)
        now = int(time.time())
        claims: dict[str, Any] = dict(extra or {})
        claims.update(
            {
                "iss": self.policy.issuer,
                "sub": sub,
                "aud": client_id,
                "azp": client_id,
                "iat": now,
                "exp": now + self.policy.id_token_ttl,
                "auth_time": int(auth_time),
            }
        )
        if nonce:
            claims["nonce"] = nonce
        if acr:
            claims["acr"] = acr
        if amr:
            claims["amr"] = amr
        if sid:
            claims["sid"] = sid
        if access_token:
            claims_hash = _at_hash(access_token, alg)
            if claims_hash is not None:
                claims["at_hash"] = claims_hash
        header = {"alg": alg, "typ": "JWT", "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=[alg])

    def issue_logout_token(self, *, client_id: str, sub: str, sid: str | None) -> str:
        """Back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.4)."""
        key = self.keys.signing_key("RS256")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.policy.issuer,
            "sub": sub,
            "aud": client_id,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_urlsafe(16),
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        }
        if sid:
            claims["sid"] = sid
        header = {"alg": "RS256", "typ": "logout+jwt", "kid": key.kid}
        return jwt.encode(header, claims, key, algorithms=["RS256"])


def _at_hash(access_token: str, alg: str) -> str | None:
    """OpenID Connect Core §3.1.3.6: left half of the hash the `alg` uses (SM3 for SM2SM3)."""
    if alg == SM2_ALG:
        digest = sm3(access_token.encode("ascii"))
        return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode("ascii")
    half = create_half_hash(access_token, alg)
    return half.decode() if half is not None else None


def new_refresh_token(db: Session, grant_id: str, ttl: int) -> str:
    token = secrets.token_urlsafe(32)
    now = time.time()
    db.add(
        RefreshToken(
            token_hash=token_hash(token), grant_id=grant_id, issued_at=now, expires_at=now + ttl
        )
    )
    return token


def unverified_claims(token: str, issuer: str) -> dict[str, Any]:
    """The claims of a JWT of ours whose signature can no longer be checked (its key retired).

    Only for naming a client (e.g. logout's redirect check); never for deciding who a user is.
    """
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, TypeError):
        return {}
    if not isinstance(claims, dict) or claims.get("iss") != issuer:
        return {}
    return claims
