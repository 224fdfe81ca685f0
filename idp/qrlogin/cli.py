"""`huren device`: operators list and revoke the mobile devices enrolled for QR-code login.

A revoked device's requests are refused at once (and a login it confirmed but the browser has
not completed yet is refused too). Errors are one line on stderr starting with ``error:`` and
exit status 2.
"""

from __future__ import annotations

import json
import sys
from typing import NoReturn, Protocol

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ..models import Account
from . import devices
from .errors import QrLoginError


class CliRuntime(Protocol):
    """What the composition root hands these commands (idp sits below config)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...


def _runtime() -> CliRuntime:
    return click.get_current_context().find_root().obj  # type: ignore[no-any-return]


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _line(view: devices.DeviceView) -> str:
    status = (
        "active"
        if view.active
        else f"revoked {devices.when(view.revoked_at)} by {view.revoked_by}: {view.revoked_reason}"
    )
    used = devices.when(view.last_used_at) if view.last_used_at else "never"
    return (
        f"{view.id}  {view.username}  {view.name}  {view.algorithm}  "
        f"enrolled {devices.when(view.created_at)}, last used {used}, {status}"
    )


@click.group("device")
def device_group() -> None:
    """Mobile devices enrolled for QR-code login (扫码登录).

    \b
    huren device list [--user U] [--json]
    huren device revoke DEVICE_ID --reason R
    """


@device_group.command("list")
@click.option("--user", "username", help="only this account's devices")
@click.option("--json", "as_json", is_flag=True, help="print one JSON array")
def device_list(username: str | None, as_json: bool) -> None:
    """Enrolled devices (revoked ones too), oldest first."""
    rt = _runtime()
    if username:
        with rt.sessions() as db:
            account_id = db.scalar(
                select(Account.id).where(func.lower(Account.username) == username.strip().lower())
            )
        if account_id is None:
            _fail(f"no account {username!r}")
        views = devices.list_for_account(rt.sessions, account_id)
    else:
        views = devices.list_all(rt.sessions)
    if as_json:
        click.echo(json.dumps([v.as_dict() for v in views], ensure_ascii=False))
        return
    for view in views:
        click.echo(_line(view))


@device_group.command("revoke")
@click.argument("device_id")
@click.option("--reason", required=True, help="why (kept with the device and audited)")
@click.option("--operator", "operator", help="who revokes (default: operator-cli)")
def device_revoke(device_id: str, reason: str, operator: str | None) -> None:
    """Revoke a device at once: its requests are refused from now on."""
    rt = _runtime()
    if not reason.strip():
        _fail("--reason must not be empty")
    try:
        view = devices.revoke(
            rt.sessions, device_id.strip(), actor=operator or "operator-cli", reason=reason
        )
    except QrLoginError:
        _fail(f"no device {device_id!r}")
    click.echo(f"revoked {_line(view)}")


__all__ = ["device_group"]
