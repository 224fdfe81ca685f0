"""Market entities: registration, personal data at rest, life cycle, members and `huren entity`.

Runs on SQLite and, when HUREN_TEST_DATABASE_URL is set, PostgreSQL (the `engine` fixture).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from idp.accounts import check_password, create_user
from idp.entities import service
from idp.entities.cli import entity_group
from idp.entities.errors import (
    DuplicateEntity,
    EntityNotFound,
    InvalidField,
    InvalidTransition,
    LastAdmin,
    NotEntityAdmin,
)
from idp.entities.pii import PersonalData
from idp.models import AuditEvent
from storage.at_rest import SealedDataError
from storage.db import make_engine, make_session_factory
from storage.outbox import OutboxEvent

MASTER = b"m" * 32
PASSWORD = "correct-horse-9"

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def make_uscc(org_body: str = "12345678", prefix: str = "91520100") -> str:
    """A valid GB 32100 code (computed here, independently of the module under test)."""
    org_sum = sum(
        _ORG_ALPHABET.index(c) * w for c, w in zip(org_body, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)
    )
    org_check = 11 - org_sum % 11
    body = (
        prefix + org_body + ("X" if org_check == 10 else "0" if org_check == 11 else str(org_check))
    )
    total = sum(_USCC_ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(body))
    return body + _USCC_ALPHABET[(31 - total % 31) % 31]


def make_resident_id(seq: str = "123", birth: str = "19900307", region: str = "520102") -> str:
    body = region + birth + seq
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(body))
    return body + "10X98765432"[total % 11]


def resident_id_ending_in_x() -> str:
    for n in range(1000):
        number = make_resident_id(f"{n:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no X check character found")


USCC = make_uscc()
ID_X = resident_id_ending_in_x()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def pii() -> PersonalData:
    return PersonalData(MASTER)


def org(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "entity_type": "legal_person",
        "name": "贵州某某建设工程（集团）有限公司",
        "uscc": USCC,
        "agent_name": "王五",
        "phone": "13812345678",
        "username": "gz-build",
        "password": PASSWORD,
    }
    return {**base, **over}


def person(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "entity_type": "natural_person",
        "name": "张三",
        "id_type": "resident_id",
        "id_number": ID_X,
        "phone": "13987654321",
        "username": "zhangsan",
        "password": PASSWORD,
    }
    return {**base, **over}


def counts(engine: Engine) -> dict[str, int]:
    tables = [
        "market_entity",
        "entity_member",
        "entity_contact",
        "entity_review",
        "account",
        "outbox_event",
        "audit_event",
    ]
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}  # noqa: S608


def events(sessions: sessionmaker[Session], topic: str) -> list[dict[str, Any]]:
    with sessions() as db:
        rows = db.scalars(
            select(OutboxEvent).where(OutboxEvent.topic == topic).order_by(OutboxEvent.id)
        ).all()
        return [json.loads(r.payload) for r in rows]


# registration --------------------------------------------------------------------------------


@pytest.mark.parametrize("entity_type", ["legal_person", "public_institution", "other_org"])
def test_organisations_register_pending_with_their_agent_as_admin(
    sessions: sessionmaker[Session], pii: PersonalData, entity_type: str
) -> None:
    view = service.register(sessions, pii, **org(entity_type=entity_type, uscc=USCC.lower()))
    assert view.entity_type == entity_type and view.status == "pending"
    assert view.uscc == USCC and view.id_type is None and view.id_number_masked is None
    assert view.name == "贵州某某建设工程(集团)有限公司" and view.reasons == ()
    [admin] = view.members
    assert admin.role == "admin" and admin.name == "王五" and admin.username == "gz-build"
    assert admin.phone_masked == "138****5678" and not admin.disabled
    assert check_password(sessions, "gz-build", PASSWORD) is not None  # Argon2id, usable now
    assert service.get(sessions, pii, view.id) == view
    assert service.find_by_uscc(sessions, pii, f" {USCC[:9]} {USCC[9:]} ") == view
    [event] = events(sessions, "entity.registered")
    assert event == {
        "entity_id": view.id,
        "entity_type": entity_type,
        "status": "pending",
        "uscc": USCC,
        "version": 1,
    }
    with sessions() as db:
        audit = db.scalars(select(AuditEvent).where(AuditEvent.kind == "entity.registered")).one()
        assert audit.detail == {"entity_id": view.id, "entity_type": entity_type}


def test_natural_person_registers_with_a_sealed_id_number(
    sessions: sessionmaker[Session], pii: PersonalData
) -> None:
    view = service.register(sessions, pii, **person())
    assert view.entity_type == "natural_person" and view.status == "pending"
    assert view.id_type == "resident_id" and view.uscc is None
    assert view.id_number_masked == ID_X[:4] + "*" * 10 + ID_X[-4:]
    assert view.members[0].name == "张三" and view.members[0].phone_masked == "139****4321"
    typed = "  " + ID_X[:-1].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + " x "
    assert service.find_by_id_number(sessions, pii, "resident_id", typed) == view
    assert service.find_by_id_number(sessions, pii, "passport", "E12345678") is None


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        ("passport", "E12345678"),
        ("hk_macao_permit", "H12345678"),
        ("taiwan_permit", "12345678"),
        ("foreign_permanent_resident", "USA123456789012"),
    ],
)
def test_natural_persons_with_other_documents(
    sessions: sessionmaker[Session], pii: PersonalData, id_type: str, number: str
) -> None:
    view = service.register(
        sessions, pii, **person(id_type=id_type, id_number=number.lower(), name="Anna  Schmidt")
    )
    assert view.id_type == id_type and view.name == "Anna Schmidt"
    assert number not in (view.id_number_masked or "")
    assert service.find_by_id_number(sessions, pii, id_type, number) == view


# refusals ------------------------------------------------------------------------------------

REFUSALS = [
    (org(entity_type="company"), "entity_type", "unknown"),
    (org(entity_type=None), "entity_type", "required"),
    (org(name="贵"), "name", "length"),
    (org(name="x" * 101), "name", "length"),
    (org(name="贵州\x00公司"), "name", "control_character"),
    (org(name="贵州\u200b公司"), "name", "control_character"),
    (org(name=" "), "name", "required"),
    (org(name=123), "name", "type"),
    (org(uscc=None), "uscc", "required"),
    (org(uscc="91520100123"), "uscc", "length"),
    (org(uscc=USCC[:-1] + ("0" if USCC[-1] != "0" else "1")), "uscc", "check_character"),
    (org(uscc="91520100I2345678OX"), "uscc", "charset"),
    (org(agent_name=None), "agent_name", "required"),
    (org(agent_name="王"), "agent_name", "length"),
    (org(agent_name="王" * 51), "agent_name", "length"),
    (org(agent_name="王\n五"), "agent_name", "control_character"),
    (org(id_number=ID_X), "id_number", "not_allowed"),
    (org(phone="12345"), "phone", "format"),
    (org(phone=""), "phone", "required"),
    (org(username="a b"), "username", "format"),
    (org(password="short"), "password", "length"),
    (org(password=None), "password", "required"),
    (person(uscc=USCC), "uscc", "not_allowed"),
    (person(agent_name="王五"), "agent_name", "not_allowed"),
    (person(id_type="driver_licence"), "id_type", "unknown"),
    (person(id_type=None), "id_type", "required"),
    (person(id_number=None), "id_number", "required"),
    (person(id_number=ID_X[:-1] + "0"), "id_number", "check_character"),
    (person(id_number="520102" + "20990101" + "1234"), "id_number", "birth_date"),
    (person(id_number="52010219900307ABCD"), "id_number", "format"),
    (person(id_type="hk_macao_permit", id_number="X12345678"), "id_number", "format"),
]


@pytest.mark.parametrize(("fields", "field", "reason"), REFUSALS)
def test_every_refusal_names_the_field_and_the_reason(
    fields: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(InvalidField) as caught:
        service.validate_registration(**fields)
    assert (caught.value.field, caught.value.reason) == (field, reason)
    assert field in caught.value.message and reason in caught.value.message


def test_refused_registration_writes_nothing(
    engine: Engine, sessions: sessionmaker[Session], pii: PersonalData
) -> None:
    before = counts(engine)
    with pytest.raises(InvalidField) as caught:
        service.register(sessions, pii, **org(uscc="91520100I2345678OX"))
    assert caught.value.field == "uscc"
    assert counts(engine) == before


names = st.one_of(st.none(), st.text(max_size=40), st.integers())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entity_type=st.one_of(st.sampled_from(["legal_person", "natural_person", "other_org"]), names),
    name=names,
    uscc=st.one_of(st.just(USCC), names),
    agent_name=names,
    id_type=st.one_of(st.just("resident_id"), names),
    id_number=st.one_of(st.just(ID_X), names),
    phone=st.one_of(st.just("13812345678"), names),
    username=st.one_of(st.just("u1"), names),
    password=st.one_of(st.just(PASSWORD), names),
)
def test_arbitrary_input_is_accepted_or_refused_as_invalid_field(**fields: Any) -> None:
    try:
        reg = service.validate_registration(**fields)
    except InvalidField as exc:
        assert exc.field in {
            "entity_type",
            "name",
            "uscc",
            "agent_name",
            "id_type",
            "id_number",
            "phone",
            "username",
            "password",
        }
        return
    assert 2 <= len(reg.name) <= 100 and reg.phone.isdigit()


# duplicates ----------------------------------------------------------------------------------


def test_second_registration_of_a_credit_code_says_how_to_recover(
    engine: Engine, sessions: sessionmaker[Session], pii: PersonalData
) -> None:
    service.register(sessions, pii, **org())
    before = counts(engine)
    typed = " ".join(USCC[i : i + 6] for i in range(0, 18, 6)).lower()
    with pytest.raises(DuplicateEntity) as caught:
        service.register(sessions, pii, **org(uscc=typed, username="other", name="另一家公司"))
    assert caught.value.field == "uscc"
    assert "sign in" in caught.value.message and "reset" in caught.value.message
    assert "operator" in caught.value.message
    assert "登录" in caught.value.zh_message and "找回密码" in caught.value.zh_message
    assert "运营方" in caught.value.zh_message
    assert counts(engine) == before


@pytest.mark.parametrize(
    "typed",
    [
        ID_X[:6] + " " + ID_X[6:14] + " " + ID_X[14:-1] + "x",
        ID_X.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ")),
        "\u3000" + ID_X.lower() + "\t",
    ],
)
def test_second_registration_of_an_id_number_however_typed(
    engine: Engine, sessions: sessionmaker[Session], pii: PersonalData, typed: str
) -> None:
    service.register(sessions, pii, **person())
    before = counts(engine)
    with pytest.raises(DuplicateEntity) as caught:
        service.register(sessions, pii, **person(id_number=typed, username="zhangsan2"))
    assert caught.value.field == "id_number" and "reset" in caught.value.message
    assert counts(engine) == before


def test_same_number_under_another_document_type_is_another_entity(
    sessions: sessionmaker[Session], pii: PersonalData
) -> None:
    service.register(sessions, pii, **person(id_type="passport", id_number="12345678"))
    view = service.register(
        sessions, pii, **person(id_type="taiwan_permit", id_number="12345678", username="tw1")
    )
    assert view.id_type == "taiwan_permit"


# atomicity -----------------------------------------------------------------------------------


def test_taken_username_leaves_nothing_half_written(
    engine: Engine, sessions: sessionmaker[Session], pii: PersonalData
) -> None:
    create_user(sessions, username="GZ-Build", password=PASSWORD)
    before = counts(engine)
    with pytest.raises(InvalidField) as caught:
        service.register(sessions, pii, **org())  # fails after the entity row was flushed
    assert (caught.value.field, caught.value.reason) == ("username", "taken")
    assert counts(engine) == before
    assert service.find_by_uscc(sessions, pii, USCC) is None
    assert service.register(sessions, pii, **org(username="gz-build-2")).status == "pending"


def test_failure_at_the_last_step_rolls_everything_back(
    engine: Engine,
    sessions: sessionmaker[Session],
    pii: PersonalData,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = counts(engine)

    def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("outbox down")

    monkeypatch.setattr(service, "publish", broken)
    with pytest.raises(RuntimeError):
        service.register(sessions, pii, **person())
    assert counts(engine) == before


# personal data at rest -----------------------------------------------------------------------


def test_personal_data_is_not_stored_in_plain_text(
    engine: Engine, sessions: sessionmaker[Session], pii: PersonalData
) -> None:
    view = service.register(sessions, pii, **person())
    service.add_agent(
        sessions,
        pii,
        view.id,
        view.members[0].account_id,
        username="agent1",
        name="李四",
        phone="+86 139-1111-2222",
        password=PASSWORD,
    )
    secrets = [ID_X, ID_X[:-1], ID_X[6:14], "13987654321", "7654321", "13911112222", "1111222"]
    dump: list[str] = []
    with engine.connect() as conn:
        for table in [
            "market_entity",
            "entity_member",
            "entity_contact",
            "entity_review",
            "account",
            "outbox_event",
            "audit_event",
        ]:
            for row in conn.execute(text(f"SELECT * FROM {table}")):  # noqa: S608
                for value in row:
                    dump.append(
                        value.hex() if isinstance(value, bytes | memoryview) else str(value)
                    )
                    if isinstance(value, bytes | memoryview):
                        dump.append(bytes(value).decode("latin-1"))
    blob = "\n".join(dump)
    for secret in secrets:
        assert secret not in blob
    with sessions() as db:
        raw = db.execute(text("SELECT id_number_index FROM market_entity")).scalar_one()
    assert raw == pii.index("id_number", ID_X) and len(raw) == 64


def test_blind_index_is_keyed_and_normalised() -> None:
    a, b = PersonalData(MASTER), PersonalData(b"n" * 32)
    assert a.index("id_number", ID_X) == a.index("id_number", " " + ID_X.lower())
    assert a.index("id_number", ID_X) != b.index("id_number", ID_X)
    assert a.index("id_number", "13812345678") != a.index("phone", "13812345678")
    assert a.index("phone", "+86 138-1234-5678") == a.index("phone", "13812345678")
    sealed = a.seal("phone", "13812345678")
    assert a.unseal("phone", sealed) == "13812345678"
    with pytest.raises(SealedDataError):
        a.unseal("id_number", sealed)
    with pytest.raises(SealedDataError):
        b.unseal("phone", sealed)


# life cycle ----------------------------------------------------------------------------------


def test_verdicts_follow_the_allowed_transitions_and_are_kept(
    sessions: sessionmaker[Session], pii: PersonalData
) -> None:
    view = service.register(sessions, pii, **org())
    with pytest.raises(InvalidField) as caught:
        service.apply_verdict(sessions, pii, view.id, "rejected", (), actor="op1")
    assert (caught.value.field, caught.value.reason) == ("reasons", "required")
    with pytest.raises(InvalidField):
        service.apply_verdict(sessions, pii, view.id, "rejected", ["Bad Code!"], actor="op1")
    rejected = service.apply_verdict(
        sessions, pii, view.id, "rejected", ["name_mismatch"], actor="system", note="registry"
    )
    assert rejected.status == "rejected" and rejected.reasons == ("name_mismatch",)
    with pytest.raises(InvalidTransition):
        service.apply_verdict(sessions, pii, view.id, "verified", (), actor="op1")
    again = service.apply_verdict(sessions, pii, view.id, "pending", (), actor="op1")
    assert again.status == "pending" and again.reasons == ()
    verified = service.apply_verdict(sessions, pii, view.id, "verified", (), actor="op1")
    assert verified.status == "verified" and verified.version == 4
    with pytest.raises(InvalidTransition):
        service.apply_verdict(sessions, pii, view.id, "pending", (), actor="op1")
    with pytest.raises(InvalidTransition):
        service.apply_verdict(sessions, pii, view.id, "verified", (), actor="op1")
    revoked = service.apply_verdict(
        sessions, pii, view.id, "rejected", ["licence_revoked"], actor="op2"
    )
    assert revoked.status == "rejected"
    history = service.reviews(sessions, view.id)
    assert [(r.decision, r.reasons, r.actor) for r in history] == [
        ("rejected", ("name_mismatch",), "system"),
        ("pending", (), "op1"),
        ("verified", (), "op1"),
        ("rejected", ("licence_revoked",), "op2"),
    ]
    assert history[0].note == "registry"
    changes = events(sessions, "entity.changed")
    assert [(e["previous"], e["status"]) for e in changes] == [
        ("pending", "rejected"),
        ("rejected", "pending"),
        ("pending", "verified"),
        ("verified", "rejected"),
    ]
    assert changes[-1]["reasons"] == ["licence_revoked"] and changes[-1]["actor"] == "op2"
    assert [v.id for v in service.list(sessions, pii, "rejected")] == [view.id]
    assert service.list(sessions, pii, "pending") == ()
    with pytest.raises(EntityNotFound):
        service.apply_verdict(sessions, pii, "no-such-id", "verified", (), actor="op1")
    with pytest.raises(InvalidField):
        service.apply_verdict(sessions, pii, view.id, "archived", (), actor="op1")


def test_list_pages_newest_first(sessions: sessionmaker[Session], pii: PersonalData) -> None:
    a = service.register(sessions, pii, **org())
    b = service.register(sessions, pii, **person())
    assert [v.id for v in service.list(sessions, pii)] == [b.id, a.id]
    assert [v.id for v in service.list(sessions, pii, limit=1, offset=1)] == [a.id]
    with pytest.raises(InvalidField):
        service.list(sessions, pii, "unknown")


# members -------------------------------------------------------------------------------------


def test_agents_and_the_last_admin(sessions: sessionmaker[Session], pii: PersonalData) -> None:
    view = service.register(sessions, pii, **org())
    admin = view.members[0].account_id
    with_agent = service.add_agent(
        sessions,
        pii,
        view.id,
        admin,
        username="agent1",
        name="李四",
        phone="13911112222",
        password=PASSWORD,
    )
    agent = next(m for m in with_agent.members if m.role == "agent")
    assert agent.phone_masked == "139****2222" and agent.name == "李四"
    assert check_password(sessions, "agent1", PASSWORD) is not None
    with pytest.raises(NotEntityAdmin):
        service.add_agent(
            sessions,
            pii,
            view.id,
            agent.account_id,
            username="agent2",
            name="赵六",
            phone="13911113333",
            password=PASSWORD,
        )
    with pytest.raises(InvalidField) as caught:
        service.add_agent(
            sessions, pii, view.id, admin, username="a3", name="赵", phone="1", password=PASSWORD
        )
    assert caught.value.field == "name"
    with pytest.raises(LastAdmin):
        service.disable_member(sessions, pii, view.id, admin, admin_account_id=None)
    with pytest.raises(LastAdmin):
        service.remove_member(sessions, pii, view.id, admin, admin_account_id=admin)
    disabled = service.disable_member(
        sessions, pii, view.id, agent.account_id, admin_account_id=admin
    )
    assert next(m for m in disabled.members if m.role == "agent").disabled
    removed = service.remove_member(
        sessions, pii, view.id, agent.account_id, admin_account_id=admin
    )
    assert [m.role for m in removed.members] == ["admin"]
    with pytest.raises(EntityNotFound):
        service.remove_member(sessions, pii, view.id, agent.account_id, admin_account_id=admin)
    changes = [e["change"] for e in events(sessions, "entity.changed")]
    assert changes == ["member_added", "member_disabled", "member_removed"]
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(text("entity_contact"))) == 1


# CLI -----------------------------------------------------------------------------------------


@pytest.fixture
def cli(sessions: sessionmaker[Session]) -> Iterator[Any]:
    runtime = SimpleNamespace(sessions=sessions, master_secret=MASTER)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(entity_group, list(args), obj=runtime)

    yield invoke


def test_cli_lists_shows_and_decides_with_masked_data(
    cli: Any, sessions: sessionmaker[Session], pii: PersonalData
) -> None:
    entity = service.register(sessions, pii, **person())
    listed = cli("list", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.output)
    assert row["id"] == entity.id and row["id_number_masked"] == entity.id_number_masked
    shown = cli("show", entity.id)
    assert shown.exit_code == 0 and "139****4321" in shown.output
    rejected = cli(
        "reject", entity.id, "--reason", "id_mismatch", "--note", "照片不清", "--operator", "op"
    )
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    as_json = json.loads(cli("show", entity.id, "--json").output)
    assert as_json["reviews"][0]["reasons"] == ["id_mismatch"]
    assert as_json["reviews"][0]["actor"] == "op"
    pending = cli("list", "--status", "pending")
    assert pending.exit_code == 0 and pending.output == ""
    for result in (listed, shown, rejected, pending):
        assert ID_X not in result.output and "13987654321" not in result.output
        assert ID_X[:-1] not in result.output


def test_cli_exit_codes(cli: Any, sessions: sessionmaker[Session], pii: PersonalData) -> None:
    entity = service.register(sessions, pii, **org())
    missing = cli("show", "nope")
    assert missing.exit_code == 2 and missing.output.startswith("error: ")
    assert missing.output.count("\n") == 1
    no_reason = cli("reject", entity.id)
    assert no_reason.exit_code == 2 and no_reason.output.startswith("error: ")
    bad_reason = cli("reject", entity.id, "--reason", "NOT A CODE")
    assert bad_reason.exit_code == 2 and "reasons" in bad_reason.output
    assert cli("approve", entity.id).exit_code == 0
    twice = cli("approve", entity.id)
    assert twice.exit_code == 2 and "verified" in twice.output
    assert cli("list", "--status", "bogus").exit_code == 2


def test_cli_storage_failure_exits_3(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # never migrated
    try:
        runtime = SimpleNamespace(sessions=make_session_factory(engine), master_secret=MASTER)
        result = CliRunner().invoke(entity_group, ["list"], obj=runtime)
    finally:
        engine.dispose()
    assert result.exit_code == 3 and result.output.startswith("error: storage")
    assert result.output.count("\n") == 1


def test_huren_has_the_entity_group(tmp_path: Path) -> None:
    huren = str(Path(sys.executable).parent / "huren")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HUREN_")},
        "HUREN_DATA_DIR": str(tmp_path / "var"),
    }
    run = lambda *a: subprocess.run(  # noqa: E731
        [huren, *a], env=env, capture_output=True, text=True, timeout=120
    )
    assert run("db", "upgrade").returncode == 0
    listed = run("entity", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == []
    missing = run("entity", "approve", "nope")
    assert missing.returncode == 2 and missing.stderr.startswith("error: ")


def test_personal_data_never_reaches_the_logs(
    sessions: sessionmaker[Session], pii: PersonalData, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    view = service.register(sessions, pii, **person())
    service.apply_verdict(sessions, pii, view.id, "verified", (), actor="op1")
    with pytest.raises(DuplicateEntity) as caught:
        service.register(sessions, pii, **person(username="again"))
    text_seen = caplog.text + str(caught.value) + caught.value.zh_message + repr(caught.value)
    assert view.id in caplog.text
    for secret in (ID_X, ID_X[:-1], "13987654321", PASSWORD):
        assert secret not in text_seen
