"""`huren mobile`: the reference mobile client of QR-code login on the command line.

What a phone app does, so the flow can be used and tested without a phone (the logic is
``config.mobile_client``):

    huren mobile enroll --issuer URL --username U --password-stdin --device FILE
    huren mobile scan QR_URL --device FILE        # who is asking: platform, browser IP, UA, time
    huren mobile confirm QR_URL --device FILE     # or: huren mobile cancel QR_URL --device FILE

Refusals print one line ``error: CODE: 中文 / English`` on stderr and exit 2.
"""

from __future__ import annotations

import json
import socket
import sys
from typing import IO, Any

import click

from cert_interop.cli_errors import OneLineErrors, fail

from .mobile_client import (
    ALGORITHMS,
    Action,
    Algorithm,
    DeviceFile,
    MobileError,
    act,
    describe_request,
    finish_enrollment,
    generate_key,
    normalize_issuer,
    printable,
    refuse_existing,
    start_enrollment,
)

__all__ = ["mobile_group"]

MAX_LINE = 1024
MAX_NAME = 64


class _MobileErrors(OneLineErrors):
    """Also the client's and the provider's refusals: `error: CODE: 中文 / English`, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MobileError as exc:
            fail(str(exc))


def _say(text: str) -> None:
    click.echo(text, err=True)


def _line(stream: IO[str]) -> str | None:
    """One line of ``stream`` without its line end; None at end of input."""
    line = stream.readline(MAX_LINE + 1)
    if not line:
        return None
    if len(line) > MAX_LINE:
        raise MobileError("bad_input", "输入行过长", "input line too long")
    return line.rstrip("\r\n")


def _read_code_from_terminal() -> str:
    """The SMS code typed on the controlling terminal (stdin is a pipe that has ended)."""
    try:
        with open("/dev/tty", "r+", encoding="utf-8") as tty:
            tty.write("短信验证码 / SMS code: ")
            tty.flush()
            return tty.readline(MAX_LINE).strip()
    except OSError:
        raise MobileError(
            "no_sms_code",
            "未提供短信验证码：请在标准输入的第二行给出",
            "no SMS code: give it on the second line of stdin",
        ) from None


def _sms_code(stdin: IO[str], from_stdin: bool) -> str:
    if stdin.isatty():
        code = str(click.prompt("短信验证码 / SMS code", err=True)).strip()
    else:
        line = _line(stdin) if from_stdin else None
        code = line.strip() if line is not None else _read_code_from_terminal()
    if not code:
        raise MobileError("no_sms_code", "未提供短信验证码", "no SMS code given")
    return code


def _default_name() -> str:
    host = socket.gethostname().split(".")[0] or "localhost"
    return f"huren mobile ({host})"[:MAX_NAME]


def _emit(doc: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            click.echo(line)


def _device_option(f: Any) -> Any:
    return click.option(
        "--device",
        "device_path",
        required=True,
        type=click.Path(dir_okay=False),
        help="The device file written by `huren mobile enroll` (the device's key; keep it 0600).",
    )(f)


def _json_option(f: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")(f)


@click.group("mobile", cls=_MobileErrors)
def mobile_group() -> None:
    """Reference mobile client of QR-code login（扫码登录参考客户端）."""


@mobile_group.command("enroll")
@click.option("--issuer", required=True, help="The provider, e.g. https://sso.example.cn.")
@click.option("--username", required=True, help="The account this device signs in to.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from stdin's first line (and the SMS code from its second line, "
    "if there is one; else it is asked for on the terminal).",
)
@click.option("--name", default=None, help="What the device is called in the device list.")
@click.option(
    "--algorithm",
    type=click.Choice(ALGORITHMS, case_sensitive=False),
    default="ES256",
    show_default=True,
    help="Device key: ECDSA P-256 (ES256) or SM2.",
)
@_device_option
@click.option("--force", is_flag=True, help="Replace an existing device file.")
@_json_option
def enroll_command(
    issuer: str,
    username: str,
    password_stdin: bool,
    name: str | None,
    algorithm: str,
    device_path: str,
    force: bool,
    as_json: bool,
) -> None:
    """Enroll this device: password, then the SMS code sent to the account's mobile."""
    issuer = normalize_issuer(issuer)
    refuse_existing(device_path, force=force)  # before anything is sent
    device_name = (name if name is not None else _default_name()).strip()
    if not device_name or len(device_name) > MAX_NAME:
        raise click.BadParameter(f"1 to {MAX_NAME} characters", param_hint="--name")
    stdin = sys.stdin
    if password_stdin:
        password = _line(stdin)
        if not password:
            raise click.UsageError("--password-stdin: stdin's first line (the password) is empty")
    elif stdin.isatty():
        password = str(click.prompt("密码 / Password", hide_input=True, err=True))
    else:
        raise click.UsageError("give --password-stdin (stdin is not a terminal)")

    started = start_enrollment(issuer, username, password)
    phone_zh, phone_en = started.phone or "账户手机", started.phone or "the account's mobile"
    valid_zh = f"（{started.expires_in} 秒内有效）" if started.expires_in else ""
    valid_en = f" (valid for {started.expires_in} s)" if started.expires_in else ""
    _say(f"短信验证码已发送至 {phone_zh}{valid_zh} / SMS code sent to {phone_en}{valid_en}")
    code = _sms_code(stdin, password_stdin)
    chosen: Algorithm = "SM2" if algorithm.upper() == "SM2" else "ES256"
    device = finish_enrollment(started, code, generate_key(chosen), device_name, username=username)
    try:
        device.save(device_path, force=force)
    except MobileError as exc:
        raise MobileError(
            exc.code,
            f"{exc.message_zh}；设备 {device.device_id} 已登记但未保存，请在 /account/devices 撤销",
            f"{exc.message_en}; device {device.device_id} was enrolled but not saved: revoke "
            "it at /account/devices",
        ) from None
    _emit(
        {
            "issuer": device.issuer,
            "device_id": device.device_id,
            "algorithm": device.algorithm,
            "name": device.name,
            "device_file": device_path,
        },
        as_json,
        [
            f"已登记设备 / enrolled device: {device.device_id} ({device.algorithm})",
            f"设备文件 / device file: {device_path}",
        ],
    )


def _act(qr_url: str, device_path: str, action: Action) -> dict[str, Any]:
    return act(DeviceFile.load(device_path), qr_url, action)


@mobile_group.command("scan")
@click.argument("qr_url")
@_device_option
@_json_option
def scan_command(qr_url: str, device_path: str, as_json: bool) -> None:
    """Tell the provider the QR code was scanned; show who is asking to sign in."""
    answer = _act(qr_url, device_path, "scan")
    lines = ["登录请求 / Sign-in request"]
    lines += [f"  {zh} / {en}: {value}" for zh, en, value in describe_request(answer)]
    _emit(answer, as_json, lines)
    if not as_json:
        _say(
            "确认请运行 / to confirm: huren mobile confirm QR_URL --device FILE；"
            "拒绝 / to refuse: huren mobile cancel QR_URL --device FILE"
        )


@mobile_group.command("confirm")
@click.argument("qr_url")
@_device_option
@_json_option
def confirm_command(qr_url: str, device_path: str, as_json: bool) -> None:
    """Confirm the sign-in: the browser that shows the QR code is signed in."""
    answer = _act(qr_url, device_path, "confirm")
    state = printable(answer.get("state"), 32)
    _emit(answer, as_json, [f"已确认登录 / sign-in confirmed (state: {state})"])


@mobile_group.command("cancel")
@click.argument("qr_url")
@_device_option
@_json_option
def cancel_command(qr_url: str, device_path: str, as_json: bool) -> None:
    """Refuse the sign-in: the QR code can no longer be used."""
    answer = _act(qr_url, device_path, "cancel")
    state = printable(answer.get("state"), 32)
    _emit(answer, as_json, [f"已取消登录 / sign-in cancelled (state: {state})"])
