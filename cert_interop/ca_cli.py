"""`huren ca`: the trust store from the command line — add and list CAs, disable and enable
them, upload CRLs, list CA profiles, and verify a certificate the way the service would.

The composition root attaches :data:`ca_group` and provides the runtime object (duck-typed:
``sessions``, ``settings.ca_profiles_dir``); this module imports nothing above cert_interop.
Errors are one line on stderr starting with ``error:``: exit 2 for refused input, 3 when the
database cannot be reached (as every ``huren`` command). ``verify`` exits 0 for a valid
certificate and 1 for one that is not.
"""

from __future__ import annotations

import functools
import json
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, Protocol, TypeVar

import click
from sqlalchemy.orm import Session, sessionmaker

from cert_interop.cli_errors import OneLineErrors, UserError
from cert_interop.errors import TrustStoreUnavailable
from cert_interop.profiles import builtin_profiles
from cert_interop.truststore import POLICIES, CaRecord, TrustStore, read_certificates
from cert_interop.validation import ValidationResult

__all__ = ["ca_group"]

MAX_FILE_BYTES = 4 << 20

_P = ParamSpec("_P")
_R = TypeVar("_R")


class _CaSettings(Protocol):
    @property
    def ca_profiles_dir(self) -> Path: ...


class CliRuntime(Protocol):
    """What the composition root hands these commands."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def settings(self) -> _CaSettings: ...


def _store() -> TrustStore:
    rt: CliRuntime = click.get_current_context().find_root().obj
    if rt is None or not hasattr(rt, "sessions"):
        raise UserError("huren ca needs the huren runtime (run it as `huren ca …`)")
    built = getattr(rt, "trust_store", None)  # the service's own, with online revocation
    if isinstance(built, TrustStore):
        return built
    return TrustStore(rt.sessions, profiles_dir=Path(rt.settings.ca_profiles_dir))


def _storage(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """An unreachable database or a missing schema: one line, exit 3 (as `huren` elsewhere)."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return fn(*args, **kwargs)
        except TrustStoreUnavailable as exc:
            click.echo(f"error: {exc}", err=True)
            raise click.exceptions.Exit(3) from None

    return wrapper


def _read(path: Path) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise UserError(f"{path} is larger than {MAX_FILE_BYTES} bytes")
    return data


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded by display width, so Chinese names line up in a terminal."""
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _describe(record: CaRecord) -> str:
    return (
        f"{record.role} '{record.name}' ({record.subject}, SHA-256 "
        f"{record.sha256_fingerprint[:16]}…, profile {record.profile}, "
        f"revocation {record.revocation_policy})"
    )


@click.group("ca", cls=OneLineErrors)
def ca_group() -> None:
    """Trusted CAs (roots and intermediates), their CRLs and identity profiles."""


@ca_group.command("add")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--profile", required=True, help="CA identity profile (see `huren ca profiles`)")
@click.option("--name", default=None, help="name for the CA [its CN]")
@click.option(
    "--revocation",
    type=click.Choice(POLICIES),
    default="hard",
    show_default=True,
    help="when the revocation status cannot be learnt: fail (hard) or accept with a note (soft)",
)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@_storage
def add_cmd(file: Path, profile: str, name: str | None, revocation: str, as_json: bool) -> None:
    """Trust the CA certificate(s) in FILE (PEM bundle or DER): roots, and intermediates that
    chain to a stored root or one in the same bundle."""
    records = _store().add(_read(file), profile=profile, revocation_policy=revocation, name=name)
    if as_json:
        _echo_json([r.as_dict() for r in records])
        return
    for r in records:
        verb = "already stored" if r.already_stored else "added"
        click.echo(f"{verb}: {_describe(r)}")


@ca_group.command("list")
@click.option("--all", "include_disabled", is_flag=True, help="include disabled CAs")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@_storage
def list_cmd(include_disabled: bool, as_json: bool) -> None:
    """The stored CAs."""
    records = _store().list(include_disabled=include_disabled)
    if as_json:
        _echo_json([r.as_dict() for r in records])
        return
    if not records:
        click.echo("no CAs stored (add one with `huren ca add FILE --profile NAME`)")
        return
    rows = [
        [
            r.name,
            r.sha256_fingerprint[:16],
            r.subject,
            r.role,
            r.profile,
            r.revocation_policy,
            "yes" if r.enabled else "no",
        ]
        for r in records
    ]
    header = ["NAME", "SHA-256", "SUBJECT", "ROLE", "PROFILE", "REVOCATION", "ENABLED"]
    click.echo(_table(header, rows))


@ca_group.command("disable")
@click.argument("ref")
@click.option("--reason", default="", help="why (kept with the CA)")
@_storage
def disable_cmd(ref: str, reason: str) -> None:
    """Stop trusting the CA REF (name, id or SHA-256 fingerprint prefix)."""
    record = _store().disable(ref, reason)
    click.echo(f"disabled: {_describe(record)}")


@ca_group.command("enable")
@click.argument("ref")
@_storage
def enable_cmd(ref: str) -> None:
    """Trust the disabled CA REF again."""
    record = _store().enable(ref)
    click.echo(f"enabled: {_describe(record)}")


@ca_group.command("set")
@click.argument("ref")
@click.option("--profile", default=None, help="another CA identity profile")
@click.option("--revocation", type=click.Choice(POLICIES), default=None, help="hard or soft")
@_storage
def set_cmd(ref: str, profile: str | None, revocation: str | None) -> None:
    """Change the profile or revocation policy of the CA REF."""
    if profile is None and revocation is None:
        raise UserError("nothing to change: give --profile and/or --revocation")
    record = _store().configure(ref, profile=profile, revocation_policy=revocation)
    click.echo(f"updated: {_describe(record)}")


@ca_group.group("crl")
def crl_group() -> None:
    """CRLs uploaded by hand (for CAs whose CRLs cannot be fetched)."""


@crl_group.command("upload")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@_storage
def crl_upload_cmd(file: Path, as_json: bool) -> None:
    """Store the CRL in FILE (PEM or DER) for the stored CA that signed it."""
    record = _store().upload_crl(_read(file))
    if as_json:
        _echo_json(record.as_dict())
        return
    verb = "unchanged" if record.unchanged else "stored"
    nxt = record.next_update.isoformat() if record.next_update else "none"
    click.echo(
        f"{verb}: CRL of '{record.issuer_name}' number {record.crl_number}, this update "
        f"{record.this_update.isoformat()}, next update {nxt}, {record.revoked_count} revoked"
    )


@crl_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@_storage
def crl_list_cmd(as_json: bool) -> None:
    """The stored CRLs."""
    records = _store().crls()
    if as_json:
        _echo_json([r.as_dict() for r in records])
        return
    if not records:
        click.echo("no CRLs stored")
        return
    rows = [
        [
            r.issuer_name,
            str(r.crl_number),
            r.this_update.isoformat(),
            r.next_update.isoformat() if r.next_update else "-",
            str(r.revoked_count),
        ]
        for r in records
    ]
    click.echo(_table(["CA", "NUMBER", "THIS UPDATE", "NEXT UPDATE", "REVOKED"], rows))


@ca_group.command("profiles")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@_storage
def profiles_cmd(as_json: bool) -> None:
    """The CA identity profiles: shipped ones and files in HUREN_CA_PROFILES_DIR."""
    store = _store()
    profiles = store.profiles()
    files = store.profile_files()
    shipped = builtin_profiles()
    used: dict[str, list[str]] = {}
    for r in store.list(include_disabled=True):
        used.setdefault(r.profile, []).append(r.name)
    items = [
        {
            "name": p.name,
            "description": p.description,
            "source": "shipped" if p.name in shipped else str(files.get(p.name, "")),
            "extends": list(p.extends),
            "rules": [rule.qualified_id for rule in p.rules],
            "used_by": used.get(p.name, []),
        }
        for p in sorted(profiles.values(), key=lambda p: p.name)
    ]
    if as_json:
        _echo_json(items)
        return
    rows = [
        [str(i["name"]), str(i["source"]), str(len(i["used_by"])), str(i["description"])]
        for i in items
    ]
    click.echo(_table(["NAME", "SOURCE", "CAS", "DESCRIPTION"], rows))


def _at(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"--at {text!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise UserError(f"--at {text!r} needs a UTC offset (e.g. 2025-06-01T09:00:00+08:00 or …Z)")
    return at


def _verify_text(result: ValidationResult) -> list[str]:
    lines = [
        f"valid: {'yes' if result.valid else 'no'}",
        f"reason: {result.reason.value}",
        f"detail: {result.detail}",
        "chain:",
    ]
    for i, cert in enumerate(result.chain):
        lines.append(f"  {i} {cert.subject.rfc4514} (SHA-256 {cert.sha256_fingerprint[:16]}…)")
    lines.append(f"ca: {result.ca or '-'}")
    lines.append(f"profile: {result.profile or '-'}")
    lines.append(f"revocation checked: {'yes' if result.revocation_checked else 'no'}")
    for note in result.notes:
        lines.append(f"note: {note}")
    if result.identity is None:
        lines.append("identity: -")
    else:
        lines.append("identity:")
        for key, value in result.identity.as_dict().items():
            if value in (None, [], ""):
                continue
            if key == "rejected":
                value = "; ".join(f"{r['rule']}: {r['value']} ({r['reason']})" for r in value)
            elif isinstance(value, list):
                value = ", ".join(map(str, value))
            lines.append(f"  {key}: {value}")
    return lines


@ca_group.command("verify")
@click.argument("cert", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--chain",
    "chain_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="intermediate CA certificates (PEM bundle or DER) to use besides the stored ones",
)
@click.option(
    "--purpose", type=click.Choice(["sign", "encrypt", "any"]), default="sign", show_default=True
)
@click.option("--at", "at_text", help="validation time, ISO 8601 with offset [now]")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@_storage
def verify_cmd(
    cert: Path, chain_file: Path | None, purpose: str, at_text: str | None, as_json: bool
) -> None:
    """Validate CERT (leaf first if a PEM bundle) against the trust store; exit 0 when valid,
    1 when not."""
    at = _at(at_text)
    certs = read_certificates(_read(cert), str(cert))
    leaf, intermediates = certs[0], list(certs[1:])
    if chain_file is not None:
        intermediates.extend(read_certificates(_read(chain_file), str(chain_file)))
    result = _store().validate(leaf, intermediates=intermediates, purpose=purpose, at=at)
    if as_json:
        _echo_json(result.as_dict())
    else:
        click.echo("\n".join(_verify_text(result)))
    if not result.valid:
        raise click.exceptions.Exit(1)
