"""Signed seal events pushed to subscribed platforms over the entity-event pipeline (RFC 8417/8935).

The seal service publishes `seal.made` / `seal.changed`; the provider fans them out to clients
with an events URI and `seal:read`, in one queue per platform with its entity events. Receivers
are real HTTP servers on 127.0.0.1 that verify every SET against the provider's JWKS (see
`test_entity_events.SetReceiver`); both storage backends run.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from cert_interop.truststore import TrustStore
from config.seal_wiring import IdpEntityDirectory
from idp.cli import client_group
from idp.clients import create_client, get_client
from idp.entities import service as entities
from idp.entities.events import (
    EVENT_TYPE_PREFIX,
    SEAL_EVENT_TYPE_PREFIX,
    EntityEventDelivery,
    delivery_topic,
)
from idp.errors import ClientRegistrationError
from idp.service import Idp
from seal.records import service as seals
from seal.records.making import sign_draft
from storage.outbox import OutboxEvent, publish
from tests.conftest import settle_outbox as settle
from tests.seal.conftest import PNG, USCC, Ca, KeyMaker

from .conftest import ISSUER, PASSWORD, basic
from .test_entity_events import (
    Platforms,
    SetReceiver,
    company,
    run,
    set_client,
    subscribe,
    verify,
)

MADE = SEAL_EVENT_TYPE_PREFIX + "made"
CHANGED = SEAL_EVENT_TYPE_PREFIX + "changed"
ENTITY_REGISTERED = EVENT_TYPE_PREFIX + "registered"
ENTITY_CHANGED = EVENT_TYPE_PREFIX + "changed"
REASON = "法定代表人王五报失，电话13900000007"

_CA: Ca | None = None


@pytest.fixture
def platforms(web: FlaskClient) -> Iterator[Platforms]:
    made = Platforms(web)
    yield made
    for receiver in made.receivers:
        receiver.close()


@pytest.fixture
def engine(app: Flask) -> Any:
    return app.extensions["huren.engine"]


def sm2_ca() -> Ca:
    global _CA
    if _CA is None:
        _CA = Ca("sm2", "Seal Events SM2 CA")
    return _CA


def emit(idp: Idp, topic: str, payload: dict[str, Any]) -> None:
    """An outbox event as the seal service publishes it (its own transaction)."""
    with idp.sessions.begin() as db:
        publish(db, topic, payload)


def seal_made(seal_id: str | None = "52260000000001", **kw: Any) -> dict[str, Any]:
    values = {
        "seal_id": seal_id,
        "entity_id": "e-1",
        "seal_type": "contract",
        "status": "made",
        "version": 1,
    }
    return {**values, **kw}


def seal_changed(seal_id: str = "52260000000001", **kw: Any) -> dict[str, Any]:
    values = {
        "seal_id": seal_id,
        "entity_id": "e-1",
        "status": "suspended",
        "previous": "active",
        "reason": REASON,
        "version": 3,
    }
    return {**values, **kw}


def deliveries(engine: Any, client_id: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(OutboxEvent.payload)
            .where(OutboxEvent.topic == delivery_topic(client_id))
            .order_by(OutboxEvent.id)
        ).all()
    return [json.loads(row.payload) for row in rows]


# -- end to end: the real seal service -------------------------------------------------------


@pytest.fixture
def trust(app: Flask) -> TrustStore:
    store: TrustStore = app.extensions["huren.trust_store"]
    ca = sm2_ca()
    store.add(ca.cert.pem(), profile="default", name=ca.name)
    store.upload_crl(ca.crl())
    return store


def test_seal_life_cycle_reaches_seal_subscribers_in_order(
    app: Flask, web: FlaskClient, idp: Idp, engine: Any, trust: TrustStore, platforms: Platforms
) -> None:
    seal_only = platforms.receiver()
    entity_only = platforms.receiver()
    both = platforms.receiver()
    seal_platform = subscribe(idp, seal_only, name="seal only", scopes=["seal:read"])
    entity_platform = subscribe(idp, entity_only, name="entities only", scopes=["entities:read"])
    both_platform = subscribe(idp, both, name="both", scopes=["entities:read", "seal:read"])
    # an events URI is kept, but neither scope any more: no events at all
    silent = platforms.receiver()
    quiet = subscribe(idp, silent, name="neither", scopes=["seal:read"])
    set_client(idp, quiet.client.client_id, scopes=["api"])

    entity = company(idp)
    verify(idp, entity.id)
    ca = sm2_ca()
    directory = IdpEntityDirectory(idp.sessions, app.extensions["huren.settings"].secret_key)
    seal = seals.make(
        idp.sessions,
        directory,
        trust,
        KeyMaker(ca.key, ca.cert),
        sign_draft,
        seals.SealRequest(
            entity_id=entity.id,
            seal_type="contract",
            name="测试投标有限公司合同专用章",
            picture=PNG,
            certificates=[ca.issue(uscc=USCC).cert],
        ),
        actor="operator-wang",
        activate=True,
    )
    entities.add_agent(
        idp.sessions,
        idp.pii,
        entity.id,
        entity.members[0].account_id,
        username="agent-zhao",
        name="赵六",
        phone="13900000009",
        password=PASSWORD,
    )
    suspended = seals.change(idp.sessions, seal.id, "suspend", actor="operator-wang", reason=REASON)
    revoked = seals.change(idp.sessions, seal.id, "revoke", actor="operator-wang", reason=REASON)

    result = run(idp.entity_events)
    assert result.failed == 0 and result.dead == 0

    made_value = {
        "seal_id": seal.id,
        "entity_id": entity.id,
        "seal_type": "contract",
        "status": "active",
        "version": seal.version,
    }
    suspended_value = {
        "seal_id": seal.id,
        "entity_id": entity.id,
        "status": "suspended",
        "previous": "active",
        "version": suspended.version,
    }
    revoked_value = {
        "seal_id": seal.id,
        "entity_id": entity.id,
        "status": "revoked",
        "previous": "suspended",
        "version": revoked.version,
    }
    seal_events = [(MADE, made_value), (CHANGED, suspended_value), (CHANGED, revoked_value)]
    assert seal_only.events() == seal_events
    assert [kind for kind, _ in entity_only.events()] == [
        ENTITY_REGISTERED,
        ENTITY_CHANGED,
        ENTITY_CHANGED,
    ]
    assert both.events() == [  # one queue, in the order the changes were committed
        entity_only.events()[0],
        entity_only.events()[1],
        (MADE, made_value),
        entity_only.events()[2],
        (CHANGED, suspended_value),
        (CHANGED, revoked_value),
    ]
    assert silent.received == []
    # the fan-out itself writes each platform only the families its scopes open
    families = {
        platform.client.client_id: [
            d["family"] for d in deliveries(engine, platform.client.client_id)
        ]
        for platform in (seal_platform, entity_platform, both_platform, quiet)
    }
    assert families == {
        seal_platform.client.client_id: ["seal"] * 3,
        entity_platform.client.client_id: ["entity"] * 3,
        both_platform.client.client_id: ["entity", "entity", "seal", "entity", "seal", "seal"],
        quiet.client.client_id: [],
    }
    assert suspended.version < revoked.version

    jwks_kids = {k["kid"] for k in platforms.jwks["keys"]}
    for r in seal_only.accepted():  # the receiver answered 202 only after verifying the JWS
        assert r.header is not None and r.claims is not None
        assert r.header["typ"] == "secevent+jwt" and r.header["alg"] == "RS256"
        assert r.header["kid"] in jwks_kids
        assert r.headers["Content-Type"] == "application/secevent+jwt"
        assert r.claims["iss"] == ISSUER and r.claims["aud"] == seal_platform.client.client_id
        assert "exp" not in r.claims and "sub" not in r.claims
        raw = json.dumps([r.header, r.claims], ensure_ascii=False)
        assert "reason" not in raw and "王五" not in raw and "13900000007" not in raw
        assert "operator-wang" not in raw
    seal_jtis = {r.claims["jti"] for r in seal_only.accepted() if r.claims}
    both_jtis = {r.claims["jti"] for r in both.accepted() if r.claims}
    assert len(seal_jtis) == 3 and not seal_jtis & both_jtis  # one jti per event and platform
    for r in both.accepted():
        assert r.claims is not None and r.claims["aud"] == both_platform.client.client_id

    assert run(idp.entity_events).delivered == 0  # delivered once

    # what the platform does next: read the seal with its seal:read token
    token = web.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "seal:read"},
        headers=basic(seal_platform),
    ).get_json()["access_token"]
    body = web.get(
        f"/api/v1/seals/{seal.id}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert body["status"] == "revoked" and body["version"] == revoked_value["version"]
    assert body["usable"] is False


# -- the pipeline, with events published as the seal service does -----------------------------


def test_scope_withdrawn_after_fan_out_drops_the_seal_delivery(
    idp: Idp, engine: Any, platforms: Platforms
) -> None:
    receiver = platforms.receiver()
    platform = subscribe(idp, receiver, scopes=["entities:read", "seal:read"])
    client_id = platform.client.client_id
    delivery = EntityEventDelivery(engine, idp.tokens)
    emit(idp, "seal.made", seal_made())
    entity = company(idp)
    settle(engine)
    assert delivery.fanout.run_once().delivered == 2
    assert [d.get("family") for d in deliveries(engine, client_id)] == ["seal", "entity"]

    set_client(idp, client_id, scopes=["entities:read"])  # seal:read withdrawn
    result = run(delivery)
    assert result.delivered == 2 and result.failed == 0  # the seal delivery was dropped
    assert receiver.events() == [
        (
            ENTITY_REGISTERED,
            {"entity_id": entity.id, "change": "registered", "status": "pending", "version": 1},
        )
    ]

    # given back: only what happens from now on arrives, the dropped delivery never does
    set_client(idp, client_id, scopes=["entities:read", "seal:read"])
    emit(idp, "seal.changed", seal_changed(status="revoked", previous="made", version=2))
    run(delivery)
    assert [kind for kind, _ in receiver.events()] == [ENTITY_REGISTERED, CHANGED]
    assert receiver.events()[1][1]["status"] == "revoked"


def test_seal_only_subscriber_gets_no_entity_events(
    idp: Idp, engine: Any, platforms: Platforms
) -> None:
    receiver = platforms.receiver()
    platform = subscribe(idp, receiver, scopes=["seal:read"])
    company(idp)
    emit(idp, "seal.made", seal_made(status="active"))
    result = run(EntityEventDelivery(engine, idp.tokens))
    assert result.fanout.delivered == 2  # both source events handled
    assert set(result.deliveries) == {platform.client.client_id}
    assert receiver.events() == [(MADE, seal_made(status="active"))]


def _restart(receiver: SetReceiver) -> None:
    """Serve again on the same port after `receiver.close()` (the platform is back)."""
    port = int(receiver.server.server_address[1])
    handler = receiver.server.RequestHandlerClass
    receiver.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    receiver.server.daemon_threads = True
    receiver.thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    receiver.thread.start()


def test_platform_down_is_retried_with_the_same_jti(
    idp: Idp, engine: Any, platforms: Platforms
) -> None:
    receiver = platforms.receiver(script=[503])
    platform = subscribe(idp, receiver, scopes=["seal:read"])
    receiver.close()  # the platform is down
    delivery = EntityEventDelivery(engine, idp.tokens)
    emit(idp, "seal.changed", seal_changed())
    now = time.time()

    first = run(delivery, now)
    assert (first.delivered, first.failed) == (0, 1)
    assert receiver.received == []
    _restart(receiver)
    assert run(delivery, now + 1).delivered == 0  # backoff: not due yet
    second = run(delivery, now + 3)  # back, but answers 503 once
    assert (second.delivered, second.failed) == (0, 1)
    third = run(delivery, now + 10)
    assert (third.delivered, third.failed) == (1, 0)

    assert [r.status for r in receiver.received] == [503, 202]
    (stored,) = deliveries(engine, platform.client.client_id)
    jtis = [r.claims["jti"] for r in receiver.received if r.claims]
    assert jtis == [stored["jti"], stored["jti"]]  # every attempt, also the lost one, same jti
    assert receiver.events() == [
        (
            CHANGED,
            {
                "seal_id": "52260000000001",
                "entity_id": "e-1",
                "status": "suspended",
                "previous": "active",
                "version": 3,
            },
        )
    ]
    assert delivery.dead_letters() == []


def test_malformed_seal_events_are_fan_out_dead_letters_and_later_ones_flow(
    idp: Idp, engine: Any, platforms: Platforms
) -> None:
    receiver = platforms.receiver()
    subscribe(idp, receiver, scopes=["seal:read"])
    delivery = EntityEventDelivery(engine, idp.tokens, fanout_max_attempts=1)
    bad = [
        ("seal.made", seal_made(seal_id=None), "no seal_id"),
        ("seal.made", seal_made(seal_id="52/../x"), "no seal_id"),
        ("seal.made", seal_made(seal_type=None), "no seal_type"),
        ("seal.made", seal_made(version=True), "no version"),
        ("seal.changed", seal_changed(status="Revoked!"), "no status"),
        ("seal.changed", seal_changed(previous=None), "no previous"),
        ("seal.changed", seal_changed(entity_id=""), "no entity_id"),
        ("seal.changed", seal_changed(version=0), "no version"),
    ]
    for topic, payload, _ in bad:
        emit(idp, topic, payload)
    # a status the seal service may add later is accepted
    emit(idp, "seal.changed", seal_changed(status="rejected", previous="made", version=2))

    result = run(delivery)
    assert result.fanout.dead == len(bad) and result.fanout.delivered == 1
    assert result.delivered == 1
    ((kind, value),) = receiver.events()
    assert kind == CHANGED and value["status"] == "rejected" and "reason" not in value

    letters = delivery.dead_letters()
    assert [(letter.client_id, letter.event.topic) for letter in letters] == [
        (None, topic) for topic, _, _ in bad
    ]
    for letter, (_, _, problem) in zip(letters, bad, strict=True):
        assert "MalformedSealEvent" in letter.error and problem in letter.error
    assert run(delivery).fanout.delivered == 0  # dead letters are not tried again


def test_delivery_written_before_seal_events_is_an_entity_delivery(
    idp: Idp, engine: Any, platforms: Platforms
) -> None:
    receiver = platforms.receiver()
    platform = subscribe(idp, receiver)
    client_id = platform.client.client_id
    delivery = EntityEventDelivery(engine, idp.tokens)
    old_row = {  # exactly what the fan-out wrote before it knew event families
        "kind": "changed",
        "entity_id": "e-old",
        "change": "status",
        "status": "verified",
        "version": 4,
        "client_id": client_id,
        "jti": "0123456789abcdef0123456789abcdef",
        "toe": 1764299998,
        "source": 1,
    }
    emit(idp, delivery_topic(client_id), old_row)
    assert run(delivery).delivered == 1
    (received,) = receiver.accepted()
    assert received.claims is not None
    assert received.claims["jti"] == old_row["jti"] and received.claims["toe"] == 1764299998
    value = {"entity_id": "e-old", "change": "status", "status": "verified", "version": 4}
    assert received.claims["events"] == {ENTITY_CHANGED: value}


def test_delivery_of_an_unknown_family_is_never_sent(
    idp: Idp, engine: Any, platforms: Platforms
) -> None:
    receiver = platforms.receiver()
    platform = subscribe(idp, receiver, scopes=["seal:read"])
    client_id = platform.client.client_id
    delivery = EntityEventDelivery(engine, idp.tokens, max_attempts=1)
    written_by_a_newer_worker = {
        **seal_made(),
        "kind": "made",
        "family": "tender",
        "client_id": client_id,
        "jti": "0123456789abcdef0123456789abcdef",
        "toe": 1764299998,
        "source": 1,
    }
    emit(idp, delivery_topic(client_id), written_by_a_newer_worker)
    assert run(delivery).dead == 1
    assert receiver.received == []
    (letter,) = delivery.dead_letters()
    assert letter.client_id == client_id and "unknown event family 'tender'" in letter.error


# -- registration --------------------------------------------------------------------------------


def test_subscription_with_seal_read_only_is_accepted(idp: Idp) -> None:
    uri = "https://platform.example.cn/secevent"
    new = create_client(
        idp.sessions,
        name="platform",
        grant_types=["client_credentials"],
        scopes=["seal:read"],
        entity_events_uri=uri,
    )
    stored = get_client(idp.sessions, new.client.client_id)
    assert stored is not None and stored.entity_events_uri == uri
    assert stored.scopes == ("seal:read",)


@pytest.mark.parametrize("scopes", [["api"], ["seal:write", "crypto:verify"], []])
def test_subscription_without_either_scope_is_refused(idp: Idp, scopes: list[str]) -> None:
    with pytest.raises(ClientRegistrationError) as refused:
        create_client(
            idp.sessions,
            name="platform",
            grant_types=["client_credentials"],
            scopes=scopes,
            entity_events_uri="https://platform.example.cn/secevent",
        )
    assert "entities:read or seal:read" in refused.value.message
    assert "entities:read" in refused.value.zh_message and "seal:read" in refused.value.zh_message


def test_cli_client_create_with_seal_read_only(idp: Idp) -> None:
    runtime = SimpleNamespace(sessions=idp.sessions, master_secret=b"x" * 32)
    runner = CliRunner()
    base = ["create", "--name", "交易平台", "--grant-type", "client_credentials", "--json"]
    uri = "https://platform.example.cn/secevent"
    ok = runner.invoke(
        client_group, [*base, "--scope", "seal:read", "--entity-events-uri", uri], obj=runtime
    )
    assert ok.exit_code == 0, ok.output
    out = json.loads(ok.output)
    assert out["entity_events_uri"] == uri and out["scope"] == "seal:read"

    refused = runner.invoke(
        client_group, [*base, "--scope", "api", "--entity-events-uri", uri], obj=runtime
    )
    assert isinstance(refused.exception, ClientRegistrationError)
    assert "seal:read" in str(refused.exception)
