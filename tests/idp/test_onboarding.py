"""Self-registration's order of checks (`idp.entities.onboarding`): throttle, fields, duplicate,
registry verdict, SMS code last; one transaction with the verdict reached.

Real SQL databases (SQLite and PostgreSQL), real ephemeral stores (SQL and Redis), a real local
registry server; SMS through the development sender, whose kept messages give us the code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from idp.entities.errors import DuplicateEntity, InvalidField
from idp.entities.models import EntityContact, EntityReview
from idp.entities.onboarding import Onboarding, RegistrationThrottled
from idp.entities.pii import PersonalData
from idp.registry.http import HttpRegistry
from idp.sms import DevSmsSender, SmsCodes
from storage.db import make_session_factory
from storage.ephemeral import EphemeralStore

from .registry_server import RegistryServer, entity
from .test_entities import USCC, make_resident_id, make_uscc, org, person

IP = "198.51.100.7"
NAME = "贵州某某建设工程（集团）有限公司"


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def registry() -> Iterator[RegistryServer]:
    with RegistryServer({USCC: entity(USCC, NAME)}) as server:
        yield server


def make(
    sessions: sessionmaker[Session],
    store: EphemeralStore,
    registry: RegistryServer | None,
    *,
    limit: tuple[int, int] = (10, 3600),
) -> Onboarding:
    dev = DevSmsSender(store)
    return Onboarding(
        sessions=sessions,
        pii=PersonalData(b"m" * 32),
        store=store,
        sms=SmsCodes(store, dev, key=b"k" * 32, resend_after=0),
        dev_sms=dev,
        registry=HttpRegistry(registry.url, timeout=1, cache=store) if registry else None,
        ip_limit=limit,
    )


def code_for(ob: Onboarding, phone: str, ip: str = IP) -> str:
    ob.send_code(phone, ip)
    assert ob.dev_sms is not None
    return next(m.params["code"] for m in ob.dev_sms.recent() if m.phone == phone)


def rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608


def test_natural_person_with_a_proved_mobile_is_verified(
    sessions: sessionmaker[Session], engine: Engine, ephemeral: EphemeralStore
) -> None:
    ob = make(sessions, ephemeral, None)
    form = person()
    view = ob.register(form, sms_code=code_for(ob, form["phone"]), ip=IP)
    assert view.status == "verified" and view.reasons == ()
    with sessions() as db:
        contact = db.scalars(select(EntityContact)).one()
        review = db.scalars(select(EntityReview)).one()
    assert contact.verified_at is not None
    assert (review.decision, review.actor) == ("verified", "system")


def test_organisation_confirmed_by_the_registry_is_verified(
    sessions: sessionmaker[Session], ephemeral: EphemeralStore, registry: RegistryServer
) -> None:
    ob = make(sessions, ephemeral, registry)
    form = org(name=NAME)
    view = ob.register(form, sms_code=code_for(ob, form["phone"]), ip=IP)
    assert view.status == "verified"


def test_registry_without_an_answer_leaves_it_pending(
    sessions: sessionmaker[Session], ephemeral: EphemeralStore, registry: RegistryServer
) -> None:
    registry.failing = True
    ob = make(sessions, ephemeral, registry)
    form = org(name=NAME)
    view = ob.register(form, sms_code=code_for(ob, form["phone"]), ip=IP)
    assert (view.status, view.reasons) == ("pending", ("registry_unreachable",))


def test_dishonest_organisation_and_no_registry_wait_for_an_operator(
    sessions: sessionmaker[Session], ephemeral: EphemeralStore
) -> None:
    other = make_uscc("87654321")
    with RegistryServer({other: entity(other, NAME, dishonest=True)}) as server:
        ob = make(sessions, ephemeral, server)
        form = org(name=NAME, uscc=other, username="dishonest", phone="13812340001")
        view = ob.register(form, sms_code=code_for(ob, form["phone"]), ip=IP)
    assert (view.status, view.reasons) == ("pending", ("registry_dishonest",))
    ob = make(sessions, ephemeral, None)
    form = org(name=NAME, phone="13812340002")
    view = ob.register(form, sms_code=code_for(ob, form["phone"]), ip=IP)
    assert (view.status, view.reasons) == ("pending", ("registry_not_configured",))


@pytest.mark.parametrize(
    ("over", "field", "reason"),
    [
        ({"name": "另一家有限公司"}, "name", "registry_name_mismatch"),
        ({"uscc": make_uscc("11112222")}, "uscc", "registry_not_found"),
    ],
)
def test_refuted_declaration_is_a_field_refusal_and_keeps_the_code(
    sessions: sessionmaker[Session],
    engine: Engine,
    ephemeral: EphemeralStore,
    registry: RegistryServer,
    over: dict[str, Any],
    field: str,
    reason: str,
) -> None:
    ob = make(sessions, ephemeral, registry)
    form = org(name=NAME)
    code = code_for(ob, form["phone"])
    with pytest.raises(InvalidField) as refused:
        ob.register({**form, **over}, sms_code=code, ip=IP)
    assert (refused.value.field, refused.value.reason) == (field, reason)
    assert rows(engine, "market_entity") == 0 and rows(engine, "account") == 0
    # the person corrects the form: the same code still works, because it was not spent
    assert ob.register(form, sms_code=code, ip=IP).status == "verified"


def test_bad_field_is_refused_before_the_code_is_spent(
    sessions: sessionmaker[Session], engine: Engine, ephemeral: EphemeralStore
) -> None:
    ob = make(sessions, ephemeral, None)
    form = person()
    code = code_for(ob, form["phone"])
    with pytest.raises(InvalidField) as refused:
        ob.register({**form, "id_number": form["id_number"][:-1] + "0"}, sms_code=code, ip=IP)
    assert refused.value.field == "id_number"
    assert ob.register(form, sms_code=code, ip=IP).status == "verified"


@pytest.mark.parametrize("bad", ["000000", "", None, "1" * 40, 123456])
def test_wrong_missing_or_absurd_code_writes_nothing(
    sessions: sessionmaker[Session], engine: Engine, ephemeral: EphemeralStore, bad: object
) -> None:
    ob = make(sessions, ephemeral, None)
    form = person()
    code = code_for(ob, form["phone"])
    if bad == code:
        bad = "999999" if code != "999999" else "888888"
    with pytest.raises(InvalidField) as refused:
        ob.register(form, sms_code=bad, ip=IP)
    assert refused.value.field == "sms_code"
    assert rows(engine, "market_entity") == 0 and rows(engine, "account") == 0


def test_a_used_code_cannot_be_replayed(
    sessions: sessionmaker[Session], engine: Engine, ephemeral: EphemeralStore
) -> None:
    ob = make(sessions, ephemeral, None)
    first = person()
    code = code_for(ob, first["phone"])
    ob.register(first, sms_code=code, ip=IP)
    second = person(id_number=make_resident_id("456"), username="other")
    with pytest.raises(InvalidField) as refused:
        ob.register(second, sms_code=code, ip=IP)
    assert (refused.value.field, refused.value.reason) == ("sms_code", "wrong_or_expired")
    assert rows(engine, "market_entity") == 1


def test_code_sent_to_another_number_does_not_prove_this_one(
    sessions: sessionmaker[Session], ephemeral: EphemeralStore
) -> None:
    ob = make(sessions, ephemeral, None)
    code = code_for(ob, "13900000001")
    with pytest.raises(InvalidField):
        ob.register(person(phone="13900000002"), sms_code=code, ip=IP)


def test_duplicate_is_refused_before_the_code_is_spent(
    sessions: sessionmaker[Session], ephemeral: EphemeralStore
) -> None:
    ob = make(sessions, ephemeral, None)
    form = person()
    ob.register(form, sms_code=code_for(ob, form["phone"]), ip=IP)
    again = person(username="someone-else", phone="13700000000")
    with pytest.raises(DuplicateEntity):
        ob.register(again, sms_code="123456", ip=IP)


def test_registrations_from_one_address_are_limited(
    sessions: sessionmaker[Session], engine: Engine, ephemeral: EphemeralStore
) -> None:
    ob = make(sessions, ephemeral, None, limit=(2, 3600))
    numbers = [make_resident_id(seq) for seq in ("201", "202", "203")]
    for i, number in enumerate(numbers[:2]):
        form = person(id_number=number, username=f"p{i}", phone=f"1390000000{i}")
        ob.register(form, sms_code=code_for(ob, form["phone"]), ip=IP)
    third = person(id_number=numbers[2], username="p3", phone="13900000009")
    code = code_for(ob, third["phone"])
    with pytest.raises(RegistrationThrottled) as throttled:
        ob.register(third, sms_code=code, ip=IP)
    assert 0 < throttled.value.retry_after <= 3601
    assert rows(engine, "market_entity") == 2
    # another address is not affected, and the refused attempt did not spend the code
    assert ob.register(third, sms_code=code, ip="203.0.113.9").status == "verified"


def test_without_a_sender_registration_is_unavailable(
    sessions: sessionmaker[Session], ephemeral: EphemeralStore
) -> None:
    ob = Onboarding(sessions, PersonalData(b"m" * 32), ephemeral, None, None, None)
    assert not ob.available
    for call in (
        lambda: ob.send_code("13800000000", IP),
        lambda: ob.register(person(), sms_code="123456", ip=IP),
    ):
        with pytest.raises(InvalidField) as refused:
            call()
        assert refused.value.reason == "sms_unavailable"


def test_bad_number_for_a_code_is_a_phone_field_refusal(
    sessions: sessionmaker[Session], ephemeral: EphemeralStore
) -> None:
    ob = make(sessions, ephemeral, None)
    with pytest.raises(InvalidField) as refused:
        ob.send_code("12345", IP)
    assert (refused.value.field, refused.value.reason) == ("phone", "format")
