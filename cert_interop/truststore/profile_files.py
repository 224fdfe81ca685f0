"""CA identity profiles: the shipped ones plus the operator's files in the profiles directory.

A new CA's profile is a configuration change (a ``*.toml`` or ``*.json`` file, the format of
:mod:`cert_interop.profiles.model`), not a release. Files may ``extend`` shipped profiles and each
other, whatever their order on disk. A broken file never hides the others: it is reported as a
:class:`~cert_interop.errors.ProfileFileError` naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cert_interop.errors import CertInteropError, ProfileFileError
from cert_interop.profiles import Profile, builtin_profiles, load_profile

__all__ = ["MAX_PROFILE_FILE_BYTES", "ProfileSet", "directory_signature", "load_profile_set"]

MAX_PROFILE_FILE_BYTES = 256 * 1024
_SUFFIXES = {".toml": "toml", ".json": "json"}

Signature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class ProfileSet:
    profiles: Mapping[str, Profile]
    """Shipped profiles and every file that loaded, by profile name."""
    files: Mapping[str, Path]
    """Profile name → the file that defined it (shipped profiles are absent)."""
    errors: tuple[ProfileFileError, ...]
    """One per file that did not load, in file-name order."""
    signature: Signature


def _files(directory: Path | None) -> list[Path]:
    if directory is None:
        return []
    try:
        entries = sorted(directory.iterdir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ProfileFileError(
            f"CA profiles directory {directory}: {exc.strerror or exc}"
        ) from None
    return [p for p in entries if p.suffix.lower() in _SUFFIXES and not p.name.startswith(".")]


def directory_signature(directory: Path | None) -> Signature:
    """(name, mtime, size) of every profile file: cheap to compute, changes when a file does."""
    out: list[tuple[str, int, int]] = []
    for path in _files(directory):
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((path.name, st.st_mtime_ns, st.st_size))
    return tuple(out)


def _read(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_PROFILE_FILE_BYTES + 1)
    except OSError as exc:
        raise ProfileFileError(f"CA profile file {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_PROFILE_FILE_BYTES:
        raise ProfileFileError(
            f"CA profile file {path} is larger than {MAX_PROFILE_FILE_BYTES} bytes"
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ProfileFileError(f"CA profile file {path} is not UTF-8: {exc}") from None


def load_profile_set(directory: Path | None) -> ProfileSet:
    """Shipped profiles plus the files of ``directory`` (absent directory: shipped only).

    Files are loaded in passes, so one may extend another whatever the names; a file whose
    base never loads is reported with the error of its last attempt.
    """
    signature = directory_signature(directory)
    known: dict[str, Profile] = builtin_profiles()
    builtin = set(known)
    files: dict[str, Path] = {}
    texts: dict[Path, str] = {}
    errors: dict[Path, ProfileFileError] = {}
    for path in _files(directory):
        try:
            texts[path] = _read(path)
        except ProfileFileError as exc:
            errors[path] = exc
    pending = list(texts)
    while pending:
        progress = False
        for path in list(pending):
            try:
                profile = load_profile(texts[path], _SUFFIXES[path.suffix.lower()], known=known)
            except CertInteropError as exc:
                errors[path] = ProfileFileError(f"CA profile file {path}: {exc}")
                continue
            pending.remove(path)
            errors.pop(path, None)
            if profile.name in builtin:
                errors[path] = ProfileFileError(
                    f"CA profile file {path} defines {profile.name!r}, the name of a shipped "
                    "profile; choose another name (it may extend the shipped one)"
                )
            elif profile.name in files:
                errors[path] = ProfileFileError(
                    f"CA profile file {path} defines {profile.name!r}, already defined by "
                    f"{files[profile.name]}"
                )
            else:
                known[profile.name] = profile
                files[profile.name] = path
                progress = True
        if not progress:
            break
    ordered = tuple(errors[p] for p in sorted(errors, key=os.fspath))
    return ProfileSet(known, files, ordered, signature)
