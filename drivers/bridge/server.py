"""The local bridge's HTTP service (standard library ``http.server``, loopback only).

Security, request by request:

1. ``Host`` must name the loopback address and the bridge's port (``127.0.0.1:PORT``,
   ``localhost:PORT``, ``[::1]:PORT``): a DNS-rebound name is refused (421 ``bad_host``).
2. ``/v1/…`` needs an ``Origin`` from the allow-list, matched exactly (403
   ``origin_not_allowed``); CORS answers name that origin, never ``*``.
3. POSTs need ``Content-Type: application/json`` and ``X-Huren-Bridge: 1`` (400
   ``missing_header``), so a plain HTML form cannot post to the bridge; bodies are limited.
4. The first listing by an origin, and every signature and decryption, wait for the person's
   consent in the bridge's own prompt (:mod:`drivers.bridge.consent`); the PIN is typed there.
5. ``/consent`` (page consent) is the bridge's own page: not frameable, its posts carry a
   per-process secret and must come from the bridge's own origin.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import ipaddress
import json
import secrets
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

from drivers._common import DEFAULT_SIGN
from drivers.api import (
    DECRYPT_MECHANISMS,
    SIGN_MECHANISMS,
    DecryptMechanism,
    SignMechanism,
    Token,
    TokenCertificate,
)
from drivers.bridge.consent import (
    Consent,
    ConsentRequest,
    ConsentTimeout,
    Decision,
    Operation,
    PageConsent,
    clean_text,
)
from drivers.bridge.errors import BridgeError, bad_request, from_token_error
from drivers.bridge.tokens import Listed, TokenRegistry
from drivers.errors import TokenError

__all__ = [
    "API_VERSION",
    "DEFAULT_PORT",
    "MAX_BODY",
    "BridgeConfig",
    "BridgeServer",
    "CmsSigner",
    "normalize_origin",
    "parse_origin",
]

DEFAULT_PORT = 21800
API_VERSION = 1
MAX_BODY = 16 << 20
MAX_FORM = 16 << 10
MAX_BLOB = 64 << 10
PREFLIGHT_MAX_AGE = 600

CmsSigner = Callable[[Token, TokenCertificate, bytes, bool], bytes]
"""``(token, entry, content, detached) → DER SignedData``: CMS needs ``cert_interop``, which
``drivers`` does not import, so the composition root (``config``) supplies it."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value: str) -> str | None:
    """``scheme://host[:port]`` in lower case without a default port, or None when ``value`` is
    not an http(s) origin (``null``, a path, user info…)."""
    if not value or len(value) > 512 or any(ch.isspace() for ch in value):
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or "#" in value:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_origin(value: str) -> str:
    """An ``--allow-origin`` value, normalised; ValueError when it is not an origin."""
    origin = normalize_origin(value.strip())
    if origin is None:
        raise ValueError(
            f"{value!r} is not an origin: give scheme://host[:port], e.g. https://ggzy.example.cn"
        )
    return origin


def _b64(value: object, what: str, limit: int) -> bytes:
    if not isinstance(value, str):
        raise bad_request(f"{what} must be a base64 string", f"{what} 必须是 base64 字符串")
    text = "".join(value.split()).rstrip("=")
    if len(text) > limit * 4 // 3 + 4:
        raise BridgeError(413, "too_large", f"{what} is too large", f"{what} 过大")
    text = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request(f"{what} is not valid base64", f"{what} 不是有效的 base64") from None


def _enc(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass
class BridgeConfig:
    """Everything the bridge needs; built by ``huren bridge serve`` or by tests."""

    allowed_origins: Iterable[str]
    consent: Consent
    registry: TokenRegistry
    port: int = DEFAULT_PORT
    bind: str = "127.0.0.1"
    consent_timeout: float = 120.0
    cms_signer: CmsSigner | None = None
    log: Callable[[str], None] = field(default=lambda _m: None)


class BridgeServer(ThreadingHTTPServer):
    """The bridge, bound on a loopback address. ``serve_forever()`` to run it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, config: BridgeConfig) -> None:
        bind = "127.0.0.1" if config.bind == "localhost" else config.bind
        try:
            address = ipaddress.ip_address(bind.strip("[]"))
        except ValueError:
            raise ValueError(f"bind address {config.bind!r} is not an IP address") from None
        if not address.is_loopback:
            raise ValueError(
                f"the bridge only listens on a loopback address (127.0.0.1 or ::1), "
                f"not {config.bind}"
            )
        origins = set()
        for origin in config.allowed_origins:
            origins.add(parse_origin(origin))
        if not origins:
            raise ValueError("no allowed origin: give --allow-origin https://your-platform.example")
        self.config = config
        self.allowed_origins = frozenset(origins)
        self.address_family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        self._approved: set[str] = set()
        self._approved_lock = threading.Lock()
        super().__init__((str(address), config.port), _Handler)
        self.port: int = int(self.server_address[1])
        hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}", f"[::1]:{self.port}"}
        hosts.add(f"[{address}]:{self.port}" if address.version == 6 else f"{address}:{self.port}")
        self.allowed_hosts = frozenset(hosts)
        self.own_origins = frozenset(f"http://{h}" for h in hosts)

    @property
    def url(self) -> str:
        host = str(self.server_address[0])
        return f"http://{'[' + host + ']' if ':' in host else host}:{self.port}"

    @property
    def consent_url(self) -> str:
        return self.url + "/consent"

    def origin_approved(self, origin: str) -> bool:
        with self._approved_lock:
            return origin in self._approved

    def approve_origin(self, origin: str) -> None:
        with self._approved_lock:
            self._approved.add(origin)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "HurenBridge/1"
    sys_version = ""

    # --- plumbing --------------------------------------------------------------------------

    @property
    def bridge(self) -> BridgeServer:
        return cast(BridgeServer, self.server)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # requests are logged by _send, without bodies or query strings

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        path = urlsplit(self.path).path[:100]
        origin = clean_text(self.headers.get("Origin") or "-", 100)
        self.bridge.config.log(f"{self.command} {path} {status} origin={origin}")

    def _json(self, status: int, doc: dict[str, Any], cors: str | None = None) -> None:
        headers: dict[str, str] = {}
        if cors is not None:
            headers["Access-Control-Allow-Origin"] = cors
            headers["Vary"] = "Origin"
        body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        self._send(status, body, "application/json; charset=utf-8", headers)

    def _error(self, exc: BridgeError, cors: str | None = None) -> None:
        self._json(exc.status, exc.body(), cors)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        cors: str | None = None
        try:
            self._check_host()
            path = urlsplit(self.path).path
            if path == "/consent" or path.startswith("/consent/"):
                self._consent_page(path)
                return
            if not path.startswith("/v1/"):
                raise BridgeError(404, "not_found", "no such page", "页面不存在")
            cors = self._check_origin()
            self._api(path, cors)
        except BridgeError as exc:
            if exc.status in (400, 411, 413):
                self.close_connection = True  # the body may be unread
            self._error(exc, cors)
        except Exception as exc:  # last resort: a JSON answer, never a traceback to the page
            self.bridge.config.log(f"internal error: {type(exc).__name__}")
            self.close_connection = True
            self._error(
                BridgeError(500, "internal_error", "the bridge failed", "证书助手内部错误"), cors
            )

    def _check_host(self) -> None:
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in self.bridge.allowed_hosts:
            raise BridgeError(
                421,
                "bad_host",
                "requests must be addressed to 127.0.0.1 or localhost with the bridge's port",
                "请求地址必须是 127.0.0.1 或 localhost 及证书助手的端口",
            )

    def _check_origin(self) -> str:
        raw = self.headers.get("Origin")
        origin = normalize_origin(raw) if raw else None
        if origin is None or origin not in self.bridge.allowed_origins:
            raise BridgeError(
                403,
                "origin_not_allowed",
                "this web site may not use the certificate bridge (its origin is not allowed)",
                "该网站无权使用本机证书助手（来源未被允许）",
            )
        return origin

    def _read_body(self, limit: int) -> bytes:
        if self.headers.get("Transfer-Encoding"):
            raise BridgeError(411, "length_required", "send a Content-Length", "请求缺少长度")
        raw = self.headers.get("Content-Length")
        if raw is None or not raw.strip().isdigit():
            raise BridgeError(411, "length_required", "send a Content-Length", "请求缺少长度")
        length = int(raw)
        if length > limit:
            raise BridgeError(
                413,
                "too_large",
                f"the request body is larger than {limit} bytes",
                f"请求内容超过 {limit} 字节上限",
            )
        return self.rfile.read(length)

    # --- API -------------------------------------------------------------------------------

    def _api(self, path: str, origin: str) -> None:
        if self.command == "OPTIONS":
            self._preflight(origin)
            return
        routes: dict[str, tuple[str, Callable[[str], dict[str, Any]]]] = {
            "/v1/status": ("GET", self._status),
            "/v1/certificates": ("GET", self._certificates),
            "/v1/sign": ("POST", self._sign),
            "/v1/decrypt-key": ("POST", self._decrypt_key),
        }
        route = routes.get(path)
        if route is None:
            raise BridgeError(404, "not_found", "no such API", "接口不存在")
        method, handler = route
        if self.command != method:
            raise BridgeError(405, "method_not_allowed", f"use {method}", f"请使用 {method} 方法")
        self._json(200, handler(origin), origin)

    def _preflight(self, origin: str) -> None:
        headers = {
            "Access-Control-Allow-Origin": origin,
            "Vary": "Origin",
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": "Content-Type, X-Huren-Bridge",
            "Access-Control-Allow-Private-Network": "true",
            "Access-Control-Max-Age": str(PREFLIGHT_MAX_AGE),
        }
        self._send(204, b"", "text/plain", headers)

    def _json_body(self) -> dict[str, Any]:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != "application/json" or self.headers.get("X-Huren-Bridge") != "1":
            raise BridgeError(
                400,
                "missing_header",
                "send Content-Type: application/json and X-Huren-Bridge: 1",
                "请求须带 Content-Type: application/json 和 X-Huren-Bridge: 1",
            )
        body = self._read_body(MAX_BODY)
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise bad_request("the body is not JSON", "请求内容不是 JSON") from None
        if not isinstance(doc, dict):
            raise bad_request("the body must be a JSON object", "请求内容必须是 JSON 对象")
        return doc

    def _status(self, origin: str) -> dict[str, Any]:
        tokens, _listed = self.bridge.config.registry.scan()
        return {"bridge": "huren", "version": API_VERSION, "tokens": tokens}

    def _ask(self, request: ConsentRequest) -> Decision:
        try:
            decision = self.bridge.config.consent.ask(request, self.bridge.config.consent_timeout)
        except ConsentTimeout:
            raise BridgeError(
                408,
                "consent_timeout",
                "nobody confirmed the request in the bridge in time",
                "未在证书助手中及时确认该请求",
            ) from None
        if not decision.approved:
            raise BridgeError(
                403, "consent_denied", "the request was denied in the bridge", "请求已被用户拒绝"
            )
        return decision

    def _certificates(self, origin: str) -> dict[str, Any]:
        if not self.bridge.origin_approved(origin):
            self._ask(ConsentRequest(origin, "certificates"))
            self.bridge.approve_origin(origin)
        try:
            _tokens, listed = self.bridge.config.registry.scan()
        except TokenError as exc:
            raise from_token_error(exc) from None
        return {"certificates": [_describe(x) for x in listed]}

    def _listed(self, doc: dict[str, Any], use: str) -> Listed:
        cert_id = doc.get("certificate_id")
        if not isinstance(cert_id, str) or not cert_id or len(cert_id) > 128:
            raise bad_request("certificate_id is missing", "缺少 certificate_id")
        try:
            listed = self.bridge.config.registry.find(cert_id)
        except TokenError as exc:
            raise from_token_error(exc) from None
        if listed is None:
            raise BridgeError(
                404,
                "unknown_certificate",
                "no such certificate (is the USBKey still inserted?)",
                "找不到该证书（USBKey 是否已拔出？）",
            )
        if use not in _usage_list(listed):
            what, zh = ("sign", "签名") if use == "sign" else ("decrypt", "解密")
            raise BridgeError(
                400,
                "usage_not_allowed",
                f"this certificate's key may not {what}",
                f"该证书的密钥不能用于{zh}",
            )
        return listed

    def _purpose(self, doc: dict[str, Any]) -> str:
        purpose = doc.get("purpose", "")
        if not isinstance(purpose, str):
            raise bad_request("purpose must be text", "purpose 必须是文本")
        return clean_text(purpose, 200)

    def _consent_for(
        self,
        origin: str,
        operation: Operation,
        listed: Listed,
        purpose: str,
        sent: bytes,
        what: str,
    ) -> Decision:
        request = ConsentRequest(
            origin,
            operation,
            purpose=purpose,
            certificate=clean_text(listed.summary.subject, 300),
            fingerprint=hashlib.sha256(sent).hexdigest(),
            fingerprint_of=what,
            needs_pin=listed.needs_pin,
        )
        decision = self._ask(request)
        self.bridge.approve_origin(origin)  # allowing an operation allows the origin too
        return decision

    def _sign(self, origin: str) -> dict[str, Any]:
        doc = self._json_body()
        listed = self._listed(doc, "sign")
        fmt = doc.get("format", "raw")
        if fmt not in ("raw", "cms"):
            raise bad_request("format must be raw or cms", "format 只能是 raw 或 cms")
        detached = doc.get("detached", False)
        if not isinstance(detached, bool):
            raise bad_request("detached must be true or false", "detached 必须是布尔值")
        has_data, has_digest = doc.get("data") is not None, doc.get("digest") is not None
        if has_data == has_digest:
            raise bad_request("give either data or digest", "请只提供 data 或 digest 之一")
        data = _b64(doc["data"], "data", MAX_BODY) if has_data else None
        digest = _b64(doc["digest"], "digest", 64) if has_digest else None
        if digest is not None and len(digest) != 32:
            raise bad_request(
                "a digest is 32 bytes (SHA-256, or SM3(Z || M) for SM2)",
                "摘要长度必须为 32 字节（SHA-256，SM2 为 SM3(Z || M)）",
            )
        algorithm = doc.get("algorithm")
        if algorithm is not None and algorithm not in SIGN_MECHANISMS:
            raise bad_request(
                f"algorithm must be one of {', '.join(SIGN_MECHANISMS)}",
                "不支持的签名算法",
            )
        if fmt == "cms":
            if data is None:
                raise bad_request("CMS signatures need data, not a digest", "CMS 签名需要原文")
            if algorithm is not None:
                raise bad_request("CMS picks its own algorithm", "CMS 签名不接受 algorithm")
            if self.bridge.config.cms_signer is None:
                raise BridgeError(
                    501, "cms_unavailable", "this bridge cannot make CMS signatures", "不支持 CMS"
                )
        mechanism = cast(SignMechanism | None, algorithm)
        used = mechanism or DEFAULT_SIGN[listed.entry.key_algorithm]
        sent = data if data is not None else digest
        assert sent is not None
        decision = self._consent_for(
            origin, "sign", listed, self._purpose(doc), sent, "data" if has_data else "digest"
        )
        cms_signer = self.bridge.config.cms_signer

        def operation(token: Token, entry: TokenCertificate) -> dict[str, Any]:
            if fmt == "cms":
                assert cms_signer is not None and data is not None
                return {"cms": _enc(cms_signer(token, entry, data, detached))}
            signature = token.sign(entry.key_id, data, digest=digest, mechanism=mechanism)
            return {"signature": _enc(signature)}

        result = self._run(listed, decision, operation)
        result.update({"certificate": _enc(listed.entry.certificate), "algorithm": used})
        return result

    def _decrypt_key(self, origin: str) -> dict[str, Any]:
        doc = self._json_body()
        listed = self._listed(doc, "decrypt")
        mechanism = doc.get("mechanism")
        if mechanism not in DECRYPT_MECHANISMS:
            raise bad_request(
                f"mechanism must be one of {', '.join(DECRYPT_MECHANISMS)}", "不支持的解密算法"
            )
        blob = _b64(doc.get("blob"), "blob", MAX_BLOB)
        if not blob or len(blob) > MAX_BLOB:
            raise bad_request("blob is empty or too large", "密文为空或过大")
        decision = self._consent_for(
            origin, "decrypt", listed, self._purpose(doc), blob, "encrypted key"
        )
        chosen = cast(DecryptMechanism, mechanism)

        def operation(token: Token, entry: TokenCertificate) -> dict[str, Any]:
            return {"key": _enc(token.decrypt(entry.key_id, blob, mechanism=chosen))}

        return self._run(listed, decision, operation)

    def _run(
        self,
        listed: Listed,
        decision: Decision,
        operation: Callable[[Token, TokenCertificate], dict[str, Any]],
    ) -> dict[str, Any]:
        try:
            return self.bridge.config.registry.run(listed, decision.pin, operation)
        except TokenError as exc:
            raise from_token_error(exc) from None
        except BridgeError:
            raise
        except Exception as exc:  # the CMS callable's own errors (cert_interop)
            self.bridge.config.log(f"signing failed: {type(exc).__name__}")
            raise BridgeError(
                500, "sign_failed", f"signing failed: {exc}", "签名失败，请检查证书和 USBKey"
            ) from None

    # --- consent page ----------------------------------------------------------------------

    def _consent_page(self, path: str) -> None:
        consent = self.bridge.config.consent
        if not isinstance(consent, PageConsent):
            raise BridgeError(404, "not_found", "no consent page in this mode", "页面不存在")
        origin = self.headers.get("Origin")
        if origin is not None and normalize_origin(origin) not in self.bridge.own_origins:
            raise BridgeError(
                403, "origin_not_allowed", "only the bridge's own page", "仅限证书助手自身页面"
            )
        site = self.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            raise BridgeError(
                403, "origin_not_allowed", "open this page yourself", "请直接打开本页面"
            )
        if path == "/consent" and self.command == "GET":
            mode = self.headers.get("Sec-Fetch-Mode")
            dest = self.headers.get("Sec-Fetch-Dest")
            if (mode is not None and mode != "navigate") or (
                dest is not None and dest != "document"
            ):
                raise BridgeError(
                    403, "not_navigation", "open this page yourself", "请直接打开本页面"
                )
            notice = _NOTICES.get(parse_qs(urlsplit(self.path).query).get("done", [""])[0], "")
            nonce = secrets.token_urlsafe(16)
            page = consent.render(nonce, notice).encode("utf-8")
            csp = (
                f"default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; "
                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
            )
            self._send(
                200,
                page,
                "text/html; charset=utf-8",
                {"Content-Security-Policy": csp, "X-Frame-Options": "DENY"},
            )
            return
        if path == "/consent/decide" and self.command == "POST":
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if ctype != "application/x-www-form-urlencoded":
                raise BridgeError(400, "missing_header", "post the page's form", "请提交本页表单")
            form = parse_qs(
                self._read_body(MAX_FORM).decode("utf-8", "replace"), keep_blank_values=True
            )

            def one(name: str) -> str:
                values = form.get(name, [])
                return values[0] if len(values) == 1 else ""

            if not consent.check_secret(one("secret")):
                raise BridgeError(
                    403, "bad_secret", "this form is not from the bridge's page", "表单来源无效"
                )
            action = one("action")
            if action not in ("approve", "deny"):
                raise bad_request("action must be approve or deny", "操作无效")
            pin = one("pin") if "pin" in form else None
            done = consent.decide(one("request"), action == "approve", pin)
            outcome = ("approved" if action == "approve" else "denied") if done else "expired"
            self._send(
                303,
                b"",
                "text/plain",
                {"Location": f"/consent?done={outcome}", "X-Frame-Options": "DENY"},
            )
            return
        raise BridgeError(404, "not_found", "no such page", "页面不存在")


_NOTICES = {
    "approved": "已允许。/ Allowed.",
    "denied": "已拒绝。/ Denied.",
    "expired": "该请求已超时或已处理。/ That request has expired or was already answered.",
}


def _usage_list(listed: Listed) -> list[str]:
    usage = listed.entry.usage
    return {"sign": ["sign"], "encrypt": ["decrypt"], "both": ["sign", "decrypt"]}[usage]


def _describe(listed: Listed) -> dict[str, Any]:
    s = listed.summary
    return {
        "id": listed.id,
        "label": listed.entry.label,
        "subject": s.subject,
        "issuer": s.issuer,
        "serial": s.serial,
        "not_before": s.not_before.isoformat(),
        "not_after": s.not_after.isoformat(),
        "key_algorithm": listed.entry.key_algorithm,
        "usage": _usage_list(listed),
        "certificate": _enc(listed.entry.certificate),
    }
