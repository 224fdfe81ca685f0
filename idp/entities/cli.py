"""`huren entity`: operators list, inspect and decide on market entities.

Personal data is only ever printed masked. Errors are one line on stderr starting with
``error:``: exit 2 for refused input (unknown entity, wrong state, bad reason code), 3 when the
database cannot be used, as every other `huren` command.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
from typing import Any, NoReturn, Protocol

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from storage.errors import StorageError

from . import service
from .errors import EntityError
from .pii import PersonalData
from .service import STATUSES, EntityView


class CliRuntime(Protocol):
    """What the composition root hands these commands (idp sits below config)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def master_secret(self) -> bytes: ...


def _fail(message: str, status: int) -> NoReturn:
    first = (message.strip().splitlines() or ["failed"])[0]
    click.echo(f"error: {first}", err=True)
    raise click.exceptions.Exit(status)


class _OneLineErrors(click.Group):
    """Usage and service errors become one `error:` line with exit 2; storage ones exit 3."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException as exc:
            _fail(exc.format_message(), 2)
        except EntityError as exc:
            _fail(exc.message, 2)
        except (StorageError, SQLAlchemyError) as exc:
            _fail(f"storage: {str(exc).strip() or type(exc).__name__}", 3)


def _runtime() -> tuple[sessionmaker[Session], PersonalData]:
    rt: CliRuntime = click.get_current_context().find_root().obj
    return rt.sessions, PersonalData(rt.master_secret)


def _as_dict(view: EntityView) -> dict[str, Any]:
    return dataclasses.asdict(view)


def _line(view: EntityView) -> str:
    code = view.uscc or f"{view.id_type}:{view.id_number_masked}"
    reasons = f"  [{','.join(view.reasons)}]" if view.reasons else ""
    return f"{view.id}  {view.status:<8}  {view.entity_type:<18}  {code}  {view.name}{reasons}"


def _operator() -> str:
    try:
        return getpass.getuser()[:150] or "operator"
    except (OSError, KeyError):
        return "operator"


@click.group("entity", cls=_OneLineErrors)
def entity_group() -> None:
    """Market entities: list, show, approve, reject (personal data shown masked)."""


@entity_group.command("list")
@click.option("--status", type=click.Choice(STATUSES))
@click.option("--limit", type=click.IntRange(1, service.MAX_PAGE), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--json", "as_json", is_flag=True, help="print one JSON array")
def entity_list(status: str | None, limit: int, offset: int, as_json: bool) -> None:
    """Entities, newest first."""
    sessions, pii = _runtime()
    views = service.list(sessions, pii, status, limit=limit, offset=offset)
    if as_json:
        click.echo(json.dumps([_as_dict(v) for v in views], ensure_ascii=False))
        return
    for view in views:
        click.echo(_line(view))


@entity_group.command("show")
@click.argument("entity_id")
@click.option("--json", "as_json", is_flag=True)
def entity_show(entity_id: str, as_json: bool) -> None:
    """One entity with its members and review history."""
    sessions, pii = _runtime()
    view = service.get(sessions, pii, entity_id)
    history = service.reviews(sessions, entity_id)
    if as_json:
        out = _as_dict(view)
        out["reviews"] = [dataclasses.asdict(r) for r in history]
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    click.echo(_line(view))
    for m in view.members:
        state = " (disabled)" if m.disabled else ""
        click.echo(f"  {m.role:<6} {m.username}  {m.name or ''}  {m.phone_masked or ''}{state}")
    for r in history:
        note = f"  {r.note}" if r.note else ""
        click.echo(f"  review {r.decision} by {r.actor} [{','.join(r.reasons)}]{note}")


@entity_group.command("approve")
@click.argument("entity_id")
@click.option("--note")
@click.option("--operator", default=None, help="who decides [the login name]")
def entity_approve(entity_id: str, note: str | None, operator: str | None) -> None:
    """Mark a pending entity verified."""
    sessions, pii = _runtime()
    view = service.apply_verdict(
        sessions, pii, entity_id, "verified", (), actor=operator or _operator(), note=note
    )
    click.echo(_line(view))


@entity_group.command("reject")
@click.argument("entity_id")
@click.option("--reason", "reasons", multiple=True, required=True, help="reason code; repeatable")
@click.option("--note")
@click.option("--operator", default=None, help="who decides [the login name]")
def entity_reject(
    entity_id: str, reasons: tuple[str, ...], note: str | None, operator: str | None
) -> None:
    """Reject a pending or verified entity, with reason codes kept in its history."""
    sessions, pii = _runtime()
    view = service.apply_verdict(
        sessions, pii, entity_id, "rejected", reasons, actor=operator or _operator(), note=note
    )
    click.echo(_line(view))
