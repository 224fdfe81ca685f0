"""`huren bridge serve`: the local bridge on the bidder's computer（本机证书助手）.

The bridge itself is ``drivers.bridge`` (floor 1, standard library HTTP); this module is the
composition root's part: options, the consent prompt, and the CMS signer, which needs
``cert_interop.cms`` and so is wired here through :class:`config.token_adapters.TokenKey`
(the ``ExternalSigner`` adapter over a drivers token, shared with ``huren bid``).
"""

from __future__ import annotations

import signal
import sys
import threading
import webbrowser
from pathlib import Path
from types import FrameType

import click

from cert_interop import cms
from drivers.api import Token, TokenCertificate
from drivers.bridge import (
    DEFAULT_PORT,
    BridgeConfig,
    BridgeServer,
    Consent,
    KioskConsent,
    PageConsent,
    TerminalConsent,
    TokenRegistry,
    parse_origin,
)
from drivers.errors import TokenError

from .token_adapters import TokenKey, module_paths

__all__ = ["bridge_group", "cms_signer", "read_pin_file"]

MAX_PIN_FILE = 4096


def cms_signer(token: Token, entry: TokenCertificate, content: bytes, detached: bool) -> bytes:
    """A CMS SignedData over ``content`` by the token's key (SM2 → GM/T 0010 with SM3)."""
    key = TokenKey(token, entry)
    return cms.sign(content, None, [(key, key.certificate)], detached=detached)


def read_pin_file(path: Path) -> str:
    """The PIN in a file: its text without one trailing newline."""
    data = path.read_bytes()[: MAX_PIN_FILE + 1]
    if len(data) > MAX_PIN_FILE:
        raise click.UsageError(f"--pin-file {path} is too large")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise click.UsageError(f"--pin-file {path} is not UTF-8 text") from None
    return text[:-2] if text.endswith("\r\n") else text[:-1] if text.endswith("\n") else text


def _say(text: str) -> None:
    click.echo(text, err=True)


@click.group("bridge")
def bridge_group() -> None:
    """The local certificate bridge for web pages（本机证书助手）."""


@bridge_group.command("serve")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=DEFAULT_PORT,
    show_default=True,
    envvar="HUREN_BRIDGE_PORT",
    help="TCP port on the loopback address (env HUREN_BRIDGE_PORT).",
)
@click.option(
    "--bind",
    default="127.0.0.1",
    show_default=True,
    help="Loopback address to listen on (127.0.0.1 or ::1; anything else is refused).",
)
@click.option(
    "--allow-origin",
    "origins",
    multiple=True,
    envvar="HUREN_BRIDGE_ORIGINS",
    help="A site allowed to call the bridge, scheme://host[:port] (repeatable; env "
    "HUREN_BRIDGE_ORIGINS, space-separated).",
)
@click.option("--token", "tokens", multiple=True, help="Token URI, pkcs11: or file: (repeatable).")
@click.option(
    "--pkcs11-module",
    "modules",
    multiple=True,
    help="PKCS#11 module whose tokens are all offered (repeatable).",
)
@click.option(
    "--consent",
    type=click.Choice(["terminal", "page"]),
    default=None,
    help="Where the person confirms: this terminal, or the bridge's own page "
    "(default: terminal when stdin is a terminal, else page).",
)
@click.option(
    "--consent-timeout",
    type=click.FloatRange(1, 3600),
    default=120.0,
    show_default=True,
    help="Seconds a request waits for the person's decision.",
)
@click.option("--no-open", is_flag=True, help="Do not open the consent page in a browser.")
@click.option(
    "--kiosk-auto-approve",
    is_flag=True,
    help="Approve every request without asking (tests and unattended kiosks only; needs "
    "--pin-file).",
)
@click.option(
    "--pin-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="File holding the PIN (only with --kiosk-auto-approve).",
)
def serve_bridge(
    port: int,
    bind: str,
    origins: tuple[str, ...],
    tokens: tuple[str, ...],
    modules: tuple[str, ...],
    consent: str | None,
    consent_timeout: float,
    no_open: bool,
    kiosk_auto_approve: bool,
    pin_file: Path | None,
) -> None:
    """Run the bridge on 127.0.0.1 until interrupted (Ctrl-C)."""
    allowed: list[str] = []
    for value in origins:
        for item in value.split():
            try:
                allowed.append(parse_origin(item))
            except ValueError as exc:
                raise click.BadParameter(str(exc), param_hint="--allow-origin") from None
    if not allowed:
        raise click.UsageError(
            "give at least one --allow-origin (the trading platform's site), "
            "e.g. --allow-origin https://ggzy.example.cn"
        )
    if not tokens and not modules:
        raise click.UsageError("give --token URI or --pkcs11-module PATH (the USBKey driver)")
    if pin_file is not None and not kiosk_auto_approve:
        raise click.UsageError(
            "--pin-file is only for --kiosk-auto-approve: the PIN is typed in the bridge's prompt"
        )
    if kiosk_auto_approve and pin_file is None:
        raise click.UsageError("--kiosk-auto-approve needs --pin-file")
    try:
        registry = TokenRegistry(tokens, modules, module_paths=module_paths(), warn=_say)
    except TokenError as exc:
        raise click.UsageError(f"{exc.message_zh} / {exc.message}") from None

    holder: list[BridgeServer] = []

    def notify() -> None:
        if not holder:
            return
        url = holder[0].consent_url
        _say(f"请在浏览器中确认请求 / confirm the request in your browser: {url}")
        if not no_open:
            threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

    chosen: Consent
    if kiosk_auto_approve:
        assert pin_file is not None
        chosen = KioskConsent(read_pin_file(pin_file))
        _say("!" * 72)
        _say("!! WARNING: --kiosk-auto-approve: EVERY request from an allowed site is signed or")
        _say("!! decrypted WITHOUT ASKING, with the PIN from the PIN file. Tests and kiosks only.")
        _say("!! 警告：自动批准模式——所有请求都不经确认即签名或解密，仅限测试和自助终端使用。")
        _say("!" * 72)
    else:
        mode = consent or ("terminal" if sys.stdin.isatty() else "page")
        chosen = TerminalConsent() if mode == "terminal" else PageConsent(notify)

    config = BridgeConfig(
        allowed_origins=allowed,
        consent=chosen,
        registry=registry,
        port=port,
        bind=bind,
        consent_timeout=consent_timeout,
        cms_signer=cms_signer,
        log=_say,
    )
    try:
        server = BridgeServer(config)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(
            f"cannot listen on {bind}:{port} ({exc.strerror}); is another bridge running? "
            f"use --port / 无法监听端口，证书助手是否已在运行？"
        ) from None
    holder.append(server)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    _say(f"Huren bridge listening on {server.url} (互认证书助手已启动)")
    _say(f"allowed origins: {', '.join(sorted(server.allowed_origins))}")
    if isinstance(chosen, PageConsent):
        _say(f"consent page: {server.consent_url}")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        _say("Huren bridge stopped")
    finally:
        server.server_close()
