"""Relying parties: registration, secret checking, and the view Authlib needs of a client.

Client secrets are 256-bit random strings, so a SHA-256 hash is enough to store them (nothing to
brute-force) and keeps the token endpoint fast; they are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.jose_sm2 import ALG as SM2_ALG

from .entities.event_families import SUBSCRIPTION_SCOPES
from .errors import ClientRegistrationError
from .models import Client

GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
DEFAULT_SCOPES = ("openid", "profile", "phone", "email", "entity", "offline_access")
"""What a platform may ask by default; ``identity`` (a natural person's ID number) must be
granted explicitly (``--scope identity``)."""
# id_token_signed_response_alg: RS256 by default; SM2SM3 for platforms on national algorithms.
ID_TOKEN_ALGS = ("RS256", "ES256", SM2_ALG)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class RegisteredClient:
    """A detached, read-only client; implements Authlib's ClientMixin by duck typing."""

    client_id: str
    name: str
    secret_hash: str | None
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    backchannel_logout_uri: str | None
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    token_endpoint_auth_method: str
    jwks: dict[str, Any] | None
    trusted: bool
    id_token_signed_response_alg: str = field(default="RS256")
    entity_events_uri: str | None = None

    @classmethod
    def from_row(cls, row: Client) -> RegisteredClient:
        return cls(
            client_id=row.client_id,
            name=row.name,
            secret_hash=row.secret_hash,
            redirect_uris=tuple(row.redirect_uris),
            post_logout_redirect_uris=tuple(row.post_logout_redirect_uris),
            backchannel_logout_uri=row.backchannel_logout_uri,
            grant_types=tuple(row.grant_types),
            scopes=tuple(row.scopes),
            token_endpoint_auth_method=row.token_endpoint_auth_method,
            jwks=row.jwks,
            trusted=row.trusted,
            id_token_signed_response_alg=row.id_token_signed_response_alg,
            entity_events_uri=row.entity_events_uri,
        )

    # Authlib ClientMixin ------------------------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # OpenID Connect requires redirect_uri on every request

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string match (RFC 9700 §2.1)

    def check_client_secret(self, client_secret: str) -> bool:
        if self.secret_hash is None:
            return False
        return hmac.compare_digest(self.secret_hash, hash_secret(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    @property
    def is_public(self) -> bool:
        return self.token_endpoint_auth_method == "none"


@dataclass(frozen=True)
class NewClient:
    client: RegisteredClient
    client_secret: str | None


def _new_client_id() -> str:
    """Random, URL-safe, and never starting with '-' (which command lines take for an option)."""
    while True:
        candidate = secrets.token_urlsafe(16)
        if candidate[0].isalnum():
            return candidate


def _check_uri(uri: str, what: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ClientRegistrationError(
            f"{what} {uri!r} must be an absolute http(s) URL", zh=f"{what} 必须是 http(s) 绝对地址"
        )
    if parts.fragment:
        raise ClientRegistrationError(f"{what} {uri!r} must not contain a fragment")
    return uri


LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


def _check_entity_events_uri(uri: str, scopes: Sequence[str]) -> str:
    """Where market-entity and seal events are pushed: https (http only on this machine), and only
    for a client that may read entities or seals anyway (`entities:read` / `seal:read`)."""
    what = "entity events URI"
    _check_uri(uri, what)
    parts = urlsplit(uri)
    if parts.scheme != "https" and parts.hostname not in LOCAL_HOSTS:
        raise ClientRegistrationError(
            f"{what} {uri!r} must use https except on localhost",
            zh=f"{what} 必须使用 https（本机地址除外）",
        )
    if not any(scope in scopes for scope in SUBSCRIPTION_SCOPES):
        needed = " or ".join(SUBSCRIPTION_SCOPES)
        raise ClientRegistrationError(
            f"an {what} needs the {needed} scope",
            zh=f"订阅市场主体或印章事件需要 {' 或 '.join(SUBSCRIPTION_SCOPES)} 权限",
        )
    return uri


def create_client(
    sessions: sessionmaker[Session],
    *,
    name: str,
    redirect_uris: Sequence[str] = (),
    post_logout_redirect_uris: Sequence[str] = (),
    backchannel_logout_uri: str | None = None,
    grant_types: Sequence[str] = ("authorization_code", "refresh_token"),
    auth_method: str = "client_secret_basic",
    scopes: Sequence[str] = DEFAULT_SCOPES,
    jwks: dict[str, Any] | None = None,
    trusted: bool = False,
    client_id: str | None = None,
    id_token_alg: str = "RS256",
    entity_events_uri: str | None = None,
) -> NewClient:
    name = name.strip()
    if not name:
        raise ClientRegistrationError("client name must not be empty")
    for grant in grant_types:
        if grant not in GRANT_TYPES:
            raise ClientRegistrationError(f"unsupported grant type {grant!r}")
    if auth_method not in AUTH_METHODS:
        raise ClientRegistrationError(f"unsupported client authentication method {auth_method!r}")
    if "authorization_code" in grant_types and not redirect_uris:
        raise ClientRegistrationError(
            "an authorization_code client needs at least one redirect URI"
        )
    if auth_method == "none" and "client_credentials" in grant_types:
        raise ClientRegistrationError("a public client cannot use client_credentials")
    if auth_method == "private_key_jwt" and not (jwks and jwks.get("keys")):
        raise ClientRegistrationError("private_key_jwt needs the client's public keys (--jwks)")
    for uri in redirect_uris:
        _check_uri(uri, "redirect URI")
    for uri in post_logout_redirect_uris:
        _check_uri(uri, "post-logout redirect URI")
    if backchannel_logout_uri:
        _check_uri(backchannel_logout_uri, "back-channel logout URI")
    if entity_events_uri:
        _check_entity_events_uri(entity_events_uri, scopes)
    if id_token_alg not in ID_TOKEN_ALGS:
        raise ClientRegistrationError(
            "the ID token algorithm must be one of " + ", ".join(ID_TOKEN_ALGS)
        )
    secret = None
    if auth_method in ("client_secret_basic", "client_secret_post"):
        secret = secrets.token_urlsafe(32)
    row = Client(
        client_id=client_id or _new_client_id(),
        secret_hash=hash_secret(secret) if secret else None,
        name=name,
        redirect_uris=list(dict.fromkeys(redirect_uris)),
        post_logout_redirect_uris=list(dict.fromkeys(post_logout_redirect_uris)),
        backchannel_logout_uri=backchannel_logout_uri,
        grant_types=list(dict.fromkeys(grant_types)),
        scopes=list(dict.fromkeys(scopes)),
        token_endpoint_auth_method=auth_method,
        jwks=jwks,
        trusted=trusted,
        id_token_signed_response_alg=id_token_alg,
        entity_events_uri=entity_events_uri or None,
        created_at=time.time(),
    )
    with sessions.begin() as db:
        if db.get(Client, row.client_id) is not None:
            raise ClientRegistrationError(f"client {row.client_id!r} already exists")
        db.add(row)
        client = RegisteredClient.from_row(row)
    return NewClient(client=client, client_secret=secret)


def sm2_clients_exist(sessions: sessionmaker[Session]) -> bool:
    """Whether any client asks for SM2-signed ID tokens (then JWKS publishes the SM2 keys)."""
    with sessions() as db:
        found = db.scalar(
            select(Client.client_id).where(Client.id_token_signed_response_alg == SM2_ALG).limit(1)
        )
    return found is not None


def get_client(sessions: sessionmaker[Session], client_id: str) -> RegisteredClient | None:
    if not client_id or len(client_id) > 64:
        return None
    with sessions() as db:
        row = db.get(Client, client_id)
        return RegisteredClient.from_row(row) if row else None
