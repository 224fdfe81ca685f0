"""One-line errors for the library's command groups (`huren crypto`, `huren pki`): a usage or input
problem prints one line on stderr and exits 2, never a traceback."""

from __future__ import annotations

from typing import Any, NoReturn

import click

from .errors import CertInteropError


class UserError(Exception):
    """A problem with the command line or its inputs: one line, exit 2."""


def fail(message: str) -> NoReturn:
    first = (message.strip().splitlines() or ["failed"])[0]
    click.echo(f"error: {first}", err=True)
    raise click.exceptions.Exit(2)


class OneLineErrors(click.Group):
    """Turns usage errors and library errors below this group into one line on stderr, exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.Exit:
            raise
        except click.ClickException as exc:
            fail(exc.format_message())
        except (UserError, CertInteropError) as exc:
            fail(str(exc) or type(exc).__name__)
        except OSError as exc:
            name = f"{exc.filename}: " if exc.filename else ""
            fail(f"{name}{exc.strerror or exc}")
        except ValueError as exc:  # a library refusing a value it has no typed error for
            fail(str(exc) or type(exc).__name__)
