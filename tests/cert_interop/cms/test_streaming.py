"""Constant memory: a 50 MB stream through sign, verify, encrypt and decrypt while tracemalloc
watches the peak of Python allocations (the 200 MB run is the benchmark's, bench/cms_speed.py)."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from cert_interop import cms

from .conftest import Party, Sink

SIZE = 50 << 20
LIMIT = 4 << 20
"""Peak allowed: a few chunks and the certificates, far below the 50 MB that went through."""


class Generated:
    """50 MB of deterministic bytes, produced on demand: the input is never in memory either."""

    def __init__(self, size: int) -> None:
        self._left = size
        self._block = hashlib.sha512(b"huren").digest() * 1024  # 64 KiB

    def read(self, n: int = -1) -> bytes:
        n = min(self._left, len(self._block) if n < 0 else n, len(self._block))
        self._left -= n
        return self._block[:n]


def _peak(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def rsa(parties: dict[str, Party]) -> Party:
    return parties["rsa"]


def test_sign_and_verify_stay_small(rsa: Party, tmp_path: Path) -> None:
    signed = tmp_path / "big.p7s"
    with open(signed, "wb") as out:
        peak = _peak(lambda: cms.sign(Generated(SIZE), out, [(rsa.key, rsa.cert)]))
    assert peak < LIMIT, peak
    assert signed.stat().st_size > SIZE
    content = Sink()
    results: list[cms.SignedDataResult] = []
    with open(signed, "rb") as src:
        peak = _peak(lambda: results.append(cms.verify(src, out=content)))
    assert peak < LIMIT, peak
    assert results[0].valid and content.count == SIZE


def test_detached_from_a_file_stays_small(rsa: Party, tmp_path: Path) -> None:
    data = tmp_path / "big.bin"
    with open(data, "wb") as fh:
        src = Generated(SIZE)
        while block := src.read():
            fh.write(block)
    sig = Sink(keep=True)
    with open(data, "rb") as fh:
        peak = _peak(lambda: cms.sign(fh, sig, [(rsa.key, rsa.cert)], detached=True))
    assert peak < LIMIT
    results: list[cms.SignedDataResult] = []
    with open(data, "rb") as fh:
        peak = _peak(lambda: results.append(cms.verify(sig.value(), content=fh)))
    assert peak < LIMIT
    assert results[0].valid and results[0].content_length == SIZE
    attached = tmp_path / "attached.p7s"  # seekable input: DER, the file read twice
    with open(data, "rb") as fh, open(attached, "wb") as out:
        peak = _peak(lambda: cms.sign(fh, out, [(rsa.key, rsa.cert)]))
    assert peak < LIMIT
    assert attached.read_bytes()[:2] == b"\x30\x84"  # definite length, 4 length octets


def test_encrypt_and_decrypt_stay_small(rsa: Party, tmp_path: Path) -> None:
    env = tmp_path / "big.p7m"
    with open(env, "wb") as out:
        peak = _peak(lambda: cms.encrypt(Generated(SIZE), out, [rsa.enc_cert]))
    assert peak < LIMIT, peak
    plain = Sink()
    with open(env, "rb") as src:
        peak = _peak(lambda: cms.decrypt(src, plain, certificate=rsa.enc_cert, key=rsa.enc_key))
    assert peak < LIMIT, peak
    assert plain.count == SIZE


def test_sm2_sm4_stream(parties: dict[str, Party], tmp_path: Path) -> None:
    p = parties["sm2"]
    size = 8 << 20  # SM4 is slower; the memory behaviour is the same code
    env = tmp_path / "sm4.p7m"
    with open(env, "wb") as out:
        peak = _peak(lambda: cms.encrypt(Generated(size), out, [p.enc_cert]))
    assert peak < LIMIT
    plain = Sink()
    with open(env, "rb") as src:
        res = cms.decrypt(src, plain, certificate=p.enc_cert, key=p.enc_key)
    assert res.cipher == "sm4-cbc" and plain.count == size
