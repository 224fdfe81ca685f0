"""`create_app()`: the one place that wires storage, keys and every blueprint into a Flask app."""

from __future__ import annotations

import os
from dataclasses import fields
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, jsonify, render_template, request
from flask_babel import Babel
from flask_babel import gettext as _
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from idp.errors import IdpError
from idp.messages import error_body
from idp.service import Idp, IdpConfig
from idp.web import init_app as init_idp
from storage.db import make_engine, make_session_factory, ping
from storage.ephemeral import open_store
from storage.errors import StorageError

from .crypto_api import init_crypto_api, make_trust_store
from .settings import Settings

LOCALES = ("zh", "en")
API_PREFIXES = (
    "/token",
    "/userinfo",
    "/introspect",
    "/revoke",
    "/jwks",
    "/.well-known",
    "/api/",
    "/readyz",
    "/healthz",
)


def _derive(master: bytes, purpose: str) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=b"huren", info=purpose.encode()).derive(master)


def requested_locale() -> str | None:
    """A locale asked for in this request: `lang`, or the first supported of `ui_locales`."""
    for name in ("lang", "ui_locales"):
        for value in (request.args.get(name) or "").replace(",", " ").split():
            code = value.split("-")[0].lower()
            if code in LOCALES:
                return code
    return None


def select_locale() -> str:
    asked = requested_locale()
    if asked:
        return asked
    cookie = request.cookies.get("huren_lang")
    if cookie in LOCALES:
        return cookie
    return str(request.environ.get("huren.default_locale", "zh"))


def idp_config(settings: Settings) -> IdpConfig:
    """The identity provider's settings: the same-named fields of `Settings`."""
    shared = {f.name for f in fields(IdpConfig)} & {f.name for f in fields(Settings)}
    return IdpConfig(**{name: getattr(settings, name) for name in shared})


def create_app(settings: Settings | None = None, *, start_background: bool = False) -> Flask:
    settings = settings or Settings.load()
    # TLS ends in front of Huren; HUREN_ISSUER (https outside localhost) is what clients see.
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    app = Flask("huren", static_folder=None)
    app.config.update(
        SECRET_KEY=_derive(settings.secret_key, "flask-session"),
        SESSION_COOKIE_NAME="huren_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=settings.session_ttl,
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_request_bytes,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_TRANSLATION_DIRECTORIES=";".join(
            os.path.join(os.path.dirname(__file__), "..", package, "translations")
            for package in ("idp", "seal")
        ),
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    if settings.trusted_proxies:
        # client IPs (throttling, audit) and scheme come from that many reverse proxies' headers
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=settings.trusted_proxies,
            x_proto=settings.trusted_proxies,
            x_host=settings.trusted_proxies,
        )
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    store = open_store(engine, settings.redis_url, settings.redis_prefix)
    idp = Idp(engine, sessions, store, settings.secret_key, idp_config(settings))
    app.extensions["huren.settings"] = settings
    app.extensions["huren.engine"] = engine
    app.extensions["huren.store"] = store

    def locale() -> str:
        request.environ.setdefault("huren.default_locale", settings.default_locale)
        return select_locale()

    Babel(app, locale_selector=locale)
    init_idp(app, idp)
    trust_store = make_trust_store(settings, sessions, store)
    idp.trust_store = trust_store  # certificate login and binding
    app.extensions["huren.trust_store"] = trust_store
    init_crypto_api(app, settings, idp, trust_store)
    from .seal_pages import init_seal_pages  # the seal operators' pages (/operator/seals)

    init_seal_pages(app, settings, idp, trust_store)
    _install_web_defaults(app, settings)
    _install_health(app)
    from .demo_rp import init_demo

    init_demo(app, settings)
    if start_background and idp.backchannel is not None:
        idp.backchannel.start()
    if start_background and idp.entity_events is not None:
        idp.entity_events.start()
    return app


def _page_of(app: Flask, path: str) -> str:
    """The nearest page a browser can GET: a refused form re-rendered by a POST-only route
    (e.g. /operator/entities/ID/verdict) switches language on its page (/operator/entities/ID)."""
    if request.method == "GET":
        return path
    adapter = app.url_map.bind("localhost")
    while path not in ("", "/"):
        try:
            adapter.match(path, method="GET")
            return path
        except HTTPException:
            path = path.rsplit("/", 1)[0]
    return "/"


def _wants_json() -> bool:
    if request.path.startswith(API_PREFIXES):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _install_web_defaults(app: Flask, settings: Settings) -> None:
    @app.context_processor
    def locale_helpers() -> dict[str, Any]:
        from flask_babel import get_locale

        current = str(get_locale() or settings.default_locale).split("_")[0]

        def lang_url(code: str) -> str:
            args = request.args.to_dict()
            args["lang"] = code
            return _page_of(app, request.path) + "?" + urlencode(args)

        return {"current_locale": current, "lang_url": lang_url}

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
            "form-action 'self' http: https:; base-uri 'none'; "
            # certificate login talks to the person's local USBKey bridge (drivers/bridge)
            f"connect-src 'self' http://127.0.0.1:{settings.bridge_port}",
        )
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        if settings.issuer.startswith("https://"):
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if response.mimetype == "text/html":
            headers.setdefault("Cache-Control", "no-store")
        chosen = requested_locale()
        if chosen:
            response.set_cookie(
                "huren_lang", chosen, max_age=365 * 86400, samesite="Lax", httponly=True
            )
        return response

    codes = {
        400: "invalid_request",
        404: "not_found",
        405: "method_not_allowed",
        413: "request_too_large",
    }

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        code = codes.get(status, "server_error" if status >= 500 else "invalid_request")
        if exc.description == "csrf_failed":
            code = "csrf_failed"
        if _wants_json():
            body = jsonify(error_body(code))
            body.status_code = status
            return body
        return render_template("error.html", reason=code), status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if isinstance(exc, StorageError | OperationalError):
            code, status = "temporarily_unavailable", 503
        else:
            code, status = "server_error", 500
        if _wants_json():
            body = jsonify(error_body(code))
            body.status_code = status
            return body
        return render_template("error.html", reason=code), status

    app.jinja_env.globals["_"] = _


def _install_health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @app.get("/readyz")
    def readyz() -> Any:
        checks: dict[str, str] = {}
        for name, probe in (
            ("database", lambda: ping(app.extensions["huren.engine"])),
            ("ephemeral_store", lambda: app.extensions["huren.store"].ping()),
            ("signing_keys", lambda: app.extensions["huren.idp"].keys.signing_key("RS256")),
        ):
            try:
                probe()
                checks[name] = "ok"
            except (StorageError, IdpError) as exc:
                checks[name] = f"unavailable: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        body = jsonify({"status": "ready" if ready else "unavailable", "checks": checks})
        body.status_code = 200 if ready else 503
        return body
