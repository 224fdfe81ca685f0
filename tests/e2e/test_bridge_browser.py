"""`huren-bridge.js` in real Chromium against a real `huren bridge serve` process.

A tiny page is served from an allowed origin (``http://127.0.0.1:PAGE``) and from one the bridge
does not allow (``http://localhost:PAGE``); the bridge runs in kiosk mode (auto-approve, PIN
from a file) with an encrypted RSA key file as its token.
"""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cert_interop import cms, keys
from cert_interop.x509 import build_certificate

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000
STATIC = Path(__file__).resolve().parents[2] / "idp" / "static"
PIN = "kiosk-密码"

if not os.path.exists(CHROMIUM):
    pytest.skip(
        f"{CHROMIUM} is missing (`make system-packages` installs it)", allow_module_level=True
    )

sync_api = pytest.importorskip("playwright.sync_api")

PAGE = b"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<title>trading platform</title><script src="/assets/huren-bridge.js"></script></head>
<body><p id="out">ready</p></body></html>"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def page_server() -> Iterator[int]:
    """Serves the test page and idp/static/huren-bridge.js as the provider would."""
    script = (STATIC / "huren-bridge.js").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/assets/huren-bridge.js":
                body, ctype = script, "text/javascript; charset=utf-8"
            elif self.path == "/":
                body, ctype = PAGE, "text/html; charset=utf-8"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@dataclass(frozen=True)
class Running:
    port: int
    certificate: bytes


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory, page_server: int) -> Iterator[Running]:
    base = tmp_path_factory.mktemp("bridge-e2e")
    key = rsa.generate_private_key(65537, 2048)
    cert = build_certificate(
        subject=[("CN", "浏览器测试投标人"), ("O", "Huren test"), ("C", "CN")],
        subject_public_key=key.public_key(),
        issuer_key=key,
        key_usage=["digital_signature"],
    )
    key_path, cert_path, pin_path = base / "key.pem", base / "cert.pem", base / "pin"
    key_path.write_bytes(keys.dump_private_key(key, "pem", PIN.encode()))
    cert_path.write_bytes(cert.pem())
    pin_path.write_text(PIN + "\n", encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from config.cli import main; main()",
            "bridge",
            "serve",
            "--port",
            str(port),
            "--allow-origin",
            f"http://127.0.0.1:{page_server}",
            "--token",
            f"file:{key_path}?cert={cert_path}",
            "--kiosk-auto-approve",
            "--pin-file",
            str(pin_path),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line)
        if "listening on" in line:
            break
    assert any("listening on" in line for line in lines), "".join(lines)
    drain = threading.Thread(target=lambda: [None for _ in proc.stdout or ()], daemon=True)
    drain.start()
    try:
        yield Running(port, cert.der)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


LIST_AND_SIGN = """async (port) => {
  const bridge = await HurenBridge.connect({ port });
  const status = await bridge.status();
  const certs = await bridge.certificates();
  const data = new TextEncoder().encode("投标文件 from the browser");
  const raw = await bridge.sign({ certificateId: certs[0].id, data, purpose: "浏览器测试" });
  const signed = await bridge.sign({ certificateId: certs[0].certificateId,
    data: HurenBridge.toBase64(data), format: "cms", detached: false, purpose: "CMS" });
  let bad = null;
  try {
    await bridge.sign({ certificateId: "no-such-id", data });
  } catch (err) {
    bad = { name: err.name, code: err.code, zh: err.messageZh, en: err.messageEn };
  }
  document.getElementById("out").textContent = certs[0].subject;
  return { status, certs, raw, signed, bad };
}"""


def test_certificates_and_sign_from_an_allowed_origin(
    page: Any, page_server: int, bridge: Running
) -> None:
    page.goto(f"http://127.0.0.1:{page_server}/")
    result = page.evaluate(LIST_AND_SIGN, bridge.port)
    assert result["status"] == {"bridge": "huren", "version": 1, "tokens": 1}
    [cert] = result["certs"]
    assert "CN=浏览器测试投标人" in cert["subject"] and cert["key_algorithm"] == "rsa"
    assert base64.b64decode(cert["certificate"]) == bridge.certificate
    sync_api.expect(page.locator("#out")).to_contain_text("浏览器测试投标人")

    data = "投标文件 from the browser".encode()
    raw = result["raw"]
    assert raw["algorithm"] == "rsa-pkcs1-sha256"
    public = x509.load_der_x509_certificate(bridge.certificate).public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    public.verify(base64.b64decode(raw["signature"]), data, padding.PKCS1v15(), hashes.SHA256())

    verdict = cms.verify(base64.b64decode(result["signed"]["cms"]))
    assert verdict.valid and not verdict.detached

    assert result["bad"]["name"] == "BridgeError"
    assert result["bad"]["code"] == "unknown_certificate"
    assert result["bad"]["zh"] and result["bad"]["en"]


NOT_RUNNING = """async (port) => {
  try {
    await HurenBridge.connect({ port, helpUrl: "https://example.cn/bridge-help" });
    return null;
  } catch (err) {
    return { name: err.name, code: err.code, zh: err.help.zh, en: err.help.en,
             url: err.help.url, text: String(err.help) };
  }
}"""


def test_bridge_not_running_explains_what_to_do(page: Any, page_server: int) -> None:
    page.goto(f"http://127.0.0.1:{page_server}/")
    down = free_port()  # nothing listens there
    result = page.evaluate(NOT_RUNNING, down)
    assert result["name"] == "BridgeNotRunning"
    assert "huren bridge serve" in result["zh"] and str(down) in result["zh"]
    assert "huren bridge serve" in result["en"] and str(down) in result["en"]
    assert result["url"] == "https://example.cn/bridge-help"
    assert result["text"] == result["zh"]  # the page is zh-CN


REFUSED = """async (port) => {
  const out = {};
  try {
    await fetch(`http://127.0.0.1:${port}/v1/certificates`, { headers: { "X-Huren-Bridge": "1" } });
    out.fetch = "read";
  } catch (err) {
    out.fetch = err.name;
  }
  try {
    await HurenBridge.connect({ port });
    out.client = "connected";
  } catch (err) {
    out.client = err.name;
    out.help = err.help && err.help.en;
  }
  return out;
}"""


def test_a_page_from_another_origin_is_refused(
    page: Any, page_server: int, bridge: Running
) -> None:
    page.goto(f"http://localhost:{page_server}/")  # same server, origin not allowed
    result = page.evaluate(REFUSED, bridge.port)
    assert result["fetch"] == "TypeError"  # CORS refused: the page reads nothing
    assert result["client"] == "OriginNotAllowed"
    assert "--allow-origin" in result["help"]
