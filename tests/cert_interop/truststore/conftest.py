"""CA hierarchies for the trust store tests (one per key algorithm, made once per session) and a
trust store on a migrated SQLite or PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.pki_cli import write_hierarchy
from cert_interop.revocation import RevocationAnswer, RevocationStatus
from cert_interop.truststore import TrustStore
from cert_interop.x509 import Certificate, string_extension
from storage.db import make_session_factory
from tests.cert_interop.validation.conftest import NOW, Made

__all__ = ["ECDSA_PROFILE", "ID_NUMBER", "NOW", "RSA_CREDIT_CODE", "Made", "UnknownChecker"]

ID_NUMBER = "11010519491231002X"
RSA_CREDIT_CODE = "91110000100006485K"
ECDSA_PROFILE = """
name = "example-ec-ca"
description = "Example EC CA: CN = 041@code@name@seq"

[[rules]]
id = "cn-code"
subject = "CN"
pattern = '^041@(?P<value>[^@]+)@'
field = "credit_code"
entity_type = "legal_person"

[[rules]]
id = "cn-name"
subject = "CN"
pattern = '^041@[^@]*@(?P<value>[^@]+)@'
field = "organization_name"
"""


@dataclass
class UnknownChecker:
    """A revocation source that never knows: every answer is UNKNOWN (it records the asks)."""

    asked: list[str]

    def check(self, cert: Certificate, issuer: Certificate, at: datetime) -> RevocationAnswer:
        self.asked.append(cert.subject.rfc4514)
        return RevocationAnswer(RevocationStatus.UNKNOWN, "ocsp http://ocsp.invalid", "timed out")


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Made]:
    """rsa, ec, sm2: root → intermediate → leaf (+ revoked leaf, CRLs) by ``write_hierarchy``;
    ``ec-twin``: the very same names as ``ec`` with other keys."""
    made: dict[str, Made] = {}
    for alg in ("rsa", "ec", "sm2"):
        out = tmp_path_factory.mktemp(f"ts-{alg}")
        made[alg] = Made(alg, out, write_hierarchy(out, alg=alg))
    out = tmp_path_factory.mktemp("ts-ec-twin")
    made["ec-twin"] = Made("ec", out, write_hierarchy(out, alg="ec"))
    return made


@pytest.fixture(scope="session")
def sm2_person(pki: dict[str, Made]) -> Certificate:
    """An SM2 leaf carrying a GM/T 0015-2023 ID-number extension (a natural person)."""
    return pki["sm2"].issue(
        "张三",
        extra_extensions=[string_extension("1.2.156.10260.4.1.1.1", ID_NUMBER)],
    )


@pytest.fixture(scope="session")
def rsa_company(pki: dict[str, Made]) -> Certificate:
    """An RSA leaf with the credit code in extension 1.2.86.11.7.4."""
    return pki["rsa"].issue(
        "某某建设集团有限公司",
        extra_extensions=[string_extension("1.2.86.11.7.4", RSA_CREDIT_CODE)],
    )


@pytest.fixture(scope="session")
def ec_company(pki: dict[str, Made]) -> Certificate:
    """An EC leaf whose CN carries the code and the name (``041@code@name@seq``)."""
    return pki["ec"].issue("041@91350100M000100Y43@测试投标有限公司@1")


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def profiles_dir(tmp_path: Path) -> Path:
    d = tmp_path / "ca-profiles"
    d.mkdir()
    (d / "example-ec-ca.toml").write_text(ECDSA_PROFILE, encoding="utf-8")
    return d


@pytest.fixture
def store(sessions: sessionmaker[Session], profiles_dir: Path) -> Iterator[TrustStore]:
    yield TrustStore(sessions, profiles_dir=profiles_dir)


def bundle(*certs: Certificate) -> bytes:
    return b"".join(c.pem() for c in certs)
