"""Mints fresh authorization codes at a running Huren through the real browser flow.

    python bench/mint_huren_codes.py --issuer http://127.0.0.1:8000 --client-id ID \
        --redirect-uri http://127.0.0.1:9/cb --username bench --verifier V --n 5000 --out codes.txt

The password is read from the environment variable BENCH_PASSWORD (default ``Bench-pass-123``).
Logs in once with a cookie session (GET /login for the CSRF token, POST /login), then requests
the authorization URL (response_type=code, PKCE S256 challenge of ``--verifier``, fresh state and
nonce) ``--n`` times; the client is trusted, so each answer is a 302 to the redirect URI with
``code=``. Writes the codes one per line. Only 127.0.0.1 is ever contacted; the loop is bounded
by ``--n`` (at most 200000) and every request has a timeout.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import secrets
import sys
import time
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

import requests

TIMEOUT = 10.0
MAX_CODES = 200_000


class _CsrfFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.token: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "input":
            return
        a = dict(attrs)
        if a.get("name") == "csrf_token" and a.get("value"):
            self.token = a["value"]


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _loopback(url: str) -> str:
    if urllib.parse.urlsplit(url).hostname not in {"127.0.0.1", "localhost"}:
        raise SystemExit(f"refusing to contact {url!r}: only 127.0.0.1 is a bench target")
    return url


def login(session: requests.Session, issuer: str, next_url: str, user: str, password: str) -> None:
    login_url = _loopback(urllib.parse.urljoin(issuer + "/", "login"))
    page = session.get(login_url, params={"next": next_url}, timeout=TIMEOUT)
    if page.status_code != 200:
        raise SystemExit(f"GET /login: HTTP {page.status_code}")
    finder = _CsrfFinder()
    finder.feed(page.text)
    if not finder.token:
        raise SystemExit("GET /login: no csrf_token input in the form")
    resp = session.post(
        login_url,
        data={
            "username": user,
            "password": password,
            "csrf_token": finder.token,
            "next": next_url,
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    if resp.status_code not in (302, 303) or not session.cookies:
        raise SystemExit(f"POST /login did not log in: HTTP {resp.status_code} {resp.text[:200]}")


def authorize_url(endpoint: str, client_id: str, redirect_uri: str, challenge: str) -> str:
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "openid",
        "state": secrets.token_urlsafe(12),
        "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    sep = "&" if "?" in endpoint else "?"
    return endpoint + sep + urllib.parse.urlencode(params)


def mint(args: argparse.Namespace) -> list[str]:
    issuer = _loopback(args.issuer.rstrip("/"))
    session = requests.Session()
    disc = session.get(issuer + "/.well-known/openid-configuration", timeout=TIMEOUT)
    disc.raise_for_status()
    endpoint = _loopback(disc.json()["authorization_endpoint"])
    challenge = s256(args.verifier)
    first = authorize_url(endpoint, args.client_id, args.redirect_uri, challenge)
    parts = urllib.parse.urlsplit(first)
    next_url = urllib.parse.urlunsplit(("", "", parts.path, parts.query, ""))
    login(session, issuer, next_url, args.username, os.environ.get("BENCH_PASSWORD", args.password))

    codes: list[str] = []
    started = time.monotonic()
    for i in range(args.n):
        url = authorize_url(endpoint, args.client_id, args.redirect_uri, challenge)
        state = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["state"][0]
        resp = session.get(url, allow_redirects=False, timeout=TIMEOUT)
        location = resp.headers.get("Location", "")
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
        if resp.status_code not in (302, 303) or "code" not in query:
            raise SystemExit(
                f"authorization request {i + 1}: HTTP {resp.status_code}, "
                f"Location {location[:200]!r}, body {resp.text[:200]!r}"
            )
        if not location.startswith(args.redirect_uri) or query.get("state") != [state]:
            raise SystemExit(f"authorization request {i + 1}: unexpected redirect {location!r}")
        codes.append(query["code"][0])
    elapsed = time.monotonic() - started
    if len(set(codes)) != len(codes):
        raise SystemExit("Huren handed out the same code twice")
    rate = len(codes) / max(elapsed, 1e-9)
    print(f"minted {len(codes)} Huren codes in {elapsed:.1f}s ({rate:.0f}/s)", file=sys.stderr)
    return codes


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--issuer", required=True)
    p.add_argument("--client-id", required=True)
    p.add_argument("--redirect-uri", default="http://127.0.0.1:9/cb")
    p.add_argument("--username", default="bench")
    p.add_argument("--password", default="Bench-pass-123")
    p.add_argument("--verifier", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    if not 1 <= args.n <= MAX_CODES:
        raise SystemExit(f"--n must be between 1 and {MAX_CODES}")
    codes = mint(args)
    Path(args.out).write_text("\n".join(codes) + "\n")


if __name__ == "__main__":
    main()
