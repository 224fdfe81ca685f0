"""`huren entity`: operators list, inspect and decide on market entities.

Personal data is only ever printed masked. Errors are one line on stderr starting with
``error:``: exit 2 for refused input (unknown entity, wrong state, bad reason code), 3 when the
database cannot be used, as every other `huren` command.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import os
import stat
import sys
from typing import IO, Any, NoReturn, Protocol

import click
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from idp.registry import Registry
from storage.errors import StorageError

from . import importer, service
from .errors import EntityError
from .pii import PersonalData
from .service import STATUSES, EntityView


class CliRuntime(Protocol):
    """What the composition root hands these commands (idp sits below config)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def master_secret(self) -> bytes: ...


class _ImportSettings(Protocol):
    """The settings `huren entity import` reads (config.settings.Settings has them)."""

    @property
    def registry_url(self) -> str | None: ...

    @property
    def registry_token(self) -> str | None: ...

    @property
    def registry_timeout(self) -> int: ...

    @property
    def redis_url(self) -> str | None: ...

    @property
    def redis_prefix(self) -> str: ...


class ImportRuntime(CliRuntime, Protocol):
    @property
    def settings(self) -> _ImportSettings: ...

    @property
    def engine(self) -> Engine: ...


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
        except (EntityError, importer.ImportFileError) as exc:
            _fail(str(getattr(exc, "message", exc)), 2)
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


IMPORT_HELP = """Import market entities from an existing registry (CSV or JSON Lines).

\b
FILE is CSV (.csv) or JSON Lines (.jsonl, .ndjson), or give --format; "-" reads stdin
(then --format is required). CSV is UTF-8 with or without a byte-order mark unless
--encoding says otherwise (e.g. gb18030). Columns, by claim name:
  entity_type   legal_person | natural_person | public_institution | other_org
  entity_name   the organisation's or the person's name
  uscc          organisations: the unified social credit code
  agent_name    organisations: the agent (经办人), who becomes the administrator
  id_type       natural persons: resident_id | passport | hk_macao_permit |
                taiwan_permit | foreign_permanent_resident
  id_number     natural persons: the document number
  phone         the administrator's mobile (imported as not SMS-verified)
  username      optional: the administrator's login; default: an organisation's
                credit code in lower case, for a natural person a random np-... name
The CSV header must name entity_type and entity_name; a file that lacks them, or
cannot be read, stops before any row (exit 2). Unknown columns are ignored with one
warning (passwords are never imported).

\b
Each row is validated like a registration and written in its own transaction:
  imported  written and verified (the registry confirmed the organisation;
            natural persons are vouched for by the source registry)
  pending   written, awaiting an operator's review (`huren entity list --status
            pending`): registry unreachable, contradicting itself, organisation
            on a dishonesty list, or no registry configured (HUREN_REGISTRY_URL)
  rejected  nothing written: an invalid or missing field, a duplicate of the
            database or of an earlier row, a taken username, an organisation the
            registry refutes (unknown code, other name, revoked licence), or a
            malformed line (field "row")

\b
Administrators get NO password: they cannot sign in until an operator runs
  huren user password USERNAME --password-stdin

\b
--report OUT (or "-" for stdout) gets one JSON line per data row, written as it
goes: {"row": N, "line": L, "status": ..., "errors": [{"field": ..., "reason":
...}], "entity_id": ..., "username": ...} (the last two when written). Field
names and reason codes only: no ID numbers or mobiles. A progress bar and the
summary ("N imported, M pending, K rejected") go to stderr.

\b
Exit status: 0 no row rejected, 1 some rows rejected, 2 unusable file or options,
3 database unavailable, 130 interrupted. Interrupting (Ctrl-C) leaves only whole
entities; running the same file again refuses the rows already imported as
duplicates, so a resumed import is safe.
"""


def _open_input(path: str) -> tuple[IO[bytes], int | None]:
    """The binary stream and its size when known (a regular file)."""
    if path == "-":
        return sys.stdin.buffer, None
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise importer.ImportFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    st = os.fstat(fh.fileno())
    return fh, st.st_size if stat.S_ISREG(st.st_mode) else None


def _open_report(path: str | None) -> IO[str] | None:
    """The report, line-buffered so that an interrupted import keeps the lines of the rows it
    wrote (not written atomically, unlike other outputs: those lines are the only record of
    the generated usernames)."""
    if path is None:
        return None
    if path == "-":
        return sys.stdout
    try:
        return open(path, "w", encoding="utf-8", buffering=1)
    except OSError as exc:
        raise importer.ImportFileError(f"cannot write {path}: {exc.strerror or exc}") from None


def _registry(rt: ImportRuntime) -> Registry | None:
    settings = rt.settings
    if not settings.registry_url:
        return None
    from idp.registry.http import HttpRegistry
    from storage.ephemeral import open_store

    cache = open_store(rt.engine, settings.redis_url, settings.redis_prefix)
    return HttpRegistry(
        settings.registry_url,
        token=settings.registry_token,
        timeout=settings.registry_timeout,
        cache=cache,
    )


@entity_group.command("import", help=IMPORT_HELP, short_help="Import entities from a file.")
@click.argument("file")
@click.option("--report", "report_path", metavar="OUT", help="JSON line per row; - for stdout")
@click.option("--format", "fmt", type=click.Choice(importer.FORMATS), help="[by extension]")
@click.option("--encoding", default="utf-8", show_default=True, help="of the file, e.g. gb18030")
def entity_import(file: str, report_path: str | None, fmt: str | None, encoding: str) -> None:
    rt: ImportRuntime = click.get_current_context().find_root().obj
    sessions, pii = _runtime()
    if file == "-" and fmt is None:
        raise importer.ImportFileError("reading stdin needs --format csv|jsonl")
    fmt = importer.format_for(file, fmt)
    stream, size = _open_input(file)
    warn = lambda message: click.echo(f"warning: {message}", err=True)  # noqa: E731
    report: IO[str] | None = None
    summary = importer.Summary()
    try:
        source = importer.Source(stream, fmt, encoding=encoding, warn=warn)
        report = _open_report(report_path)
        registry = _registry(rt)
        rows = importer.Importer(sessions, pii, registry)
        out = report
        ascii_only = report_path == "-"  # stdout may not be UTF-8; a file always is

        def write(result: importer.RowResult) -> None:
            summary.add(result)
            if out is not None:
                out.write(json.dumps(result.as_json(), ensure_ascii=ascii_only) + "\n")

        bar = click.progressbar(
            length=size or 0, label="importing", file=sys.stderr, show_pos=False
        )
        with bar:
            seen = 0

            def advance(done: int) -> None:
                nonlocal seen
                if size:
                    bar.update(done - seen)
                seen = done

            try:
                importer.run(source, rows, write, progress=advance)
            except KeyboardInterrupt:
                click.echo("", err=True)
                click.echo(
                    f"interrupted after {summary.rows} rows: only whole entities were written; "
                    "run the same file again to go on (rows already imported are rejected "
                    "as duplicates)",
                    err=True,
                )
                click.echo(str(summary), err=True)
                raise click.exceptions.Exit(130) from None
            except (SQLAlchemyError, StorageError):
                click.echo("", err=True)
                click.echo(f"stopped after {summary.rows} rows: {summary}", err=True)
                raise
    finally:
        if report is not None:
            report.flush()
            if report_path != "-":
                report.close()
        if file != "-":
            stream.close()
    click.echo(str(summary), err=True)
    raise click.exceptions.Exit(1 if summary.rejected else 0)
