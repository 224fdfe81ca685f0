"""The service's platform key on a real PKCS#11 token (SoftHSM2): the composition root's
adapter signs and unwraps through the driver, and the integrator API decrypts an envelope with
it; a wrong PIN is a 503 ``key_unavailable``, never a stack trace."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest

from cert_interop import cms, signatures
from cert_interop.web import ApiError
from config.app import create_app
from config.crypto_api import TokenPlatformKey
from config.runtime import MIGRATION_LOCATIONS
from config.settings import Settings
from idp.clients import create_client
from storage.migrate import upgrade
from tests.drivers.conftest import USER_PIN, Issued, SoftHsm


def uri(softhsm: SoftHsm, pin: str = USER_PIN) -> str:
    return f"pkcs11:token=Huren;object=platform?module-path={softhsm.module}&pin-value={pin}"


def test_sign_and_unwrap_through_the_token(softhsm: SoftHsm, issued: dict[str, Issued]) -> None:
    key = TokenPlatformKey("bid-opening", uri(softhsm))
    assert key.certificate.der == issued["rsa"].cert.der
    sig = key.sign("rsa-pkcs1-sha256", data=b"report", digest=None)
    assert signatures.verify(issued["rsa"].cert.public_key, "rsa-pkcs1-sha256", sig, data=b"report")
    signed = cms.sign(b"report", None, [(key, key.certificate)])
    assert cms.verify(signed).valid
    envelope = cms.encrypt("开标".encode(), None, [key.certificate], rsa_padding="pkcs1v15")
    assert (
        cms.decrypt(envelope, certificate=key.certificate, unwrap=key.unwrap).content
        == "开标".encode()
    )


def test_oaep_sha256_is_unsupported_on_softhsm(softhsm: SoftHsm) -> None:
    key = TokenPlatformKey("bid-opening", uri(softhsm))
    envelope = cms.encrypt(b"x", None, [key.certificate], rsa_padding="oaep")
    with pytest.raises(Exception) as caught:
        cms.decrypt(envelope, certificate=key.certificate, unwrap=key.unwrap)
    assert "rsa-oaep-sha256" in str(caught.value)


def test_wrong_pin_is_key_unavailable(softhsm: SoftHsm) -> None:
    """On the token ``Second``: PKCS#11 login state is per process, so the ``Huren`` token,
    logged in by the other tests, would accept any PIN from this process."""
    wrong = uri(softhsm, pin="000000").replace("token=Huren", "token=Second")
    key = TokenPlatformKey("bid-opening", wrong)
    with pytest.raises(ApiError) as caught:
        key.sign("rsa-pkcs1-sha256", data=b"x", digest=None)
    assert (caught.value.code, caught.value.status) == ("key_unavailable", 503)
    assert "000000" not in str(caught.value)


def test_api_decrypts_with_the_hsm_key(softhsm: SoftHsm, tmp_path: Path) -> None:
    settings = Settings.from_values(
        {"data_dir": str(tmp_path / "var"), "database_url": f"sqlite:///{tmp_path}/h.db"}
    )
    settings = replace(settings, platform_keys=(("bid-opening", uri(softhsm)),))
    upgrade(settings.database_url, MIGRATION_LOCATIONS)
    app = create_app(settings)
    try:
        idp = app.extensions["huren.idp"]
        idp.keys.ensure()
        client = create_client(
            idp.sessions,
            name="opening",
            grant_types=["client_credentials"],
            scopes=["crypto:decrypt"],
        )
        web = app.test_client()
        raw = f"{client.client.client_id}:{client.client_secret}".encode()
        tok = web.post(
            "/token",
            data={"grant_type": "client_credentials", "scope": "crypto:decrypt"},
            headers={"Authorization": "Basic " + base64.b64encode(raw).decode()},
        ).get_json()["access_token"]
        listed = web.get("/api/v1/platform-keys").get_json()["keys"]
        cert_pem = listed[0]["certificate"].encode()
        from cert_interop.x509 import parse_certificate

        envelope = cms.encrypt(
            b"sealed bid", None, [parse_certificate(cert_pem)], rsa_padding="pkcs1v15"
        )
        body = web.post(
            "/api/v1/envelopes/decrypt",
            json={"key": "bid-opening", "cms": base64.b64encode(envelope).decode()},
            headers={"Authorization": "Bearer " + tok},
        ).get_json()
        assert base64.b64decode(body["content"]) == b"sealed bid"
    finally:
        app.extensions["huren.engine"].dispose()
