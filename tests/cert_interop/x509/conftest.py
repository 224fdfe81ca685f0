"""Hierarchies made once per test session by `write_hierarchy` (what `huren pki hierarchy` runs)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from cert_interop import keys
from cert_interop.pki_cli import Hierarchy, write_hierarchy

ALGS = ("rsa", "ec", "sm2")


@dataclass(frozen=True)
class Made:
    alg: str
    out: Path
    h: Hierarchy

    def key(self, name: str) -> keys.PrivateKey:
        return keys.load_private_key((self.out / f"{name}.key").read_bytes())


@pytest.fixture(scope="session")
def hierarchies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Made]:
    made: dict[str, Made] = {}
    for alg in ALGS:
        out = tmp_path_factory.mktemp(f"pki-{alg}")
        made[alg] = Made(alg, out, write_hierarchy(out, alg=alg, dual=alg == "sm2"))
    return made


@pytest.fixture(params=ALGS)
def made(request: pytest.FixtureRequest, hierarchies: dict[str, Made]) -> Made:
    return hierarchies[request.param]
