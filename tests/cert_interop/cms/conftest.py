"""Parties for the CMS tests: a signer / recipient per algorithm, from `write_hierarchy` (what
`huren pki hierarchy` runs), made once per session."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from cert_interop import keys
from cert_interop.pki_cli import Hierarchy, write_hierarchy
from cert_interop.x509 import Certificate

ALGS = ("rsa", "ec", "sm2")


@dataclass(frozen=True)
class Party:
    alg: str
    out: Path
    h: Hierarchy
    key: keys.PrivateKey
    """The signing leaf's key."""
    cert: Certificate
    enc_key: keys.PrivateKey
    """The key that receives envelopes (the SM2 encryption leaf, else the same leaf)."""
    enc_cert: Certificate

    @property
    def chain(self) -> list[Certificate]:
        return [self.h.intermediate]

    @property
    def key_path(self) -> Path:
        return self.out / "leaf.key"

    @property
    def enc_key_path(self) -> Path:
        return self.out / ("leaf-enc.key" if self.alg == "sm2" else "leaf.key")

    @property
    def enc_cert_path(self) -> Path:
        return self.out / ("leaf-enc.pem" if self.alg == "sm2" else "leaf.pem")


@pytest.fixture(scope="session")
def parties(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Party]:
    made: dict[str, Party] = {}
    for alg in ALGS:
        out = tmp_path_factory.mktemp(f"cms-{alg}")
        h = write_hierarchy(out, alg=alg, dual=alg == "sm2")
        key = keys.load_private_key((out / "leaf.key").read_bytes())
        if alg == "sm2":
            assert h.encryption_leaf is not None
            enc_key = keys.load_private_key((out / "leaf-enc.key").read_bytes())
            enc_cert = h.encryption_leaf
        else:
            enc_key, enc_cert = key, h.leaf
        made[alg] = Party(alg, out, h, key, h.leaf, enc_key, enc_cert)
    return made


@pytest.fixture(params=ALGS)
def party(request: pytest.FixtureRequest, parties: dict[str, Party]) -> Party:
    return parties[request.param]


class Pipe(io.RawIOBase):
    """A non-seekable stream over bytes that returns short reads, like a pipe."""

    def __init__(self, data: bytes, step: int = 7000) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buf), self._step, len(self._data) - self._pos)
        buf[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


class Sink(io.RawIOBase):
    """A write-only stream that counts bytes (and keeps them when asked)."""

    def __init__(self, keep: bool = False) -> None:
        self.count = 0
        self._keep = keep
        self._parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        self.count += len(data)
        if self._keep:
            self._parts.append(bytes(data))
        return len(data)

    def value(self) -> bytes:
        return b"".join(self._parts)
