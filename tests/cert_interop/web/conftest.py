"""A Flask app with only the integrator API, a token table and soft platform keys.

The blueprint's seams (token checking, trust store, platform keys) are protocols; here they are
filled with small real implementations. The end-to-end tests in tests/config run the whole
service with the provider's access tokens and the SQL trust store.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from cert_interop import keys, signatures, sm2
from cert_interop.pki_cli import Hierarchy, write_hierarchy
from cert_interop.validation import ValidationResult, validate
from cert_interop.web import ApiError, Caller, CryptoApi, crypto_api_blueprint
from cert_interop.x509 import Certificate

TOKENS = {
    "verify-token": Caller("c1", frozenset({"crypto:verify"})),
    "all-token": Caller(
        "c2", frozenset({"crypto:verify", "crypto:sign", "crypto:encrypt", "crypto:decrypt"})
    ),
}


def authorize(token: str) -> Caller:
    caller = TOKENS.get(token)
    if caller is None:
        raise ApiError("invalid_token", 401)
    return caller


@dataclass
class AnchorValidator:
    anchors: list[Certificate]
    intermediates: list[Certificate]

    def validate(
        self,
        leaf: Certificate,
        *,
        intermediates: Sequence[Certificate] = (),
        purpose: str = "sign",
        at: datetime | None = None,
        extended_key_usage: str | None = None,
    ) -> ValidationResult:
        return validate(
            leaf,
            intermediates=[*intermediates, *self.intermediates],
            anchors=self.anchors,
            purpose=purpose,  # type: ignore[arg-type]
            at=at,
            extended_key_usage=extended_key_usage,
        )


@dataclass
class SoftKey:
    name: str
    key: keys.PrivateKey
    certificate: Certificate

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
        return signatures.sign(self.key, algorithm, data=data, digest=digest)

    def unwrap(self, encrypted_key: bytes, algorithm: str) -> bytes:
        assert isinstance(self.key, sm2.Sm2PrivateKey)
        return sm2.decrypt(self.key, encrypted_key, mode="asn1")


@dataclass(frozen=True)
class Pki:
    out: Path
    h: Hierarchy

    def key(self, name: str) -> keys.PrivateKey:
        return keys.load_private_key((self.out / f"{name}.key").read_bytes())


@pytest.fixture(scope="session")
def pkis(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pki]:
    made = {}
    for alg in ("rsa", "ec", "sm2"):
        out = tmp_path_factory.mktemp(f"api-{alg}")
        made[alg] = Pki(out, write_hierarchy(out, alg=alg, dual=alg == "sm2"))
    return made


@pytest.fixture
def app(pkis: dict[str, Pki]) -> Flask:
    anchors = [p.h.root for p in pkis.values()]
    inters = [p.h.intermediate for p in pkis.values()]
    sm2pki = pkis["sm2"]
    platform = {
        "platform": SoftKey("platform", sm2pki.key("leaf"), sm2pki.h.leaf),
    }
    app = Flask("api-test")
    app.register_blueprint(
        crypto_api_blueprint(CryptoApi(authorize, AnchorValidator(anchors, inters), platform))
    )
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()
