"""The local bridge over real HTTP on 127.0.0.1, with real SoftHSM2 and soft tokens.

Consent is given the way a person gives it: by reading the bridge's own consent page and
posting its form (secret embedded in the page, PIN typed there), or by the kiosk setting.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from cert_interop import cms, keys, sm2
from cert_interop.signatures import verify as verify_signature
from config.bridge_cli import bridge_group, cms_signer
from drivers.bridge import (
    BridgeConfig,
    BridgeServer,
    KioskConsent,
    PageConsent,
    TerminalConsent,
    TokenRegistry,
    normalize_origin,
    parse_origin,
)
from tests.drivers.conftest import USER_PIN, Issued, SoftHsm

ORIGIN = "https://ggzy.example.cn"
OTHER = "https://evil.example"
FILE_PIN = "文件密码-2024"
CEK = bytes(range(32))
WAIT = 15.0  # seconds a helper waits for something to appear (not an assertion)


# --- the bridge under test -------------------------------------------------------------------


@dataclass
class Bridge:
    port: int
    log: list[str] = field(default_factory=list)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        *,
        host: str | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host if host is not None else f"127.0.0.1:{self.port}")
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if body is not None and "Content-Length" not in (headers or {}):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        finally:
            conn.close()

    def api(
        self, method: str, path: str, doc: dict[str, Any] | None = None, *, origin: str = ORIGIN
    ) -> tuple[int, dict[str, Any]]:
        headers = {"Origin": origin}
        body = None
        if doc is not None:
            body = json.dumps(doc).encode()
            headers.update({"Content-Type": "application/json", "X-Huren-Bridge": "1"})
        status, _h, raw = self.request(method, path, body, headers)
        return status, json.loads(raw)


@contextmanager
def running(
    registry: TokenRegistry, consent: Any, *, timeout: float = 30.0, cms: bool = True
) -> Iterator[Bridge]:
    log: list[str] = []
    server = BridgeServer(
        BridgeConfig(
            allowed_origins=[ORIGIN, "http://127.0.0.1:1"],
            consent=consent,
            registry=registry,
            port=0,
            consent_timeout=timeout,
            cms_signer=cms_signer if cms else None,
            log=log.append,
        )
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Bridge(server.port, log)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


# --- driving the consent page ----------------------------------------------------------------


def pending_ids(bridge: Bridge) -> tuple[str, list[str], str]:
    status, _headers, raw = bridge.request("GET", "/consent")
    assert status == 200, raw
    page = raw.decode()
    secret = re.search(r'name="secret" value="([^"]+)"', page)
    ids = list(dict.fromkeys(re.findall(r'data-request="([^"]+)"', page)))
    return (secret.group(1) if secret else ""), ids, page


def wait_pending(bridge: Bridge) -> tuple[str, str, str]:
    """(secret, request id, page) of the first pending request, once one shows."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        secret, ids, page = pending_ids(bridge)
        if ids:
            return secret, ids[0], page
        time.sleep(0.02)
    raise AssertionError("no consent request appeared on the consent page")


def decide(
    bridge: Bridge,
    form: dict[str, str],
    *,
    origin: str | None = "self",
) -> tuple[int, http.client.HTTPMessage, bytes]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if origin == "self":
        headers["Origin"] = f"http://127.0.0.1:{bridge.port}"
    elif origin is not None:
        headers["Origin"] = origin
    return bridge.request("POST", "/consent/decide", urlencode(form).encode(), headers)


def answer(bridge: Bridge, action: str = "approve", pin: str | None = None) -> str:
    """Approve or deny the next pending request on the page; returns the page shown."""
    secret, request_id, page = wait_pending(bridge)
    form = {"secret": secret, "request": request_id, "action": action}
    if pin is not None:
        form["pin"] = pin
    status, headers, _ = decide(bridge, form)
    assert status == 303 and headers["Location"].startswith("/consent?done=")
    return page


def in_background(call: Callable[[], Any]) -> Future[Any]:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(call)
    pool.shutdown(wait=False)
    return future


def with_consent(
    bridge: Bridge, call: Callable[[], Any], *steps: tuple[str, str | None]
) -> tuple[Any, list[str]]:
    """Run ``call`` while answering consent requests ``steps`` ((action, pin), …) on the page."""
    future = in_background(call)
    pages = [answer(bridge, action, pin) for action, pin in steps]
    return future.result(timeout=60), pages


# --- tokens ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, issued: dict[str, Issued]) -> dict[str, str]:
    """Token URIs of soft tokens: an RSA PKCS#12, SM2 signing and SM2 encryption key files."""
    base = tmp_path_factory.mktemp("bridge-tokens")
    item = issued["rsa"]
    key = item.key
    assert isinstance(key, rsa.RSAPrivateKey)
    p12 = base / "bidder.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"bidder",
            key,
            x509.load_der_x509_certificate(item.cert.der),
            None,
            serialization.BestAvailableEncryption(FILE_PIN.encode()),
        )
    )
    pin_file = base / "pin.txt"
    pin_file.write_text(FILE_PIN + "\n", encoding="utf-8")
    out = {"rsa-p12": f"file:{p12}?pin-source=file:{pin_file}"}
    for name in ("sm2", "sm2-enc"):
        key_path, cert_path = base / f"{name}.key.pem", base / f"{name}.cert.pem"
        key_path.write_bytes(keys.dump_private_key(issued[name].key, "pem", FILE_PIN.encode()))
        cert_path.write_bytes(issued[name].cert.pem())
        out[name] = f"file:{key_path}?cert={cert_path}"
    return out


@pytest.fixture
def hsm_registry(softhsm: SoftHsm) -> TokenRegistry:
    return TokenRegistry(modules=[softhsm.module])


@pytest.fixture
def file_registry(files: dict[str, str]) -> TokenRegistry:
    return TokenRegistry([files["sm2"], files["sm2-enc"], files["rsa-p12"]])


def by_subject(certs: list[dict[str, Any]], cn: str) -> dict[str, Any]:
    [found] = [c for c in certs if f"CN={cn}" in c["subject"]]
    return found


def list_with_consent(bridge: Bridge) -> list[dict[str, Any]]:
    (status, doc), pages = with_consent(
        bridge, lambda: bridge.api("GET", "/v1/certificates"), ("approve", None)
    )
    assert ORIGIN in pages[0] and 'name="pin"' not in pages[0]
    assert status == 200, doc
    certs: list[dict[str, Any]] = doc["certificates"]
    return certs


# --- origins, hosts, headers, CORS -----------------------------------------------------------


def test_origin_allow_list(hsm_registry: TokenRegistry) -> None:
    with running(hsm_registry, PageConsent()) as bridge:
        status, headers, raw = bridge.request("GET", "/v1/status")
        assert status == 403 and json.loads(raw)["error"] == "origin_not_allowed"
        assert "Access-Control-Allow-Origin" not in headers
        for bad in (OTHER, "null", ORIGIN + ".evil.example", "http://ggzy.example.cn"):
            status, headers, raw = bridge.request("GET", "/v1/status", headers={"Origin": bad})
            doc = json.loads(raw)
            assert status == 403 and doc["error"] == "origin_not_allowed", bad
            assert doc["message_zh"] and doc["message_en"]
            assert "Access-Control-Allow-Origin" not in headers
        status, headers, raw = bridge.request("GET", "/v1/status", headers={"Origin": ORIGIN})
        assert status == 200
        assert json.loads(raw) == {"bridge": "huren", "version": 1, "tokens": 3}
        assert headers["Access-Control-Allow-Origin"] == ORIGIN
        assert headers["Vary"] == "Origin"


def test_host_must_be_loopback(hsm_registry: TokenRegistry) -> None:
    with running(hsm_registry, PageConsent()) as bridge:
        for host in (f"evil.example:{bridge.port}", "127.0.0.1:1", "localhost", ""):
            status, _h, raw = bridge.request(
                "GET", "/v1/status", headers={"Origin": ORIGIN}, host=host
            )
            assert status == 421 and json.loads(raw)["error"] == "bad_host", host
        status, _h, _ = bridge.request("GET", "/consent", host=f"evil.example:{bridge.port}")
        assert status == 421
        for host in (f"localhost:{bridge.port}", f"[::1]:{bridge.port}"):
            status, _h, _ = bridge.request(
                "GET", "/v1/status", headers={"Origin": ORIGIN}, host=host
            )
            assert status == 200


def test_posts_need_json_and_the_bridge_header(hsm_registry: TokenRegistry) -> None:
    body = json.dumps({"certificate_id": "x", "data": b64(b"x")}).encode()
    with running(hsm_registry, PageConsent()) as bridge:
        for headers in (
            {"Origin": ORIGIN, "Content-Type": "application/json"},
            {"Origin": ORIGIN, "Content-Type": "text/plain", "X-Huren-Bridge": "1"},
            {"Origin": ORIGIN, "X-Huren-Bridge": "1"},
            {"Origin": ORIGIN, "Content-Type": "application/json", "X-Huren-Bridge": "0"},
        ):
            status, _h, raw = bridge.request("POST", "/v1/sign", body, headers)
            assert status == 400 and json.loads(raw)["error"] == "missing_header", headers
        status, _h, raw = bridge.request(
            "POST",
            "/v1/sign",
            b"{",
            {"Origin": ORIGIN, "Content-Type": "application/json", "X-Huren-Bridge": "1"},
        )
        assert status == 400 and json.loads(raw)["error"] == "bad_request"
        status, doc = bridge.api("GET", "/v1/sign")
        assert status == 405
        status, doc = bridge.api("GET", "/v1/nothing")
        assert status == 404 and doc["error"] == "not_found"


def test_cors_preflight(hsm_registry: TokenRegistry) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-huren-bridge",
        "Access-Control-Request-Private-Network": "true",
    }
    with running(hsm_registry, PageConsent()) as bridge:
        status, headers, _ = bridge.request(
            "OPTIONS", "/v1/sign", headers={**ask, "Origin": ORIGIN}
        )
        assert status == 204
        assert headers["Access-Control-Allow-Origin"] == ORIGIN
        assert headers["Vary"] == "Origin"
        assert headers["Access-Control-Allow-Headers"] == "Content-Type, X-Huren-Bridge"
        assert headers["Access-Control-Allow-Methods"] == "GET, POST"
        assert headers["Access-Control-Allow-Private-Network"] == "true"
        assert int(headers["Access-Control-Max-Age"]) > 0
        for origin in (OTHER, "null"):
            status, headers, _ = bridge.request(
                "OPTIONS", "/v1/sign", headers={**ask, "Origin": origin}
            )
            assert status == 403
            assert "Access-Control-Allow-Origin" not in headers
        status, headers, _ = bridge.request("OPTIONS", "/v1/sign", headers=ask)
        assert status == 403 and "Access-Control-Allow-Origin" not in headers
        assert all("*" not in v for k, v in headers.items() if k.startswith("Access-Control"))


def test_oversized_body_is_refused_unread(hsm_registry: TokenRegistry) -> None:
    with running(hsm_registry, PageConsent()) as bridge:
        headers = {
            "Origin": ORIGIN,
            "Content-Type": "application/json",
            "X-Huren-Bridge": "1",
            "Content-Length": str(16 * 1024 * 1024 + 1),
        }
        status, response_headers, raw = bridge.request("POST", "/v1/sign", None, headers)
        assert status == 413 and json.loads(raw)["error"] == "too_large"
        assert response_headers["Access-Control-Allow-Origin"] == ORIGIN


def test_origins_are_matched_exactly() -> None:
    assert normalize_origin("HTTPS://GGZY.Example.CN:443") == ORIGIN
    assert normalize_origin("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert normalize_origin("https://ggzy.example.cn/path") is None
    assert normalize_origin("null") is None
    assert normalize_origin("file://") is None
    assert parse_origin("https://ggzy.example.cn/") == ORIGIN
    with pytest.raises(ValueError):
        parse_origin("*")
    with pytest.raises(ValueError):
        parse_origin("https://ggzy.example.cn/login")


def test_refuses_a_non_loopback_address(hsm_registry: TokenRegistry) -> None:
    for bind in ("0.0.0.0", "192.0.2.1", "::", "example.com"):  # noqa: S104
        with pytest.raises(ValueError):
            BridgeServer(BridgeConfig([ORIGIN], PageConsent(), hsm_registry, port=0, bind=bind))
    with pytest.raises(ValueError):
        BridgeServer(BridgeConfig([], PageConsent(), hsm_registry, port=0))
    result = CliRunner().invoke(
        bridge_group,
        [
            "serve",
            "--bind",
            "0.0.0.0",  # noqa: S104
            "--port",
            "0",
            "--allow-origin",
            ORIGIN,
            "--token",
            "file:/nonexistent.p12",
            "--no-open",
        ],
    )
    assert result.exit_code == 2 and "loopback" in result.output
    result = CliRunner().invoke(bridge_group, ["serve", "--port", "0", "--token", "file:/x.p12"])
    assert result.exit_code == 2 and "--allow-origin" in result.output
    result = CliRunner().invoke(
        bridge_group,
        [
            "serve",
            "--port",
            "0",
            "--allow-origin",
            ORIGIN,
            "--token",
            "file:/x.p12",
            "--kiosk-auto-approve",
        ],
    )
    assert result.exit_code == 2 and "--pin-file" in result.output


# --- consent -----------------------------------------------------------------------------------


def test_listing_needs_consent_once_per_origin(
    hsm_registry: TokenRegistry, issued: dict[str, Issued]
) -> None:
    with running(hsm_registry, PageConsent()) as bridge:
        certs = list_with_consent(bridge)
        assert {c["label"] for c in certs} == {"platform", "ec-sign", "decrypt-only", "sm2-sign"}
        rsa_cert = by_subject(certs, "平台开标密钥")
        assert rsa_cert["key_algorithm"] == "rsa"
        assert rsa_cert["usage"] == ["sign", "decrypt"]
        assert unb64(rsa_cert["certificate"]) == issued["rsa"].cert.der
        assert rsa_cert["issuer"] == rsa_cert["subject"]
        assert re.fullmatch(r"[0-9a-f]+", rsa_cert["serial"])
        assert rsa_cert["not_before"] < rsa_cert["not_after"]
        assert by_subject(certs, "ec-sign")["usage"] == ["sign"]
        assert by_subject(certs, "rsa-decrypt")["usage"] == ["decrypt"]
        assert by_subject(certs, "投标人签名")["key_algorithm"] == "sm2"
        # remembered for this origin: no second prompt, same stable ids
        status, doc = bridge.api("GET", "/v1/certificates")
        assert status == 200 and [c["id"] for c in doc["certificates"]] == [c["id"] for c in certs]
        # another allowed origin is asked again
        future = in_background(
            lambda: bridge.api("GET", "/v1/certificates", origin="http://127.0.0.1:1")
        )
        page = answer(bridge, "deny")
        assert "http://127.0.0.1:1" in page
        status, doc = future.result(timeout=60)
        assert status == 403 and doc["error"] == "consent_denied"


def test_sign_rsa_and_ec_with_page_consent(
    hsm_registry: TokenRegistry, issued: dict[str, Issued]
) -> None:
    data = "投标文件摘要".encode()
    with running(hsm_registry, PageConsent()) as bridge:
        certs = list_with_consent(bridge)
        rsa_cert = by_subject(certs, "平台开标密钥")
        (status, doc), pages = with_consent(
            bridge,
            lambda: bridge.api(
                "POST",
                "/v1/sign",
                {"certificate_id": rsa_cert["id"], "data": b64(data), "purpose": "投标文件签名"},
            ),
            ("approve", USER_PIN),
        )
        assert status == 200, doc
        page = pages[0]
        assert "投标文件签名" in page and ORIGIN in page and "平台开标密钥" in page
        assert hashlib.sha256(data).hexdigest() in page and 'name="pin"' in page
        assert doc["algorithm"] == "rsa-pkcs1-sha256"
        assert unb64(doc["certificate"]) == issued["rsa"].cert.der
        public = x509.load_der_x509_certificate(issued["rsa"].cert.der).public_key()
        assert isinstance(public, rsa.RSAPublicKey)
        public.verify(unb64(doc["signature"]), data, padding.PKCS1v15(), hashes.SHA256())

        ec_cert = by_subject(certs, "ec-sign")
        digest = hashlib.sha256(data).digest()
        (status, doc), _ = with_consent(
            bridge,
            lambda: bridge.api(
                "POST", "/v1/sign", {"certificate_id": ec_cert["id"], "digest": b64(digest)}
            ),
            ("approve", USER_PIN),
        )
        assert status == 200 and doc["algorithm"] == "ecdsa-sha256"
        ec_public = x509.load_der_x509_certificate(issued["ec"].cert.der).public_key()
        assert isinstance(ec_public, ec.EllipticCurvePublicKey)
        ec_public.verify(unb64(doc["signature"]), data, ec.ECDSA(hashes.SHA256()))
        # every signature asks again; denied → 403
        (status, doc), _ = with_consent(
            bridge,
            lambda: bridge.api(
                "POST", "/v1/sign", {"certificate_id": ec_cert["id"], "digest": b64(digest)}
            ),
            ("deny", None),
        )
        assert status == 403 and doc["error"] == "consent_denied"
        # keys that may not sign, unknown ids
        status, doc = bridge.api(
            "POST",
            "/v1/sign",
            {"certificate_id": by_subject(certs, "rsa-decrypt")["id"], "data": b64(data)},
        )
        assert status == 400 and doc["error"] == "usage_not_allowed"
        status, doc = bridge.api("POST", "/v1/sign", {"certificate_id": "nope", "data": "eA=="})
        assert status == 404 and doc["error"] == "unknown_certificate"
        # the PIN is in no log line
        assert bridge.log and not any(USER_PIN in line for line in bridge.log)


def test_cms_sign_on_softhsm(hsm_registry: TokenRegistry, issued: dict[str, Issued]) -> None:
    data = b"bid file contents " * 100
    with running(hsm_registry, PageConsent()) as bridge:
        rsa_cert = by_subject(list_with_consent(bridge), "平台开标密钥")
        for detached in (False, True):
            (status, doc), _ = with_consent(
                bridge,
                lambda d=detached: bridge.api(  # type: ignore[misc]
                    "POST",
                    "/v1/sign",
                    {
                        "certificate_id": rsa_cert["id"],
                        "data": b64(data),
                        "format": "cms",
                        "detached": d,
                    },
                ),
                ("approve", USER_PIN),
            )
            assert status == 200, doc
            result = cms.verify(unb64(doc["cms"]), content=data if detached else None)
            assert result.valid and result.detached is detached
            assert result.signers[0].certificate is not None
            assert result.signers[0].certificate.der == issued["rsa"].cert.der


def test_consent_timeout(hsm_registry: TokenRegistry) -> None:
    with running(hsm_registry, PageConsent(), timeout=0.3) as bridge:
        status, doc = bridge.api("GET", "/v1/certificates")
        assert status == 408 and doc["error"] == "consent_timeout"
        assert doc["message_zh"] and doc["message_en"]
        _secret, ids, _page = pending_ids(bridge)
        assert ids == []  # an expired request leaves the page


def test_consent_page_guards(hsm_registry: TokenRegistry) -> None:
    with running(hsm_registry, PageConsent()) as bridge:
        status, headers, raw = bridge.request("GET", "/consent")
        assert status == 200
        assert headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "Access-Control-Allow-Origin" not in headers
        # not for fetch() from another page, not embeddable
        for extra in (
            {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "cross-site", "Origin": OTHER},
            {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"},
            {"Origin": ORIGIN},
        ):
            status, _h, _ = bridge.request("GET", "/consent", headers=extra)
            assert status == 403, extra

        future = in_background(lambda: bridge.api("GET", "/v1/certificates"))
        secret, request_id, _page = wait_pending(bridge)
        form = {"secret": secret, "request": request_id, "action": "approve"}
        for origin in (OTHER, ORIGIN, "null"):
            status, _h, raw = decide(bridge, form, origin=origin)
            assert status == 403 and json.loads(raw)["error"] == "origin_not_allowed"
        for bad in (
            {**form, "secret": ""},
            {**form, "secret": secret + "x"},
            {k: v for k, v in form.items() if k != "secret"},
        ):
            status, _h, raw = decide(bridge, bad)
            assert status == 403 and json.loads(raw)["error"] == "bad_secret"
        status, _h, _ = bridge.request(
            "POST",
            "/consent/decide",
            json.dumps(form).encode(),
            {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{bridge.port}"},
        )
        assert status == 400
        assert not future.done()  # none of these decided anything
        # no Origin at all (a non-browser client on this computer) with the secret works
        status, headers, _ = decide(bridge, form, origin=None)
        assert status == 303 and headers["Location"] == "/consent?done=approved"
        status, _doc = future.result(timeout=60)
        assert status == 200
        # answering twice does nothing
        status, headers, _ = decide(bridge, form)
        assert headers["Location"] == "/consent?done=expired"


def test_wrong_pin_reports_tries(hsm_registry: TokenRegistry) -> None:
    with running(hsm_registry, PageConsent()) as bridge:
        rsa_cert = by_subject(list_with_consent(bridge), "平台开标密钥")
        bad = "000000"
        (status, doc), _ = with_consent(
            bridge,
            lambda: bridge.api(
                "POST", "/v1/sign", {"certificate_id": rsa_cert["id"], "data": b64(b"x")}
            ),
            ("approve", bad),
        )
        assert status == 403 and doc["error"] == "wrong_pin"
        # SoftHSM2 only says "count low" (no counter); a USBKey's final try gives retries_left=1
        assert "retries_left" in doc and doc["count_low"] is True
        assert "PIN" in doc["message_zh"] and "tries" in doc["message_en"]
        assert not any(bad in line for line in bridge.log)
        (status, doc), _ = with_consent(
            bridge,
            lambda: bridge.api(
                "POST", "/v1/sign", {"certificate_id": rsa_cert["id"], "data": b64(b"x")}
            ),
            ("approve", USER_PIN),
        )
        assert status == 200


def test_decrypt_key_rsa_on_softhsm(hsm_registry: TokenRegistry, issued: dict[str, Issued]) -> None:
    public = x509.load_der_x509_certificate(issued["rsa-decrypt"].cert.der).public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    sha1 = hashes.SHA1()  # noqa: S303 - the RFC 3560 default OAEP, the one SoftHSM2 does
    with running(hsm_registry, PageConsent()) as bridge:
        certs = list_with_consent(bridge)
        target = by_subject(certs, "rsa-decrypt")
        for mechanism, blob in (
            ("rsa-oaep-sha1", public.encrypt(CEK, padding.OAEP(padding.MGF1(sha1), sha1, None))),
            ("rsa-pkcs1", public.encrypt(CEK, padding.PKCS1v15())),
        ):
            (status, doc), pages = with_consent(
                bridge,
                lambda m=mechanism, b=blob: bridge.api(  # type: ignore[misc]
                    "POST",
                    "/v1/decrypt-key",
                    {
                        "certificate_id": target["id"],
                        "blob": b64(b),
                        "mechanism": m,
                        "purpose": "开标解密",
                    },
                ),
                ("approve", USER_PIN),
            )
            assert status == 200, doc
            assert unb64(doc["key"]) == CEK
            assert "开标解密" in pages[0] and hashlib.sha256(blob).hexdigest() in pages[0]
        status, doc = bridge.api(
            "POST",
            "/v1/decrypt-key",
            {
                "certificate_id": by_subject(certs, "ec-sign")["id"],
                "blob": "AA==",
                "mechanism": "rsa-pkcs1",
            },
        )
        assert status == 400 and doc["error"] == "usage_not_allowed"
        status, doc = bridge.api(
            "POST",
            "/v1/decrypt-key",
            {"certificate_id": target["id"], "blob": "AA==", "mechanism": "rot13"},
        )
        assert status == 400 and doc["error"] == "bad_request"


def test_sm2_soft_tokens_sign_cms_and_decrypt(
    file_registry: TokenRegistry, issued: dict[str, Issued]
) -> None:
    data = "招标编号 GZ-2024-001 投标函".encode()
    with running(file_registry, PageConsent()) as bridge:
        certs = list_with_consent(bridge)
        assert len(certs) == 3  # the key files' certificates are listed without the password
        signer = by_subject(certs, "投标人签名")
        assert signer["key_algorithm"] == "sm2" and signer["usage"] == ["sign"]
        pub = issued["sm2"].cert.public_key
        (status, doc), _ = with_consent(
            bridge,
            lambda: bridge.api(
                "POST", "/v1/sign", {"certificate_id": signer["id"], "data": b64(data)}
            ),
            ("approve", FILE_PIN),
        )
        assert status == 200 and doc["algorithm"] == "sm2-sm3"
        signature = unb64(doc["signature"])
        assert signature[0] == 0x30  # DER
        assert verify_signature(pub, "sm2-sm3", signature, data=data)  # default user ID

        (status, doc), _ = with_consent(
            bridge,
            lambda: bridge.api(
                "POST",
                "/v1/sign",
                {"certificate_id": signer["id"], "data": b64(data), "format": "cms"},
            ),
            ("approve", FILE_PIN),
        )
        assert status == 200, doc
        result = cms.verify(unb64(doc["cms"]))
        assert result.valid and result.gm

        (status, doc), _ = with_consent(
            bridge,
            lambda: bridge.api(
                "POST",
                "/v1/sign",
                {"certificate_id": signer["id"], "data": b64(data), "format": "cms"},
            ),
            ("approve", "wrong password"),
        )
        assert status == 403 and doc["error"] == "wrong_pin"

        enc = by_subject(certs, "投标人加密")
        enc_pub = issued["sm2-enc"].cert.public_key
        assert isinstance(enc_pub, sm2.Sm2PublicKey)
        blob = sm2.encrypt(enc_pub, CEK, mode="asn1")
        (status, doc), _ = with_consent(
            bridge,
            lambda: bridge.api(
                "POST",
                "/v1/decrypt-key",
                {"certificate_id": enc["id"], "blob": b64(blob), "mechanism": "sm2"},
            ),
            ("approve", FILE_PIN),
        )
        assert status == 200 and unb64(doc["key"]) == CEK

        # a PKCS#12 whose URI carries its pin-source: consent, but no PIN asked
        p12 = by_subject(certs, "平台开标密钥")
        future = in_background(
            lambda: bridge.api("POST", "/v1/sign", {"certificate_id": p12["id"], "data": "eA=="})
        )
        page = answer(bridge, "approve")
        assert 'name="pin"' not in page
        status, doc = future.result(timeout=60)
        assert status == 200
        assert not any(FILE_PIN in line for line in bridge.log)


def test_kiosk_mode_needs_no_person(hsm_registry: TokenRegistry, issued: dict[str, Issued]) -> None:
    with running(hsm_registry, KioskConsent(USER_PIN), cms=False) as bridge:
        status, doc = bridge.api("GET", "/v1/certificates")
        assert status == 200
        ec_cert = by_subject(doc["certificates"], "ec-sign")
        status, doc = bridge.api(
            "POST", "/v1/sign", {"certificate_id": ec_cert["id"], "data": b64(b"kiosk")}
        )
        assert status == 200
        public = x509.load_der_x509_certificate(issued["ec"].cert.der).public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(unb64(doc["signature"]), b"kiosk", ec.ECDSA(hashes.SHA256()))
        status, doc = bridge.api(
            "POST",
            "/v1/sign",
            {"certificate_id": ec_cert["id"], "data": b64(b"kiosk"), "format": "cms"},
        )
        assert status == 501 and doc["error"] == "cms_unavailable"
        status, _h, _ = bridge.request("GET", "/consent")
        assert status == 404  # no consent page in kiosk mode


def test_kiosk_cli_end_to_end(softhsm: SoftHsm, tmp_path: Path) -> None:
    """`huren bridge serve --kiosk-auto-approve --pin-file` as a real process."""
    import os
    import socket
    import subprocess
    import sys

    pin_file = tmp_path / "pin"
    pin_file.write_text(USER_PIN + "\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "SOFTHSM2_CONF": str(softhsm.conf), "HUREN_BRIDGE_ORIGINS": ORIGIN}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from config.cli import main; main()",
            "bridge",
            "serve",
            "--port",
            str(port),
            "--pkcs11-module",
            softhsm.module,
            "--kiosk-auto-approve",
            "--pin-file",
            str(pin_file),
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "listening on" in line:
                break
        output = "".join(lines)
        assert "WARNING" in output and "kiosk" in output
        assert USER_PIN not in output
        bridge = Bridge(port)
        status, doc = bridge.api("GET", "/v1/certificates")
        assert status == 200
        rsa_cert = by_subject(doc["certificates"], "平台开标密钥")
        status, doc = bridge.api(
            "POST",
            "/v1/sign",
            {"certificate_id": rsa_cert["id"], "data": b64(b"cli"), "format": "cms"},
        )
        assert status == 200, doc
        assert cms.verify(unb64(doc["cms"])).valid
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_terminal_consent(hsm_registry: TokenRegistry, issued: dict[str, Issued]) -> None:
    """The terminal prompt: details shown (control characters removed), answer, PIN."""
    answers = io.StringIO("y\ny\n" + USER_PIN + "\nn\n")
    shown = io.StringIO()
    with running(hsm_registry, TerminalConsent(stdin=answers, stdout=shown)) as bridge:
        status, doc = bridge.api("GET", "/v1/certificates")
        assert status == 200
        ec_cert = by_subject(doc["certificates"], "ec-sign")
        request = {
            "certificate_id": ec_cert["id"],
            "data": b64(b"terminal"),
            "purpose": "\x1b[2J\x1b[31m投标\u202e签名\n",
        }
        status, doc = bridge.api("POST", "/v1/sign", request)
        assert status == 200, doc
        public = x509.load_der_x509_certificate(issued["ec"].cert.der).public_key()
        assert isinstance(public, ec.EllipticCurvePublicKey)
        public.verify(unb64(doc["signature"]), b"terminal", ec.ECDSA(hashes.SHA256()))
        status, doc = bridge.api("POST", "/v1/sign", request)
        assert status == 403 and doc["error"] == "consent_denied"
    text = shown.getvalue()
    assert ORIGIN in text and "ec-sign" in text
    assert hashlib.sha256(b"terminal").hexdigest() in text
    assert "\x1b" not in text and "\u202e" not in text and "投标 签名" in text
    assert USER_PIN not in text
