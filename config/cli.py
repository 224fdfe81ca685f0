"""The `huren` console script."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import SQLAlchemyError

from cert_interop.ca_cli import ca_group
from cert_interop.cli import crypto_group
from cert_interop.pki_cli import pki_group
from idp.accounts import seal_plain_phones
from idp.cli import GROUPS
from idp.entities.pii import PersonalData
from idp.errors import IdpError
from idp.keys import KeyRing
from seal.cli import seal_group
from storage.at_rest import SealedDataError
from storage.errors import StorageError
from storage.migrate import upgrade

from . import seal_stamp  # noqa: F401 (adds stamp and batch to `huren seal`)
from .bid_cli import bid_group
from .bridge_cli import bridge_group
from .mobile_cli import mobile_group
from .runtime import MIGRATION_LOCATIONS, Runtime
from .settings import SettingsError


@click.group()
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Huren (互认): identity and certificate interoperability for public-resource trading."""
    ctx.obj = Runtime()


@cli.group("db")
def db_group() -> None:
    """Database schema."""


def prepare(rt: Runtime) -> None:
    """Create or migrate the schema and make sure signing keys exist (idempotent)."""
    upgrade(rt.settings.database_url, MIGRATION_LOCATIONS)
    moved = seal_plain_phones(rt.sessions, PersonalData(rt.master_secret))
    if moved:
        click.echo(f"sealed the mobile numbers of {moved} accounts (were plain text)", err=True)
    ring = KeyRing(rt.sessions, rt.master_secret)
    ring.ensure()
    try:
        ring.signing_key("RS256")
    except SealedDataError:
        raise SettingsError(
            "the master secret does not open the stored signing keys: restore HUREN_SECRET_KEY "
            "(or $HUREN_DATA_DIR/secret.key) from backup"
        ) from None


@db_group.command("upgrade")
@click.pass_obj
def db_upgrade(rt: Runtime) -> None:
    """Create or migrate the schema on SQLite or PostgreSQL."""
    prepare(rt)
    click.echo(f"database ready: {rt.engine.url.render_as_string(hide_password=True)}")


@cli.command("serve")
@click.option("--host", help="default: HUREN_HOST (127.0.0.1)")
@click.option("--port", type=int, help="default: HUREN_PORT (8000)")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True)
@click.pass_obj
def serve(rt: Runtime, host: str | None, port: int | None, workers: int, threads: int) -> None:
    """Production server (gunicorn, gthread workers)."""
    from .serve import run

    prepare(rt)
    run(
        rt.settings,
        host=host or rt.settings.host,
        port=port or rt.settings.port,
        workers=workers,
        threads=threads,
    )


@cli.group("demo")
def demo_group() -> None:
    """Demo data for a first look (make run)."""


@demo_group.command("seed")
@click.pass_obj
def demo_seed(rt: Runtime) -> None:
    """Create the demo client and user once; print how to try them."""
    from .demo import seed

    prepare(rt)
    seed(rt)


for group in (*GROUPS, crypto_group, pki_group, ca_group, bid_group, seal_group):
    cli.add_command(group)
cli.add_command(bridge_group)
cli.add_command(mobile_group)


def main() -> None:
    try:
        cli.main(standalone_mode=True)
    except SettingsError as exc:
        click.echo(f"huren: invalid settings: {exc}", err=True)
        sys.exit(2)
    except IdpError as exc:
        click.echo(f"huren: {exc.message}", err=True)
        sys.exit(2)
    except (StorageError, SQLAlchemyError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        hint = (
            " (has `huren db upgrade` run?)"
            if "no such table" in first or "does not exist" in first
            else ""
        )
        click.echo(f"huren: storage error: {first}{hint}", err=True)
        sys.exit(3)
