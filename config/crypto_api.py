"""Wiring of the integrator API: provider access tokens, the SQL trust store with online
revocation, and platform keys opened through the unified driver.

The blueprint (floor 1) cannot import the provider or the drivers; this composition root
adapts them to its protocols.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.revocation import DefaultChecker
from cert_interop.truststore import TrustStore
from cert_interop.web import ApiError, Caller, CryptoApi, crypto_api_blueprint
from cert_interop.x509 import Certificate
from drivers.errors import DecryptionFailed as TokenDecryptionFailed
from drivers.errors import TokenError, UnsupportedMechanism
from drivers.uri import open_token
from idp.tokens import InvalidToken
from storage.ephemeral.api import EphemeralStore

from .settings import Settings
from .token_adapters import UNWRAP_MECHANISMS, TokenKey


def make_trust_store(
    settings: Settings, sessions: sessionmaker[Session], store: EphemeralStore | None
) -> TrustStore:
    """The one trust store of a process; online revocation when the settings allow it."""
    checker = (
        DefaultChecker(store, timeout=float(settings.revocation_timeout))
        if settings.revocation_online
        else None
    )
    return TrustStore(sessions, profiles_dir=settings.ca_profiles_dir, revocation=checker)


class TokenPlatformKey:
    """A platform key behind a token URI, opened on first use and reopened after a failure
    (an HSM session can drop; the next request should not need a restart). Operations are
    serialised: a PKCS#11 session is not safe for concurrent use by several threads."""

    def __init__(self, name: str, uri: str) -> None:
        self._name, self._uri = name, uri
        self._lock = threading.RLock()
        self._key: TokenKey | None = None

    @property
    def name(self) -> str:
        return self._name

    def _open(self) -> TokenKey:
        if self._key is None:
            try:
                token = open_token(self._uri)
                listed = token.certificates()
            except TokenError as exc:
                raise _unavailable(self._name, exc) from None
            if not listed:
                token.close()
                raise ApiError(
                    "key_unavailable", 503, f"platform key {self._name!r} has no certificate"
                )
            self._key = TokenKey(token, listed[0])
        return self._key

    def _drop(self) -> None:
        if self._key is not None:
            with contextlib.suppress(TokenError):
                self._key.token.close()
        self._key = None

    @property
    def certificate(self) -> Certificate:
        with self._lock:
            return self._open().certificate

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
        with self._lock:
            key = self._open()
            try:
                return key.sign(algorithm, data=data, digest=digest)
            except UnsupportedMechanism as exc:
                raise ApiError("unsupported_algorithm", 400, str(exc)) from None
            except TokenError as exc:
                self._drop()
                raise _unavailable(self._name, exc) from None

    def unwrap(self, encrypted_key: bytes, algorithm: str) -> bytes:
        if algorithm not in UNWRAP_MECHANISMS:
            raise ApiError("unsupported_algorithm", 400, f"key transport {algorithm!r}")
        with self._lock:
            key = self._open()
            try:
                return key.unwrap(encrypted_key, algorithm)
            except TokenDecryptionFailed:
                raise ApiError("decryption_failed", 422) from None
            except UnsupportedMechanism as exc:
                raise ApiError("unsupported_algorithm", 400, str(exc)) from None
            except TokenError as exc:
                self._drop()
                raise _unavailable(self._name, exc) from None


def _unavailable(name: str, exc: TokenError) -> ApiError:
    # the driver's messages never carry the PIN; the class name says what went wrong
    return ApiError("key_unavailable", 503, f"platform key {name!r}: {type(exc).__name__}")


def init_crypto_api(app: Flask, settings: Settings, idp: Any, trust_store: TrustStore) -> None:
    """Register ``/api/v1`` (certificates, signatures, envelopes, platform keys)."""

    def authorize(token: str) -> Caller:
        try:
            claims = idp.tokens.verify_access_token(token)
        except InvalidToken:
            raise ApiError(
                "invalid_token", 401, WWW_Authenticate='Bearer realm="huren", error="invalid_token"'
            ) from None
        scopes = str(claims.get("scope") or "").split()
        return Caller(str(claims.get("client_id") or ""), frozenset(scopes))

    keys = {name: TokenPlatformKey(name, uri) for name, uri in settings.platform_keys}
    app.extensions["huren.platform_keys"] = keys  # one opened key per name (seal pages too)
    from idp.web import openapi as idp_openapi
    from seal.web import api as seal_api

    api = CryptoApi(
        authorize,
        trust_store,
        keys,
        settings.api_max_request_bytes,
        openapi_paths={**idp_openapi.PATHS, **seal_api.OPENAPI_PATHS},
        openapi_scopes={**idp_openapi.SCOPES, **seal_api.SCOPES},
    )
    app.register_blueprint(crypto_api_blueprint(api))
    init_seal_api(app, settings, idp, trust_store, keys, authorize)


def init_seal_api(
    app: Flask,
    settings: Settings,
    idp: Any,
    trust_store: TrustStore,
    keys: dict[str, TokenPlatformKey],
    authorize: Any,
) -> None:
    """/api/v1/seals… and, with HUREN_TSA_KEY, the platform's RFC 3161 TSA at /tsa."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from seal.tsa.web import make_tsa_blueprint
    from seal.web import api as seal_api

    from .seal_wiring import SealResources

    resources = SealResources(settings, keys, trust_store)
    pending_key = HKDF(hashes.SHA256(), 32, salt=b"huren-seal", info=b"pending-stamp").derive(
        settings.secret_key
    )
    app.register_blueprint(
        seal_api.seal_api_blueprint(
            seal_api.SealApi(
                authorize,
                idp.sessions,
                checker=trust_store,
                resources=resources,
                store=idp.store,
                pending_key=pending_key,
                max_pdf_bytes=settings.api_max_request_bytes,
            )
        )
    )
    from idp.web.context import check_csrf, client_ip, csrf_token
    from seal.web.public import PublicCheck, seal_public_blueprint

    app.register_blueprint(
        seal_public_blueprint(
            PublicCheck(
                idp.sessions,
                trust_store,
                idp.store,
                csrf_token,
                check_csrf,
                client_ip,
                max_pdf_bytes=settings.api_max_request_bytes,
            )
        )
    )
    if settings.tsa_key:
        app.register_blueprint(
            make_tsa_blueprint(resources.authority, max_request_bytes=settings.max_request_bytes)
        )
