"""Interoperability with the JS library sm-crypto (npm, pinned in js/package-lock.json).

The fixture installs it with ``npm ci`` when node_modules is missing; the tests skip only when
``node``/``npm`` are not on PATH.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cert_interop import sm2

JS_DIR = Path(__file__).resolve().parent / "js"
MESSAGES = ["", "abc", "投标文件 bid file №42", "x" * 1000]


class Oracle:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self._proc = proc

    def __call__(self, **req: Any) -> dict[str, Any]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps(req) + "\n")
        self._proc.stdin.flush()
        answer: dict[str, Any] = json.loads(self._proc.stdout.readline())
        assert "error" not in answer, answer
        return answer


@pytest.fixture(scope="module")
def js() -> Iterator[Oracle]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node/npm not installed: sm-crypto interop not run")
    if not (JS_DIR / "node_modules" / "sm-crypto").is_dir():
        subprocess.run(
            [npm, "ci", "--silent", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True, timeout=300
        )
    proc = subprocess.Popen(
        [node, "oracle.js"], cwd=JS_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        yield Oracle(proc)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)


@pytest.mark.parametrize("msg", MESSAGES)
def test_sm_crypto_signature_verifies_here(js: Oracle, msg: str) -> None:
    kp = js(op="keygen")
    pub = sm2.public_key_from_hex(kp["pub"])
    sig = bytes.fromhex(js(op="sign", msg=msg, priv=kp["priv"])["sig"])
    assert sm2.verify(pub, sig, msg.encode(), fmt="der")
    assert sm2.verify(pub, sig, msg.encode())
    assert not sm2.verify(pub, sig, msg.encode() + b"!")


@pytest.mark.parametrize("msg", MESSAGES)
def test_our_signature_verifies_in_sm_crypto(js: Oracle, msg: str) -> None:
    key = sm2.generate_private_key()
    pub_hex = sm2.public_key_to_hex(key.public_key())
    sig = sm2.sign(key, msg.encode()).hex()
    assert js(op="verify", msg=msg, sig=sig, pub=pub_hex)["ok"] is True
    assert js(op="verify", msg=msg + "!", sig=sig, pub=pub_hex)["ok"] is False


@pytest.mark.parametrize(("js_mode", "mode"), [(1, "c1c3c2"), (0, "c1c2c3")])
@pytest.mark.parametrize("msg", [m for m in MESSAGES if m])
def test_sm_crypto_ciphertext_decrypts_here(js: Oracle, js_mode: int, mode: str, msg: str) -> None:
    kp = js(op="keygen")
    key = sm2.private_key_from_hex(kp["priv"])
    ct = bytes.fromhex(js(op="encrypt", msg=msg, pub=kp["pub"], mode=js_mode)["ct"])
    assert len(ct) == 64 + 32 + len(msg.encode())  # C1 without its 04 byte
    assert sm2.decrypt(key, ct, mode=mode) == msg.encode()  # type: ignore[arg-type]
    assert sm2.decrypt(key, b"\x04" + ct, mode=mode) == msg.encode()  # type: ignore[arg-type]


@pytest.mark.parametrize(("js_mode", "mode"), [(1, "c1c3c2"), (0, "c1c2c3")])
@pytest.mark.parametrize("msg", [m for m in MESSAGES if m])
def test_our_ciphertext_decrypts_in_sm_crypto(
    js: Oracle, js_mode: int, mode: str, msg: str
) -> None:
    key = sm2.generate_private_key()
    ct = sm2.encrypt(key.public_key(), msg.encode(), mode=mode)  # type: ignore[arg-type]
    assert ct[0] == 4
    priv = sm2.private_key_to_hex(key)
    # sm-crypto expects C1 without the 04 byte.
    pt = js(op="decrypt", ct=ct[1:].hex(), priv=priv, mode=js_mode)["pt"]
    assert bytes(pt) == msg.encode()
