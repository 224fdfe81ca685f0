"""Migrating an existing market-entity registry: `huren entity import FILE` (§6.3.1).

The input is CSV or JSON Lines whose columns are the claim names (`COLUMNS`). It is read as a
stream, one physical line at a time (at most `MAX_LINE` bytes each), so a file of any size
needs constant memory, and the bytes read drive the progress bar.

Every data row is validated exactly like a registration (`service.check_entity`, which reports
every refused field), checked for duplicates, checked against the market-entity registry when
it is an organisation and a registry is configured, and written in its own transaction
(`service.import_entity`). A row ends in exactly one `RowResult`:

* ``imported``: written and verified (the registry confirmed the organisation; a natural
  person is vouched for by the source registry);
* ``pending``: written, awaiting an operator's review with the reason codes in ``errors``
  (registry unreachable, contradicting itself, the organisation on a dishonesty list, or no
  registry configured);
* ``rejected``: NOTHING written; ``errors`` say why (invalid field, duplicate of the database
  or of an earlier row of the file, taken username, a registry refutation, a malformed line).

Rows commit one by one, so an earlier row of the same file is "the database" for the later
ones: a second row for the same credit code or ID number is refused as a duplicate, and running
the same file again refuses every row already imported (a resumed import is safe). Reports and
logs carry field names and reason codes only, never the values (ID numbers, mobiles).
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from idp.registry import Registry, VerdictState

from . import service
from .errors import DuplicateEntity, InvalidField
from .onboarding import refuted_field, registry_verdict
from .pii import PersonalData
from .service import NATURAL_PERSON

__all__ = [
    "COLUMNS",
    "FORMATS",
    "MAX_LINE",
    "REQUIRED_COLUMNS",
    "STATUSES",
    "ImportFileError",
    "Importer",
    "Record",
    "RowError",
    "RowResult",
    "Source",
    "Summary",
    "format_for",
    "run",
]

log = logging.getLogger(__name__)

FORMATS = ("csv", "jsonl")
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
COLUMNS: Mapping[str, str] = {
    "entity_type": "entity_type",
    "entity_name": "name",
    "uscc": "uscc",
    "agent_name": "agent_name",
    "id_type": "id_type",
    "id_number": "id_number",
    "phone": "phone",
    "username": "username",
}
"""Input column (a claim name, plus the optional `username`) → `service.check_entity` field."""
_FIELD_COLUMN = {v: k for k, v in COLUMNS.items()}
REQUIRED_COLUMNS = ("entity_type", "entity_name")
STATUSES = ("imported", "pending", "rejected")
MAX_LINE = 64 * 1024
"""Longest physical line read; a longer one is skipped and its row rejected (`line_too_long`)."""
MAX_UNKNOWN = 50
"""Distinct unknown JSON keys remembered for the once-only warning (memory stays bounded)."""
ACTOR = "import"

# reasons of malformed rows (field "row")
REASON_ENCODING = "encoding"
REASON_TOO_LONG = "line_too_long"
REASON_FIELD_COUNT = "field_count"
REASON_CSV = "csv_syntax"
REASON_JSON = "json_syntax"
REASON_NOT_OBJECT = "not_object"
REASON_DUPLICATE = "duplicate"
REASON_STORAGE = "storage"


class ImportFileError(Exception):
    """The file cannot be imported at all (unreadable, unknown format, a bad header): one line
    for the operator; nothing was written."""


@dataclass(frozen=True)
class RowError:
    field: str
    reason: str


@dataclass(frozen=True)
class RowResult:
    """One report line. `row` is the 1-based data row (blank lines are not rows), `line` the
    physical line where it starts (the CSV header is line 1)."""

    row: int
    line: int
    status: str
    errors: tuple[RowError, ...] = ()
    entity_id: str | None = None
    username: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "row": self.row,
            "line": self.line,
            "status": self.status,
            "errors": [{"field": e.field, "reason": e.reason} for e in self.errors],
        }
        if self.entity_id is not None:
            out["entity_id"] = self.entity_id
            out["username"] = self.username
        return out


@dataclass(frozen=True)
class Record:
    """A data row as read: its fields by `check_entity` name, or the reason it is malformed."""

    row: int
    line: int
    fields: Mapping[str, object] | None
    problem: str | None = None


@dataclass
class Summary:
    imported: int = 0
    pending: int = 0
    rejected: int = 0
    rows: int = 0

    def add(self, result: RowResult) -> None:
        self.rows += 1
        if result.status == "imported":
            self.imported += 1
        elif result.status == "pending":
            self.pending += 1
        else:
            self.rejected += 1

    def __str__(self) -> str:
        return f"{self.imported} imported, {self.pending} pending, {self.rejected} rejected"


def format_for(path: str, given: str | None) -> str:
    """`given`, else the format the file name's extension says; `ImportFileError` otherwise."""
    if given is not None:
        if given not in FORMATS:
            raise ImportFileError(f"unknown format {given!r}; use csv or jsonl")
        return given
    lower = path.lower()
    for ext, fmt in EXTENSIONS.items():
        if lower.endswith(ext):
            return fmt
    raise ImportFileError(
        "cannot tell the format from the file name; name it .csv, .jsonl or .ndjson, "
        "or give --format csv|jsonl"
    )


def _check_encoding(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ImportFileError(f"unknown encoding {encoding!r}") from None
    # lines are split on the byte b"\n", so the encoding must spell these as ASCII does
    try:
        ok = '\n\r,"{}:'.encode(name) == b'\n\r,"{}:'
    except (UnicodeError, LookupError):
        ok = False
    if not ok:
        raise ImportFileError(f"encoding {encoding!r} is not ASCII-compatible; convert the file")
    return name


def _clip(name: str) -> str:
    """A column name fit for one warning line (the header is input too)."""
    shown = name if len(name) <= 40 else name[:40] + "…"
    return json.dumps(shown, ensure_ascii=False)


class Source:
    """The rows of one input file, read lazily from a binary stream.

    The CSV header is read and checked by the constructor, so a file that cannot be imported
    raises `ImportFileError` before any row. `bytes_read` counts the bytes consumed so far.
    `warn` receives one-line warnings (unknown columns, once).
    """

    def __init__(
        self,
        stream: IO[bytes],
        fmt: str,
        *,
        encoding: str = "utf-8",
        warn: Callable[[str], None] = lambda _message: None,
    ) -> None:
        if fmt not in FORMATS:
            raise ImportFileError(f"unknown format {fmt!r}; use csv or jsonl")
        self._stream = stream
        self.format = fmt
        self.encoding = _check_encoding(encoding)
        self._warn = warn
        self.bytes_read = 0
        self.lines = 0  # physical lines consumed
        self._bad: str | None = None  # why a line of the current record is unusable
        self._first = True
        self._header: tuple[str | None, ...] = ()
        self._unknown: set[str] = set()
        self._csv: Iterator[list[str]] | None = None
        if fmt == "csv":
            self._csv = csv.reader(self._text_lines(), strict=False)
            self._read_header()

    # lines -----------------------------------------------------------------------------------

    def _raw_lines(self) -> Iterator[tuple[bytes, str | None]]:
        """Physical lines with their problem (None, or `line_too_long`)."""
        while True:
            line = self._stream.readline(MAX_LINE)
            if not line:
                return
            self.bytes_read += len(line)
            if len(line) >= MAX_LINE and not line.endswith(b"\n"):
                while True:  # skip the rest of the overlong line without keeping it
                    rest = self._stream.readline(MAX_LINE)
                    self.bytes_read += len(rest)
                    if not rest or rest.endswith(b"\n"):
                        break
                self.lines += 1
                yield b"\n", REASON_TOO_LONG
                continue
            self.lines += 1
            yield line, None

    def _decode(self, line: bytes) -> tuple[str, str | None]:
        try:
            text = line.decode(self.encoding)
            problem = None
        except UnicodeDecodeError:
            text, problem = line.decode(self.encoding, errors="replace"), REASON_ENCODING
        if self._first:
            self._first = False
            text = text.removeprefix("\ufeff")  # a byte-order mark, whatever the encoding
        return text, problem

    def _text_lines(self) -> Iterator[str]:
        for raw, problem in self._raw_lines():
            text, undecodable = self._decode(raw)
            if (problem or undecodable) and self._bad is None:
                self._bad = problem or undecodable
            yield text

    def _take_bad(self) -> str | None:
        bad, self._bad = self._bad, None
        return bad

    # CSV ---------------------------------------------------------------------------------------

    def _read_header(self) -> None:
        assert self._csv is not None
        try:
            header = next(self._csv, None)
        except csv.Error as exc:
            raise ImportFileError(f"the CSV header cannot be read: {exc}") from None
        problem = self._take_bad()
        if problem == REASON_ENCODING:
            raise ImportFileError(
                f"the header is not valid {self.encoding}; give the file's encoding, "
                "e.g. --encoding gb18030"
            )
        if problem is not None:
            raise ImportFileError("the header line is too long")
        if not header or all(not cell.strip() for cell in header):
            raise ImportFileError("the file is empty: no header line")
        names = [cell.strip() for cell in header]
        known = [n for n in names if n in COLUMNS]
        twice = sorted({n for n in known if known.count(n) > 1})
        if twice:
            raise ImportFileError(f"column {twice[0]} appears twice in the header")
        missing = [c for c in REQUIRED_COLUMNS if c not in names]
        if missing:
            raise ImportFileError(
                f"the header lacks the column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)} (found: {', '.join(_clip(n) for n in names[:20])})"
            )
        unknown = [n for n in names if n not in COLUMNS]
        if unknown:
            shown = ", ".join(_clip(n) for n in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            self._warn(f"ignoring unknown column(s) {shown}{more}")
        self._header = tuple(COLUMNS.get(n) for n in names)

    def _csv_records(self) -> Iterator[Record]:
        assert self._csv is not None
        row = 0
        while True:
            start = self.lines + 1
            try:
                cells = next(self._csv, None)
            except csv.Error:
                self._take_bad()
                row += 1
                yield Record(row, start, None, REASON_CSV)
                continue
            if cells is None:
                return
            bad = self._take_bad()
            if bad is None and all(not cell.strip() for cell in cells):
                continue  # a blank line (or a row of empty cells, as spreadsheets end) is no row
            row += 1
            if bad is not None:
                yield Record(row, start, None, bad)
            elif len(cells) != len(self._header):
                yield Record(row, start, None, REASON_FIELD_COUNT)
            else:
                fields = {
                    name: value
                    for name, value in zip(self._header, cells, strict=True)
                    if name is not None
                }
                yield Record(row, start, fields)

    # JSON Lines --------------------------------------------------------------------------------

    def _json_records(self) -> Iterator[Record]:
        row = 0
        for raw, too_long in self._raw_lines():
            text, undecodable = self._decode(raw)
            if not too_long and not text.strip():
                continue
            row += 1
            if too_long or undecodable:
                yield Record(row, self.lines, None, too_long or undecodable)
                continue
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                yield Record(row, self.lines, None, REASON_JSON)
                continue
            if not isinstance(value, dict):
                yield Record(row, self.lines, None, REASON_NOT_OBJECT)
                continue
            fields: dict[str, object] = {}
            for key, item in value.items():
                name = COLUMNS.get(key)
                if name is not None:
                    fields[name] = item
                elif key not in self._unknown and len(self._unknown) < MAX_UNKNOWN:
                    self._unknown.add(key)
                    self._warn(f"ignoring unknown key {_clip(key)} (first in row {row})")
            yield Record(row, self.lines, fields)

    def records(self) -> Iterator[Record]:
        """The data rows, in file order, each exactly once."""
        return self._csv_records() if self.format == "csv" else self._json_records()


class Importer:
    """Turns a row's fields into a written entity or a refusal (see the module docstring).

    `registry` None means no registry is configured: organisations are written ``pending``
    with ``registry_not_configured``.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        pii: PersonalData,
        registry: Registry | None,
        *,
        actor: str = ACTOR,
    ) -> None:
        self.sessions = sessions
        self.pii = pii
        self.registry = registry
        self.actor = actor

    def process(self, record: Record) -> RowResult:
        if record.fields is None:
            return RowResult(
                record.row, record.line, "rejected", (RowError("row", record.problem or "?"),)
            )
        status, errors, view_id, username = self._import(record.fields)
        return RowResult(record.row, record.line, status, errors, view_id, username)

    def _import(
        self, fields: Mapping[str, object]
    ) -> tuple[str, tuple[RowError, ...], str | None, str | None]:
        entity, problems = service.check_entity(
            entity_type=fields.get("entity_type"),
            name=fields.get("name"),
            phone=fields.get("phone"),
            username=fields.get("username"),
            uscc=fields.get("uscc"),
            agent_name=fields.get("agent_name"),
            id_type=fields.get("id_type"),
            id_number=fields.get("id_number"),
        )
        if entity is None:
            return "rejected", tuple(_error(p.field, p.reason) for p in problems), None, None
        try:
            # before the registry is asked: a duplicate costs no network call
            service.refuse_duplicate(self.sessions, self.pii, entity)
            status, reasons = "verified", tuple[str, ...]()
            if entity.entity_type != NATURAL_PERSON:
                state, reasons = registry_verdict(self.registry, entity.uscc or "", entity.name)
                if state is VerdictState.REJECTED:
                    errors = tuple(_error(refuted_field(r), r) for r in reasons)
                    return "rejected", errors, None, None
                status = state.value
            view = service.import_entity(
                self.sessions, self.pii, entity, status=status, reasons=reasons, actor=self.actor
            )
        except DuplicateEntity as exc:
            return "rejected", (_error(exc.field, REASON_DUPLICATE),), None, None
        except InvalidField as exc:
            return "rejected", (_error(exc.field, exc.reason),), None, None
        except (IntegrityError, DataError) as exc:  # a value the database refused
            log.warning("import row refused by the database: %s", type(exc).__name__)
            return "rejected", (RowError("row", REASON_STORAGE),), None, None
        if view.status == "verified":
            return "imported", (), view.id, entity.username
        return "pending", tuple(_error("uscc", r) for r in view.reasons), view.id, entity.username


def _error(service_field: str, reason: str) -> RowError:
    """A refusal named by the input column it is about."""
    return RowError(_FIELD_COLUMN.get(service_field, service_field), reason)


def run(
    source: Source,
    importer: Importer,
    report: Callable[[RowResult], None],
    *,
    progress: Callable[[int], None] = lambda _done: None,
) -> Summary:
    """Import every row of `source`, calling `report` once per row and `progress` with the
    number of bytes read after each. A KeyboardInterrupt stops between or inside rows; every
    row is one transaction, so only whole entities are ever written."""
    summary = Summary()
    for record in source.records():
        result = importer.process(record)
        summary.add(result)
        report(result)
        progress(source.bytes_read)
    return summary
