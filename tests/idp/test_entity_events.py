"""Signed market-entity change events pushed to subscribed platforms (RFC 8417 SETs over RFC 8935).

Every receiver is a real HTTP server on 127.0.0.1 that verifies the SET against the provider's
public JWKS, as a platform would; deliveries are driven with `run_once(now=...)`.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import update

from idp.cli import client_group
from idp.clients import NewClient, create_client, get_client
from idp.entities import service as entities
from idp.entities.events import EVENT_TYPE_PREFIX, DeliveryPass, EntityEventDelivery
from idp.errors import ClientRegistrationError
from idp.models import Client
from idp.service import Idp
from tests.conftest import settle_outbox as settle

from .conftest import ISSUER, PASSWORD, basic

ID_NUMBER = "11010519491231002X"
PHONE = "13800000002"
USCC = "91350100M000100Y43"
REGISTERED = EVENT_TYPE_PREFIX + "registered"
CHANGED = EVENT_TYPE_PREFIX + "changed"


@dataclass
class Received:
    status: int
    headers: dict[str, str]
    token: str
    claims: dict[str, Any] | None
    header: dict[str, Any] | None


@dataclass
class SetReceiver:
    """A platform's push endpoint: verifies each SET (signature against the JWKS, typ, iss, aud)
    and answers 202, or the scripted statuses first; can redirect or hold the answer."""

    jwks: dict[str, Any]
    audience: str = ""
    script: list[int] = field(default_factory=list)
    redirect_to: str | None = None
    hold: threading.Event | None = None
    """Answer only once this is set (or 10 s passed); `held_saw` records whether it was set."""
    held_saw: list[bool] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.got_one = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = receiver.answer(dict(self.headers.items()), body.decode())
                self.send_response(status)
                if status in (301, 302, 303, 307, 308) and receiver.redirect_to:
                    self.send_header("Location", receiver.redirect_to)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, headers: dict[str, str], token: str) -> tuple[int, bytes]:
        claims: dict[str, Any] | None = None
        header: dict[str, Any] | None = None
        error: str | None = None
        try:
            keys = KeySet.import_key_set(self.jwks)  # type: ignore[arg-type]
            decoded = jwt.decode(token, keys, algorithms=["RS256"])
            claims, header = dict(decoded.claims), dict(decoded.header)
        except Exception:  # any failure to verify: RFC 8935 says so with a 400
            error = "invalid_key"
        if claims is not None and header is not None:
            if header.get("typ") != "secevent+jwt" or claims.get("iss") != ISSUER:
                error = "invalid_issuer"
            elif claims.get("aud") != self.audience:
                error = "invalid_audience"
        if headers.get("Content-Type") != "application/secevent+jwt":
            error = "invalid_request"
        if error is not None:
            status, answer = 400, json.dumps({"err": error}).encode()
        elif self.redirect_to:
            status, answer = 307, b"{}"
        else:
            with self.lock:
                status = self.script.pop(0) if self.script else 202
            answer = b"{}" if status >= 300 else b""
        if self.hold is not None:
            self.held_saw.append(self.hold.wait(10))
        with self.lock:
            self.received.append(Received(status, headers, token, claims, header))
        if 200 <= status < 300:
            self.got_one.set()
        return status, answer

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]

    def events(self) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for r in self.accepted():
            assert r.claims is not None
            ((kind, value),) = r.claims["events"].items()
            out.append((kind, value))
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Platforms:
    def __init__(self, web: FlaskClient) -> None:
        self.jwks = web.get("/jwks").get_json()
        self.receivers: list[SetReceiver] = []

    def receiver(self, **options: Any) -> SetReceiver:
        options.setdefault("jwks", self.jwks)
        receiver = SetReceiver(**options)
        self.receivers.append(receiver)
        return receiver


@pytest.fixture
def platforms(web: FlaskClient) -> Iterator[Platforms]:
    made = Platforms(web)
    yield made
    for receiver in made.receivers:
        if receiver.hold is not None:
            receiver.hold.set()
        receiver.close()


@pytest.fixture
def engine(app: Flask) -> Any:
    return app.extensions["huren.engine"]


def subscribe(
    idp: Idp, receiver: SetReceiver | None, url: str | None = None, **kw: Any
) -> NewClient:
    """A client-credentials platform with `entities:read`, subscribed at the receiver's URL."""
    new = create_client(
        idp.sessions,
        name=kw.pop("name", "platform"),
        grant_types=["client_credentials"],
        scopes=kw.pop("scopes", ["entities:read"]),
        entity_events_uri=url or (receiver.url if receiver else None),
        **kw,
    )
    if receiver is not None:
        receiver.audience = new.client.client_id
    return new


def company(idp: Idp) -> Any:
    return entities.register(
        idp.sessions,
        idp.pii,
        entity_type="legal_person",
        name="测试投标有限公司",
        username="bidco",
        password=PASSWORD,
        phone="13800000003",
        uscc=USCC,
        agent_name="李四",
    )


def person(idp: Idp) -> Any:
    return entities.register(
        idp.sessions,
        idp.pii,
        entity_type="natural_person",
        name="张三",
        username="zhangsan",
        password=PASSWORD,
        phone=PHONE,
        id_type="resident_id",
        id_number=ID_NUMBER,
    )


def verify(idp: Idp, entity_id: str) -> Any:
    return entities.apply_verdict(
        idp.sessions, idp.pii, entity_id, "verified", [], actor="operator-wang", note="已核验"
    )


def run(delivery: EntityEventDelivery | None, now: float | None = None) -> DeliveryPass:
    """`delivery.run_once(now)`, with the fan-out's new events made visible before delivery."""
    assert delivery is not None
    settle(delivery.engine)
    fanout = delivery.fanout.run_once(now)
    settle(delivery.engine)
    return DeliveryPass(fanout=fanout, deliveries=delivery.run_once(now).deliveries)


def set_client(idp: Idp, client_id: str, **values: Any) -> None:
    with idp.sessions.begin() as db:
        db.execute(update(Client).where(Client.client_id == client_id).values(**values))


# -- delivery ----------------------------------------------------------------------------------


def test_registration_and_verdict_reach_subscribers_only(
    web: FlaskClient, idp: Idp, platforms: Platforms
) -> None:
    subscribed = platforms.receiver()
    unsubscribed = platforms.receiver()
    scopeless = platforms.receiver()
    platform = subscribe(idp, subscribed, name="subscribed")
    gone = subscribe(idp, unsubscribed, name="unsubscribed")
    set_client(idp, gone.client.client_id, entity_events_uri=None)
    narrowed = subscribe(idp, scopeless, name="scope withdrawn")
    set_client(idp, narrowed.client.client_id, scopes=["api"])
    # a client that only signs users in has no subscription at all
    create_client(idp.sessions, name="rp", redirect_uris=["https://rp.example.cn/cb"])

    entity = company(idp)
    verify(idp, entity.id)
    assert idp.entity_events is not None
    result = run(idp.entity_events)

    assert result.fanout.delivered == 2
    assert result.delivered == 2 and set(result.deliveries) == {platform.client.client_id}
    assert unsubscribed.received == [] and scopeless.received == []
    assert subscribed.events() == [
        (
            REGISTERED,
            {"entity_id": entity.id, "change": "registered", "status": "pending", "version": 1},
        ),
        (
            CHANGED,
            {"entity_id": entity.id, "change": "status", "status": "verified", "version": 2},
        ),
    ]
    first, second = subscribed.accepted()
    assert first.headers["Content-Type"] == "application/secevent+jwt"
    assert first.headers["Accept"] == "application/json"
    for r in (first, second):
        assert r.claims is not None and r.header is not None
        assert r.claims["iss"] == ISSUER and r.claims["aud"] == platform.client.client_id
        assert isinstance(r.claims["toe"], int) and isinstance(r.claims["iat"], int)
        assert "exp" not in r.claims and "sub" not in r.claims
        assert r.header["kid"] in {k["kid"] for k in platforms.jwks["keys"]}
    assert first.claims and second.claims and first.claims["jti"] != second.claims["jti"]

    # delivered once: a second pass has nothing to do
    again = run(idp.entity_events)
    assert again.delivered == 0 and len(subscribed.received) == 2

    # what the platform does next: read the current state from the entities API
    token = web.post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "entities:read"},
        headers=basic(platform),
    ).get_json()["access_token"]
    body = web.get(
        f"/api/v1/entities/{entity.id}", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    assert body["entity_status"] == "verified"


def test_member_changes_carry_increasing_versions(idp: Idp, platforms: Platforms) -> None:
    receiver = platforms.receiver()
    subscribe(idp, receiver)
    entity = company(idp)
    admin = entity.members[0].account_id
    entities.add_agent(
        idp.sessions,
        idp.pii,
        entity.id,
        admin,
        username="agent-zhao",
        name="赵六",
        phone="13900000009",
        password=PASSWORD,
    )
    verify(idp, entity.id)
    run(idp.entity_events)
    seen = [(value["change"], value["version"]) for _, value in receiver.events()]
    assert seen == [("registered", 1), ("member_added", 2), ("status", 3)]
    raw = json.dumps([r.claims for r in receiver.accepted()], ensure_ascii=False)
    assert "赵六" not in raw and "13900000009" not in raw and "agent-zhao" not in raw


def test_failing_platform_is_retried_while_others_are_served_at_once(
    idp: Idp, engine: Any, platforms: Platforms
) -> None:
    flaky = platforms.receiver(script=[500])
    steady = platforms.receiver()
    subscribe(idp, flaky, name="flaky")
    subscribe(idp, steady, name="steady")
    delivery = EntityEventDelivery(engine, idp.tokens)
    company(idp)
    now = time.time()

    first = run(delivery, now)
    assert (first.delivered, first.failed) == (1, 1)
    assert len(steady.accepted()) == 1
    assert [r.status for r in flaky.received] == [500]

    assert run(delivery, now + 1).delivered == 0  # backoff: not due yet
    later = run(delivery, now + 3)
    assert (later.delivered, later.failed) == (1, 0)
    assert [r.status for r in flaky.received] == [500, 202]
    assert len(steady.received) == 1  # the steady platform never sees it twice
    failed, succeeded = flaky.received
    assert failed.claims and succeeded.claims
    assert failed.claims["jti"] == succeeded.claims["jti"]  # receivers can deduplicate retries
    assert failed.token != succeeded.token or failed.claims["iat"] == succeeded.claims["iat"]


def test_slow_platform_does_not_hold_up_the_others(
    idp: Idp, engine: Any, platforms: Platforms
) -> None:
    steady = platforms.receiver()
    slow = platforms.receiver(hold=steady.got_one)  # answers only once `steady` got its SET
    subscribe(idp, slow, name="slow")
    subscribe(idp, steady, name="steady")
    company(idp)
    result = run(EntityEventDelivery(engine, idp.tokens, timeout=30))
    assert result.delivered == 2
    assert slow.held_saw == [True]  # steady was served while slow was still answering


def test_platform_that_never_answers_ends_as_a_dead_letter(
    idp: Idp, engine: Any, platforms: Platforms
) -> None:
    silent = platforms.receiver(hold=threading.Event())  # released only at teardown
    steady = platforms.receiver()
    mute = subscribe(idp, silent, name="silent")
    subscribe(idp, steady, name="steady")
    delivery = EntityEventDelivery(engine, idp.tokens, max_attempts=3, timeout=0.3)
    company(idp)
    now = time.time()
    results = [run(delivery, now + step * 10_000) for step in range(4)]
    assert [r.dead for r in results] == [0, 0, 1, 0]
    assert len(steady.accepted()) == 1
    (letter,) = delivery.dead_letters()
    assert letter.client_id == mute.client.client_id
    assert "Timeout" in letter.error and silent.url in letter.error
    assert letter.event.payload["kind"] == "registered"


def test_unreachable_platform_ends_as_a_dead_letter_without_its_secret(
    idp: Idp, engine: Any
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://user:pw-xyz@127.0.0.1:{port}/events?token=s3cret-q"
    platform = subscribe(idp, None, url=url)
    delivery = EntityEventDelivery(engine, idp.tokens, max_attempts=2)
    company(idp)
    now = time.time()
    assert run(delivery, now).failed == 1
    assert run(delivery, now + 10_000).dead == 1
    (letter,) = delivery.dead_letters()
    assert letter.client_id == platform.client.client_id
    assert "ConnectionError" in letter.error and f"127.0.0.1:{port}/events" in letter.error
    assert "s3cret" not in letter.error and "pw-xyz" not in letter.error


def test_redirect_is_not_followed(idp: Idp, engine: Any, platforms: Platforms) -> None:
    target = platforms.receiver()
    redirecting = platforms.receiver(redirect_to=target.url)
    subscribe(idp, redirecting)
    target.audience = redirecting.audience
    company(idp)
    result = run(EntityEventDelivery(engine, idp.tokens))
    assert (result.delivered, result.failed) == (0, 1)
    assert [r.status for r in redirecting.received] == [307]
    assert target.received == []


def test_platform_that_cannot_verify_the_token_sees_retries(
    idp: Idp, engine: Any, platforms: Platforms
) -> None:
    stranger = {"keys": [RSAKey.generate_key(2048, private=False).as_dict(private=False)]}
    wrong_keys = platforms.receiver(jwks=stranger)
    subscribe(idp, wrong_keys)
    company(idp)
    delivery = EntityEventDelivery(engine, idp.tokens, max_attempts=1)
    assert run(delivery).dead == 1
    (letter,) = delivery.dead_letters()
    assert "HTTP 400 (invalid_key)" in letter.error


def test_no_personal_data_in_the_token(idp: Idp, platforms: Platforms) -> None:
    receiver = platforms.receiver()
    subscribe(idp, receiver)
    entity = person(idp)
    verify(idp, entity.id)
    run(idp.entity_events)
    assert len(receiver.accepted()) == 2
    for r in receiver.accepted():
        payload = r.token.split(".")[1]
        raw = json.dumps(r.claims, ensure_ascii=False)
        for secret in (ID_NUMBER, "110105", PHONE, "张三", "zhangsan", "operator-wang", "已核验"):
            assert secret not in raw
        assert r.claims is not None
        ((_, value),) = r.claims["events"].items()
        assert set(value) == {"entity_id", "change", "status", "version"}
        assert len(payload) < 1000


def test_events_survive_a_restart(idp: Idp, engine: Any, platforms: Platforms) -> None:
    receiver = platforms.receiver(script=[503])
    subscribe(idp, receiver)
    entity = company(idp)

    # published, then the process "dies" before any pass ran
    before = EntityEventDelivery(engine, idp.tokens)
    del before
    # the next one fans out and tries once (the platform is down), then "dies" too
    second = EntityEventDelivery(engine, idp.tokens)
    now = time.time()
    assert run(second, now).failed == 1
    del second
    verify(idp, entity.id)  # changed while nothing was running
    # a fresh process only fans out, and "dies" before delivering
    third = EntityEventDelivery(engine, idp.tokens)
    settle(engine)
    assert third.fanout.run_once(now).delivered == 1
    del third

    fresh = EntityEventDelivery(engine, idp.tokens)
    result = run(fresh, now + 10)
    assert result.delivered == 2
    assert [v["version"] for _, v in receiver.events()] == [2, 1]  # a retry may arrive late
    failed = receiver.received[0]
    assert failed.status == 503 and failed.claims is not None
    retried = next(r for r in receiver.accepted() if r.claims and "registered" in str(r.claims))
    assert retried.claims is not None and retried.claims["jti"] == failed.claims["jti"]
    assert run(fresh, now + 10_000).delivered == 0


# -- registration --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "scopes", "problem"),
    [
        ("not a url", ["entities:read"], "absolute http"),
        ("ftp://platform.example.cn/events", ["entities:read"], "absolute http"),
        ("https://platform.example.cn/events#frag", ["entities:read"], "fragment"),
        ("http://platform.example.cn/events", ["entities:read"], "https"),
        ("https://platform.example.cn/events", ["api"], "entities:read"),
    ],
)
def test_subscription_is_validated(idp: Idp, uri: str, scopes: list[str], problem: str) -> None:
    with pytest.raises(ClientRegistrationError, match=problem):
        create_client(
            idp.sessions,
            name="platform",
            grant_types=["client_credentials"],
            scopes=scopes,
            entity_events_uri=uri,
        )


@pytest.mark.parametrize(
    "uri",
    [
        "https://platform.example.cn/secevent",
        "http://localhost:8080/events",
        "http://127.0.0.1:9000/events",
        "http://[::1]:9000/events",
    ],
)
def test_subscription_is_stored(idp: Idp, uri: str) -> None:
    new = create_client(
        idp.sessions,
        name="platform",
        grant_types=["client_credentials"],
        scopes=["entities:read"],
        entity_events_uri=uri,
    )
    assert new.client.entity_events_uri == uri
    stored = get_client(idp.sessions, new.client.client_id)
    assert stored is not None and stored.entity_events_uri == uri


def test_cli_client_create_with_entity_events_uri(idp: Idp) -> None:
    runtime = SimpleNamespace(sessions=idp.sessions, master_secret=b"x" * 32)
    runner = CliRunner()
    base = ["create", "--name", "交易平台", "--grant-type", "client_credentials", "--json"]
    uri = "https://platform.example.cn/secevent"
    ok = runner.invoke(
        client_group,
        [*base, "--scope", "entities:read", "--entity-events-uri", uri],
        obj=runtime,
    )
    assert ok.exit_code == 0, ok.output
    out = json.loads(ok.output)
    assert out["entity_events_uri"] == uri and out["scope"] == "entities:read"
    stored = get_client(idp.sessions, out["client_id"])
    assert stored is not None and stored.entity_events_uri == uri

    plain = runner.invoke(client_group, [*base, "--scope", "entities:read"], obj=runtime)
    assert plain.exit_code == 0 and json.loads(plain.output)["entity_events_uri"] is None

    refused = runner.invoke(client_group, [*base, "--entity-events-uri", uri], obj=runtime)
    assert isinstance(refused.exception, ClientRegistrationError)
    assert "entities:read" in str(refused.exception)
