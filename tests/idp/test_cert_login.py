"""Certificate login (§6.3.2 a): challenge, signature, trust store validation, binding, acr.

The bridge is only the transport: these tests sign the challenge directly with the test keys,
exactly as the bridge's `sign({format: "raw"})` would (RSA PKCS#1 v1.5 SHA-256, ECDSA P-256
SHA-256 DER, SM2 with SM3 and the default user ID).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select, update

from cert_interop import keys as keymod
from cert_interop import sm2
from cert_interop.signatures import default_algorithm, sign
from cert_interop.truststore import TrustStore
from cert_interop.x509 import (
    Certificate,
    Revocation,
    build_certificate,
    build_crl,
    string_extension,
)
from idp.certlogin import ACR_CERTIFICATE, challenge
from idp.certlogin.bindings import bind
from idp.clients import NewClient
from idp.entities import service
from idp.entities.models import MarketEntity
from idp.models import AuditEvent
from idp.service import Idp

from .conftest import ISSUER, PASSWORD, Flow, form_value, query

USCC = "91350100M000100Y43"
ID_NUMBER = "11010519491231002X"
OID_ORG_CODE = "1.2.156.10260.4.1.4"  # GM/T 0015-2012: credit code (or organisation code)
OID_ID_NUMBER = "1.2.156.10260.4.1.1"  # GM/T 0015-2012: ID number
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def valid_uscc(first17: str) -> str:
    total = sum(_ALPHABET.index(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + _ALPHABET[(31 - total % 31) % 31]


OTHER_USCC = valid_uscc("91520100MA6DK0009")  # organisation code MA6DK000-9


def _keygen(alg: str) -> keymod.PrivateKey:
    if alg == "rsa":
        return rsa.generate_private_key(65537, 2048)
    if alg == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return sm2.generate_private_key()


@dataclass
class Leaf:
    cert: Certificate
    key: keymod.PrivateKey

    @property
    def b64(self) -> str:
        return base64.b64encode(self.cert.der).decode()

    @property
    def fingerprint(self) -> str:
        return self.cert.sha256_fingerprint

    def sign(self, data: bytes) -> str:
        return base64.b64encode(sign(self.key, default_algorithm(self.key), data=data)).decode()


@dataclass
class Ca:
    """A root CA that issues leaves directly, with the holder's identity in an extension."""

    alg: str
    name: str
    key: keymod.PrivateKey = field(init=False)
    cert: Certificate = field(init=False)
    revoked: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = _keygen(self.alg)
        now = datetime.now(UTC) - timedelta(minutes=10)
        self.cert = build_certificate(
            subject=[("C", "CN"), ("O", "Huren Test CA"), ("CN", self.name)],
            subject_public_key=self.key.public_key(),
            issuer_key=self.key,
            not_before=now,
            not_after=now + timedelta(days=3650),
            ca=True,
            key_usage={"key_cert_sign", "crl_sign"},
        )

    def issue(
        self,
        *,
        uscc: str | None = USCC,
        id_number: str | None = None,
        cn: str = "测试投标有限公司",
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> Leaf:
        key = _keygen(self.alg)
        now = datetime.now(UTC) - timedelta(minutes=10)
        extra = []
        if uscc:
            extra.append(string_extension(OID_ORG_CODE, uscc))
        if id_number:
            extra.append(string_extension(OID_ID_NUMBER, id_number))
        cert = build_certificate(
            subject=[("C", "CN"), ("O", cn), ("CN", cn)],
            subject_public_key=key.public_key(),
            issuer_key=self.key,
            issuer=self.cert,
            not_before=not_before or now,
            not_after=not_after or now + timedelta(days=365),
            ca=False,
            key_usage={"digital_signature", "non_repudiation"},
            extra_extensions=extra,
        )
        return Leaf(cert, key)

    def crl(self, number: int = 1) -> bytes:
        now = datetime.now(UTC) - timedelta(minutes=5)
        return build_crl(
            issuer=self.cert,
            issuer_key=self.key,
            revoked=[Revocation(s, now, "key_compromise") for s in self.revoked],
            this_update=now,
            next_update=now + timedelta(days=7),
            crl_number=number,
        ).pem()


@dataclass
class Pki:
    rsa: Ca
    ec: Ca
    sm2: Ca
    stranger: Ca
    """Not in the trust store."""

    def trusted(self) -> list[Ca]:
        return [self.rsa, self.ec, self.sm2]


_PKI: Pki | None = None


def pki_once() -> Pki:
    global _PKI
    if _PKI is None:
        _PKI = Pki(
            Ca("rsa", "Huren RSA CA"),
            Ca("ec", "Huren EC CA"),
            Ca("sm2", "Huren SM2 CA"),
            Ca("ec", "Unknown CA"),
        )
    return _PKI


@pytest.fixture
def pki() -> Pki:
    return pki_once()


def trust(store: TrustStore, ca: Ca, number: int = 1) -> None:
    store.add(ca.cert.pem(), profile="default", name=ca.name)
    store.upload_crl(ca.crl(number))


@pytest.fixture
def trust_store(app: Flask, pki: Pki) -> TrustStore:
    store: TrustStore = app.extensions["huren.trust_store"]
    for ca in pki.trusted():
        trust(store, ca)
    return store


@dataclass
class Bidder:
    entity_id: str
    account_id: str
    username: str


def register_org(
    idp: Idp,
    username: str = "bidder",
    uscc: str = USCC,
    status: str = "verified",
    phone: str = "13800000002",
) -> Bidder:
    view = service.register(
        idp.sessions,
        idp.pii,
        entity_type="legal_person",
        name="测试投标有限公司",
        username=username,
        password=PASSWORD,
        phone=phone,
        uscc=uscc,
        agent_name="李四",
        status=status,
    )
    return Bidder(view.id, view.members[0].account_id, username)


def register_person(idp: Idp, username: str = "person", number: str = ID_NUMBER) -> Bidder:
    view = service.register(
        idp.sessions,
        idp.pii,
        entity_type="natural_person",
        name="王五",
        username=username,
        password=PASSWORD,
        phone="13800000003",
        id_type="resident_id",
        id_number=number,
        status="verified",
    )
    return Bidder(view.id, view.members[0].account_id, username)


@pytest.fixture
def bidder(idp: Idp) -> Bidder:
    return register_org(idp)


def bound(idp: Idp, bidder: Bidder, leaf: Leaf) -> Leaf:
    bind(
        idp.sessions,
        idp.pii,
        idp.trust_store,
        leaf.cert.der,
        account_id=bidder.account_id,
        actor="test",
    )
    return leaf


# --- driving the page ------------------------------------------------------------------------


def login_page(web: FlaskClient, path: str = "/login?method=cert") -> tuple[str, str]:
    html = web.get(path).get_data(as_text=True)
    return html, form_value(html, "csrf_token")


def get_challenge(web: FlaskClient, csrf: str) -> dict[str, Any]:
    response = web.post("/login/cert/challenge", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.data
    return response.get_json()  # type: ignore[no-any-return]


def cert_login(
    web: FlaskClient,
    leaf: Leaf,
    *,
    rid: str = "",
    path: str = "/login?method=cert",
    tamper: Any = None,
    **overrides: Any,
) -> Any:
    _html, csrf = login_page(web, path)
    ch = get_challenge(web, csrf)
    data = base64.b64decode(ch["challenge"])
    form = {
        "csrf_token": csrf,
        "challenge_id": ch["challenge_id"],
        "data": ch["challenge"],
        "signature": leaf.sign(data),
        "certificate": leaf.b64,
        "rid": rid,
    }
    if tamper is not None:
        tamper(form, data)
    form.update(overrides)
    headers = form.pop("headers", None) or {}
    return web.post("/login/cert", data=form, headers=headers)


def failures(idp: Idp) -> list[dict[str, Any]]:
    with idp.sessions() as db:
        rows = db.scalars(
            select(AuditEvent).where(AuditEvent.kind == "login.failure").order_by(AuditEvent.id)
        ).all()
        return [dict(r.detail) for r in rows]


def assert_refused(idp: Idp, response: Any, reason: str, status: int) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == status, (reason, html[:800])
    assert f'data-reason="{reason}"' in html
    last = failures(idp)[-1]
    assert last["method"] == "cert" and last["reason"] == reason
    assert "certificate" not in last  # never the certificate itself


def id_token_claims(tokens: dict[str, Any]) -> dict[str, Any]:
    payload = tokens["id_token"].split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))  # type: ignore[no-any-return]


def cert_flow(flow: Flow, leaf: Leaf, **extra: str) -> dict[str, Any]:
    """A full authorization-code flow whose login is the certificate login."""
    response = flow.authorize(**extra)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    location = response.headers["Location"]
    rid = query(location)["rid"]
    response = cert_login(flow.web, leaf, rid=rid, path=location + "&method=cert")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    response = flow.follow(response)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    params = query(response.headers["Location"])
    tokens = flow.exchange(params["code"])
    assert tokens.status_code == 200, tokens.get_json()
    return tokens.get_json()  # type: ignore[no-any-return]


# --- happy paths -----------------------------------------------------------------------------


def test_rsa_ec_and_sm2_certificates_of_three_cas_all_log_in_one_account(
    app: Flask, idp: Idp, trust_store: TrustStore, pki: Pki, bidder: Bidder, rp: NewClient
) -> None:
    leaves = [bound(idp, bidder, ca.issue()) for ca in pki.trusted()]
    for leaf in leaves:
        web = app.test_client()
        claims = id_token_claims(cert_flow(Flow(web, rp), leaf))
        assert claims["acr"] == ACR_CERTIFICATE
        assert set(claims["amr"]) == {"hwk", "pop"}
        successes = _events(idp, "login.success")
        assert successes[-1]["method"] == "cert"
        assert successes[-1]["fingerprint"] == leaf.fingerprint


def _events(idp: Idp, kind: str) -> list[dict[str, Any]]:
    with idp.sessions() as db:
        rows = db.scalars(
            select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.id)
        ).all()
        return [dict(r.detail) for r in rows]


def test_login_without_a_pending_request_goes_home_or_next(
    web: FlaskClient, idp: Idp, trust_store: TrustStore, pki: Pki, bidder: Bidder
) -> None:
    leaf = bound(idp, bidder, pki.sm2.issue())
    response = cert_login(web, leaf, next="/account/certificates")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/certificates"
    page = web.get("/account/certificates").get_data(as_text=True)
    assert leaf.cert.subject.rfc4514 in page or "测试投标有限公司" in page


def test_acr_values_require_the_certificate_and_password_is_not_enough(
    web: FlaskClient, idp: Idp, trust_store: TrustStore, pki: Pki, bidder: Bidder, rp: NewClient
) -> None:
    flow = Flow(web, rp)
    # a password session first: acr loa:1
    code, _params = _password_code(flow, bidder)
    assert id_token_claims(flow.exchange(code).get_json())["acr"] == "urn:huren:loa:1"
    # the client now asks for the certificate level: the password session is not enough
    response = flow.authorize(acr_values=ACR_CERTIFICATE)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    html = web.get(response.headers["Location"]).get_data(as_text=True)
    assert 'id="cert-required"' in html and 'id="cert-panel"' in html
    assert 'name="password"' not in html and 'id="tab-password"' not in html
    refused = web.post(
        "/login",
        data={
            "username": bidder.username,
            "password": PASSWORD,
            "csrf_token": form_value(html, "csrf_token"),
            "rid": form_value(html, "rid"),
        },
    )
    assert refused.status_code == 403
    # prompt=none cannot satisfy it silently
    silent = flow.authorize(acr_values=ACR_CERTIFICATE, prompt="none")
    assert query(silent.headers["Location"])["error"] == "login_required"
    leaf = bound(idp, bidder, pki.rsa.issue())
    claims = id_token_claims(cert_flow(flow, leaf, acr_values=ACR_CERTIFICATE))
    assert claims["acr"] == ACR_CERTIFICATE and "hwk" in claims["amr"]
    # a certificate session satisfies loa:1 and loa:2 requests without a new login
    code, _params = flow.code(acr_values=ACR_CERTIFICATE)
    assert id_token_claims(flow.exchange(code).get_json())["acr"] == ACR_CERTIFICATE


def _password_code(flow: Flow, bidder: Bidder) -> tuple[str, dict[str, str]]:
    response = flow.login(flow.authorize(), username=bidder.username)
    response = flow.follow(response)
    params = query(response.headers["Location"])
    return params["code"], params


def test_discovery_advertises_the_certificate_level(web: FlaskClient) -> None:
    doc = web.get("/.well-known/openid-configuration").get_json()
    assert ACR_CERTIFICATE in doc["acr_values_supported"]


def test_login_page_has_two_tabs_and_loads_the_bridge_client(web: FlaskClient) -> None:
    html = web.get("/login").get_data(as_text=True)
    assert 'id="tab-cert"' in html and 'name="password"' in html
    cert = web.get("/login?method=cert&lang=en").get_data(as_text=True)
    for element in ("cert-list", "cert-sign", "bridge-help", "cert-error"):
        assert f'id="{element}"' in cert
    assert "/assets/huren-bridge.js" in cert and "cert-login.js" in cert
    assert "<script>" not in cert
    assert web.get("/assets/cert-login.js").status_code == 200


def test_challenge_names_this_provider_and_needs_csrf(web: FlaskClient) -> None:
    _html, csrf = login_page(web)
    assert web.post("/login/cert/challenge").status_code == 400
    ch = get_challenge(web, csrf)
    data = base64.b64decode(ch["challenge"])
    values = json.loads(data)
    assert values["typ"] == "huren-cert-login" and values["iss"] == ISSUER
    assert values["origin"] == "http://127.0.0.1:8000"
    assert values["exp"] - values["iat"] == ch["expires_in"] == challenge.CHALLENGE_TTL
    assert data == challenge.canonical(values)  # canonical: sorted keys, no spaces
    form = web.post("/login/cert/challenge", data={"csrf_token": csrf})
    assert form.status_code == 200


# --- refusals --------------------------------------------------------------------------------


def test_refusals_of_the_certificate(
    idp: Idp, app: Flask, trust_store: TrustStore, pki: Pki, bidder: Bidder
) -> None:
    past = datetime.now(UTC) - timedelta(days=30)
    expired = pki.rsa.issue(not_before=past, not_after=past + timedelta(days=2))
    response = cert_login(app.test_client(), expired)
    assert_refused(idp, response, "expired", 401)

    revoked = pki.ec.issue()
    pki.ec.revoked.append(revoked.cert.serial_number)
    try:
        trust_store.upload_crl(pki.ec.crl(2))
    finally:
        pki.ec.revoked.clear()
    response = cert_login(app.test_client(), revoked)
    assert_refused(idp, response, "revoked", 401)

    response = cert_login(app.test_client(), pki.stranger.issue())
    assert_refused(idp, response, "unknown_ca", 401)

    response = cert_login(app.test_client(), pki.sm2.issue())
    assert_refused(idp, response, "not_bound", 403)
    assert "/account/certificates" in response.get_data(as_text=True)
    assert failures(idp)[-1]["entity_id"] == bidder.entity_id

    response = cert_login(app.test_client(), pki.sm2.issue(uscc=OTHER_USCC))
    assert_refused(idp, response, "not_registered", 403)

    response = cert_login(app.test_client(), pki.rsa.issue(uscc=None))
    assert_refused(idp, response, "no_identity", 403)


def test_refusal_page_is_chinese_by_default_and_english_on_request(
    idp: Idp, app: Flask, trust_store: TrustStore, pki: Pki, bidder: Bidder
) -> None:
    leaf = pki.sm2.issue()
    zh = cert_login(app.test_client(), leaf).get_data(as_text=True)
    assert "证书" in zh
    web = app.test_client()
    web.get("/login?lang=en")
    en = cert_login(web, leaf).get_data(as_text=True)
    assert "This certificate is not bound to an account" in en


def test_identity_changed_after_binding_is_a_mismatch(
    idp: Idp, web: FlaskClient, trust_store: TrustStore, pki: Pki, bidder: Bidder
) -> None:
    leaf = bound(idp, bidder, pki.rsa.issue())
    with idp.sessions.begin() as db:
        db.execute(
            update(MarketEntity).where(MarketEntity.id == bidder.entity_id).values(uscc=OTHER_USCC)
        )
    assert_refused(idp, cert_login(web, leaf), "identity_mismatch", 403)


def test_refusals_of_the_challenge(
    idp: Idp,
    app: Flask,
    trust_store: TrustStore,
    pki: Pki,
    bidder: Bidder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    leaf = bound(idp, bidder, pki.ec.issue())
    web = app.test_client()
    _html, csrf = login_page(web)

    def post(client: FlaskClient, ch: dict[str, Any], **extra: Any) -> Any:
        data = base64.b64decode(ch["challenge"])
        form = {
            "csrf_token": csrf,
            "challenge_id": ch["challenge_id"],
            "signature": leaf.sign(data),
            "certificate": leaf.b64,
        }
        headers = extra.pop("headers", {})
        form.update(extra)
        return client.post("/login/cert", data=form, headers=headers)

    def reset() -> None:
        idp.throttle.success(f"#cert:{leaf.fingerprint}")

    # replayed: a used challenge does not work twice
    ch = get_challenge(web, csrf)
    assert post(web, ch).status_code == 302
    assert_refused(idp, post(web, ch), "challenge_replayed", 400)

    # another browser session cannot use this one's challenge
    ch = get_challenge(web, csrf)
    other = app.test_client()
    _h, other_csrf = login_page(other)
    data = base64.b64decode(ch["challenge"])
    response = other.post(
        "/login/cert",
        data={
            "csrf_token": other_csrf,
            "challenge_id": ch["challenge_id"],
            "signature": leaf.sign(data),
            "certificate": leaf.b64,
        },
    )
    assert_refused(idp, response, "challenge_replayed", 400)
    reset()

    # expired: answered after its lifetime
    ch = get_challenge(web, csrf)
    later = time.time() + challenge.CHALLENGE_TTL + 5
    monkeypatch.setattr(challenge, "clock", lambda: later)
    assert_refused(idp, post(web, ch), "challenge_expired", 400)
    monkeypatch.undo()

    # a signature over a challenge naming another issuer and origin
    ch = get_challenge(web, csrf)
    evil = challenge.challenge_bytes("https://evil.example", "n", int(time.time()), 0)
    response = post(web, ch, data=base64.b64encode(evil).decode(), signature=leaf.sign(evil))
    assert_refused(idp, response, "wrong_origin", 403)
    reset()

    # posted from another site's page
    ch = get_challenge(web, csrf)
    response = post(web, ch, headers={"Origin": "https://evil.example"})
    assert_refused(idp, response, "wrong_origin", 403)

    # tampered signature
    ch = get_challenge(web, csrf)
    data = base64.b64decode(ch["challenge"])
    raw = bytearray(base64.b64decode(leaf.sign(data)))
    raw[len(raw) // 2] ^= 0x01
    response = post(web, ch, signature=base64.b64encode(bytes(raw)).decode())
    assert_refused(idp, response, "bad_signature", 401)
    reset()

    # a signature by another key over the right challenge
    ch = get_challenge(web, csrf)
    other_leaf = pki.ec.issue()
    response = post(web, ch, signature=other_leaf.sign(base64.b64decode(ch["challenge"])))
    assert_refused(idp, response, "bad_signature", 401)

    # malformed inputs
    ch = get_challenge(web, csrf)
    assert_refused(idp, post(web, ch, certificate="not base64!"), "malformed", 400)


def test_repeated_failures_lock_the_certificate(
    idp: Idp, app: Flask, trust_store: TrustStore, pki: Pki, bidder: Bidder
) -> None:
    leaf = bound(idp, bidder, pki.rsa.issue())

    def bad(form: dict[str, Any], data: bytes) -> None:
        form["signature"] = leaf.sign(data + b"x")

    web = app.test_client()
    for _ in range(3):
        assert cert_login(web, leaf, tamper=bad).status_code == 401
    response = cert_login(web, leaf)
    assert_refused(idp, response, "locked", 429)


@pytest.fixture
def fuzz_web(app: Flask) -> Iterator[tuple[FlaskClient, str]]:
    web = app.test_client()
    _html, csrf = login_page(web)
    yield web, csrf


_text = st.one_of(
    st.none(),
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()),
)


@hsettings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    challenge_id=_text,
    signature=_text,
    certificate=_text,
    chain=_text,
    data=_text,
    rid=_text,
    nxt=_text,
)
def test_random_posts_never_fail_with_a_server_error(
    fuzz_web: tuple[FlaskClient, str],
    challenge_id: str | None,
    signature: str | None,
    certificate: str | None,
    chain: str | None,
    data: str | None,
    rid: str | None,
    nxt: str | None,
) -> None:
    web, csrf = fuzz_web
    fields = {
        "challenge_id": challenge_id,
        "signature": signature,
        "certificate": certificate,
        "chain": chain,
        "data": data,
        "rid": rid,
        "next": nxt,
    }
    form = {k: v for k, v in fields.items() if v is not None}
    form["csrf_token"] = csrf
    response = web.post("/login/cert", data=form)
    assert response.status_code in (400, 401, 403, 429), response.status_code
