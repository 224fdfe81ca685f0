"""Files of the ``huren crypto`` / ``huren pki`` / ``huren bid`` commands: ``-`` for
stdin/stdout, binary-safe, and no partial output left behind when a command fails."""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from asn1crypto import pem as _pem

from cert_interop.cli_errors import UserError
from cert_interop.errors import CertInteropError
from cert_interop.x509 import Certificate, parse_certificate

__all__ = [
    "input_file",
    "output_file",
    "pem_blocks",
    "read_certificates",
    "read_small",
    "refuse_same_file",
]

MAX_SMALL_FILE = 16 << 20


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
    """stdout for None or '-'. A file is written as a temporary file in the same directory and
    renamed over ``path`` only when the block succeeds, so a failure or Ctrl-C never leaves a
    partial file (a failed decryption no partial plaintext) and never destroys an older file of
    that name. ``private``: mode 0600. Devices and FIFOs (``--out /dev/null``) are written
    directly."""
    if path is None or path == "-":
        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    target = Path(path)
    with suppress(OSError):
        if not stat.S_ISREG(target.stat().st_mode):
            if target.is_dir():
                raise UserError(f"cannot write {path}: is a directory")
            with open(target, "wb") as special:
                yield special
            return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600 if private else 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def read_small(path: str, what: str, limit: int = MAX_SMALL_FILE) -> bytes:
    """A whole small file (certificates, keys, CRLs), refused above ``limit`` bytes."""
    try:
        with open(path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size > limit:
                raise UserError(f"{what} {path} is too large")
            # small reads: read(n) would reserve n bytes up front
            data = b"".join(iter(lambda: fh.read(1 << 16), b""))
    except OSError as exc:
        raise UserError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(data) > limit:  # grew while being read, or not a regular file
        raise UserError(f"{what} {path} is too large")
    return data


def pem_blocks(data: bytes, label: str) -> list[bytes] | None:
    """The DER of every PEM block with ``label`` in ``data``; None when it is not PEM."""
    if b"-----BEGIN" not in data:
        return None
    try:
        return [
            bytes(der) for kind, _headers, der in _pem.unarmor(data, multiple=True) if kind == label
        ]
    except (ValueError, TypeError) as exc:
        raise UserError(f"bad PEM: {exc}") from None


def read_certificates(path: str, what: str = "certificate file") -> list[Certificate]:
    """Every certificate of a PEM file (several allowed) or the one of a DER file."""
    data = read_small(path, what)
    try:
        blocks = pem_blocks(data, "CERTIFICATE")
        if blocks is None:
            return [parse_certificate(data)]
        if not blocks:
            raise UserError(f"{what} {path}: no CERTIFICATE in the PEM file")
        return [parse_certificate(b) for b in blocks]
    except (CertInteropError, ValueError, TypeError) as exc:
        raise UserError(f"{what} {path} is not a certificate file: {exc}") from None


def refuse_same_file(in_path: str, out_path: str | None) -> None:
    """Writing over the input while reading it would destroy it."""
    if in_path == "-" or out_path is None or out_path == "-":
        return
    with suppress(OSError):
        if os.path.samefile(in_path, out_path):
            raise UserError(f"--out {out_path} is the --in file")
