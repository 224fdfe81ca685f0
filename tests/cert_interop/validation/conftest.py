"""Hierarchies for path validation tests, made once per session with `write_hierarchy`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cert_interop import keys
from cert_interop.pki_cli import Hierarchy, write_hierarchy
from cert_interop.x509 import Certificate, build_certificate

ALGS = ("rsa", "ec", "sm2")
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Made:
    alg: str
    out: Path
    h: Hierarchy

    def key(self, name: str) -> keys.PrivateKey:
        return keys.load_private_key((self.out / f"{name}.key").read_bytes())

    def new_key(self) -> keys.PrivateKey:
        """A fresh key pair of this hierarchy's algorithm (EC P-256 for speed when RSA)."""
        from cryptography.hazmat.primitives.asymmetric import ec

        from cert_interop import sm2

        if self.alg == "sm2":
            return sm2.generate_private_key()
        return ec.generate_private_key(ec.SECP256R1())

    def issue(
        self,
        cn: str,
        *,
        issuer: str = "intermediate",
        key: keys.PrivateKey | None = None,
        issuer_cert: Certificate | None = None,
        issuer_key: keys.PrivateKey | None = None,
        **kw: Any,
    ) -> Certificate:
        """A certificate for ``cn`` issued by the hierarchy's ``issuer`` (or the given one)."""
        subject_key = key or self.new_key()
        cert = issuer_cert or getattr(self.h, issuer)
        kw.setdefault("not_before", NOW - timedelta(days=1))
        kw.setdefault("not_after", NOW + timedelta(days=30))
        if "key_usage" not in kw and not kw.get("ca"):
            kw["key_usage"] = {"digital_signature", "non_repudiation"}
        return build_certificate(
            subject=[("C", "CN"), ("O", "Validation Test"), ("CN", cn)],
            subject_public_key=subject_key.public_key(),
            issuer_key=issuer_key or self.key(issuer),
            issuer=cert,
            **kw,
        )

    @property
    def path(self) -> Sequence[Certificate]:
        return (self.h.leaf, self.h.intermediate, self.h.root)


@pytest.fixture(scope="session")
def hierarchies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Made]:
    made: dict[str, Made] = {}
    for alg in ALGS:
        out = tmp_path_factory.mktemp(f"val-{alg}")
        made[alg] = Made(alg, out, write_hierarchy(out, alg=alg, dual=alg == "sm2"))
    return made


@pytest.fixture(scope="session")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Made:
    """A second EC hierarchy with the very same names as ``hierarchies['ec']`` but other keys."""
    out = tmp_path_factory.mktemp("val-ec-twin")
    return Made("ec", out, write_hierarchy(out, alg="ec"))


@pytest.fixture(params=ALGS)
def made(request: pytest.FixtureRequest, hierarchies: dict[str, Made]) -> Made:
    return hierarchies[request.param]
