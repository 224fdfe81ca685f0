"""The HTTP face, through Flask's test client and over real HTTP with pyhanko's client and ours."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from asn1crypto import cms
from asn1crypto import keys as akeys
from asn1crypto import x509 as ax509
from flask import Flask
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext

from cert_interop.keys import dump_private_key
from seal.tsa import (
    TimeStampAuthority,
    TimestampNonceMismatch,
    TimestampRejected,
    TimestampUnavailable,
    TsaCertificateRejected,
    build_request,
    parse_response,
    request_timestamp,
    verify_token,
)
from seal.tsa.web import make_tsa_blueprint
from tests.seal.tsa.conftest import Pki, pki_for, serving, tsa_app

DIGEST = hashlib.sha256(b"the signature value").digest()
QUERY = "application/timestamp-query"


@pytest.fixture
def client_app() -> Flask:
    pki = pki_for("ec")
    return tsa_app(TimeStampAuthority(pki.key, pki.cert), max_request_bytes=1024)


def test_post_gives_a_reply(client_app: Flask) -> None:
    resp = client_app.test_client().post(
        "/tsa", data=build_request(DIGEST, "sha256"), content_type=QUERY
    )
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/timestamp-reply"
    assert resp.headers["Cache-Control"] == "no-store"
    assert parse_response(resp.data).status == "granted"


def test_a_refused_query_is_still_200_with_a_rejection(client_app: Flask) -> None:
    resp = client_app.test_client().post("/tsa", data=b"\x30\x00", content_type=QUERY)
    assert resp.status_code == 200
    assert parse_response(resp.data).fail_info == ("bad_data_format",)


@pytest.mark.parametrize("ctype", ["application/octet-stream", "text/plain", None])
def test_wrong_content_type(client_app: Flask, ctype: str | None) -> None:
    body = build_request(DIGEST, "sha256")
    resp = client_app.test_client().post("/tsa", data=body, content_type=ctype)
    assert resp.status_code == 415


def test_content_type_parameters_are_ignored(client_app: Flask) -> None:
    resp = client_app.test_client().post(
        "/tsa", data=build_request(DIGEST, "sha256"), content_type=QUERY + "; charset=binary"
    )
    assert resp.status_code == 200


def test_huge_body(client_app: Flask) -> None:
    resp = client_app.test_client().post("/tsa", data=b"\x30" * 5000, content_type=QUERY)
    assert resp.status_code == 413


def test_huge_chunked_body_over_real_http() -> None:
    """No Content-Length: the body is read only up to the limit."""
    pki = pki_for("ec")
    app = tsa_app(TimeStampAuthority(pki.key, pki.cert), max_request_bytes=1024)
    with serving(app) as base:
        conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=10)
        chunks = (b"\x30" * 500 for _ in range(10))
        conn.request(
            "POST", "/tsa", body=chunks, headers={"Content-Type": QUERY}, encode_chunked=True
        )
        status = conn.getresponse().status
        conn.close()
    assert status == 413


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "OPTIONS"])
def test_other_methods(client_app: Flask, method: str) -> None:
    resp = client_app.test_client().open("/tsa", method=method)
    assert resp.status_code == 405
    assert resp.headers["Allow"] == "POST"


def test_an_authority_that_cannot_be_built_gives_503_with_system_failure() -> None:
    def broken() -> TimeStampAuthority:
        raise OSError("PKCS#11 module not found")

    app = Flask(__name__)
    app.register_blueprint(make_tsa_blueprint(broken))
    resp = app.test_client().post("/tsa", data=build_request(DIGEST, "sha256"), content_type=QUERY)
    assert resp.status_code == 503
    assert resp.headers["Retry-After"]
    assert parse_response(resp.data).fail_info == ("system_failure",)


# --- over real HTTP ------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["rsa", "ec"])
def test_pyhanko_gets_and_validates_a_token(alg: str) -> None:
    pki = pki_for(alg)
    authority = TimeStampAuthority(pki.key, pki.cert, chain=[pki.ca])
    with serving(tsa_app(authority)) as base:
        stamper = HTTPTimeStamper(f"{base}/tsa", timeout=10)
        token = asyncio.run(stamper.async_timestamp(DIGEST, "sha256"))

    assert isinstance(token, cms.ContentInfo)
    context = ValidationContext(
        trust_roots=[ax509.Certificate.load(pki.ca.der)],
        allow_fetching=False,
        moment=datetime.now(UTC),
    )
    kwargs = asyncio.run(
        validate_tst_signed_data(token["content"], context, expected_tst_imprint=lambda _: DIGEST)
    )
    status = TimestampSignatureStatus(**kwargs)
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.signing_cert.dump() == pki.cert.der


def test_pyhanko_notices_a_wrong_imprint() -> None:
    pki = pki_for("rsa")
    with serving(tsa_app(TimeStampAuthority(pki.key, pki.cert))) as base:
        token = asyncio.run(HTTPTimeStamper(f"{base}/tsa").async_timestamp(DIGEST, "sha256"))
    context = ValidationContext(trust_roots=[ax509.Certificate.load(pki.ca.der)])
    kwargs = asyncio.run(
        validate_tst_signed_data(
            token["content"], context, expected_tst_imprint=lambda _: b"\x00" * 32
        )
    )
    assert not kwargs["intact"]


def test_our_client(pki: Pki, tsa_url: str) -> None:
    digest = hashlib.new("sm3", b"SM2 signature value").digest()
    token = request_timestamp(tsa_url, digest, "sm3", nonce=123456789)
    assert token.info.nonce == 123456789
    assert token.info.hash_algorithm == "sm3"
    assert token.info.tsa_certificate.der == pki.cert.der
    random_nonce = request_timestamp(tsa_url, DIGEST, "sha256")
    assert random_nonce.info.nonce is not None
    assert request_timestamp(tsa_url, DIGEST, "sha256", nonce=False).info.nonce is None


def test_our_client_without_certificates() -> None:
    pki = pki_for("ec")
    with serving(tsa_app(TimeStampAuthority(pki.key, pki.cert))) as base:
        with pytest.raises(TsaCertificateRejected):
            request_timestamp(f"{base}/tsa", DIGEST, "sha256", cert_req=False)
        token = request_timestamp(
            f"{base}/tsa", DIGEST, "sha256", cert_req=False, certificates=[pki.cert]
        )
    assert token.info.certificates == ()


def test_our_client_reports_refusals_and_failures() -> None:
    pki = pki_for("ec")
    with serving(tsa_app(TimeStampAuthority(pki.key, pki.cert))) as base:
        with pytest.raises(TimestampRejected) as caught:
            request_timestamp(f"{base}/tsa", DIGEST, "sha256", policy="1.2.3.4")
        assert caught.value.fail_info == ("unaccepted_policy",)
        assert caught.value.code == "timestamp_rejected"
        with pytest.raises(TimestampUnavailable, match="404"):
            request_timestamp(f"{base}/nowhere", DIGEST, "sha256")
        with pytest.raises(TimestampUnavailable, match="larger"):
            request_timestamp(f"{base}/tsa", DIGEST, "sha256", max_bytes=100)
    with pytest.raises(TimestampUnavailable, match="reached"):
        request_timestamp(base + "/tsa", DIGEST, "sha256", timeout=2)  # server gone
    with pytest.raises(TimestampUnavailable, match="http"):
        request_timestamp("file:///etc/passwd", DIGEST, "sha256")


def test_our_client_checks_the_nonce() -> None:
    """A replayed reply (another request's nonce) is caught."""
    pki = pki_for("ec")
    authority = TimeStampAuthority(pki.key, pki.cert)
    recorded = authority.respond(build_request(DIGEST, "sha256", nonce=1))

    class Replaying(TimeStampAuthority):
        def respond(self, request_der: bytes) -> bytes:
            return recorded

    replaying = Replaying(pki.key, pki.cert)
    with serving(tsa_app(replaying)) as base, pytest.raises(TimestampNonceMismatch):
        request_timestamp(f"{base}/tsa", DIGEST, "sha256", nonce=2)


def test_our_verifier_accepts_pyhanko_tokens() -> None:
    """Tokens of another implementation (pyhanko's in-process TSA) pass verify_token."""
    pki = pki_for("rsa")
    key_der = dump_private_key(pki.key, "der")
    stamper = DummyTimeStamper(
        tsa_cert=ax509.Certificate.load(pki.cert.der),
        tsa_key=akeys.PrivateKeyInfo.load(key_der),
        certs_to_embed=[ax509.Certificate.load(pki.ca.der)],
    )
    token = asyncio.run(stamper.async_timestamp(DIGEST, "sha256"))
    info = verify_token(token.dump(), DIGEST, "sha256")
    assert info.tsa_certificate.der == pki.cert.der


def test_concurrent_requests_get_distinct_serials() -> None:
    pki = pki_for("ec")
    app = tsa_app(TimeStampAuthority(pki.key, pki.cert))
    with serving(app) as base, ThreadPoolExecutor(max_workers=6) as pool:
        url = f"{base}/tsa"
        tokens = list(pool.map(lambda _: request_timestamp(url, DIGEST, "sha256"), range(30)))
    assert len({t.info.serial for t in tokens}) == 30
    assert len({t.info.nonce for t in tokens}) == 30
