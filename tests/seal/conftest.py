"""A small PKI, a trust store on the test database and market entities for the seal tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cert_interop import keys as keymod
from cert_interop import sm2
from cert_interop.profiles import Identity
from cert_interop.signatures import sign
from cert_interop.truststore import TrustStore
from cert_interop.x509 import (
    Certificate,
    Revocation,
    build_certificate,
    build_crl,
    string_extension,
)
from config.cli import cli
from seal.records.directory import EntityFacts
from storage.db import make_session_factory
from tests.idp.conftest import app, backend, idp, settings, web  # noqa: F401 (the provider app)

USCC = "91350100M000100Y43"
OTHER_USCC = "91110108551385082Q"
OID_ORG_CODE = "1.2.156.10260.4.1.4"  # GM/T 0015-2012: credit code


def keygen(alg: str) -> keymod.PrivateKey:
    if alg == "rsa":
        return rsa.generate_private_key(65537, 2048)
    if alg == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return sm2.generate_private_key()


@dataclass
class Leaf:
    cert: Certificate
    key: keymod.PrivateKey


@dataclass
class Ca:
    alg: str
    name: str
    key: keymod.PrivateKey = field(init=False)
    cert: Certificate = field(init=False)
    revoked: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = keygen(self.alg)
        now = datetime.now(UTC) - timedelta(minutes=10)
        self.cert = build_certificate(
            subject=[("C", "CN"), ("O", "Huren Seal Test"), ("CN", self.name)],
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
        cn: str = "测试投标有限公司",
        alg: str | None = None,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        usage: frozenset[str] = frozenset({"digital_signature", "non_repudiation"}),
    ) -> Leaf:
        key = keygen(alg or self.alg)
        now = datetime.now(UTC) - timedelta(minutes=10)
        extra = [string_extension(OID_ORG_CODE, uscc)] if uscc else []
        cert = build_certificate(
            subject=[("C", "CN"), ("O", cn), ("CN", cn)],
            subject_public_key=key.public_key(),
            issuer_key=self.key,
            issuer=self.cert,
            not_before=not_before or now,
            not_after=not_after or now + timedelta(days=365),
            ca=False,
            key_usage=set(usage),
            extra_extensions=extra,
        )
        return Leaf(cert, key)

    def crl(self) -> bytes:
        now = datetime.now(UTC) - timedelta(minutes=5)
        return build_crl(
            issuer=self.cert,
            issuer_key=self.key,
            revoked=[Revocation(s, now, "key_compromise") for s in self.revoked],
            this_update=now,
            next_update=now + timedelta(days=7),
            crl_number=len(self.revoked) + 1,
        ).pem()


@dataclass
class Pki:
    rsa: Ca
    ec: Ca
    sm2: Ca
    stranger: Ca


_PKI: Pki | None = None


@pytest.fixture
def pki() -> Pki:
    global _PKI
    if _PKI is None:
        _PKI = Pki(
            Ca("rsa", "Seal RSA CA"),
            Ca("ec", "Seal EC CA"),
            Ca("sm2", "Seal SM2 CA"),
            Ca("ec", "Stranger CA"),
        )
    return _PKI


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def trust_store(sessions: sessionmaker[Session], pki: Pki) -> TrustStore:
    store = TrustStore(sessions)
    for ca in (pki.rsa, pki.ec, pki.sm2):
        store.add(ca.cert.pem(), profile="default", name=ca.name)
        store.upload_crl(ca.crl())
    return store


@dataclass
class Directory:
    """Market entities as the identity provider would answer for them (entity id → facts, USCC)."""

    entities: dict[str, tuple[EntityFacts, str | None]] = field(default_factory=dict)

    def add(self, entity_id: str, entity_type: str, status: str, uscc: str | None) -> None:
        self.entities[entity_id] = (EntityFacts(entity_id, entity_type, "测试主体", status), uscc)

    def entity(self, entity_id: str) -> EntityFacts | None:
        found = self.entities.get(entity_id)
        return found[0] if found else None

    def holds(self, entity_id: str, identity: Identity | None) -> bool:
        found = self.entities.get(entity_id)
        return bool(found and identity and found[1] and identity.credit_code == found[1])


@pytest.fixture
def directory() -> Directory:
    d = Directory()
    d.add("e-verified", "legal_person", "verified", USCC)
    d.add("e-other", "legal_person", "verified", OTHER_USCC)
    d.add("e-pending", "legal_person", "pending", USCC)
    d.add("e-person", "natural_person", "verified", None)
    return d


@dataclass
class KeyMaker:
    """The seal-making authority: a key and its certificate (what a platform key offers)."""

    key: keymod.PrivateKey
    certificate: Certificate
    name: str = "seal-maker"

    def sign(self, algorithm: str, *, data: bytes | None, digest: bytes | None) -> bytes:
        return sign(self.key, algorithm, data=data, digest=digest)


@pytest.fixture(params=["sm2", "rsa"])
def maker(request: pytest.FixtureRequest, pki: Pki) -> KeyMaker:
    ca = pki.sm2 if request.param == "sm2" else pki.rsa
    leaf = ca.issue(uscc=None, cn="贵州省公共资源交易电子印章制作中心")
    return KeyMaker(leaf.key, leaf.cert)


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f"
    b"\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def png() -> Iterator[bytes]:
    yield PNG


@dataclass
class Operator:
    runner: CliRunner
    env: dict[str, str]
    base: Path

    def run(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(
            cli, list(args), env=self.env, input=input, catch_exceptions=False
        )


@pytest.fixture
def op(tmp_path: Path, pki: Pki) -> Operator:
    maker = pki.sm2.issue(uscc=None, cn="电子印章制作中心")
    (tmp_path / "maker.key").write_bytes(keymod.dump_private_key(maker.key, "pem", b"maker-pin"))
    (tmp_path / "maker.pem").write_bytes(maker.cert.pem())
    (tmp_path / "maker.pin").write_text("maker-pin\n")
    uri = (
        f"file:{tmp_path / 'maker.key'}?cert={tmp_path / 'maker.pem'}"
        f"&pin-source={tmp_path / 'maker.pin'}"
    )
    env = {
        "HUREN_DATA_DIR": str(tmp_path / "var"),
        "HUREN_PLATFORM_KEYS": f"seal-maker={uri}",
        "HUREN_SEAL_MAKER": "seal-maker",
        "HUREN_REVOCATION_ONLINE": "false",
    }
    operator = Operator(CliRunner(), env, tmp_path)
    assert operator.run("db", "upgrade").exit_code == 0
    for ca in (pki.sm2, pki.rsa):
        (tmp_path / "ca.pem").write_bytes(ca.cert.pem())
        (tmp_path / "ca.crl").write_bytes(ca.crl())
        assert (
            operator.run("ca", "add", str(tmp_path / "ca.pem"), "--profile", "default").exit_code
            == 0
        )
        assert operator.run("ca", "crl", "upload", str(tmp_path / "ca.crl")).exit_code == 0
    return operator


def entity(op: Operator) -> str:
    """A legal person imported and approved through the CLI; its entity ID."""
    rows = op.base / "entities.jsonl"
    rows.write_text(
        json.dumps(
            {
                "entity_type": "legal_person",
                "entity_name": "测试投标有限公司",
                "uscc": USCC,
                "agent_name": "张三",
                "phone": "13800138000",
            },
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    report = op.base / "report.jsonl"
    result = op.run("entity", "import", str(rows), "--report", str(report))
    assert result.exit_code in (0, 1), result.output
    entity_id = str(json.loads(report.read_text().splitlines()[0])["entity_id"])
    approved = op.run("entity", "approve", entity_id)
    assert approved.exit_code == 0, approved.output
    return entity_id
