"""A tiny relying party at /demo/ that signs in through Huren like a trading platform would:
code flow with PKCE, ID token checked against JWKS, userinfo, RP-initiated and back-channel logout.

It talks to Huren over HTTP (as any RP does), so it needs a threaded server (`huren serve` is).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Blueprint, Flask, redirect, render_template_string, request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from werkzeug.wrappers import Response

from storage.ephemeral import EphemeralStore

from .demo import load_demo
from .settings import Settings

COOKIE = "huren_demo_rp"
PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>演示交易平台 Demo RP</title>
<link rel="stylesheet" href="{{ url_for('idp.static', filename='huren.css') }}"></head>
<body><header><strong>演示交易平台 · Demo trading platform</strong></header><main>
{% if error %}<p class="error" id="rp-error">{{ error }}</p>{% endif %}
{% if claims %}
<h1 id="rp-welcome">欢迎，{{ userinfo.get('name') or claims.sub }}</h1>
<p>已通过互认统一身份认证登录 / Signed in through Huren.</p>
<h2>ID token</h2><pre id="id-token-claims">{{ claims_json }}</pre>
<h2>userinfo</h2><pre id="userinfo">{{ userinfo_json }}</pre>
<p><a id="rp-logout" href="/demo/logout">退出登录 / Sign out</a></p>
{% else %}
<h1>演示交易平台</h1>
<p><a id="rp-login" href="/demo/login">使用统一身份认证登录 / Sign in with Huren</a></p>
{% endif %}
</main></body></html>"""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwks(issuer: str) -> KeySet:
    """The provider's keys as a plain RP sees them (SM2 keys, unknown to joserfc, skipped)."""
    doc = requests.get(issuer + "/jwks", timeout=10).json()
    keys = [k for k in doc.get("keys", []) if k.get("crv") != "SM2"]
    return KeySet.import_key_set({"keys": keys})


def init_demo(app: Flask, settings: Settings) -> None:
    demo = load_demo(settings.data_dir)
    if demo is None:
        return
    store: EphemeralStore = app.extensions["huren.store"]
    issuer = settings.issuer
    bp = Blueprint("demo_rp", __name__, url_prefix="/demo")

    def rp_session() -> dict[str, Any] | None:
        sid = request.cookies.get(COOKIE)
        raw = store.get(f"demo-rp-session:{sid}") if sid and len(sid) < 64 else None
        return json.loads(raw) if raw else None

    @bp.get("/")
    def home() -> Any:
        state = rp_session()
        error = request.args.get("error")
        if not state:
            return render_template_string(PAGE, claims=None, error=error)
        return render_template_string(
            PAGE,
            claims=state["claims"],
            userinfo=state["userinfo"],
            claims_json=json.dumps(state["claims"], ensure_ascii=False, indent=2),
            userinfo_json=json.dumps(state["userinfo"], ensure_ascii=False, indent=2),
            error=error,
        )

    @bp.get("/login")
    def login() -> Response:
        state, nonce, verifier = (
            secrets.token_urlsafe(16),
            secrets.token_urlsafe(16),
            secrets.token_urlsafe(48),
        )
        store.put(
            f"demo-rp:{state}", json.dumps({"nonce": nonce, "verifier": verifier}).encode(), 600
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": demo["client_id"],
                "redirect_uri": issuer + "/demo/callback",
                "scope": "openid profile phone email",
                "state": state,
                "nonce": nonce,
                "code_challenge": _b64(hashlib.sha256(verifier.encode()).digest()),
                "code_challenge_method": "S256",
            }
        )
        return redirect(f"{issuer}/authorize?{query}")

    def fail(message: str) -> Response:
        return redirect("/demo/?" + urlencode({"error": message}))

    @bp.get("/callback")
    def callback() -> Response:
        args = request.args
        raw = store.take(f"demo-rp:{args.get('state', '')}")
        if raw is None:
            return fail("state 无效或已使用 / unknown state")
        if args.get("iss") != issuer:
            return fail("iss 不匹配 / issuer mismatch")
        if "error" in args:
            return fail(f"{args['error']}: {args.get('error_description', '')}")
        pending = json.loads(raw)
        resp = requests.post(
            issuer + "/token",
            data={
                "grant_type": "authorization_code",
                "code": args.get("code", ""),
                "redirect_uri": issuer + "/demo/callback",
                "code_verifier": pending["verifier"],
            },
            auth=(demo["client_id"], demo["client_secret"]),
            timeout=10,
        )
        if resp.status_code != 200:
            return fail(f"token endpoint: {resp.status_code} {resp.text[:200]}")
        tokens = resp.json()
        keys = _jwks(issuer)
        try:
            claims = dict(
                jwt.decode(tokens["id_token"], keys, algorithms=["RS256", "ES256"]).claims
            )
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": issuer},
                aud={"essential": True, "value": demo["client_id"]},
                nonce={"essential": True, "value": pending["nonce"]},
            ).validate(claims)
        except (JoseError, KeyError, ValueError) as exc:
            return fail(f"ID token 无效 / invalid ID token: {exc}")
        userinfo = requests.get(
            issuer + "/userinfo",
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
            timeout=10,
        ).json()
        sid = secrets.token_urlsafe(16)
        state = {"claims": claims, "userinfo": userinfo, "id_token": tokens["id_token"]}
        store.put(f"demo-rp-session:{sid}", json.dumps(state).encode(), 3600)
        if claims.get("sid"):
            store.put(f"demo-rp-op-sid:{claims['sid']}", sid.encode(), 3600)
        response = redirect("/demo/")
        response.set_cookie(COOKIE, sid, httponly=True, samesite="Lax", max_age=3600)
        return response

    @bp.get("/logout")
    def logout() -> Response:
        state = rp_session()
        sid = request.cookies.get(COOKIE)
        if sid:
            store.delete(f"demo-rp-session:{sid}")
        params = {"post_logout_redirect_uri": issuer + "/demo/", "client_id": demo["client_id"]}
        if state:
            params["id_token_hint"] = state["id_token"]
        response = redirect(f"{issuer}/logout?{urlencode(params)}")
        response.delete_cookie(COOKIE)
        return response

    @bp.post("/backchannel-logout")
    def backchannel() -> Any:
        token = request.form.get("logout_token", "")
        try:
            keys = _jwks(issuer)
            claims = jwt.decode(token, keys, algorithms=["RS256", "ES256"]).claims
        except (JoseError, ValueError, requests.RequestException):
            return {"error": "invalid_request"}, 400
        op_sid = claims.get("sid")
        if op_sid:
            rp_sid = store.take(f"demo-rp-op-sid:{op_sid}")
            if rp_sid:
                store.delete(f"demo-rp-session:{rp_sid.decode()}")
        return "", 200

    app.register_blueprint(bp)
