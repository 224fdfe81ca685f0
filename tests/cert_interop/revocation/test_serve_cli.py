"""`huren pki serve-revocation` over a `huren pki hierarchy` directory, in a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from cert_interop.pki_cli import pki_group, write_hierarchy
from cert_interop.revocation import DefaultChecker
from cert_interop.validation import Reason, validate
from cert_interop.x509 import parse_certificate

from .conftest import closed_port


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    port = closed_port()
    out = tmp_path / "pki"
    write_hierarchy(out, alg="ec", base_url=f"http://127.0.0.1:{port}/pki/ec")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from cert_interop.pki_cli import pki_group; pki_group()",
         "serve-revocation", str(out), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        summary = json.loads(proc.stdout.readline())
        yield out, summary["url"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_serves_a_hierarchy(served: tuple[Path, str]) -> None:
    out, url = served
    assert url.startswith("http://127.0.0.1:")
    leaf, revoked, inter, root = (
        parse_certificate((out / f"{n}.pem").read_bytes())
        for n in ("leaf", "revoked", "intermediate", "root")
    )
    for order in (("ocsp", "crl"), ("crl",)):
        checker = DefaultChecker(None, order=order)
        good = validate(leaf, intermediates=[inter], anchors=[root], revocation=checker)
        assert good.valid and good.revocation_checked, good.detail
        bad = validate(revoked, intermediates=[inter], anchors=[root], revocation=checker)
        assert bad.reason is Reason.REVOKED and f"according to {order[0]}" in bad.detail
    assert requests.get(f"{url}/pki/ec/intermediate.cer", timeout=5).content == inter.der
    assert requests.get(f"{url}/pki/ec/root.pem", timeout=5).content == root.pem()
    assert requests.get(f"{url}/pki/ec/intermediate.key", timeout=5).status_code == 404


def test_missing_directory_contents_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(pki_group, ["serve-revocation", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and "intermediate.pem" in result.stderr
