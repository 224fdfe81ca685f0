"""Files of the ``huren crypto`` / ``huren pki`` commands: ``-`` for stdin/stdout, binary-safe,
and no partial output left behind when a command fails."""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import BinaryIO

from cert_interop.cli_errors import UserError

__all__ = ["input_file", "output_file"]


@contextmanager
def input_file(path: str) -> Iterator[BinaryIO]:
    if path == "-":
        yield sys.stdin.buffer
        return
    try:
        fh = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        yield fh


@contextmanager
def output_file(path: str | None, *, private: bool = False) -> Iterator[BinaryIO]:
    """stdout for None or '-'; else the file (0600 when ``private``), removed again when the
    command fails, so a failed decryption leaves no partial plaintext behind. Only a regular
    file is ever removed: ``--out /dev/null`` (or a FIFO) is left alone."""
    if path is None or path == "-":
        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o666)
        regular = stat.S_ISREG(os.fstat(fd).st_mode)
        if private and regular:
            os.fchmod(fd, 0o600)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    ok = False
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
        ok = True
    finally:
        if not ok and regular:
            with suppress(OSError):
                os.unlink(path)
