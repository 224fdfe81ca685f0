"""The person's consent, asked in the bridge's own prompt — never in the calling web page.

Three ways to ask (one per bridge process):

- :class:`TerminalConsent` — on the terminal the bridge runs in; the PIN is read hidden;
- :class:`PageConsent` — on a page the bridge serves itself (``GET /consent``), opened in the
  person's browser; its forms carry a random per-process secret and the PIN typed there;
- :class:`KioskConsent` — everything approved, the PIN from a file: only with the explicit
  ``--kiosk-auto-approve`` setting, for tests and unattended kiosks.

A request waits for the decision up to a timeout (:class:`ConsentTimeout`). PINs are handed to
the token and never logged; nothing here prints one.
"""

from __future__ import annotations

import html
import queue
import secrets
import sys
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, TextIO

__all__ = [
    "MAX_PIN_CHARS",
    "Consent",
    "ConsentRequest",
    "ConsentTimeout",
    "Decision",
    "KioskConsent",
    "PageConsent",
    "TerminalConsent",
    "clean_text",
]

MAX_PIN_CHARS = 256

Operation = Literal["certificates", "sign", "decrypt"]

_OPERATION_TEXT: dict[str, tuple[str, str]] = {
    "certificates": ("查看并使用您的证书", "see and use your certificates"),
    "sign": ("用您的证书签名", "sign with your certificate"),
    "decrypt": ("用您的证书解密", "decrypt with your certificate"),
}


def clean_text(value: str, limit: int = 200) -> str:
    """``value`` without control or format characters (no terminal escape sequences, no
    bidirectional overrides), at most ``limit`` characters."""
    out = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in value
    )
    out = " ".join(out.split())
    return out if len(out) <= limit else out[: limit - 1] + "…"


@dataclass
class ConsentRequest:
    """What the person is asked to allow."""

    origin: str
    operation: Operation
    purpose: str = ""
    certificate: str = ""
    """Subject of the certificate to use (empty for the listing)."""
    fingerprint: str = ""
    """SHA-256 (hex) of the data, digest or encrypted key sent."""
    fingerprint_of: str = ""
    """What ``fingerprint`` is the SHA-256 of (``data``, ``digest``, ``encrypted key``)."""
    needs_pin: bool = False
    id: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    created: float = field(default_factory=time.monotonic)

    def lines(self) -> list[tuple[str, str]]:
        """(Chinese, English) lines describing the request."""
        zh, en = _OPERATION_TEXT[self.operation]
        out = [(f"网站 {self.origin} 请求{zh}", f"The site {self.origin} asks to {en}")]
        if self.purpose:
            out.append((f"用途：{self.purpose}", f"Purpose: {self.purpose}"))
        if self.certificate:
            out.append((f"证书：{self.certificate}", f"Certificate: {self.certificate}"))
        if self.fingerprint:
            what = self.fingerprint_of or "data"
            zh_what = {"data": "数据", "digest": "摘要", "encrypted key": "密文"}.get(what, what)
            out.append(
                (
                    f"{zh_what} SHA-256：{self.fingerprint}",
                    f"SHA-256 of the {what}: {self.fingerprint}",
                )
            )
        return out


@dataclass(frozen=True)
class Decision:
    approved: bool
    pin: str | None = field(default=None, repr=False)


class ConsentTimeout(Exception):
    """Nobody answered in time."""


class Consent(Protocol):
    def ask(self, request: ConsentRequest, timeout: float) -> Decision:
        """Block until the person decides; :class:`ConsentTimeout` after ``timeout`` seconds."""
        ...


# --- kiosk ---------------------------------------------------------------------------------


class KioskConsent:
    """Approves everything with a fixed PIN (``--kiosk-auto-approve --pin-file``)."""

    def __init__(self, pin: str | None) -> None:
        self._pin = pin

    def ask(self, request: ConsentRequest, timeout: float) -> Decision:
        return Decision(True, self._pin if request.needs_pin else None)


# --- waiting ---------------------------------------------------------------------------------


@dataclass
class _Pending:
    request: ConsentRequest
    done: threading.Event = field(default_factory=threading.Event)
    decision: Decision | None = None
    expired: bool = False


def _wait(pending: _Pending, timeout: float, lock: threading.Lock) -> Decision:
    pending.done.wait(timeout)
    with lock:
        if pending.decision is None:
            pending.expired = True
            raise ConsentTimeout()
        return pending.decision


# --- terminal --------------------------------------------------------------------------------


class TerminalConsent:
    """Prompts one request at a time on the bridge's terminal (a worker thread reads the
    answers, so HTTP threads only wait). The PIN is read with ``getpass`` (hidden) when the
    input is a terminal, else as the next line of input."""

    def __init__(
        self,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        read_pin: Callable[[str], str] | None = None,
    ) -> None:
        self._in = stdin or sys.stdin
        self._out = stdout or sys.stderr
        self._read_pin = read_pin or self._default_read_pin
        self._queue: queue.Queue[_Pending] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="bridge-consent", daemon=True)
        self._thread.start()

    def _default_read_pin(self, prompt: str) -> str:
        if self._in.isatty():
            import getpass

            return getpass.getpass(prompt, stream=self._out)
        self._out.write(prompt)
        self._out.flush()
        return self._in.readline().rstrip("\r\n")

    def ask(self, request: ConsentRequest, timeout: float) -> Decision:
        pending = _Pending(request)
        self._queue.put(pending)
        return _wait(pending, timeout, self._lock)

    def _loop(self) -> None:
        while True:
            pending = self._queue.get()
            with self._lock:
                if pending.expired:
                    continue
            try:
                decision = self._prompt(pending.request)
            except (EOFError, OSError, KeyboardInterrupt):
                decision = Decision(False)
            with self._lock:
                if pending.expired:
                    self._out.write("（请求已超时，未执行 / the request had expired: not done）\n")
                    self._out.flush()
                    continue
                pending.decision = decision
                pending.done.set()

    def _prompt(self, request: ConsentRequest) -> Decision:
        out = self._out
        out.write("\n" + "=" * 72 + "\n")
        out.write("互认证书助手 Huren bridge — 需要您的确认 / your consent is needed\n")
        for zh, en in request.lines():
            out.write(f"  {zh}\n  {en}\n")
        out.write("允许吗？Allow? [y/N]: ")
        out.flush()
        answer = self._in.readline()
        if not answer:
            raise EOFError
        if answer.strip().lower() not in ("y", "yes", "是", "允许"):
            out.write("已拒绝 / denied\n")
            out.flush()
            return Decision(False)
        pin = None
        if request.needs_pin:
            pin = self._read_pin("请输入 USBKey PIN 码 / USBKey PIN: ")[:MAX_PIN_CHARS]
        out.write("已允许 / allowed\n")
        out.flush()
        return Decision(True, pin)


# --- page --------------------------------------------------------------------------------------


class PageConsent:
    """Pending requests shown on the bridge's own page; answered by its form posts.

    ``notify(url)`` is called when a request arrives and none was pending (once per burst):
    it prints the consent page's address and may open it in a browser.
    """

    def __init__(self, notify: Callable[[], None] = lambda: None) -> None:
        self.secret = secrets.token_urlsafe(32)
        """Embedded in the page; every decision must carry it."""
        self._notify = notify
        self._lock = threading.Lock()
        self._pending: dict[str, _Pending] = {}

    def ask(self, request: ConsentRequest, timeout: float) -> Decision:
        pending = _Pending(request)
        with self._lock:
            first = not self._pending
            self._pending[request.id] = pending
        if first:
            self._notify()
        try:
            return _wait(pending, timeout, self._lock)
        finally:
            with self._lock:
                self._pending.pop(request.id, None)

    def pending(self) -> list[ConsentRequest]:
        with self._lock:
            items = [p.request for p in self._pending.values() if not p.expired]
        return sorted(items, key=lambda r: r.created)

    def check_secret(self, sent: str) -> bool:
        return secrets.compare_digest(sent.encode(), self.secret.encode())

    def decide(self, request_id: str, approved: bool, pin: str | None) -> bool:
        """Record the person's answer; False when the request is unknown or expired."""
        with self._lock:
            pending = self._pending.get(request_id)
            if pending is None or pending.expired or pending.decision is not None:
                return False
            if approved and pending.request.needs_pin and pin is not None:
                pin = pin[:MAX_PIN_CHARS]
            pending.decision = Decision(
                approved, pin if approved and pending.request.needs_pin else None
            )
            pending.done.set()
            return True

    def render(self, nonce: str, notice: str = "") -> str:
        """The consent page (no external resources; one script with ``nonce``)."""
        e = html.escape
        items = []
        for req in self.pending():
            rows = "".join(
                f'<p class="zh">{e(zh)}</p><p class="en">{e(en)}</p>' for zh, en in req.lines()
            )
            pin = ""
            if req.needs_pin:
                pin = (
                    '<label>USBKey PIN 码 / PIN <input type="password" name="pin" '
                    'autocomplete="off" maxlength="256" required></label>'
                )
            items.append(
                f'<section class="request" data-request="{e(req.id)}">{rows}'
                f'<form method="post" action="/consent/decide" class="approve">'
                f'<input type="hidden" name="secret" value="{e(self.secret)}">'
                f'<input type="hidden" name="request" value="{e(req.id)}">'
                f'<input type="hidden" name="action" value="approve">{pin}'
                '<button type="submit" class="approve-button">允许 / Allow</button></form>'
                f'<form method="post" action="/consent/decide" class="deny">'
                f'<input type="hidden" name="secret" value="{e(self.secret)}">'
                f'<input type="hidden" name="request" value="{e(req.id)}">'
                '<input type="hidden" name="action" value="deny">'
                '<button type="submit" class="deny-button">拒绝 / Deny</button></form></section>'
            )
        body = "".join(items) or (
            '<p id="empty">当前没有待确认的请求。/ Nothing is waiting for your consent.</p>'
        )
        note = f'<p id="notice">{e(notice)}</p>' if notice else ""
        return (
            '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<title>互认证书助手 — 确认 / Huren bridge — consent</title>"
            f'<style nonce="{e(nonce)}">body{{font-family:sans-serif;max-width:46rem;'
            "margin:2rem auto;padding:0 1rem}section{border:1px solid #888;border-radius:6px;"
            "padding:.5rem 1rem;margin:1rem 0}.en{color:#555;margin-top:-.6rem}"
            "form{display:inline-block;margin:.5rem 1rem .5rem 0}input{margin:0 .5rem}"
            "#notice{background:#ffe;padding:.5rem}</style></head><body>"
            "<h1>互认证书助手 Huren bridge</h1>"
            "<p>只有在您本人发起操作时才点击“允许”。PIN 码只在本页输入，不会交给网站。<br>"
            "Allow only what you started yourself. Your PIN is typed here only and never given "
            f"to the web site.</p>{note}{body}"
            f'<script nonce="{e(nonce)}">'
            "setInterval(function(){var busy=document.activeElement&&"
            "document.activeElement.tagName==='INPUT';var typed=Array.prototype.some.call("
            "document.querySelectorAll('input[name=pin]'),function(i){return i.value;});"
            "if(!busy&&!typed)location.replace('/consent');},3000);</script>"
            "</body></html>"
        )
