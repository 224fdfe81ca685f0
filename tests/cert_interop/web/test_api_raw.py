"""Integrator API: authentication, certificate validation, raw signatures, platform keys,
OpenAPI, and every refusal answered with a stable code in Chinese and English."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from cert_interop import signatures, sm2, sm3
from tests.cert_interop.web.conftest import Pki

ALL = {"Authorization": "Bearer all-token"}
VERIFY = {"Authorization": "Bearer verify-token"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def post(client: FlaskClient, path: str, body: Any, headers: dict[str, str] = ALL) -> Any:
    return client.post(f"/api/v1{path}", json=body, headers=headers)


def assert_error(resp: Any, status: int, code: str) -> None:
    assert resp.status_code == status, resp.get_data(as_text=True)
    body = resp.get_json()
    assert body["error"] == code
    assert body["message_zh"] and body["message_en"]
    assert "Traceback" not in resp.get_data(as_text=True)


# --- authentication ----------------------------------------------------------------------------


def test_missing_token(client: FlaskClient, pkis: dict[str, Pki]) -> None:
    resp = post(client, "/certificates/validate", {"certificate": "x"}, headers={})
    assert_error(resp, 401, "invalid_token")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_bad_token(client: FlaskClient) -> None:
    resp = post(client, "/certificates/validate", {}, headers={"Authorization": "Bearer nope"})
    assert_error(resp, 401, "invalid_token")


def test_scope_is_enforced(client: FlaskClient) -> None:
    resp = post(client, "/signatures", {"data": b64(b"x")}, headers=VERIFY)
    assert_error(resp, 403, "insufficient_scope")
    assert 'scope="crypto:sign"' in resp.headers["WWW-Authenticate"]


# --- certificate validation -------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["rsa", "ec", "sm2"])
def test_validate_valid(client: FlaskClient, pkis: dict[str, Pki], alg: str) -> None:
    h = pkis[alg].h
    resp = post(client, "/certificates/validate", {"certificate": h.leaf.pem().decode()})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["valid"] is True and body["reason"] == "ok" and body["algorithm"] == alg
    assert len(body["chain"]) == 3
    assert resp.headers["Cache-Control"] == "no-store"


def test_validate_base64_der_and_purpose(client: FlaskClient, pkis: dict[str, Pki]) -> None:
    h = pkis["sm2"].h
    enc = h.encryption_leaf
    assert enc is not None
    ok = post(client, "/certificates/validate", {"certificate": b64(enc.der), "purpose": "encrypt"})
    assert ok.get_json()["valid"] is True
    refused = post(client, "/certificates/validate", {"certificate": b64(enc.der)})
    assert refused.get_json()["reason"] == "wrong_key_usage"


def test_validate_expired_at(client: FlaskClient, pkis: dict[str, Pki]) -> None:
    h = pkis["ec"].h
    later = (h.leaf.not_after + timedelta(days=2)).isoformat()
    body = post(
        client, "/certificates/validate", {"certificate": h.leaf.pem().decode(), "at": later}
    ).get_json()
    assert (body["valid"], body["reason"]) == (False, "expired")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "invalid_request"),
        ({"certificate": 5}, 400, "invalid_request"),
        (
            {"certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"},
            400,
            "malformed_input",
        ),
        ({"certificate": "not base64!"}, 400, "malformed_input"),
        ({"certificate": b64(b"\x30\x03\x02\x01\x01")}, 400, "malformed_input"),
        ({"certificate": b64(b"\x30\x82\xff\xff")}, 400, "malformed_input"),
        ({"certificate": "CERT", "purpose": "steal"}, 400, "invalid_request"),
        ({"certificate": "CERT", "at": "yesterday"}, 400, "invalid_request"),
        ({"certificate": "CERT", "chain": "x"}, 400, "invalid_request"),
    ],
)
def test_validate_refusals(
    client: FlaskClient, pkis: dict[str, Pki], body: Any, status: int, code: str
) -> None:
    if body.get("certificate") == "CERT":
        body = {**body, "certificate": pkis["rsa"].h.leaf.pem().decode()}
    assert_error(post(client, "/certificates/validate", body), status, code)


def test_not_json(client: FlaskClient) -> None:
    resp = client.post(
        "/api/v1/certificates/validate", data="x", headers={**ALL, "Content-Type": "text/plain"}
    )
    assert_error(resp, 415, "invalid_content_type")
    resp = client.post(
        "/api/v1/certificates/validate",
        data="[1]",
        headers={**ALL, "Content-Type": "application/json"},
    )
    assert_error(resp, 400, "invalid_request")


# --- raw signatures ----------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["rsa", "ec", "sm2"])
def test_verify_raw_data_and_digest(client: FlaskClient, pkis: dict[str, Pki], alg: str) -> None:
    pki = pkis[alg]
    key = pki.key("leaf")
    algorithm = signatures.default_algorithm(key)
    data = "投标文件摘要".encode()
    sig = signatures.sign(key, algorithm, data=data)
    cert = pki.h.leaf.pem().decode()
    body = post(
        client,
        "/signatures/verify",
        {"certificate": cert, "data": b64(data), "signature": b64(sig)},
    ).get_json()
    assert (
        body["valid"] is True and body["signature_valid"] is True and body["algorithm"] == algorithm
    )
    if alg == "sm2":
        digest = sm3.sm3(sm2.z_value(pki.h.leaf.public_key) + data)  # type: ignore[arg-type]
    else:
        import hashlib

        digest = hashlib.sha256(data).digest()
    body = post(
        client,
        "/signatures/verify",
        {"certificate": cert, "digest": b64(digest), "signature": b64(sig)},
    ).get_json()
    assert body["valid"] is True
    tampered = post(
        client,
        "/signatures/verify",
        {"certificate": cert, "data": b64(data + b"!"), "signature": b64(sig)},
    ).get_json()
    assert tampered["valid"] is False and tampered["signature_valid"] is False
    assert tampered["certificate"]["valid"] is True


def test_verify_raw_revoked_certificate_is_not_valid(
    client: FlaskClient, pkis: dict[str, Pki]
) -> None:
    """The revoked leaf verifies as a signature, but the answer says the certificate is not OK
    once revocation data is there; without CRLs the chain itself is fine."""
    pki = pkis["rsa"]
    key = pki.key("revoked")
    sig = signatures.sign(key, "rsa-pkcs1-sha256", data=b"x")
    body = post(
        client,
        "/signatures/verify",
        {"certificate": pki.h.revoked.pem().decode(), "data": b64(b"x"), "signature": b64(sig)},
    ).get_json()
    assert body["signature_valid"] is True


def test_verify_raw_sm2_signer_id(client: FlaskClient, pkis: dict[str, Pki]) -> None:
    pki = pkis["sm2"]
    sig = sm2.sign(pki.key("leaf"), b"m", uid=b"ALICE123@YAHOO.COM")  # type: ignore[arg-type]
    base = {"certificate": pki.h.leaf.pem().decode(), "data": b64(b"m"), "signature": b64(sig)}
    assert post(client, "/signatures/verify", base).get_json()["signature_valid"] is False
    with_id = post(client, "/signatures/verify", {**base, "signer_id": "ALICE123@YAHOO.COM"})
    assert with_id.get_json()["signature_valid"] is True


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"algorithm": "md5"}, 400, "unsupported_algorithm"),
        ({"algorithm": "rsa-pkcs1-sha256"}, 400, "invalid_key"),
        ({"data": None}, 400, "invalid_request"),
        ({"digest": b64(b"short")}, 400, "invalid_request"),
        ({"data": None, "digest": b64(b"short")}, 400, "malformed_input"),
        ({"data": None, "digest": b64(bytes(32)), "signer_id": "x"}, 400, "invalid_request"),
        ({"signature": None}, 400, "invalid_request"),
        ({"signature": "%%%"}, 400, "malformed_input"),
        ({"format": "pgp"}, 400, "invalid_request"),
    ],
)
def test_verify_raw_refusals(
    client: FlaskClient, pkis: dict[str, Pki], patch: dict[str, Any], status: int, code: str
) -> None:
    pki = pkis["sm2"]
    body = {
        "certificate": pki.h.leaf.pem().decode(),
        "data": b64(b"m"),
        "signature": b64(b"\x30\x00"),
    }
    body.update(patch)
    body = {k: v for k, v in body.items() if v is not None}
    assert_error(post(client, "/signatures/verify", body), status, code)


# --- signing with the platform key ---------------------------------------------------------------


def test_sign_raw_with_platform_key(client: FlaskClient, pkis: dict[str, Pki]) -> None:
    body = post(client, "/signatures", {"key": "platform", "data": b64(b"hello")}).get_json()
    assert body["algorithm"] == "sm2-sm3"
    sig = base64.b64decode(body["signature"])
    assert sm2.verify(pkis["sm2"].h.leaf.public_key, sig, b"hello")  # type: ignore[arg-type]
    # the key name may be left out when there is one platform key
    assert post(client, "/signatures", {"data": b64(b"hello")}).status_code == 200


def test_sign_unknown_key(client: FlaskClient) -> None:
    assert_error(
        post(client, "/signatures", {"key": "nope", "data": b64(b"x")}), 404, "unknown_key"
    )


def test_platform_keys_listing_is_public(client: FlaskClient) -> None:
    body = client.get("/api/v1/platform-keys").get_json()
    assert [k["name"] for k in body["keys"]] == ["platform"]
    assert body["keys"][0]["algorithm"] == "sm2"
    assert "BEGIN CERTIFICATE" in body["keys"][0]["certificate"]


# --- OpenAPI ------------------------------------------------------------------------------------


def test_openapi_documents_every_route(client: FlaskClient, app: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule.endswith("openapi.json"):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (rule.rule.removeprefix("/api/v1"), method.lower()) in documented, rule.rule
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert op["responses"]["200"]["content"]["application/json"]["example"], path


def test_now_is_default(client: FlaskClient, pkis: dict[str, Pki]) -> None:
    h = pkis["rsa"].h
    now = datetime.now(UTC).isoformat()
    body = post(
        client, "/certificates/validate", {"certificate": h.leaf.pem().decode(), "at": now}
    ).get_json()
    assert body["valid"] is True


def test_trust_store_down_is_503(client: FlaskClient, pkis: dict[str, Pki], app: Any) -> None:
    """A trust store whose database refuses connections (nothing listens on port 1)."""
    from cert_interop.truststore import TrustStore
    from storage.db import make_engine, make_session_factory

    engine = make_engine("postgresql+psycopg://root@127.0.0.1:1/none")
    api = app.extensions["huren.crypto_api"]
    down = TrustStore(make_session_factory(engine))
    app.extensions["huren.crypto_api"] = type(api)(api.authorize, down, api.platform_keys)
    try:
        resp = post(
            client, "/certificates/validate", {"certificate": pkis["rsa"].h.leaf.pem().decode()}
        )
        assert_error(resp, 503, "temporarily_unavailable")
    finally:
        engine.dispose()
