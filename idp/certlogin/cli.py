"""`huren cert`: operators bind, unbind and list certificates for certificate login.

Binding follows the same rules as the account page (the certificate validates now through the
trust store, its identity is the entity's, the entity is verified, the account an enabled
member); an operator may bind for any account. Errors are one line on stderr starting with
``error:`` and exit status 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ..entities.pii import PersonalData
from ..models import Account
from . import bindings

if TYPE_CHECKING:
    from cert_interop.truststore import TrustStore

MAX_FILE = 64 * 1024


class CliRuntime(Protocol):
    """What the composition root hands these commands (idp sits below config)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def master_secret(self) -> bytes: ...

    @property
    def trust_store(self) -> TrustStore: ...


def _runtime() -> CliRuntime:
    return click.get_current_context().find_root().obj  # type: ignore[no-any-return]


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _account_id(sessions: sessionmaker[Session], username: str) -> str:
    with sessions() as db:
        found = db.scalar(
            select(Account.id).where(func.lower(Account.username) == username.strip().lower())
        )
    if found is None:
        _fail(f"no account {username!r}")
    return found


def _line(view: bindings.BindingView) -> str:
    return (
        f"{view.fingerprint}  {view.username}  {view.subject}  "
        f"(CA {view.ca or '?'}, serial {view.serial}, until {bindings.when(view.not_after)})"
    )


@click.group("cert")
def cert_group() -> None:
    """Certificates bound to accounts for certificate login (数字证书登录)."""


@cert_group.command("bind")
@click.option("--account", "username", required=True, help="the account's username")
@click.argument("cert_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True)
def cert_bind(username: str, cert_file: Path, as_json: bool) -> None:
    """Bind CERT_FILE (PEM or DER; further PEM certificates are its chain) to an account."""
    rt = _runtime()
    data = cert_file.read_bytes()[: MAX_FILE + 1]
    if len(data) > MAX_FILE:
        _fail(f"{cert_file} is larger than {MAX_FILE} bytes")
    account_id = _account_id(rt.sessions, username)
    try:
        view = bindings.bind(
            rt.sessions,
            PersonalData(rt.master_secret),
            rt.trust_store,
            data,
            account_id=account_id,
            actor="operator-cli",
        )
    except bindings.CertBindingError as exc:
        _fail(f"{exc.reason}: {exc.message}")
    click.echo(json.dumps(view.as_dict(), ensure_ascii=False) if as_json else _line(view))


@cert_group.command("unbind")
@click.argument("fingerprint")
def cert_unbind(fingerprint: str) -> None:
    """Remove the binding of the certificate with this SHA-256 fingerprint."""
    rt = _runtime()
    try:
        view = bindings.unbind(rt.sessions, fingerprint, actor="operator-cli")
    except bindings.CertBindingError as exc:
        _fail(f"{exc.reason}: {exc.message}")
    click.echo(f"unbound {_line(view)}")


@cert_group.command("list")
@click.option("--account", "username", help="only this account's certificates")
@click.option("--json", "as_json", is_flag=True)
def cert_list(username: str | None, as_json: bool) -> None:
    """Bound certificates, oldest first."""
    rt = _runtime()
    if username:
        views = bindings.list_for_account(rt.sessions, _account_id(rt.sessions, username))
    else:
        views = bindings.list_all(rt.sessions)
    if as_json:
        click.echo(json.dumps([v.as_dict() for v in views], ensure_ascii=False))
        return
    for view in views:
        click.echo(_line(view))
