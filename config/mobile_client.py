"""The reference mobile client of QR-code login (§6.3.2 a), as a library.

What a phone app does, over the provider's device API (``/api/v1/mobile/``): enroll once with
the account's password and an SMS code, registering a device key (ECDSA P-256 or SM2); then
for each QR code shown on a login page, send signed ``scan`` / ``confirm`` / ``cancel``
requests about its ticket. ``huren mobile`` (``config.mobile_cli``) is a thin shell around
this module, and the tests drive it directly.

The device file is the device's secret (its private key): JSON written 0600, atomically, never
over an existing file unless asked. The key is kept unencrypted in it, like an SSH key without
a passphrase or a phone's keystore entry: whoever can read the file can confirm logins for the
account until the device is revoked (``/account/devices``, ``huren device revoke``).

Signed requests: the body is compact JSON ``{"device_id", "ticket", "action", "nonce",
"ts"}`` and ``X-Huren-Signature`` is the base64 signature over exactly those bytes (ECDSA
P-256 with SHA-256, or SM2 with SM3 and the default user ID; DER by default, raw r || s as
WebCrypto produces on request).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import time
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from cert_interop import keys, signatures, sm2
from cert_interop.cli_errors import UserError
from cert_interop.cli_io import output_file
from cert_interop.errors import CertInteropError

__all__ = [
    "ACTIONS",
    "ALGORITHMS",
    "DeviceFile",
    "Enrollment",
    "MobileError",
    "act",
    "describe_request",
    "enroll",
    "finish_enrollment",
    "generate_key",
    "origin_of",
    "parse_qr_url",
    "public_key_der",
    "sign_request",
    "start_enrollment",
    "ticket_for_device",
]

Algorithm = Literal["ES256", "SM2"]
Action = Literal["scan", "confirm", "cancel"]
SignatureFormat = Literal["der", "raw"]

ALGORITHMS: tuple[Algorithm, ...] = ("ES256", "SM2")
ACTIONS: tuple[Action, ...] = ("scan", "confirm", "cancel")
FILE_FORMAT = "huren-mobile-device/1"
SIGNATURE_HEADER = "X-Huren-Signature"
QR_PATH = "/m/qr"
API_PREFIX = "/api/v1/mobile"
USER_AGENT = "huren-mobile-cli/1"
TIMEOUT = (5.0, 20.0)  # connect, read (seconds)
MAX_DEVICE_FILE = 64 * 1024
MAX_RESPONSE = 256 * 1024
MAX_QR_URL = 2048
NONCE_BYTES = 24  # 32 base64url characters (the API wants at least 22)
TICKET_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
MIN_TICKET, MAX_TICKET = 16, 128
CHINA = timezone(timedelta(hours=8), "CST")
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_PORTS = {"http": 80, "https": 443}


class MobileError(Exception):
    """A refusal, from the provider (its ``error`` code and bilingual message) or from this
    client (a bad QR URL, another site's QR code, an unreadable device file, no network)."""

    def __init__(
        self, code: str, message_zh: str, message_en: str, status: int | None = None
    ) -> None:
        super().__init__(f"{code}: {message_zh} / {message_en}")
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.status = status


# -- URLs ---------------------------------------------------------------------------------------


def _port(scheme: str, port: int | None) -> int:
    return port if port is not None else DEFAULT_PORTS.get(scheme, -1)


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, host lower-cased, default port filled in."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise MobileError("bad_url", f"网址无效：{exc}", f"invalid URL: {exc}") from None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme not in DEFAULT_PORTS or not host:
        raise MobileError(
            "bad_url", "网址须以 http:// 或 https:// 开头", "the URL must be http:// or https://"
        )
    if parts.username is not None or parts.password is not None:
        raise MobileError(
            "bad_url", "网址不得包含用户名或密码", "the URL must not carry a user name or password"
        )
    return scheme, host, _port(scheme, port)


def normalize_issuer(issuer: str) -> str:
    """The issuer as the device talks to it: https (plain http only on this computer's loopback
    address, for development and tests), no query, fragment or trailing slash."""
    issuer = issuer.strip()
    scheme, host, _port_number = origin_of(issuer)
    parts = urlsplit(issuer)
    if parts.query or parts.fragment:
        raise MobileError(
            "bad_url",
            "签发者地址不得包含查询参数或片段",
            "the issuer URL must not have a query or fragment",
        )
    if scheme != "https" and host not in LOOPBACK_HOSTS:
        raise MobileError(
            "insecure_issuer",
            "签发者须使用 https（仅本机地址可用 http）",
            "the issuer must use https (plain http only on a loopback address)",
        )
    return issuer.rstrip("/")


def _valid_ticket(ticket: str) -> bool:
    return MIN_TICKET <= len(ticket) <= MAX_TICKET and all(c in TICKET_CHARS for c in ticket)


def parse_qr_url(qr_url: str) -> tuple[tuple[str, str, int], str, str]:
    """What a login page's QR code says: ``(origin, path, ticket)`` of ``{issuer}/m/qr?t=T``.

    Exactly one ``t``, URL-safe base64 characters only, nothing else is trusted."""
    text = qr_url.strip()
    if not text or len(text) > MAX_QR_URL:
        raise MobileError("bad_qr_url", "二维码内容无效", "the QR code's content is not valid")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in text):
        raise MobileError(
            "bad_qr_url", "二维码内容含有非法字符", "the QR code's content has invalid characters"
        )
    try:
        origin = origin_of(text)
    except MobileError as exc:
        raise MobileError(
            "bad_qr_url",
            f"二维码不是登录二维码：{exc.message_zh}",
            f"not a login QR code: {exc.message_en}",
        ) from None
    parts = urlsplit(text)
    tickets = [value for key, value in parse_qsl(parts.query, keep_blank_values=True) if key == "t"]
    if not parts.path.endswith(QR_PATH) or len(tickets) != 1 or not _valid_ticket(tickets[0]):
        raise MobileError(
            "bad_qr_url",
            "二维码不是互认统一身份认证的登录二维码",
            "not a Huren sign-in QR code (expected …/m/qr?t=TICKET)",
        )
    return origin, parts.path, tickets[0]


def ticket_for_device(device: DeviceFile, qr_url: str) -> str:
    """The ticket of ``qr_url`` when the QR code comes from the device's own provider.

    A QR code of any other site is refused: a phishing page could show a QR code that makes the
    device send signed decisions elsewhere, or mislead its owner about who is asking."""
    origin, path, ticket = parse_qr_url(qr_url)
    issuer_path = urlsplit(device.issuer).path.rstrip("/")
    if origin != origin_of(device.issuer) or path != issuer_path + QR_PATH:
        scheme, host, port = origin
        shown = f"{scheme}://{host}:{port}"
        raise MobileError(
            "issuer_mismatch",
            f"二维码来自 {shown}，而本设备登记在 {device.issuer}：可能是钓鱼网站，已拒绝",
            f"the QR code comes from {shown} but this device is enrolled at {device.issuer}: "
            "possibly a phishing site, refused",
        )
    return ticket


# -- keys and the device file -------------------------------------------------------------------

DeviceKey = ec.EllipticCurvePrivateKey | sm2.Sm2PrivateKey


def generate_key(algorithm: Algorithm) -> DeviceKey:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "SM2":
        return sm2.generate_private_key()
    raise MobileError(
        "bad_algorithm", "算法须为 ES256 或 SM2", "the algorithm must be ES256 or SM2"
    )


def _key_matches(key: object, algorithm: str) -> bool:
    if algorithm == "ES256":
        return isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    return algorithm == "SM2" and isinstance(key, sm2.Sm2PrivateKey)


def public_key_der(key: DeviceKey) -> bytes:
    """The DER SubjectPublicKeyInfo the provider registers."""
    return keys.dump_public_key(key.public_key(), "der")


@dataclass(frozen=True)
class DeviceFile:
    """An enrolled device: where it is enrolled, its id there, and its key."""

    issuer: str
    device_id: str
    algorithm: Algorithm
    private_key: DeviceKey
    name: str = ""
    username: str = ""
    enrolled_at: int = 0

    def to_json(self) -> bytes:
        pem = keys.dump_private_key(self.private_key, "pem").decode("ascii")
        doc = {
            "format": FILE_FORMAT,
            "issuer": self.issuer,
            "device_id": self.device_id,
            "algorithm": self.algorithm,
            "name": self.name,
            "username": self.username,
            "enrolled_at": self.enrolled_at,
            "private_key": pem,
        }
        return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes, source: str = "device file") -> DeviceFile:
        def bad(why_zh: str, why_en: str) -> MobileError:
            return MobileError(
                "bad_device_file",
                f"{source} 不是有效的设备文件：{why_zh}",
                f"{source} is not a valid device file: {why_en}",
            )

        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise bad("不是 JSON", "not JSON") from None
        if not isinstance(doc, dict) or doc.get("format") != FILE_FORMAT:
            raise bad("格式标识不符", f"no format {FILE_FORMAT!r}")
        fields: dict[str, str] = {}
        for field_name in ("issuer", "device_id", "algorithm", "private_key"):
            value = doc.get(field_name)
            if not isinstance(value, str) or not value:
                raise bad(f"缺少 {field_name}", f"{field_name} is missing")
            fields[field_name] = value
        algorithm = fields["algorithm"]
        if algorithm not in ALGORITHMS:
            raise bad("算法须为 ES256 或 SM2", "the algorithm must be ES256 or SM2")
        try:
            issuer = normalize_issuer(fields["issuer"])
        except MobileError as exc:
            raise bad(exc.message_zh, exc.message_en) from None
        try:
            key = keys.load_private_key(fields["private_key"].encode("utf-8"))
        except (CertInteropError, ValueError, UnicodeEncodeError):
            raise bad("私钥无法读取", "the private key cannot be read") from None
        if not _key_matches(key, algorithm):
            raise bad("私钥与算法不符", f"the private key is not an {algorithm} key")
        assert isinstance(key, ec.EllipticCurvePrivateKey | sm2.Sm2PrivateKey)
        name, username, enrolled_at = doc.get("name"), doc.get("username"), doc.get("enrolled_at")
        return cls(
            issuer=issuer,
            device_id=fields["device_id"],
            algorithm="ES256" if algorithm == "ES256" else "SM2",
            private_key=key,
            name=name if isinstance(name, str) else "",
            username=username if isinstance(username, str) else "",
            enrolled_at=enrolled_at if type(enrolled_at) is int else 0,
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DeviceFile:
        """Read a device file; refuse one others may read (like ssh does with keys)."""
        where = os.fspath(path)
        try:
            with open(where, "rb") as fh:
                info = os.fstat(fh.fileno())
                data = fh.read(MAX_DEVICE_FILE + 1)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise MobileError(
                "bad_device_file",
                f"无法读取设备文件 {where}：{reason}",
                f"cannot read the device file {where}: {reason}",
            ) from None
        if len(data) > MAX_DEVICE_FILE:
            raise MobileError(
                "bad_device_file", f"设备文件 {where} 过大", f"the device file {where} is too large"
            )
        if os.name == "posix" and stat.S_ISREG(info.st_mode) and info.st_mode & 0o077:
            mode = stat.S_IMODE(info.st_mode)
            raise MobileError(
                "device_file_exposed",
                f"设备文件 {where} 可被他人读取（权限 {mode:04o}）：请执行 chmod 600 {where}",
                f"the device file {where} is readable by others (mode {mode:04o}): "
                f"run chmod 600 {where}",
            )
        return cls.from_json(data, where)

    def save(self, path: str | os.PathLike[str], *, force: bool = False) -> None:
        """Write the file 0600 and atomically; an existing file only with ``force``."""
        where = os.fspath(path)
        refuse_existing(where, force=force)
        try:
            with output_file(where, private=True) as out:
                out.write(self.to_json())
        except UserError as exc:
            raise MobileError("bad_device_file", str(exc), str(exc)) from None


def refuse_existing(path: str, *, force: bool) -> None:
    """A device file is a key: never replace one by accident (and so lose that enrollment)."""
    if path == "-":
        raise MobileError(
            "bad_device_file",
            "设备文件须为文件路径，不能是标准输出",
            "the device file must be a file, not stdout",
        )
    target = Path(path)
    if target.is_dir():
        raise MobileError(
            "bad_device_file", f"{path} 是目录", f"cannot write {path}: is a directory"
        )
    if not force and (target.exists() or target.is_symlink()):
        raise MobileError(
            "device_file_exists",
            f"设备文件 {path} 已存在：加 --force 覆盖（原登记将无法再使用）",
            f"the device file {path} exists: add --force to replace it "
            "(its enrollment can then no longer be used)",
        )
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise MobileError(
            "bad_device_file",
            f"无法在 {parent} 中写入设备文件",
            f"cannot write the device file in {parent}",
        )


# -- signed requests ----------------------------------------------------------------------------


def _nonce() -> str:
    return secrets.token_urlsafe(NONCE_BYTES)


def _sign(device: DeviceFile, body: bytes, fmt: SignatureFormat) -> bytes:
    key = device.private_key
    if isinstance(key, sm2.Sm2PrivateKey):
        return sm2.sign(key, body, fmt=fmt)
    der = signatures.sign(key, "ecdsa-sha256", data=body)
    if fmt == "der":
        return der
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_request(
    device: DeviceFile,
    ticket: str,
    action: Action,
    *,
    ts: int | None = None,
    nonce: str | None = None,
    fmt: SignatureFormat = "der",
) -> tuple[bytes, dict[str, str]]:
    """The exact body bytes of a signed device request and its headers."""
    if action not in ACTIONS:
        raise MobileError(
            "bad_action", "操作须为 scan、confirm 或 cancel", "action must be scan/confirm/cancel"
        )
    if not _valid_ticket(ticket):
        raise MobileError("bad_qr_url", "二维码票据无效", "invalid ticket")
    doc = {
        "device_id": device.device_id,
        "ticket": ticket,
        "action": action,
        "nonce": nonce if nonce is not None else _nonce(),
        "ts": int(time.time()) if ts is None else ts,
    }
    body = json.dumps(doc, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    signature = base64.b64encode(_sign(device, body, fmt)).decode("ascii")
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        SIGNATURE_HEADER: signature,
    }
    return body, headers


# -- HTTP ---------------------------------------------------------------------------------------


def _session(session: requests.Session | None) -> requests.Session:
    if session is not None:
        return session
    fresh = requests.Session()
    fresh.headers["User-Agent"] = USER_AGENT
    return fresh


def _answer(response: requests.Response) -> dict[str, Any]:
    """The JSON object of a 2xx answer, or the provider's refusal as a MobileError."""
    raw = response.content[: MAX_RESPONSE + 1]
    doc: Any = None
    if len(raw) <= MAX_RESPONSE:
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            doc = None
    if 200 <= response.status_code < 300 and isinstance(doc, dict):
        return doc
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        code = doc["error"]
        english = doc.get("message_en") or doc.get("error_description") or code
        chinese = doc.get("message_zh") or english
        raise MobileError(
            printable(code, 64),
            printable(str(chinese), 300),
            printable(str(english), 300),
            response.status_code,
        )
    raise MobileError(
        f"http_{response.status_code}",
        f"服务器返回了意外的应答（HTTP {response.status_code}）",
        f"unexpected answer from the server (HTTP {response.status_code})",
        response.status_code,
    )


def _post(
    session: requests.Session | None, url: str, *, body: bytes, headers: Mapping[str, str]
) -> dict[str, Any]:
    http = _session(session)
    try:
        response = http.post(
            url, data=body, headers=dict(headers), timeout=TIMEOUT, allow_redirects=False
        )
    except requests.RequestException as exc:
        kind = type(exc).__name__
        raise MobileError(
            "unreachable",
            f"无法连接服务器 {url}（{kind}）",
            f"cannot reach {url} ({kind})",
        ) from None
    finally:
        if session is None:
            http.close()
    return _answer(response)


def _json_body(doc: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return body, {"Content-Type": "application/json", "Accept": "application/json"}


@dataclass(frozen=True)
class Enrollment:
    """A started enrollment: the SMS code went to ``phone`` (masked)."""

    issuer: str
    enrollment: str
    phone: str
    expires_in: int


def start_enrollment(
    issuer: str, username: str, password: str, *, session: requests.Session | None = None
) -> Enrollment:
    """Step 1: the account's password; the provider sends an SMS code to its mobile."""
    issuer = normalize_issuer(issuer)
    body, headers = _json_body({"username": username, "password": password})
    doc = _post(session, issuer + API_PREFIX + "/enroll", body=body, headers=headers)
    enrollment = doc.get("enrollment")
    if not isinstance(enrollment, str) or not enrollment:
        raise MobileError(
            "bad_response", "服务器应答缺少 enrollment", "the answer has no enrollment"
        )
    expires = doc.get("expires_in")
    return Enrollment(
        issuer=issuer,
        enrollment=enrollment,
        phone=printable(str(doc.get("phone") or ""), 32),
        expires_in=expires if type(expires) is int else 0,
    )


def finish_enrollment(
    started: Enrollment,
    code: str,
    key: DeviceKey,
    name: str,
    *,
    username: str = "",
    session: requests.Session | None = None,
) -> DeviceFile:
    """Step 2: the SMS code and the device's public key; the enrolled device (not saved)."""
    spki = base64.b64encode(public_key_der(key)).decode("ascii")
    body, headers = _json_body({"code": code.strip(), "public_key": spki, "name": name})
    url = f"{started.issuer}{API_PREFIX}/enroll/{quote(started.enrollment, safe='')}"
    doc = _post(session, url, body=body, headers=headers)
    device_id, algorithm, shown = doc.get("device_id"), doc.get("algorithm"), doc.get("name")
    expected: Algorithm = "SM2" if isinstance(key, sm2.Sm2PrivateKey) else "ES256"
    if not isinstance(device_id, str) or not device_id:
        raise MobileError("bad_response", "服务器应答缺少 device_id", "the answer has no device_id")
    if algorithm != expected:
        raise MobileError(
            "bad_response",
            f"服务器登记的算法 {algorithm!r} 与设备密钥（{expected}）不符",
            f"the server registered algorithm {algorithm!r}, the device key is {expected}",
        )
    return DeviceFile(
        issuer=started.issuer,
        device_id=device_id,
        algorithm=expected,
        private_key=key,
        name=printable(shown, 200) if isinstance(shown, str) and shown else name,
        username=username,
        enrolled_at=int(time.time()),
    )


def enroll(
    issuer: str,
    username: str,
    password: str,
    code: str,
    *,
    name: str = "huren mobile",
    algorithm: Algorithm = "ES256",
    session: requests.Session | None = None,
) -> DeviceFile:
    """Both steps with a code known in advance (tests). A person reads the SMS in between:
    call :func:`start_enrollment`, then :func:`finish_enrollment`."""
    started = start_enrollment(issuer, username, password, session=session)
    return finish_enrollment(
        started, code, generate_key(algorithm), name, username=username, session=session
    )


def act(
    device: DeviceFile,
    qr_url: str,
    action: Action,
    *,
    session: requests.Session | None = None,
    fmt: SignatureFormat = "der",
) -> dict[str, Any]:
    """One signed device request about the QR code's ticket; the provider's answer."""
    ticket = ticket_for_device(device, qr_url)
    body, headers = sign_request(device, ticket, action, fmt=fmt)
    return post_signed(device, ticket, action, body, headers, session=session)


def post_signed(
    device: DeviceFile,
    ticket: str,
    action: Action,
    body: bytes,
    headers: Mapping[str, str],
    *,
    session: requests.Session | None = None,
) -> dict[str, Any]:
    """Send an already signed request (tests replay one with this)."""
    url = f"{device.issuer}{API_PREFIX}/qr/{quote(ticket, safe='')}/{action}"
    return _post(session, url, body=body, headers=headers)


# -- showing what the provider says -------------------------------------------------------------


def printable(value: object, limit: int = 500) -> str:
    """Text from the network made safe for a terminal: control and format characters (escape
    sequences, bidi overrides) become U+FFFD; long text is cut. The browser's user agent is
    whatever the person at that browser chose to send."""
    text = value if isinstance(value, str) else "" if value is None else str(value)
    cleaned = "".join(
        "\ufffd" if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text
    )
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _when(value: object) -> str:
    """The browser's opening time: unix seconds or an ISO 8601 string, shown in China time."""
    moment: datetime | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            moment = None
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return printable(value, 64)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if moment is None:
        return "?"
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S (UTC+8)")


def describe_request(answer: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The ``scan`` answer as (Chinese label, English label, value) rows for the person."""
    browser = answer.get("browser")
    browser = browser if isinstance(browser, dict) else {}
    expires = answer.get("expires_in")
    return [
        ("平台", "Platform", printable(answer.get("client_name"), 200) or "?"),
        ("浏览器 IP", "Browser IP", printable(browser.get("ip"), 64) or "?"),
        ("浏览器", "Browser", printable(browser.get("user_agent"), 300) or "?"),
        ("打开时间", "Opened at", _when(browser.get("opened_at"))),
        (
            "剩余有效期",
            "Expires in",
            f"{expires} 秒 / s" if type(expires) is int else "?",
        ),
    ]
