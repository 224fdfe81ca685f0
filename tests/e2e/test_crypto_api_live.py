"""The integrator API on a live `huren serve` seeded with `huren demo seed`: the demo API
client gets a token over HTTP and validates, verifies and envelopes with the demo SM2 PKI."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import requests
from e2e_support import LiveServer

from cert_interop import cms, keys, sm2
from cert_interop.x509 import parse_certificate


def _token(server: LiveServer, demo: dict[str, str], scope: str) -> dict[str, str]:
    resp = requests.post(
        server.url + "/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(demo["api_client_id"], demo["api_client_secret"]),
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    return {"Authorization": "Bearer " + resp.json()["access_token"]}


def test_demo_api_client_end_to_end(demo_server: LiveServer) -> None:
    demo = json.loads((demo_server.data_dir / "demo.json").read_text())
    pki = Path(demo["pki_dir"])
    leaf = parse_certificate((pki / "leaf.pem").read_bytes())
    enc = parse_certificate((pki / "leaf-enc.pem").read_bytes())
    auth = _token(demo_server, demo, "crypto:verify crypto:encrypt")

    api = demo_server.url + "/api/v1"
    body = requests.post(
        api + "/certificates/validate",
        json={"certificate": leaf.pem().decode()},
        headers=auth,
        timeout=30,
    ).json()
    assert body["valid"] is True and body["profile"] == "gmt0015-2012"
    assert body["identity"]["credit_code"]
    assert body["notes"], "the demo CA is soft-fail and nobody serves its revocation URLs"

    key = keys.load_private_key((pki / "leaf.key").read_bytes())
    assert isinstance(key, sm2.Sm2PrivateKey)
    sig = sm2.sign(key, "投标".encode())
    body = requests.post(
        api + "/signatures/verify",
        json={
            "certificate": leaf.pem().decode(),
            "data": base64.b64encode("投标".encode()).decode(),
            "signature": base64.b64encode(sig).decode(),
        },
        headers=auth,
        timeout=30,
    ).json()
    assert body["valid"] is True

    made = requests.post(
        api + "/envelopes",
        json={
            "recipients": [enc.pem().decode()],
            "content": base64.b64encode(b"price 100").decode(),
        },
        headers=auth,
        timeout=30,
    )
    assert made.status_code == 200, made.text
    enc_key = keys.load_private_key((pki / "leaf-enc.key").read_bytes())
    opened = cms.decrypt(base64.b64decode(made.json()["cms"]), certificate=enc, key=enc_key)
    assert opened.content == b"price 100"

    denied = requests.post(api + "/signatures", json={"data": "eA=="}, headers=auth, timeout=10)
    assert denied.status_code == 403 and denied.json()["error"] == "insufficient_scope"
    assert denied.json()["message_zh"]
    doc = requests.get(api + "/openapi.json", timeout=10).json()
    assert "/certificates/validate" in doc["paths"]
