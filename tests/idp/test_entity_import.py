"""`huren entity import`: migrating an existing registry from CSV or JSON Lines.

Real databases (SQLite, and PostgreSQL when HUREN_TEST_DATABASE_URL is set: the `engine`
fixture), a real local registry (`RegistryServer`), the command through click's CliRunner and,
for Ctrl-C, the installed `huren` script in a subprocess.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from idp.accounts import check_password, set_password
from idp.entities import importer, service
from idp.entities.cli import entity_group
from idp.entities.errors import InvalidField
from idp.entities.models import EntityContact, EntityReview, MarketEntity
from idp.entities.pii import PersonalData
from idp.models import Account, AuditEvent
from storage.db import make_engine, make_session_factory

from .registry_server import RegistryServer, entity
from .test_entities import MASTER, counts, make_resident_id, make_uscc

NAME = "贵州某某建设工程有限公司"
HEADER = ["entity_type", "entity_name", "uscc", "agent_name", "id_type", "id_number", "phone"]

USCC_OK = make_uscc("10000001")  # the registry confirms it
USCC_DISHONEST = make_uscc("10000002")
USCC_REVOKED = make_uscc("10000003")
USCC_OTHER_NAME = make_uscc("10000004")
USCC_UNKNOWN = make_uscc("10000005")  # the registry has never heard of it
ID_1 = make_resident_id("101")
ID_2 = make_resident_id("102")


def bad_check_character(code: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return code[:-1] + alphabet[(alphabet.index(code[-1]) + 1) % len(alphabet)]


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def pii() -> PersonalData:
    return PersonalData(MASTER)


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    records = {
        USCC_OK: entity(USCC_OK, NAME),
        USCC_DISHONEST: entity(USCC_DISHONEST, "某某失信有限公司", dishonest=True),
        USCC_REVOKED: entity(USCC_REVOKED, "某某吊销有限公司", status="revoked"),
        USCC_OTHER_NAME: entity(USCC_OTHER_NAME, "完全不同的有限公司"),
    }
    with RegistryServer(records) as server:
        yield server


class Cli:
    """`huren entity …` through CliRunner, with the registry the test chooses."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        self.engine = engine
        self.sessions = sessions
        self.registry_url: str | None = None

    def __call__(self, *args: str, stdin: bytes | None = None) -> Result:
        config = SimpleNamespace(
            registry_url=self.registry_url,
            registry_token=None,
            registry_timeout=1,
            redis_url=None,
            redis_prefix="huren:",
        )
        runtime = SimpleNamespace(
            sessions=self.sessions, master_secret=MASTER, settings=config, engine=self.engine
        )
        return CliRunner().invoke(entity_group, list(args), obj=runtime, input=stdin)


@pytest.fixture
def cli(engine: Engine, sessions: sessionmaker[Session]) -> Cli:
    return Cli(engine, sessions)


def org_row(uscc: str, name: str = NAME, **over: str) -> dict[str, str]:
    return {
        "entity_type": "legal_person",
        "entity_name": name,
        "uscc": uscc,
        "agent_name": "王五",
        "phone": "13812345678",
        **over,
    }


def person_row(number: str, **over: str) -> dict[str, str]:
    return {
        "entity_type": "natural_person",
        "entity_name": "张三",
        "id_type": "resident_id",
        "id_number": number,
        "phone": "13987654321",
        **over,
    }


def write_csv(
    path: Path, rows: list[dict[str, str]], header: list[str] = HEADER, **kw: Any
) -> Path:
    lines = [",".join(header)]
    lines += [",".join(row.get(col, "") for col in header) for row in rows]
    path.write_text("\n".join(lines) + "\n", **{"encoding": "utf-8", **kw})
    return path


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text(
        "".join(
            (r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in rows
        ),
        encoding="utf-8",
    )
    return path


def report_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def errors(line: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["field"], e["reason"]) for e in line["errors"]]


def entity_rows(sessions: sessionmaker[Session]) -> dict[str, MarketEntity]:
    with sessions() as db:
        return {e.id: e for e in db.scalars(select(MarketEntity)).all()}


# the statuses ----------------------------------------------------------------------------------


def test_every_status_from_a_csv_with_the_registry(
    cli: Cli, registry: RegistryServer, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    cli.registry_url = registry.url
    source = write_csv(
        tmp_path / "registry.csv",
        [
            org_row(USCC_OK),  # 1 imported
            org_row(USCC_DISHONEST, "某某失信有限公司"),  # 2 pending
            org_row(USCC_REVOKED, "某某吊销有限公司"),  # 3 rejected
            org_row(USCC_OTHER_NAME),  # 4 rejected: another name
            org_row(USCC_UNKNOWN),  # 5 rejected: unknown code
            person_row(ID_1),  # 6 imported
        ],
    )
    out = tmp_path / "report.jsonl"
    result = cli("import", str(source), "--report", str(out))
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().splitlines()[-1] == "2 imported, 1 pending, 3 rejected"
    lines = report_lines(out)
    assert [line["row"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert [line["line"] for line in lines] == [2, 3, 4, 5, 6, 7]
    assert [line["status"] for line in lines] == [
        "imported",
        "pending",
        "rejected",
        "rejected",
        "rejected",
        "imported",
    ]
    assert errors(lines[0]) == [] and lines[0]["username"] == USCC_OK.lower()
    assert errors(lines[1]) == [("uscc", "registry_dishonest")]
    assert errors(lines[2]) == [("uscc", "registry_status_revoked")]
    assert errors(lines[3]) == [("entity_name", "registry_name_mismatch")]
    assert errors(lines[4]) == [("uscc", "registry_not_found")]
    assert lines[5]["username"].startswith("np-")
    for line in lines[2:5]:
        assert "entity_id" not in line and "username" not in line

    written = entity_rows(sessions)
    assert set(written) == {lines[0]["entity_id"], lines[1]["entity_id"], lines[5]["entity_id"]}
    assert written[lines[0]["entity_id"]].status == "verified"
    assert written[lines[1]["entity_id"]].status == "pending"
    assert written[lines[1]["entity_id"]].reasons == ["registry_dishonest"]
    assert written[lines[5]["entity_id"]].status == "verified"
    with sessions() as db:
        reviews = db.scalars(select(EntityReview)).all()
        assert {r.actor for r in reviews} == {"import"} and len(reviews) == 3
        contacts = db.scalars(select(EntityContact)).all()
        assert len(contacts) == 3 and all(c.verified_at is None for c in contacts)
        accounts = db.scalars(select(Account)).all()
        assert len(accounts) == 3 and all(a.password_hash is None for a in accounts)
        kinds = db.scalars(select(AuditEvent.kind)).all()
        assert sorted(kinds) == ["entity.imported"] * 3


def test_administrators_sign_in_only_once_a_password_is_set(
    cli: Cli, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    source = write_jsonl(tmp_path / "p.jsonl", [person_row(ID_1, username="zhang.san")])
    assert cli("import", str(source)).exit_code == 0
    assert check_password(sessions, "zhang.san", "") is None
    assert check_password(sessions, "zhang.san", "correct-horse-9") is None
    set_password(sessions, "zhang.san", "correct-horse-9")
    user = check_password(sessions, "zhang.san", "correct-horse-9")
    assert user is not None and user.username == "zhang.san"


@pytest.mark.parametrize("failing", ["http_500", "closed_port"])
def test_registry_without_an_answer_leaves_organisations_pending(
    cli: Cli,
    registry: RegistryServer,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    failing: str,
) -> None:
    if failing == "http_500":
        registry.failing = True
        cli.registry_url = registry.url
    else:
        cli.registry_url = "http://127.0.0.1:9"  # discard: nothing listens
    out = tmp_path / "r.jsonl"
    result = cli(
        "import", str(write_csv(tmp_path / "a.csv", [org_row(USCC_OK)])), "--report", str(out)
    )
    assert result.exit_code == 0, result.output
    [line] = report_lines(out)
    assert (line["status"], errors(line)) == ("pending", [("uscc", "registry_unreachable")])
    [written] = entity_rows(sessions).values()
    assert (written.status, written.reasons) == ("pending", ["registry_unreachable"])


def test_without_a_registry_organisations_wait_and_persons_are_imported(
    cli: Cli, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "a.csv", [org_row(USCC_UNKNOWN), person_row(ID_1)])
    result = cli("import", str(source), "--report", "-")
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [(x["status"], errors(x)) for x in lines] == [
        ("pending", [("uscc", "registry_not_configured")]),
        ("imported", []),
    ]
    assert result.stderr.strip().splitlines()[-1] == "1 imported, 1 pending, 0 rejected"


# refusals --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (org_row(bad_check_character(USCC_OK)), [("uscc", "check_character")]),
        (
            person_row(ID_1[:-1] + ("0" if ID_1[-1] != "0" else "1")),
            [("id_number", "check_character")],
        ),
        (org_row(USCC_OK, entity_type="company"), [("entity_type", "unknown")]),
        (person_row(ID_1, id_type="driving_licence"), [("id_type", "unknown")]),
        (person_row(ID_1, phone="12345"), [("phone", "format")]),
        (
            org_row("", agent_name="", phone=""),
            [("uscc", "required"), ("agent_name", "required"), ("phone", "required")],
        ),
        (person_row("", id_type=""), [("id_type", "required")]),
        (org_row(USCC_OK, entity_name=""), [("entity_name", "required")]),
        ({**person_row(ID_1), "uscc": USCC_OK}, [("uscc", "not_allowed")]),
        (org_row(USCC_OK, username="has space"), [("username", "format")]),
        (org_row(USCC_OK, entity_type=""), [("entity_type", "required")]),
    ],
)
def test_every_refused_field_is_reported_and_nothing_written(
    cli: Cli, engine: Engine, tmp_path: Path, row: dict[str, str], expected: list[tuple[str, str]]
) -> None:
    before = counts(engine)
    header = [*HEADER, "username"]
    out = tmp_path / "r.jsonl"
    result = cli("import", str(write_csv(tmp_path / "a.csv", [row], header)), "--report", str(out))
    assert result.exit_code == 1, result.output
    [line] = report_lines(out)
    assert line["status"] == "rejected" and errors(line) == expected
    assert counts(engine) == before


def test_duplicates_of_the_database_and_of_earlier_rows(
    cli: Cli, sessions: sessionmaker[Session], pii: PersonalData, tmp_path: Path
) -> None:
    service.register(
        sessions,
        pii,
        entity_type="natural_person",
        name="李四",
        username="lisi",
        password="correct-horse-9",
        phone="13900000000",
        id_type="resident_id",
        id_number=ID_2,
    )
    rows = [
        org_row(USCC_OK),
        org_row(USCC_OK.lower(), agent_name="赵六"),  # the same code, spelled differently
        person_row(ID_1),
        person_row(ID_1.lower(), phone="13700000000"),
        person_row(ID_2),  # registered before the import
        person_row(ID_2, id_type="passport") | {"id_number": "E12345678"},  # another document
    ]
    out = tmp_path / "r.jsonl"
    result = cli("import", str(write_csv(tmp_path / "a.csv", rows)), "--report", str(out))
    assert result.exit_code == 1
    lines = report_lines(out)
    assert [(x["status"], errors(x)) for x in lines] == [
        ("pending", [("uscc", "registry_not_configured")]),
        ("rejected", [("uscc", "duplicate")]),
        ("imported", []),
        ("rejected", [("id_number", "duplicate")]),
        ("rejected", [("id_number", "duplicate")]),
        ("imported", []),
    ]
    assert len(entity_rows(sessions)) == 4


def test_rerunning_the_same_file_writes_nothing_more(
    cli: Cli, engine: Engine, tmp_path: Path
) -> None:
    source = write_csv(tmp_path / "a.csv", [org_row(USCC_OK), person_row(ID_1)])
    first = cli("import", str(source))
    assert first.exit_code == 0, first.output
    after_first = counts(engine)
    out = tmp_path / "again.jsonl"
    again = cli("import", str(source), "--report", str(out))
    assert again.exit_code == 1
    assert again.stderr.strip().splitlines()[-1] == "0 imported, 0 pending, 2 rejected"
    assert [errors(x) for x in report_lines(out)] == [
        [("uscc", "duplicate")],
        [("id_number", "duplicate")],
    ]
    assert counts(engine) == after_first


def test_a_taken_username_leaves_no_entity(
    cli: Cli,
    engine: Engine,
    sessions: sessionmaker[Session],
    pii: PersonalData,
    tmp_path: Path,
) -> None:
    source = write_csv(tmp_path / "a.csv", [org_row(USCC_OK)])
    assert cli("import", str(source)).exit_code == 0
    before = counts(engine)
    # the default login of another organisation is taken: refused before any write
    taken = org_row(make_uscc("10000009"), username=USCC_OK.lower())
    out = tmp_path / "r.jsonl"
    header = [*HEADER, "username"]
    assert (
        cli(
            "import", str(write_csv(tmp_path / "b.csv", [taken], header)), "--report", str(out)
        ).exit_code
        == 1
    )
    assert errors(report_lines(out)[0]) == [("username", "taken")]
    assert counts(engine) == before
    # and inside the transaction (after the entity row was flushed): nothing stays either
    fields, problems = service.check_entity(
        entity_type="other_org",
        name="某某协会",
        phone="13812345678",
        username=USCC_OK.upper(),
        uscc=make_uscc("10000010"),
        agent_name="王五",
    )
    assert fields is not None and not problems
    with pytest.raises(InvalidField) as caught:
        service.import_entity(sessions, pii, fields, status="verified")
    assert (caught.value.field, caught.value.reason) == ("username", "taken")
    assert counts(engine) == before
    assert service.find_by_uscc(sessions, pii, make_uscc("10000010")) is None


# formats and encodings -------------------------------------------------------------------------


def test_json_lines_with_malformed_lines(
    cli: Cli, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    source = write_jsonl(
        tmp_path / "a.ndjson",
        [
            person_row(ID_1),
            "{not json",
            "",  # blank: not a row
            "[1, 2]",
            '"text"',
            "[" * 50_000 + "]" * 50_000,  # too deep (and too long)
            "[" * 5_000,  # too deep for the parser
            {**person_row(ID_2), "phone": 13987654321},  # a number, not text
            {**org_row(USCC_OK), "password": "secret", "note": "x"},
        ],
    )
    out = tmp_path / "r.jsonl"
    result = cli("import", str(source), "--report", str(out))
    assert result.exit_code == 1
    lines = report_lines(out)
    assert [x["row"] for x in lines] == list(range(1, 9))
    assert [x["line"] for x in lines] == [1, 2, 4, 5, 6, 7, 8, 9]
    assert [(x["status"], errors(x)) for x in lines] == [
        ("imported", []),
        ("rejected", [("row", "json_syntax")]),
        ("rejected", [("row", "not_object")]),
        ("rejected", [("row", "not_object")]),
        ("rejected", [("row", "line_too_long")]),
        ("rejected", [("row", "json_syntax")]),
        ("rejected", [("phone", "type")]),
        ("pending", [("uscc", "registry_not_configured")]),
    ]
    warnings = [x for x in result.stderr.splitlines() if x.startswith("warning:")]
    assert warnings == [
        'warning: ignoring unknown key "password" (first in row 8)',
        'warning: ignoring unknown key "note" (first in row 8)',
    ]
    assert len(entity_rows(sessions)) == 2


def test_csv_rows_with_the_wrong_number_of_fields_and_blank_lines(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "a.csv"
    good = ",".join(person_row(ID_1).get(c, "") for c in HEADER)
    source.write_text(
        "\r\n".join(
            [
                ",".join(HEADER),
                "natural_person,张三",
                "",
                ",,,,,,",
                good,
                good + ",extra",
                '"unclosed',
            ]
        )
        + "\r\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.jsonl"
    assert cli("import", str(source), "--report", str(out)).exit_code == 1
    lines = report_lines(out)
    assert [(x["row"], x["line"], x["status"], errors(x)) for x in lines] == [
        (1, 2, "rejected", [("row", "field_count")]),
        (2, 5, "imported", []),
        (3, 6, "rejected", [("row", "field_count")]),
        (4, 7, "rejected", [("row", "field_count")]),
    ]


def test_quoted_fields_may_hold_commas_and_newlines(
    cli: Cli, tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    source = tmp_path / "a.csv"
    source.write_text(
        ",".join(HEADER) + "\n"
        f'legal_person,"某某（贵州）建设,有限公司",{USCC_OK},"王\n五",,,13812345678\n'
        + ",".join(person_row(ID_1).get(c, "") for c in HEADER)
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.jsonl"
    assert cli("import", str(source), "--report", str(out)).exit_code == 1
    lines = report_lines(out)
    # the agent's name with a newline is refused as a control character; the next row is line 4
    assert [(x["line"], errors(x)) for x in lines] == [
        (2, [("agent_name", "control_character")]),
        (4, []),
    ]


def test_byte_order_mark_and_gb18030(
    cli: Cli, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    bom = write_csv(tmp_path / "bom.csv", [org_row(USCC_OK)], encoding="utf-8-sig")
    assert bom.read_bytes().startswith(b"\xef\xbb\xbf")
    assert cli("import", str(bom)).exit_code == 0

    chinese = write_csv(
        tmp_path / "gb.csv", [person_row(ID_1, entity_name="欧阳娜娜")], encoding="gb18030"
    )
    as_utf8 = tmp_path / "r1.jsonl"
    assert cli("import", str(chinese), "--report", str(as_utf8)).exit_code == 1
    assert errors(report_lines(as_utf8)[0]) == [("row", "encoding")]
    out = tmp_path / "r2.jsonl"
    assert cli("import", str(chinese), "--encoding", "gb18030", "--report", str(out)).exit_code == 0
    assert report_lines(out)[0]["status"] == "imported"
    names = {e.name for e in entity_rows(sessions).values()}
    assert names == {NAME, "欧阳娜娜"}


def test_format_from_the_option_and_stdin(cli: Cli, tmp_path: Path) -> None:
    data = json.dumps(person_row(ID_1), ensure_ascii=False).encode() + b"\n"
    text_file = tmp_path / "export.txt"
    text_file.write_bytes(data)
    unknown = cli("import", str(text_file))
    assert unknown.exit_code == 2 and unknown.output.startswith("error: ")
    assert "--format" in unknown.output
    no_format = cli("import", "-", stdin=data)
    assert no_format.exit_code == 2 and "--format" in no_format.output
    result = cli("import", "-", "--format", "jsonl", "--report", "-", stdin=data)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "imported"


# unusable files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"entity_name,uscc,phone\n\xe6\x9f\x90,x,y\n", "entity_type"),
        (b"entity_type,uscc\nlegal_person,x\n", "entity_name"),
        (b"", "empty"),
        (b"\n\n", "empty"),
        (b"entity_type,entity_name,uscc,uscc\n", "twice"),
        (b"entity_type,entity_\xff\xfename\n", "encoding"),
    ],
)
def test_unusable_file_stops_before_any_row(
    cli: Cli, engine: Engine, tmp_path: Path, content: bytes, message: str
) -> None:
    before = counts(engine)
    source = tmp_path / "a.csv"
    source.write_bytes(content)
    out = tmp_path / "r.jsonl"
    result = cli("import", str(source), "--report", str(out))
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and result.output.count("\n") == 1
    assert message in result.output
    assert not out.exists()
    assert counts(engine) == before


def test_missing_file_and_bad_options_exit_2(cli: Cli, tmp_path: Path) -> None:
    missing = cli("import", str(tmp_path / "nope.csv"))
    assert missing.exit_code == 2 and missing.output.startswith("error: cannot read")
    source = write_csv(tmp_path / "a.csv", [])
    assert cli("import", str(source), "--encoding", "klingon").exit_code == 2
    utf16 = cli("import", str(source), "--encoding", "utf-16")
    assert utf16.exit_code == 2 and "ASCII" in utf16.output
    assert cli("import", str(source), "--format", "xml").exit_code == 2
    unwritable = cli("import", str(source), "--report", str(tmp_path / "no" / "such" / "dir"))
    assert unwritable.exit_code == 2 and "cannot write" in unwritable.output
    empty = cli("import", str(source))
    assert empty.exit_code == 0 and empty.stderr.strip().endswith(
        "0 imported, 0 pending, 0 rejected"
    )


def test_unknown_columns_warn_once(cli: Cli, tmp_path: Path) -> None:
    header = [*HEADER, "password", "备注"]
    rows = [person_row(ID_1, password="secret"), person_row(ID_2)]
    result = cli("import", str(write_csv(tmp_path / "a.csv", rows, header)))
    assert result.exit_code == 0, result.output
    warnings = [x for x in result.stderr.splitlines() if x.startswith("warning:")]
    assert warnings == ['warning: ignoring unknown column(s) "password", "备注"']


# personal data ---------------------------------------------------------------------------------


def test_no_personal_data_in_the_report_the_output_or_the_logs(
    cli: Cli, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    rows = [
        person_row(ID_1),
        person_row(ID_1),  # duplicate
        person_row(ID_2, phone="1398765432"),  # bad mobile
        person_row(ID_2[:-1] + ("1" if ID_2[-1] != "1" else "2"), phone="13911112222"),  # bad ID
        org_row(USCC_OK, phone="13633334444"),
    ]
    out = tmp_path / "r.jsonl"
    result = cli("import", str(write_csv(tmp_path / "a.csv", rows)), "--report", str(out))
    assert result.exit_code == 1
    seen = out.read_text(encoding="utf-8") + result.output + caplog.text
    for secret in (
        ID_1,
        ID_1[:-1],
        ID_1[6:14] + ID_1[14:17],
        ID_2,
        ID_2[:-1],
        "13987654321",
        "1398765432",
        "13911112222",
        "13633334444",
    ):
        assert secret not in seen


# streaming, progress and interruption ----------------------------------------------------------


def test_rows_are_read_as_a_stream(sessions: sessionmaker[Session], pii: PersonalData) -> None:
    rows = "".join(f"natural_person,人{i:05d},,,resident_id,x{i},139\n" for i in range(20_000))
    data = (",".join(HEADER) + "\n" + rows).encode()
    source = importer.Source(io.BytesIO(data), "csv")
    records = source.records()
    first = next(records)
    assert first.row == 1 and first.fields is not None and first.fields["name"] == "人00000"
    assert source.bytes_read < 64 * 1024 < len(data)  # only what the reader buffered so far
    seen: list[int] = []
    reports: list[importer.RowResult] = []
    summary = importer.run(
        importer.Source(io.BytesIO(data[:20_000]), "csv"),
        importer.Importer(sessions, pii, None),
        reports.append,
        progress=seen.append,
    )
    assert seen == sorted(seen) and seen[-1] == 20_000
    assert summary.rows == len(reports) == summary.rejected


@pytest.mark.slow
def test_an_interrupted_import_leaves_whole_entities_and_resumes(tmp_path: Path) -> None:
    huren = str(Path(sys.executable).parent / "huren")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HUREN_")},
        "HUREN_DATA_DIR": str(tmp_path / "var"),
    }
    assert (
        subprocess.run(
            [huren, "db", "upgrade"], env=env, capture_output=True, timeout=120
        ).returncode
        == 0
    )
    total = 1000
    rows = [org_row(make_uscc(f"2{n:07d}")) for n in range(total)]
    source = write_csv(tmp_path / "big.csv", rows)
    out = tmp_path / "r.jsonl"
    proc = subprocess.Popen(
        [huren, "entity", "import", str(source), "--report", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while proc.poll() is None and (not out.exists() or out.read_text().count("\n") < 20):
            time.sleep(0.02)  # wait for some rows to be written
        interrupted = proc.poll() is None
        if interrupted:
            proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    if interrupted:
        assert proc.returncode == 130, stderr
        assert b"run the same file again" in stderr
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'huren.db'}")
    try:
        with engine.connect() as conn:
            entities = conn.execute(text("SELECT count(*) FROM market_entity")).scalar_one()
            half = conn.execute(
                text(
                    "SELECT count(*) FROM market_entity e WHERE NOT EXISTS "
                    "(SELECT 1 FROM entity_member m JOIN account a ON a.id = m.account_id "
                    " JOIN entity_contact c"
                    " ON c.entity_id = m.entity_id AND c.account_id = m.account_id "
                    " WHERE m.entity_id = e.id)"
                )
            ).scalar_one()
        assert half == 0 and entities >= 20
        written = report_lines(out)
        assert all(x["status"] == "pending" for x in written)
        assert entities - len(written) in (0, 1)  # at most the row in flight went unreported
        resumed = subprocess.run(
            [huren, "entity", "import", str(source), "--report", str(out)],
            env=env,
            capture_output=True,
            timeout=600,
        )
        lines = report_lines(out)
        assert len(lines) == total
        assert resumed.returncode == (1 if entities else 0)
        assert sum(x["status"] == "rejected" for x in lines) == entities
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM market_entity")).scalar_one() == total
    finally:
        engine.dispose()


# robustness ------------------------------------------------------------------------------------

_values = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "legal_person",
            "natural_person",
            "other_org",
            "resident_id",
            "passport",
            USCC_OK,
            ID_1,
            "13812345678",
            "张三",
        ]
    ),
    st.integers(),
    st.lists(st.integers(), max_size=2),
)


def _blank(line: bytes, *, first: bool, as_csv: bool) -> bool:
    """Whether the importer skips this unquoted line as blank (not a row)."""
    try:
        decoded = line.decode("utf-8")
    except UnicodeDecodeError:
        return False  # an undecodable line is a (rejected) row
    if first:
        decoded = decoded.removeprefix("\ufeff")
    return not (decoded.replace(",", "") if as_csv else decoded).strip()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rows=st.lists(
        st.one_of(
            st.dictionaries(st.sampled_from([*importer.COLUMNS, "other"]), _values, max_size=9),
            st.text(max_size=40),
            st.binary(max_size=40),
        ),
        max_size=8,
    ),
    as_csv=st.booleans(),
)
def test_random_rows_never_stop_the_import(
    sessions: sessionmaker[Session], pii: PersonalData, rows: list[Any], as_csv: bool
) -> None:
    buffer = io.BytesIO()
    if as_csv:
        buffer.write((",".join(importer.COLUMNS) + "\n").encode())
    expected = 0
    for n, row in enumerate(rows):
        if isinstance(row, dict):
            if as_csv:
                values = [str(row.get(c, "") or "") for c in importer.COLUMNS]
                cells = ['"' + v.replace('"', '""') + '"' for v in values]
                line = (",".join(cells) + "\n").encode()
                expected += 0 if all(not v.strip() for v in values) else 1
            else:
                line = json.dumps(row, ensure_ascii=False).encode() + b"\n"
                expected += 1
        else:
            raw = row.encode() if isinstance(row, str) else row
            line = raw.replace(b"\n", b" ").replace(b"\r", b" ").replace(b'"', b"'") + b"\n"
            expected += 0 if _blank(line, first=n == 0 and not as_csv, as_csv=as_csv) else 1
        buffer.write(line)
    buffer.seek(0)
    reports: list[importer.RowResult] = []
    summary = importer.run(
        importer.Source(buffer, "csv" if as_csv else "jsonl"),
        importer.Importer(sessions, pii, None),
        reports.append,
    )
    assert [r.row for r in reports] == list(range(1, len(reports) + 1))
    assert len(reports) == summary.rows == expected
    for r in reports:
        assert r.status in importer.STATUSES
        assert (r.entity_id is None) == (r.status == "rejected")
        assert (r.status == "imported") == (not r.errors)
