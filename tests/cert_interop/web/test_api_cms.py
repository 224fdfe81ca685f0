"""Integrator API, CMS parts: verify SignedData with chain validation, envelopes to validated
recipients, decryption and CMS signing with a platform key, and their refusals."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient

from cert_interop import cms
from tests.cert_interop.web.conftest import Pki
from tests.cert_interop.web.test_api_raw import ALL, assert_error, b64, post


def signed(pki: Pki, data: bytes, *, detached: bool = False) -> bytes:
    return cms.sign(
        data, None, [(pki.key("leaf"), pki.h.leaf, [pki.h.intermediate])], detached=detached
    )


@pytest.mark.parametrize("alg", ["rsa", "ec", "sm2"])
def test_verify_cms_attached_and_detached(
    client: FlaskClient, pkis: dict[str, Pki], alg: str
) -> None:
    pki = pkis[alg]
    body = post(
        client, "/signatures/verify", {"format": "cms", "cms": b64(signed(pki, b"bid"))}
    ).get_json()
    assert body["valid"] is True and body["signature_valid"] is True
    assert body["gm"] is (alg == "sm2")
    [signer] = body["signers"]
    assert signer["certificate"]["valid"] is True and signer["signing_time"]
    detached = signed(pki, b"bid", detached=True)
    ok = post(
        client,
        "/signatures/verify",
        {"format": "cms", "cms": b64(detached), "content": b64(b"bid")},
    )
    assert ok.get_json()["valid"] is True
    wrong = post(
        client,
        "/signatures/verify",
        {"format": "cms", "cms": b64(detached), "content": b64(b"bad")},
    )
    body = wrong.get_json()
    assert body["valid"] is False and body["signers"][0]["reason"] == "digest_mismatch"


def test_verify_cms_untrusted_signer(
    client: FlaskClient, pkis: dict[str, Pki], tmp_path: Any
) -> None:
    from cert_interop.pki_cli import write_hierarchy

    other = write_hierarchy(tmp_path, alg="ec", cn_prefix="Elsewhere")
    from cert_interop import keys

    key = keys.load_private_key((tmp_path / "leaf.key").read_bytes())
    message = cms.sign(b"bid", None, [(key, other.leaf, [other.intermediate])])
    body = post(client, "/signatures/verify", {"format": "cms", "cms": b64(message)}).get_json()
    assert body["signature_valid"] is True and body["valid"] is False
    assert body["signers"][0]["certificate"]["reason"] == "unknown_ca"


@pytest.mark.parametrize(
    ("patch", "status", "code"),
    [
        ({"cms": None}, 400, "invalid_request"),
        ({"cms": b64(b"garbage")}, 400, "malformed_input"),
        ({"cms": b64(b"\x30\x80" * 3000)}, 400, "malformed_input"),
    ],
)
def test_verify_cms_refusals(
    client: FlaskClient, patch: dict[str, Any], status: int, code: str
) -> None:
    body = {"format": "cms", **patch}
    body = {k: v for k, v in body.items() if v is not None}
    assert_error(post(client, "/signatures/verify", body), status, code)


def test_envelope_to_platform_key_and_decrypt(
    client: FlaskClient, pkis: dict[str, Pki], app: Any
) -> None:
    """The platform key here is the SM2 signing leaf (the conftest's); envelopes need an
    encryption certificate, so the test encrypts to the SM2 encryption certificate and checks
    the refusal for the signing one."""
    sm2pki = pkis["sm2"]
    enc = sm2pki.h.encryption_leaf
    assert enc is not None
    made = post(
        client,
        "/envelopes",
        {"recipients": [enc.pem().decode()], "content": b64("投标报价".encode())},
    )
    assert made.status_code == 200, made.get_data(as_text=True)
    envelope = base64.b64decode(made.get_json()["cms"])
    out = cms.decrypt(envelope, certificate=enc, key=sm2pki.key("leaf-enc"))
    assert out.content == "投标报价".encode() and out.cipher == "sm4-cbc"
    refused = post(
        client, "/envelopes", {"recipients": [sm2pki.h.leaf.pem().decode()], "content": b64(b"x")}
    )
    assert_error(refused, 422, "recipient_not_trusted")


@pytest.mark.parametrize(
    ("alg", "cipher"), [("rsa", "aes-256-gcm"), ("rsa", "aes-256-cbc"), ("sm2", "sm4-cbc")]
)
def test_envelope_ciphers(client: FlaskClient, pkis: dict[str, Pki], alg: str, cipher: str) -> None:
    pki = pkis[alg]
    cert = pki.h.encryption_leaf or pki.h.leaf
    key = pki.key("leaf-enc" if pki.h.encryption_leaf else "leaf")
    made = post(
        client,
        "/envelopes",
        {"recipients": [cert.pem().decode()], "content": b64(b"price"), "cipher": cipher},
    )
    out = cms.decrypt(base64.b64decode(made.get_json()["cms"]), certificate=cert, key=key)
    assert out.content == b"price" and out.cipher == cipher


def test_envelope_refusals(client: FlaskClient, pkis: dict[str, Pki]) -> None:
    enc = pkis["sm2"].h.encryption_leaf
    assert enc is not None
    assert_error(
        post(client, "/envelopes", {"recipients": [], "content": b64(b"x")}), 400, "invalid_request"
    )
    assert_error(
        post(client, "/envelopes", {"recipients": [enc.pem().decode()]}), 400, "invalid_request"
    )
    bad_cipher = {"recipients": [enc.pem().decode()], "content": b64(b"x"), "cipher": "des"}
    assert_error(post(client, "/envelopes", bad_cipher), 400, "invalid_request")


def test_decrypt_with_platform_key(client: FlaskClient, pkis: dict[str, Pki], app: Any) -> None:
    """Swap in an encryption platform key: the SM2 encryption pair of the dual hierarchy."""
    from tests.cert_interop.web.conftest import SoftKey

    sm2pki = pkis["sm2"]
    enc = sm2pki.h.encryption_leaf
    assert enc is not None
    api = app.extensions["huren.crypto_api"]
    api.platform_keys["bid-opening"] = SoftKey("bid-opening", sm2pki.key("leaf-enc"), enc)
    try:
        envelope = cms.encrypt("开标".encode(), None, [enc])
        body = post(
            client, "/envelopes/decrypt", {"key": "bid-opening", "cms": b64(envelope)}
        ).get_json()
        assert base64.b64decode(body["content"]) == "开标".encode()
        other = cms.encrypt(b"x", None, [pkis["rsa"].h.leaf])
        assert_error(
            post(client, "/envelopes/decrypt", {"key": "bid-opening", "cms": b64(other)}),
            422,
            "decryption_failed",
        )
        tampered = bytearray(envelope)
        tampered[-1] ^= 1
        assert_error(
            post(client, "/envelopes/decrypt", {"key": "bid-opening", "cms": b64(bytes(tampered))}),
            422,
            "decryption_failed",
        )
    finally:
        del api.platform_keys["bid-opening"]


def test_sign_cms_with_platform_key(client: FlaskClient, pkis: dict[str, Pki]) -> None:
    body = post(
        client, "/signatures", {"key": "platform", "format": "cms", "data": b64(b"report")}
    ).get_json()
    message = base64.b64decode(body["cms"])
    result = cms.verify(message)
    assert result.valid and result.gm
    assert result.signers[0].certificate is not None
    assert result.signers[0].certificate.der == pkis["sm2"].h.leaf.der
    detached = post(
        client,
        "/signatures",
        {"key": "platform", "format": "cms", "data": b64(b"r"), "detached": True},
    ).get_json()
    assert cms.verify(base64.b64decode(detached["cms"]), content=b"r").valid
    assert_error(
        post(client, "/signatures", {"format": "cms", "data": b64(b"r"), "detached": "yes"}),
        400,
        "invalid_request",
    )


def test_request_size_limit(client: FlaskClient, app: Any) -> None:
    api = app.extensions["huren.crypto_api"]
    big = {"format": "cms", "cms": "A" * (api.max_request_bytes + 10)}
    resp = client.post("/api/v1/signatures/verify", json=big, headers=ALL)
    assert resp.status_code == 413


def test_chunked_oversized_body_is_413(client: FlaskClient, app: Any) -> None:
    import io

    api = app.extensions["huren.crypto_api"]
    body = b'{"format": "cms", "cms": "' + b"A" * (api.max_request_bytes + 10) + b'"}'
    resp = client.post(
        "/api/v1/signatures/verify",
        input_stream=io.BytesIO(body),
        headers={**ALL, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_base={"wsgi.input_terminated": True},  # as gunicorn sets for chunked bodies
    )
    assert_error(resp, 413, "request_too_large")


def test_signing_time_is_not_the_validation_time(client: FlaskClient, pkis: dict[str, Pki]) -> None:
    """signingTime is the signer's claim: a signature dated before the certificate's validity
    is still judged now (valid), and an explicit 'at' is honoured."""
    from datetime import timedelta

    pki = pkis["ec"]
    back = pki.h.leaf.not_before - timedelta(days=30)
    message = cms.sign(b"bid", None, [(pki.key("leaf"), pki.h.leaf)], signing_time=back)
    body = post(client, "/signatures/verify", {"format": "cms", "cms": b64(message)}).get_json()
    assert body["valid"] is True
    late = (pki.h.leaf.not_after + timedelta(days=1)).isoformat()
    body = post(
        client, "/signatures/verify", {"format": "cms", "cms": b64(message), "at": late}
    ).get_json()
    assert body["valid"] is False and body["signers"][0]["certificate"]["reason"] == "expired"


def test_cms_from_platform_key_carries_the_issuing_ca(
    client: FlaskClient, pkis: dict[str, Pki]
) -> None:
    body = post(
        client, "/signatures", {"key": "platform", "format": "cms", "data": b64(b"r")}
    ).get_json()
    result = cms.verify(base64.b64decode(body["cms"]))
    ders = {c.der for c in result.certificates}
    assert pkis["sm2"].h.intermediate.der in ders and pkis["sm2"].h.root.der not in ders
