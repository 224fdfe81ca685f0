"""`POST /login/cert/challenge`: a one-time challenge for the certificate login page to sign.

The bytes to sign are canonical JSON (keys sorted, no spaces, ASCII only)::

    {"exp":<int>,"iat":<int>,"iss":"<issuer>","nonce":"<random>","origin":"<our origin>",
     "typ":"huren-cert-login"}

naming this provider (issuer and origin), so a signature made for another site is useless
here. The challenge is kept in the ephemeral store under the challenge id AND a hash of a random
handle of this browser session (kept in the signed session cookie): another browser cannot use
it, and it is taken atomically, so it works once. It is valid for `CHALLENGE_TTL` seconds; the
record stays a little longer so that a late answer is told "expired" rather than "unknown".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import abort, jsonify, request, session

from ..web import bp
from ..web.context import browser_handle, client_ip, current_idp

CHALLENGE_TTL = 120
"""Seconds a challenge may be answered in."""
STORE_GRACE = 600
"""Seconds the record outlives its validity (to tell "expired" from "unknown")."""
CHALLENGE_TYPE = "huren-cert-login"
MAX_ID = 64
RATE_LIMIT = 60
"""Challenges one IP may ask for per minute."""
SESSION_KEY = "cert_login"

clock: Callable[[], float] = time.time
"""The time challenges are issued and checked at (tests move it)."""


@dataclass(frozen=True)
class Challenge:
    data: bytes
    """The exact bytes that were to be signed."""
    exp: int


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased as browsers send it in ``Origin``."""
    parts = urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def canonical(values: dict[str, Any]) -> bytes:
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def challenge_bytes(issuer: str, nonce: str, iat: int, exp: int) -> bytes:
    return canonical(
        {
            "typ": CHALLENGE_TYPE,
            "iss": issuer,
            "origin": origin_of(issuer),
            "nonce": nonce,
            "iat": iat,
            "exp": exp,
        }
    )


def _browser(create: bool) -> str | None:
    return browser_handle(SESSION_KEY, create, b"")


def _key(browser: str, challenge_id: str) -> str:
    return f"certlogin:{browser}:{challenge_id}"


def _check_csrf() -> None:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf")
    if not isinstance(expected, str) or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(400, description="csrf_failed")


def issue() -> tuple[str, bytes]:
    """A new challenge for this browser session: (challenge id, bytes to sign)."""
    idp = current_idp()
    iat = int(clock())
    exp = iat + CHALLENGE_TTL
    data = challenge_bytes(idp.config.issuer, secrets.token_urlsafe(24), iat, exp)
    challenge_id = secrets.token_urlsafe(18)
    browser = _browser(create=True)
    assert browser is not None
    record = {"data": base64.b64encode(data).decode(), "exp": exp}
    idp.store.put(
        _key(browser, challenge_id), json.dumps(record).encode(), CHALLENGE_TTL + STORE_GRACE
    )
    return challenge_id, data


def take(challenge_id: object) -> Challenge | None:
    """The challenge, used up; None when unknown, used, or another browser session's."""
    if not isinstance(challenge_id, str) or not 0 < len(challenge_id) <= MAX_ID:
        return None
    browser = _browser(create=False)
    if browser is None:
        return None
    raw = current_idp().store.take(_key(browser, challenge_id))
    if raw is None:
        return None
    record = json.loads(raw)
    return Challenge(base64.b64decode(record["data"]), int(record["exp"]))


def expired(challenge: Challenge) -> bool:
    return clock() > challenge.exp


@bp.route("/login/cert/challenge", methods=["POST"])
def cert_challenge() -> Any:
    _check_csrf()
    idp = current_idp()
    ip_key = hashlib.sha256(client_ip().encode()).hexdigest()[:32]
    if idp.store.incr(f"certlogin-rate:{ip_key}", 60) > RATE_LIMIT:
        response = jsonify({"error": "slow_down"})
        response.status_code = 429
        return response
    challenge_id, data = issue()
    response = jsonify(
        {
            "challenge_id": challenge_id,
            "challenge": base64.b64encode(data).decode(),
            "expires_in": CHALLENGE_TTL,
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
