"""`huren seal`: operators make seals and change their state; automation scripts against it.

Contract kept for scripts: `huren seal make ... --json` prints the seal (with `seal_id`) as one
JSON object, plain `make` prints only the seal ID. Errors are one line on stderr starting with
``error:`` (the stable code, then the reason) and exit status 2; exit 1 is kept for "checked and
found bad" (verification).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Protocol

import click
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.cli_errors import UserError
from cert_interop.cli_io import read_certificates, read_small

from .errors import SealError
from .records import service
from .records.checks import DEFAULT_VALID_DAYS
from .records.pictures import MAX_PICTURE_BYTES
from .verification import PROBLEMS_ZH, DocumentVerdict, verify_document

MAX_PDF_BYTES = 64 * 1024 * 1024

if TYPE_CHECKING:
    from .records.directory import EntityDirectory


class CliRuntime(Protocol):
    """What the composition root hands these commands (seal sits below config)."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def trust_store(self) -> service.CertificateChecker: ...

    @property
    def seal_directory(self) -> EntityDirectory: ...

    @property
    def seal_maker(self) -> service.SealMaker: ...


def _verdict_words(verdict: str) -> str:
    return {"valid": "VALID（有效）", "invalid": "INVALID（无效）"}.get(
        verdict, "INDETERMINATE（无法确定）"
    )


def _print_report(path: str, report: DocumentVerdict) -> None:
    click.echo(f"{path}: {_verdict_words(report.verdict)}")
    for code in report.problems:
        click.echo(f"  problem: {code}（{PROBLEMS_ZH.get(code, code)}）")
    for n, item in enumerate(report.signatures, 1):
        sig = item.signature
        click.echo(f"signature {n} ({sig.field_name}, {sig.kind}): {_verdict_words(item.verdict)}")
        if not sig.intact:
            state = f"NOT intact: {sig.problem} {sig.detail}".rstrip()
        elif sig.modified_after_signing:
            state = "intact, but the document was modified after signing"
        elif sig.later_updates:
            state = f"intact; later updates only {sig.modification_level}"
        else:
            state = "intact, covers the whole file"
        click.echo(f"  document:    {state}")
        cert = item.certificate
        if cert is not None:
            trust = "valid" if cert.valid else f"{cert.reason}: {cert.detail}"
            click.echo(f"  signer:      {cert.subject} ({sig.signature_algorithm}) — {trust}")
        if item.seal is not None:
            seal = item.seal
            reason = f" ({seal.status_reason})" if seal.status_reason else ""
            kind = service.SEAL_TYPES[seal.seal_type][0]
            click.echo(f"  seal:        {seal.id} {kind} {seal.name} — {seal.status}{reason}")
        elif sig.seal_id:
            click.echo(f"  seal:        {sig.seal_id} (not a seal of this service)")
        if sig.signing_time:
            click.echo(f"  signed at:   {sig.signing_time.isoformat()} (claimed by the signer)")
        if sig.timestamp is not None:
            ts = sig.timestamp
            when = ts.time.isoformat() if ts.time else "?"
            click.echo(f"  timestamp:   {when} — {'valid' if ts.valid else ts.detail}")
        if sig.paging_seal_pages:
            pages = ", ".join(str(p) for p in sig.paging_seal_pages)
            click.echo(f"  paging seal: pages {pages}")
        for code in item.problems:
            click.echo(f"  problem:     {code}（{PROBLEMS_ZH.get(code, code)}）")


def _runtime() -> CliRuntime:
    return click.get_current_context().find_root().obj  # type: ignore[no-any-return]


def _fail(message: str) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


def _fail_seal(exc: SealError) -> NoReturn:
    _fail(f"{exc.code}: {exc}")


def _when(ts: float) -> str:
    return service._iso(ts)


def _line(view: service.SealView) -> str:
    return (
        f"{view.id}  {view.status:<9}  {view.seal_type:<12}  {view.name}  "
        f"(entity {view.entity_id}, until {_when(view.valid_until)[:10]})"
    )


def _echo_view(view: service.SealView, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(view.as_dict(), ensure_ascii=False))
        return
    click.echo(_line(view))
    for cert in view.certificates:
        click.echo(f"  certificate {cert.fingerprint}  {cert.key_algorithm}  {cert.subject}")
    for step in view.history:
        reason = f"  ({step.reason})" if step.reason else ""
        click.echo(f"  {_when(step.at)}  {step.status}  by {step.actor}{reason}")


@click.group("seal")
def seal_group() -> None:
    """Electronic seals（电子印章）: make, list, show, activate, suspend, revoke; entities'
    requests (list --status requested, make-requested, reject)."""


@seal_group.command("make")
@click.option("--entity", "entity_id", required=True, help="the market entity's ID")
@click.option(
    "--type",
    "seal_type",
    required=True,
    type=click.Choice(sorted(service.SEAL_TYPES)),
    help="legal_person 公章, contract 合同专用章, finance 财务专用章, personal 个人签名章",
)
@click.option("--name", required=True, help="the seal's name, e.g. 某某有限公司合同专用章")
@click.option(
    "--picture",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="PNG, JPEG or SVG",
)
@click.option(
    "--cert",
    "cert_files",
    required=True,
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="a certificate of the entity the seal is bound to (repeat for several; "
    "further certificates in a PEM file are its chain)",
)
@click.option("--width-mm", type=int, help="display width (default 42, personal 18)")
@click.option("--height-mm", type=int, help="display height")
@click.option("--valid-days", type=int, help=f"validity (default {DEFAULT_VALID_DAYS})")
@click.option("--activate", is_flag=True, help="make it active at once (default: made)")
@click.option("--json", "as_json", is_flag=True)
def seal_make(
    entity_id: str,
    seal_type: str,
    name: str,
    picture: str,
    cert_files: tuple[str, ...],
    width_mm: int | None,
    height_mm: int | None,
    valid_days: int | None,
    activate: bool,
    as_json: bool,
) -> None:
    """Make a seal for a verified entity; print its seal ID (or the seal as JSON)."""
    rt = _runtime()
    try:
        image = read_small(picture, "picture", MAX_PICTURE_BYTES)
        leaves, chain = [], []
        for path in cert_files:
            certs = read_certificates(path)
            leaves.append(certs[0])
            chain.extend(certs[1:])
        maker = rt.seal_maker
    except UserError as exc:
        _fail(str(exc))
    from .records.making import sign_draft

    try:
        view = service.make(
            rt.sessions,
            rt.seal_directory,
            rt.trust_store,
            maker,
            sign_draft,
            service.SealRequest(
                entity_id=entity_id.strip(),
                seal_type=seal_type,
                name=name,
                picture=image,
                certificates=leaves,
                intermediates=chain,
                width_mm=width_mm,
                height_mm=height_mm,
                valid_days=valid_days,
            ),
            actor="operator-cli",
            activate=activate,
        )
    except SealError as exc:
        _fail_seal(exc)
    click.echo(json.dumps(view.as_dict(), ensure_ascii=False) if as_json else view.id)


@seal_group.command("list")
@click.option("--entity", "entity_id", help="only this entity's seals")
@click.option("--status", type=click.Choice(service.STATUSES))
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def seal_list(entity_id: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """Seals, newest first."""
    views, total = service.list(
        _runtime().sessions, entity_id=entity_id, status=status, limit=limit
    )
    if as_json:
        click.echo(
            json.dumps({"total": total, "seals": [v.as_dict() for v in views]}, ensure_ascii=False)
        )
        return
    for view in views:
        click.echo(_line(view))
    if total > len(views):
        click.echo(f"({len(views)} of {total}; --limit shows more)")


@seal_group.command("show")
@click.argument("seal_id")
@click.option("--json", "as_json", is_flag=True)
def seal_show(seal_id: str, as_json: bool) -> None:
    """A seal with its certificates and history."""
    try:
        view = service.get(_runtime().sessions, seal_id.strip())
    except SealError as exc:
        _fail_seal(exc)
    _echo_view(view, as_json)


def _change(seal_id: str, action: str, reason: str | None, as_json: bool) -> None:
    try:
        view = service.change(
            _runtime().sessions, seal_id.strip(), action, actor="operator-cli", reason=reason
        )
    except SealError as exc:
        _fail_seal(exc)
    if as_json:
        click.echo(json.dumps(view.as_dict(), ensure_ascii=False))
    else:
        click.echo(_line(view))


@seal_group.command("activate")
@click.argument("seal_id")
@click.option("--reason", help="e.g. why a suspension ends")
@click.option("--json", "as_json", is_flag=True)
def seal_activate(seal_id: str, reason: str | None, as_json: bool) -> None:
    """Put a made or suspended seal into use."""
    _change(seal_id, "activate", reason, as_json)


@seal_group.command("suspend")
@click.argument("seal_id")
@click.option("--reason", required=True, help="why (kept in the history)")
@click.option("--json", "as_json", is_flag=True)
def seal_suspend(seal_id: str, reason: str, as_json: bool) -> None:
    """Stop a seal for now (activate resumes it)."""
    _change(seal_id, "suspend", reason, as_json)


@seal_group.command("revoke")
@click.argument("seal_id")
@click.option("--reason", required=True, help="why (kept in the history)")
@click.option("--json", "as_json", is_flag=True)
def seal_revoke(seal_id: str, reason: str, as_json: bool) -> None:
    """End a seal for good; documents it stamped report it as revoked."""
    _change(seal_id, "revoke", reason, as_json)


@seal_group.command("make-requested")
@click.argument("seal_id")
@click.option("--activate", is_flag=True, help="make it active at once (default: made)")
@click.option("--json", "as_json", is_flag=True)
def seal_make_requested(seal_id: str, activate: bool, as_json: bool) -> None:
    """Make a seal an entity's administrator requested (checked again, then signed)."""
    rt = _runtime()
    try:
        maker = rt.seal_maker
    except UserError as exc:
        _fail(str(exc))
    from .records.making import sign_draft

    try:
        view = service.make_requested(
            rt.sessions,
            rt.seal_directory,
            rt.trust_store,
            maker,
            sign_draft,
            seal_id.strip(),
            actor="operator-cli",
            activate=activate,
        )
    except SealError as exc:
        _fail_seal(exc)
    _echo_view(view, as_json)


@seal_group.command("reject")
@click.argument("seal_id")
@click.option("--reason", required=True, help="why (the requester reads it)")
@click.option("--json", "as_json", is_flag=True)
def seal_reject(seal_id: str, reason: str, as_json: bool) -> None:
    """Decline an entity's request for a seal."""
    _change(seal_id, "reject", reason, as_json)


@seal_group.command("export")
@click.argument("seal_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def seal_export(seal_id: str, out: Path) -> None:
    """Write the signed GB/T 38540 seal structure (DER) to OUT, for other vendors' readers."""
    from cert_interop.cli_io import output_file

    try:
        der = service.signed_seal(_runtime().sessions, seal_id.strip())
    except SealError as exc:
        _fail_seal(exc)
    try:
        with output_file(str(out)) as fh:
            fh.write(der)
    except UserError as exc:
        _fail(str(exc))
    click.echo(f"wrote {out} ({len(der)} bytes)")


@seal_group.command("verify")
@click.argument("pdf", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="the whole report as JSON")
def seal_verify(pdf: str, as_json: bool) -> None:
    """Check every signature and seal in PDF: exit 0 only when all are valid and their seals
    active; 1 when something is invalid or cannot be decided; 2 when the file cannot be read."""
    rt = _runtime()
    try:
        data = read_small(pdf, "PDF", MAX_PDF_BYTES)
    except UserError as exc:
        _fail(str(exc))
    report = verify_document(data, rt.sessions, rt.trust_store)
    if as_json:
        click.echo(json.dumps({"file": pdf, **report.as_dict()}, ensure_ascii=False))
    else:
        _print_report(pdf, report)
    sys.exit(0 if report.valid else 1)
