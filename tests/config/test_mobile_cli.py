"""The reference mobile client (`huren mobile`, `config.mobile_client`) on its own.

Request signing is checked with `cert_interop` (what the provider verifies with), for ES256 and
SM2 and both signature encodings; the device file, the QR URL and its issuer check, and the
commands against a small stand-in of the device API (a real local HTTP server speaking the
contract of docs/mobile-qr-login.md). The live provider is the end-to-end test's
(tests/e2e/test_qr_login_browser.py).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cert_interop import keys, signatures, sm2
from config.cli import cli
from config.mobile_client import (
    DeviceFile,
    MobileError,
    act,
    describe_request,
    generate_key,
    parse_qr_url,
    post_signed,
    printable,
    sign_request,
    ticket_for_device,
)

ISSUER = "https://sso.example.cn"
TICKET = "Zk3xQ9vT0aB7cD1eF2gH3iJ4kL5mN6oP"
QR = f"{ISSUER}/m/qr?t={TICKET}"
URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def make_device(algorithm: str = "ES256", issuer: str = ISSUER) -> DeviceFile:
    chosen = "SM2" if algorithm == "SM2" else "ES256"
    return DeviceFile(
        issuer=issuer,
        device_id="dev_" + secrets.token_hex(8),
        algorithm=chosen,
        private_key=generate_key(chosen),
        name="张三的手机",
        username="zhangsan",
        enrolled_at=int(time.time()),
    )


def verifies(device: DeviceFile, body: bytes, signature: bytes) -> bool:
    """As the provider does: the registered SPKI, the algorithm of its key."""
    spki = keys.dump_public_key(device.private_key.public_key(), "der")
    public = keys.load_public_key(spki)
    algorithm = "sm2-sm3" if isinstance(public, sm2.Sm2PublicKey) else "ecdsa-sha256"
    return signatures.verify(public, algorithm, signature, data=body)


# -- signing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["ES256", "SM2"])
@pytest.mark.parametrize("fmt", ["der", "raw"])
def test_signed_body_and_signature_verify(algorithm: str, fmt: str) -> None:
    device = make_device(algorithm)
    before = int(time.time())
    body, headers = sign_request(device, TICKET, "confirm", fmt=fmt)  # type: ignore[arg-type]
    doc = json.loads(body)
    assert doc == {
        "device_id": device.device_id,
        "ticket": TICKET,
        "action": "confirm",
        "nonce": doc["nonce"],
        "ts": doc["ts"],
    }
    assert list(doc) == ["device_id", "ticket", "action", "nonce", "ts"]
    assert len(doc["nonce"]) >= 22 and URLSAFE.match(doc["nonce"])
    assert before <= doc["ts"] <= int(time.time()) + 1
    assert body == json.dumps(doc, separators=(",", ":")).encode()  # compact, ASCII
    assert headers["Content-Type"] == "application/json"
    signature = base64.b64decode(headers["X-Huren-Signature"], validate=True)
    if fmt == "raw":
        assert len(signature) == 64  # r || s, as WebCrypto gives it
    else:
        assert signature[0] == 0x30  # DER SEQUENCE
    assert verifies(device, body, signature)
    # the signature covers the exact bytes: another ticket, action or nonce does not verify
    for changed in (
        body.replace(b'"confirm"', b'"cancel"'),
        body.replace(TICKET.encode(), TICKET[::-1].encode()),
        body.replace(b"}", b" }"),
    ):
        assert not verifies(device, changed, signature)
    # nor does another device's key
    assert not verifies(make_device(algorithm), body, signature)


def test_every_request_has_a_fresh_nonce() -> None:
    device = make_device()
    nonces = {json.loads(sign_request(device, TICKET, "scan")[0])["nonce"] for _ in range(50)}
    assert len(nonces) == 50


def test_fixed_nonce_and_time_give_the_same_body() -> None:
    device = make_device("SM2")
    one, h1 = sign_request(device, TICKET, "scan", ts=1700000000, nonce="n" * 22)
    two, h2 = sign_request(device, TICKET, "scan", ts=1700000000, nonce="n" * 22)
    assert one == two  # the signature differs (random k), both verify
    for headers in (h1, h2):
        assert verifies(device, one, base64.b64decode(headers["X-Huren-Signature"]))


@pytest.mark.parametrize("ticket", ["short", "x" * 129, "has space in it!!", "é" * 20])
def test_signing_refuses_a_malformed_ticket(ticket: str) -> None:
    with pytest.raises(MobileError) as refused:
        sign_request(make_device(), ticket, "scan")
    assert refused.value.code == "bad_qr_url"


def test_signing_refuses_an_unknown_action() -> None:
    with pytest.raises(MobileError):
        sign_request(make_device(), TICKET, "approve")  # type: ignore[arg-type]


# -- the device file ------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ["ES256", "SM2"])
def test_device_file_round_trip_is_private(tmp_path: Path, algorithm: str) -> None:
    device = make_device(algorithm)
    path = tmp_path / "phone.json"
    device.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["phone.json"]  # no temporary left
    loaded = DeviceFile.load(path)
    assert (loaded.issuer, loaded.device_id, loaded.algorithm, loaded.name) == (
        device.issuer,
        device.device_id,
        device.algorithm,
        "张三的手机",
    )
    body, headers = sign_request(loaded, TICKET, "scan")
    assert verifies(device, body, base64.b64decode(headers["X-Huren-Signature"]))
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "huren-mobile-device/1"
    assert doc["private_key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_device_file_is_not_overwritten_without_force(tmp_path: Path) -> None:
    path = tmp_path / "phone.json"
    first, second = make_device(), make_device()
    first.save(path)
    with pytest.raises(MobileError) as refused:
        second.save(path)
    assert refused.value.code == "device_file_exists" and "--force" in str(refused.value)
    assert DeviceFile.load(path).device_id == first.device_id
    second.save(path, force=True)
    assert DeviceFile.load(path).device_id == second.device_id
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_device_file_is_not_written_into_a_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(MobileError) as refused:
        make_device().save(tmp_path / "nowhere" / "phone.json")
    assert refused.value.code == "bad_device_file"


def _corrupt(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    path.chmod(0o600)
    return path


def _good_doc() -> dict[str, Any]:
    return dict(json.loads(make_device().to_json()))


@pytest.mark.parametrize(
    ("content", "why"),
    [
        pytest.param(b"", "JSON", id="empty"),
        pytest.param(b"\xff\xfe garbage", "JSON", id="binary"),
        pytest.param(b"[1, 2]", "format", id="not-an-object"),
        pytest.param(json.dumps({**_good_doc(), "format": "x"}).encode(), "format", id="format"),
        pytest.param(
            json.dumps({k: v for k, v in _good_doc().items() if k != "device_id"}).encode(),
            "device_id",
            id="no-device-id",
        ),
        pytest.param(
            json.dumps({**_good_doc(), "algorithm": "RS256"}).encode(), "ES256", id="algorithm"
        ),
        pytest.param(
            json.dumps({**_good_doc(), "algorithm": "SM2"}).encode(),
            "SM2",
            id="key-not-sm2",
        ),
        pytest.param(
            json.dumps({**_good_doc(), "private_key": _good_doc()["private_key"][:80]}).encode(),
            "private key",
            id="truncated-key",
        ),
        pytest.param(
            json.dumps({**_good_doc(), "issuer": "http://sso.example.cn"}).encode(),
            "https",
            id="plain-http-issuer",
        ),
    ],
)
def test_a_corrupted_device_file_is_a_clear_error(tmp_path: Path, content: bytes, why: str) -> None:
    path = _corrupt(tmp_path, "phone.json", content)
    with pytest.raises(MobileError) as refused:
        DeviceFile.load(path)
    assert refused.value.code == "bad_device_file"
    assert str(path) in refused.value.message_en and why in refused.value.message_en


def test_a_device_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "phone.json"
    make_device().save(path)
    path.chmod(0o644)
    with pytest.raises(MobileError) as refused:
        DeviceFile.load(path)
    assert refused.value.code == "device_file_exposed" and "chmod 600" in str(refused.value)


def test_a_missing_device_file(tmp_path: Path) -> None:
    with pytest.raises(MobileError) as refused:
        DeviceFile.load(tmp_path / "none.json")
    assert refused.value.code == "bad_device_file"


# -- the QR URL -----------------------------------------------------------------------------------


def test_qr_url_of_the_device_s_issuer() -> None:
    device = make_device()
    assert ticket_for_device(device, QR) == TICKET
    assert ticket_for_device(device, f"  {QR}\n") == TICKET
    assert ticket_for_device(device, f"https://SSO.example.cn:443/m/qr?t={TICKET}") == TICKET
    assert ticket_for_device(device, f"{ISSUER}/m/qr?lang=en&t={TICKET}") == TICKET
    local = make_device(issuer="http://127.0.0.1:8000")
    assert ticket_for_device(local, f"http://127.0.0.1:8000/m/qr?t={TICKET}") == TICKET
    below = make_device(issuer="https://gw.example.cn/sso")
    assert ticket_for_device(below, f"https://gw.example.cn/sso/m/qr?t={TICKET}") == TICKET


@pytest.mark.parametrize(
    "qr_url",
    [
        f"https://sso.example.cn.evil.cn/m/qr?t={TICKET}",
        f"https://evil.cn/m/qr?t={TICKET}",
        f"http://sso.example.cn/m/qr?t={TICKET}",
        f"https://sso.example.cn:8443/m/qr?t={TICKET}",
        f"https://evil.cn/sso.example.cn/m/qr?t={TICKET}",
        f"https://sso.example.cn/evil/m/qr?t={TICKET}",
    ],
)
def test_a_qr_code_of_another_site_is_refused(qr_url: str) -> None:
    with pytest.raises(MobileError) as refused:
        ticket_for_device(make_device(), qr_url)
    assert refused.value.code == "issuer_mismatch"
    assert "phishing" in refused.value.message_en and "钓鱼" in refused.value.message_zh


@pytest.mark.parametrize(
    "qr_url",
    [
        "",
        "not a url",
        f"ftp://sso.example.cn/m/qr?t={TICKET}",
        f"https://user:pw@sso.example.cn/m/qr?t={TICKET}",
        f"https://sso.example.cn@evil.cn/m/qr?t={TICKET}",
        "https://sso.example.cn/m/qr",
        "https://sso.example.cn/m/qr?t=",
        "https://sso.example.cn/m/qr?t=short",
        f"https://sso.example.cn/m/qr?t={TICKET}&t={TICKET}",
        f"https://sso.example.cn/m/qr?t={TICKET}%0d%0a",
        f"https://sso.example.cn/m/qr?t={TICKET}!",
        f"https://sso.example.cn/login?t={TICKET}",
        f"https://sso.example.cn/m/qr?t={TICKET} extra",
        f"https://sso.example.cn:99999/m/qr?t={TICKET}",
        "https://sso.example.cn/m/qr?t=" + "A" * 3000,
    ],
)
def test_malformed_qr_urls(qr_url: str) -> None:
    with pytest.raises(MobileError) as refused:
        parse_qr_url(qr_url)
    assert refused.value.code == "bad_qr_url"


TICKETS = st.text(
    alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    min_size=16,
    max_size=128,
)
DEVICES = {
    issuer: make_device(issuer=issuer)
    for issuer in (
        ISSUER,
        "http://127.0.0.1:8000",
        "http://localhost:5000",
        "https://gw.example.cn/sso",
    )
}
ISSUERS = st.sampled_from(sorted(DEVICES))


@given(issuer=ISSUERS, ticket=TICKETS)
def test_any_ticket_of_the_issuer_round_trips(issuer: str, ticket: str) -> None:
    _origin, path, parsed = parse_qr_url(f"{issuer}/m/qr?t={ticket}")
    assert parsed == ticket and path.endswith("/m/qr")
    assert ticket_for_device(DEVICES[issuer], f"{issuer}/m/qr?t={ticket}") == ticket


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300))
def test_arbitrary_text_is_parsed_or_refused_cleanly(text: str) -> None:
    try:
        _origin, _path, ticket = parse_qr_url(text)
    except MobileError as exc:
        assert exc.code == "bad_qr_url"
    else:
        assert 16 <= len(ticket) <= 128 and URLSAFE.match(ticket)


@given(
    host=st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}", fullmatch=True),
    ticket=TICKETS,
)
def test_only_the_device_s_own_host_is_accepted(host: str, ticket: str) -> None:
    device = DEVICES[ISSUER]
    url = f"https://{host}/m/qr?t={ticket}"
    if host == "sso.example.cn":
        assert ticket_for_device(device, url) == ticket
    else:
        with pytest.raises(MobileError) as refused:
            ticket_for_device(device, url)
        assert refused.value.code == "issuer_mismatch"


def test_text_from_the_network_cannot_drive_the_terminal() -> None:
    evil = "Mozilla/5.0\x1b]0;owned\x07\x1b[2J\r\nIP: 1.2.3.4\u202etxt.exe\x00"
    shown = printable(evil)
    assert not any(c in shown for c in "\x1b\x07\r\n\x00\u202e")
    assert shown.startswith("Mozilla/5.0") and len(printable("a" * 900, 300)) == 300
    rows = describe_request(
        {
            "state": "scanned",
            "client_name": "招标平台\x1b[31m",
            "browser": {"ip": "203.0.113.9", "user_agent": evil, "opened_at": 1700000000},
            "expires_in": 97,
        }
    )
    values = {en: value for _zh, en, value in rows}
    assert values["Platform"] == "招标平台\ufffd[31m"
    assert values["Browser IP"] == "203.0.113.9"
    assert values["Opened at"] == "2023-11-15 06:13:20 (UTC+8)"
    assert values["Expires in"] == "97 秒 / s"
    iso = describe_request({"browser": {"opened_at": "2023-11-14T22:13:20Z"}})
    assert {en: v for _zh, en, v in iso}["Opened at"] == "2023-11-15 06:13:20 (UTC+8)"


# -- the commands, against a stand-in of the device API -------------------------------------------


@dataclass
class FakeProvider:
    """The device API's contract, minimal: enrollment with a fixed SMS code, one ticket."""

    url: str = ""
    code: str = "246810"
    devices: dict[str, Any] = field(default_factory=dict)
    revoked: set[str] = field(default_factory=set)
    nonces: set[str] = field(default_factory=set)
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, status: int, code: str) -> tuple[int, dict[str, Any]]:
        return status, {
            "error": code,
            "error_description": f"{code} (en)",
            "message_zh": f"{code}（中文）",
            "message_en": f"{code} (en)",
        }

    def handle(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        with self.lock:
            self.requests.append((path, body))
            doc = json.loads(body or b"{}")
            if path == "/api/v1/mobile/enroll":
                if doc.get("password") != "pw-正确":
                    return self.error(401, "invalid_grant")
                return 200, {"enrollment": "enr1", "phone": "138****0000", "expires_in": 300}
            if path == "/api/v1/mobile/enroll/enr1":
                if doc.get("code") != self.code:
                    return self.error(400, "invalid_code")
                public = keys.load_public_key(base64.b64decode(doc["public_key"]))
                device_id = f"dev{len(self.devices) + 1}"
                self.devices[device_id] = public
                algorithm = "SM2" if isinstance(public, sm2.Sm2PublicKey) else "ES256"
                return 200, {"device_id": device_id, "algorithm": algorithm}
            match = re.fullmatch(r"/api/v1/mobile/qr/([A-Za-z0-9_-]+)/(scan|confirm|cancel)", path)
            if not match:
                return self.error(404, "not_found")
            public = self.devices.get(doc.get("device_id"))
            if public is None or doc["device_id"] in self.revoked:
                return self.error(401, "device_revoked")
            signature = base64.b64decode(headers.get("X-Huren-Signature", ""))
            algorithm = "sm2-sm3" if isinstance(public, sm2.Sm2PublicKey) else "ecdsa-sha256"
            if not signatures.verify(public, algorithm, signature, data=body):
                return self.error(401, "bad_signature")
            if abs(time.time() - doc["ts"]) > 60:
                return self.error(400, "stale_request")
            if doc["nonce"] in self.nonces:
                return self.error(409, "replayed")
            self.nonces.add(doc["nonce"])
            ticket = self.tickets.get(match[1])
            if ticket is None:
                return self.error(404, "ticket_not_found")
            action, state = match[2], ticket["state"]
            if action == "scan" and state == "created":
                ticket["state"] = "scanned"
                return 200, {
                    "state": "scanned",
                    "client_name": "招标平台",
                    "browser": {
                        "ip": "203.0.113.7",
                        "user_agent": "Mozilla/5.0 \x1b[2J(X11)",
                        "opened_at": 1700000000,
                    },
                    "expires_in": 100,
                }
            if action in ("confirm", "cancel") and state == "scanned":
                ticket["state"] = "confirmed" if action == "confirm" else "cancelled"
                return 200, {"state": ticket["state"]}
            return self.error(409, "wrong_state")


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, doc = fake.handle(self.path, body, dict(self.headers.items()))
            payload = json.dumps(doc).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    fake.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def huren(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(cli, list(args), input=stdin)


def enroll_cli(provider: FakeProvider, device: Path, *extra: str, stdin: str | None = None) -> Any:
    return huren(
        "mobile",
        "enroll",
        "--issuer",
        provider.url,
        "--username",
        "zhangsan",
        "--password-stdin",
        "--device",
        str(device),
        *extra,
        stdin=f"pw-正确\n{provider.code}\n" if stdin is None else stdin,
    )


@pytest.mark.parametrize("algorithm", ["ES256", "SM2"])
def test_enroll_scan_confirm(provider: FakeProvider, tmp_path: Path, algorithm: str) -> None:
    device = tmp_path / "phone.json"
    done = enroll_cli(provider, device, "--algorithm", algorithm, "--name", "测试手机", "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["device_id"] == "dev1" and result["algorithm"] == algorithm
    assert "138****0000" in done.stderr
    assert stat.S_IMODE(device.stat().st_mode) == 0o600
    saved = DeviceFile.load(device)
    assert (saved.issuer, saved.name, saved.username) == (provider.url, "测试手机", "zhangsan")
    sent = json.loads(provider.requests[1][1])
    assert keys.load_public_key(base64.b64decode(sent["public_key"])) == provider.devices["dev1"]

    provider.tickets[TICKET] = {"state": "created"}
    qr = f"{provider.url}/m/qr?t={TICKET}"
    scanned = huren("mobile", "scan", qr, "--device", str(device))
    assert scanned.exit_code == 0, scanned.output
    for text in ("平台 / Platform: 招标平台", "203.0.113.7", "2023-11-15 06:13:20", "100 秒"):
        assert text in scanned.stdout
    assert "\x1b" not in scanned.stdout  # the user agent's escape sequence is neutralised
    assert "huren mobile confirm" in scanned.stderr
    confirmed = huren("mobile", "confirm", qr, "--device", str(device), "--json")
    assert confirmed.exit_code == 0, confirmed.output
    assert json.loads(confirmed.stdout) == {"state": "confirmed"}
    again = huren("mobile", "cancel", qr, "--device", str(device))
    assert again.exit_code == 2
    assert again.stderr == "error: wrong_state: wrong_state（中文） / wrong_state (en)\n"


def test_cancel(provider: FakeProvider, tmp_path: Path) -> None:
    device = tmp_path / "phone.json"
    assert enroll_cli(provider, device).exit_code == 0
    provider.tickets[TICKET] = {"state": "created"}
    qr = f"{provider.url}/m/qr?t={TICKET}"
    assert huren("mobile", "scan", qr, "--device", str(device), "--json").exit_code == 0
    cancelled = huren("mobile", "cancel", qr, "--device", str(device))
    assert cancelled.exit_code == 0 and "已取消登录 / sign-in cancelled" in cancelled.stdout
    assert provider.tickets[TICKET]["state"] == "cancelled"


def test_enroll_refuses_an_existing_device_file_before_asking(
    provider: FakeProvider, tmp_path: Path
) -> None:
    device = tmp_path / "phone.json"
    device.write_text("mine", encoding="utf-8")
    refused = enroll_cli(provider, device)
    assert refused.exit_code == 2 and refused.stderr.startswith("error: device_file_exists: ")
    assert provider.requests == [] and device.read_text(encoding="utf-8") == "mine"
    forced = enroll_cli(provider, device, "--force")
    assert forced.exit_code == 0, forced.output
    assert DeviceFile.load(device).device_id == "dev1"


def test_enroll_errors_are_one_line(provider: FakeProvider, tmp_path: Path) -> None:
    device = tmp_path / "phone.json"
    wrong = enroll_cli(provider, device, stdin="not-it\n123\n")
    assert wrong.exit_code == 2
    assert wrong.stderr == "error: invalid_grant: invalid_grant（中文） / invalid_grant (en)\n"
    bad_code = enroll_cli(provider, device, stdin="pw-正确\n999999\n")
    assert bad_code.exit_code == 2
    sent, refusal = bad_code.stderr.splitlines()
    assert sent.startswith("短信验证码已发送至 138****0000（300 秒内有效） / ")
    assert sent.endswith("SMS code sent to 138****0000 (valid for 300 s)")
    assert refusal.startswith("error: invalid_code: ")
    assert not device.exists()
    empty = enroll_cli(provider, device, stdin="")
    assert empty.exit_code == 2 and "password" in empty.stderr


def test_enroll_refuses_plain_http_outside_loopback(tmp_path: Path) -> None:
    refused = huren(
        "mobile",
        "enroll",
        "--issuer",
        "http://sso.example.cn",
        "--username",
        "u",
        "--password-stdin",
        "--device",
        str(tmp_path / "d.json"),
        stdin="pw\n1\n",
    )
    assert refused.exit_code == 2 and refused.stderr.startswith("error: insecure_issuer: ")


def test_another_site_s_qr_code_sends_nothing(provider: FakeProvider, tmp_path: Path) -> None:
    device = tmp_path / "phone.json"
    assert enroll_cli(provider, device).exit_code == 0
    sent = len(provider.requests)
    port = int(provider.url.rsplit(":", 1)[1])
    for qr in (
        f"http://localhost:{port}/m/qr?t={TICKET}",  # the same server under another name
        f"http://127.0.0.1:{port + 1}/m/qr?t={TICKET}",
    ):
        refused = huren("mobile", "confirm", qr, "--device", str(device))
        assert refused.exit_code == 2
        assert refused.stderr.startswith("error: issuer_mismatch: ")
        assert refused.stderr.count("\n") == 1
    assert len(provider.requests) == sent


def test_replayed_and_stale_requests_are_refused(provider: FakeProvider, tmp_path: Path) -> None:
    path = tmp_path / "phone.json"
    assert enroll_cli(provider, path).exit_code == 0
    device = DeviceFile.load(path)
    provider.tickets[TICKET] = {"state": "created"}
    body, headers = sign_request(device, TICKET, "scan")
    assert post_signed(device, TICKET, "scan", body, headers)["state"] == "scanned"
    with pytest.raises(MobileError) as replayed:
        post_signed(device, TICKET, "scan", body, headers)
    assert (replayed.value.code, replayed.value.status) == ("replayed", 409)
    old, old_headers = sign_request(device, TICKET, "confirm", ts=int(time.time()) - 600)
    with pytest.raises(MobileError) as stale:
        post_signed(device, TICKET, "confirm", old, old_headers)
    assert stale.value.code == "stale_request"
    provider.revoked.add(device.device_id)
    with pytest.raises(MobileError) as revoked:
        act(device, f"{provider.url}/m/qr?t={TICKET}", "confirm", fmt="raw")
    assert (revoked.value.code, revoked.value.status) == ("device_revoked", 401)


def test_a_corrupted_device_file_on_the_command_line(tmp_path: Path) -> None:
    path = _corrupt(tmp_path, "phone.json", b"{not json")
    refused = huren("mobile", "scan", QR, "--device", str(path))
    assert refused.exit_code == 2
    assert refused.stderr.startswith("error: bad_device_file: ")
    assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.output


def test_an_unreachable_provider(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path / "phone.json"
    make_device(issuer=f"http://127.0.0.1:{port}").save(path)
    refused = huren(
        "mobile", "scan", f"http://127.0.0.1:{port}/m/qr?t={TICKET}", "--device", str(path)
    )
    assert refused.exit_code == 2 and refused.stderr.startswith("error: unreachable: ")


def test_a_non_json_answer_is_reported_by_its_status(tmp_path: Path) -> None:
    """A proxy's HTML error page instead of the API's JSON."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            payload = b"<html><body>502 Bad Gateway</body></html>"
            self.send_response(502)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        path = tmp_path / "phone.json"
        make_device(issuer=url).save(path)
        refused = huren("mobile", "confirm", f"{url}/m/qr?t={TICKET}", "--device", str(path))
        assert refused.exit_code == 2
        assert refused.stderr.startswith("error: http_502: ") and "HTTP 502" in refused.stderr
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


# -- the reference mobile web page (served by the provider) ---------------------------------------


@pytest.fixture
def web(tmp_path: Path) -> Iterator[Any]:
    import idp.qrlogin.mobile_page  # noqa: F401  (the routes, whether or not idp.web imports them)
    from config.app import create_app
    from config.runtime import MIGRATION_LOCATIONS
    from config.settings import Settings
    from storage.migrate import upgrade

    settings = Settings.from_values(
        {
            "data_dir": str(tmp_path / "data"),
            "issuer": "http://127.0.0.1:8000",
            "database_url": f"sqlite:///{tmp_path}/huren.db",
        }
    )
    upgrade(settings.database_url, MIGRATION_LOCATIONS)
    app = create_app(settings)
    try:
        yield app.test_client()
    finally:
        app.extensions["huren.engine"].dispose()


def _messages(html: str) -> dict[str, str]:
    found = re.search(r"data-messages='([^']*)'", html)
    assert found, html
    return dict(json.loads(found[1].replace("&#34;", '"').replace("&amp;", "&")))


def test_the_mobile_qr_page(web: Any) -> None:
    page = web.get(f"/m/qr?t={TICKET}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'data-ticket="{TICKET}"' in html and 'data-api="/api/v1/mobile"' in html
    assert 'id="confirm-login"' in html and ">确认登录<" in html and ">取消<" in html
    assert '<script src="/assets/mobile-qr.js" defer></script>' in html
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # no inline script (CSP)
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    messages = _messages(html)
    assert messages["error.replayed"].startswith("该请求已处理过")
    assert messages["confirmed"].startswith("已确认登录")
    codes = ("device_revoked", "bad_signature", "stale_request", "replayed", "wrong_state")
    for code in (*codes, "ticket_not_found", "ticket_expired", "wrong_code"):
        assert f"error.{code}" in messages
    assert web.get("/assets/mobile-qr.js").status_code == 200


@pytest.mark.parametrize("query", ["", "?t=short", "?t=" + "x" * 200, "?t=<script>"])
def test_the_mobile_qr_page_without_a_ticket(web: Any, query: str) -> None:
    page = web.get("/m/qr" + query)
    assert page.status_code == 400
    html = page.get_data(as_text=True)
    assert 'data-ticket=""' in html and "这不是有效的登录二维码" in html
    assert "<script>" not in html


def test_the_mobile_enroll_page_in_english(web: Any) -> None:
    page = web.get(f"/m/?t={TICKET}&lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="enroll-form"' in html and 'id="code-form"' in html
    assert f'data-qr-url="/m/qr?t={TICKET}"' in html
    assert _messages(html)["error.wrong_code"] == "The SMS code is wrong. Check it and try again."
