"""The transactional outbox on SQLite and PostgreSQL: events commit with their transaction,
every consumer name gets every event of its topics at least once, failures retry with backoff
without blocking the rest, give up after max_attempts, and a crash loses nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select, update

from storage.db import Base, make_engine, make_session_factory
from storage.errors import DatabaseUnavailable
from storage.outbox import Consumer, Event, PassResult, dead_letters, publish
from storage.outbox.models import outbox_consumer, outbox_event, outbox_retry

T0 = 1_900_000_000.0  # a driven clock, after every real event's created_at


def emit(engine: Engine, *events: tuple[str, dict[str, Any]]) -> None:
    with make_session_factory(engine)() as session:
        for topic, payload in events:
            publish(session, topic, payload)
        session.commit()


def drain(consumer: Consumer, handled: int, now: float | None = None) -> PassResult:
    """Run passes until `handled` events have an outcome (on PostgreSQL a pass may wait for an
    unrelated transaction to finish before it sees new events)."""
    totals = [0, 0, 0]
    deadline = time.monotonic() + 10
    while sum(totals) < handled:
        assert time.monotonic() < deadline, f"only {totals} of {handled} events handled"
        result = consumer.run_once(now)
        assert not result.busy
        totals = [totals[0] + result.delivered, totals[1] + result.failed, totals[2] + result.dead]
        if not (result.delivered or result.failed or result.dead):
            time.sleep(0.01)
    assert sum(totals) == handled, totals
    return PassResult(*totals)


class Recorder:
    """A handler that records what it saw and fails while `fail(event, call_number)` is true."""

    def __init__(self, fail: Callable[[Event, int], bool] = lambda _e, _n: False) -> None:
        self.events: list[Event] = []
        self.fail = fail

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        calls = sum(1 for seen in self.events if seen.id == event.id)
        if self.fail(event, calls):
            raise RuntimeError(f"boom {event.payload.get('n')} #{calls}")

    @property
    def numbers(self) -> list[int]:
        return [event.payload["n"] for event in self.events]


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_publish_then_commit_delivers_once(storage_engine: Engine) -> None:
    emit(storage_engine, ("entity.updated", {"n": 1, "name": "贵州公共资源", "ok": True}))
    seen = Recorder()
    consumer = Consumer(storage_engine, "webhook", ["entity.updated"], seen)
    assert drain(consumer, 1) == PassResult(delivered=1)
    assert consumer.run_once() == PassResult()
    [event] = seen.events
    assert event.topic == "entity.updated"
    assert event.payload == {"n": 1, "name": "贵州公共资源", "ok": True}
    assert abs(event.created_at - time.time()) < 60


def test_rollback_publishes_nothing(storage_engine: Engine) -> None:
    with make_session_factory(storage_engine)() as session:
        publish(session, "t", {"n": 1})
        session.flush()
        session.rollback()
    emit(storage_engine, ("t", {"n": 2}))
    seen = Recorder()
    drain(Consumer(storage_engine, "c", ["t"], seen), 1)
    assert seen.numbers == [2]
    assert count(storage_engine, outbox_event) == 1


def test_publish_rejects_what_cannot_be_delivered(storage_engine: Engine) -> None:
    with make_session_factory(storage_engine)() as session:
        with pytest.raises(TypeError):
            publish(session, "t", {"when": object()})
        with pytest.raises(ValueError):
            publish(session, "t", {"x": float("nan")})
        with pytest.raises(ValueError):
            publish(session, "", {})
        with pytest.raises(ValueError):
            publish(session, "t" * 101, {})
        session.commit()
    assert count(storage_engine, outbox_event) == 0


def test_consumer_arguments_are_checked(storage_engine: Engine) -> None:
    with pytest.raises(ValueError):
        Consumer(storage_engine, "c", "topic", Recorder())  # a str, not a collection of topics
    with pytest.raises(ValueError):
        Consumer(storage_engine, "c", [], Recorder())
    with pytest.raises(ValueError):
        Consumer(storage_engine, "", ["t"], Recorder())
    with pytest.raises(ValueError):
        Consumer(storage_engine, "c", ["t"], Recorder(), max_attempts=0)


def test_failure_retries_after_backoff_and_success_clears_it(storage_engine: Engine) -> None:
    emit(storage_engine, ("t", {"n": 1}))
    seen = Recorder(fail=lambda _e, calls: calls == 1)
    consumer = Consumer(storage_engine, "c", ["t"], seen)  # default backoff: 2 s after one
    assert drain(consumer, 1, now=T0) == PassResult(failed=1)
    assert count(storage_engine, outbox_retry) == 1
    assert consumer.run_once(now=T0 + 1.9) == PassResult()  # not due yet
    assert consumer.run_once(now=T0 + 2) == PassResult(delivered=1)
    assert seen.numbers == [1, 1]
    assert count(storage_engine, outbox_retry) == 0
    assert dead_letters(storage_engine, "c") == []
    assert consumer.run_once(now=T0 + 10_000) == PassResult()


def test_a_failing_event_does_not_block_the_next_ones(storage_engine: Engine) -> None:
    emit(storage_engine, ("t", {"n": 1}), ("t", {"n": 2}), ("t", {"n": 3}))
    seen = Recorder(fail=lambda event, _calls: event.payload["n"] == 1)
    consumer = Consumer(storage_engine, "c", ["t"], seen)
    assert drain(consumer, 3, now=T0) == PassResult(delivered=2, failed=1)
    assert seen.numbers == [1, 2, 3]
    emit(storage_engine, ("t", {"n": 4}))
    drain(consumer, 1, now=T0 + 1)
    assert seen.numbers == [1, 2, 3, 4]


def test_dead_after_max_attempts_keeps_the_last_error(storage_engine: Engine) -> None:
    emit(storage_engine, ("t", {"n": 7}), ("t", {"n": 8}))
    seen = Recorder(fail=lambda event, _calls: event.payload["n"] == 7)
    waits: list[int] = []

    def backoff(attempt: int) -> float:
        waits.append(attempt)
        return 10.0 * attempt

    consumer = Consumer(storage_engine, "c", ["t"], seen, max_attempts=3, backoff=backoff)
    assert drain(consumer, 2, now=T0) == PassResult(delivered=1, failed=1)
    assert consumer.run_once(now=T0 + 10) == PassResult(failed=1)  # attempt 2, next at +30
    assert consumer.run_once(now=T0 + 29) == PassResult()
    assert consumer.run_once(now=T0 + 30) == PassResult(dead=1)  # attempt 3 of 3
    assert waits == [1, 2]
    [(event, error)] = dead_letters(storage_engine, "c")
    assert event.payload == {"n": 7}
    assert error == "RuntimeError: boom 7 #3"
    assert consumer.run_once(now=T0 + 100_000) == PassResult()
    assert seen.numbers == [7, 8, 7, 7]
    assert dead_letters(storage_engine, "someone-else") == []


def test_one_attempt_means_dead_at_the_first_failure(storage_engine: Engine) -> None:
    emit(storage_engine, ("t", {"n": 1}))
    consumer = Consumer(
        storage_engine, "c", ["t"], Recorder(fail=lambda _e, _n: True), max_attempts=1
    )
    assert drain(consumer, 1, now=T0) == PassResult(dead=1)
    assert [e.payload for e, _ in dead_letters(storage_engine, "c")] == [{"n": 1}]


def test_undecodable_payload_is_a_failure_not_a_blockage(storage_engine: Engine) -> None:
    with storage_engine.begin() as conn:
        conn.execute(insert(outbox_event).values(topic="t", payload="{not json", created_at=1.0))
    emit(storage_engine, ("t", {"n": 2}))
    seen = Recorder()
    consumer = Consumer(storage_engine, "c", ["t"], seen, max_attempts=1)
    assert drain(consumer, 2, now=T0) == PassResult(delivered=1, dead=1)
    assert seen.numbers == [2]
    with storage_engine.connect() as conn:
        assert "JSONDecodeError" in conn.execute(select(outbox_retry.c.last_error)).scalar_one()


def test_each_consumer_name_gets_every_event(storage_engine: Engine) -> None:
    emit(storage_engine, ("t", {"n": 1}), ("t", {"n": 2}))
    first, second = Recorder(), Recorder()
    drain(Consumer(storage_engine, "national-uploader", ["t"], first), 2)
    drain(Consumer(storage_engine, "disclosure-read-model", ["t"], second), 2)
    assert first.numbers == second.numbers == [1, 2]


def test_topics_filter_what_a_consumer_sees(storage_engine: Engine) -> None:
    emit(storage_engine, ("seal.revoked", {"n": 1}), ("entity.updated", {"n": 2}))
    emit(storage_engine, ("seal.revoked", {"n": 3}), ("other", {"n": 4}))
    seals, both = Recorder(), Recorder()
    drain(Consumer(storage_engine, "seals", ["seal.revoked"], seals), 2)
    drain(Consumer(storage_engine, "both", {"seal.revoked", "entity.updated"}, both), 3)
    assert seals.numbers == [1, 3]
    assert both.numbers == [1, 2, 3]


def test_batch_bounds_one_pass(storage_engine: Engine) -> None:
    emit(storage_engine, *[("t", {"n": n}) for n in range(5)])
    seen = Recorder()
    consumer = Consumer(storage_engine, "c", ["t"], seen, batch=2)
    results = []
    while len(seen.events) < 5:
        results.append(consumer.run_once())
    assert all(r.delivered <= 2 for r in results)
    assert seen.numbers == [0, 1, 2, 3, 4]


def test_the_lease_keeps_a_second_runner_out(storage_engine: Engine) -> None:
    emit(storage_engine, ("t", {"n": 1}))
    inner: list[PassResult] = []
    other = Consumer(storage_engine, "c", ["t"], Recorder())
    first = Consumer(storage_engine, "c", ["t"], lambda _event: inner.append(other.run_once()))
    drain(first, 1)
    assert inner == [PassResult(busy=True)]
    assert other.run_once() == PassResult()  # released once the first pass ended


def test_two_runners_of_one_consumer_never_overlap(storage_engine: Engine) -> None:
    emit(storage_engine, *[("t", {"n": n}) for n in range(30)])
    lock = threading.Lock()
    active, peak, delivered = [0], [0], []

    def handle(event: Event) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.005)
        with lock:
            active[0] -= 1
            delivered.append(event.payload["n"])

    def runner() -> None:
        consumer = Consumer(storage_engine, "c", ["t"], handle, batch=5)
        deadline = time.monotonic() + 20
        while len(delivered) < 30 and time.monotonic() < deadline:
            consumer.run_once()
            time.sleep(0.001)

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert peak[0] == 1
    assert sorted(delivered) == list(range(30))  # each exactly once: no lease was lost


def test_a_runner_that_lost_its_lease_stops_without_moving_the_cursor(
    storage_engine: Engine,
) -> None:
    emit(storage_engine, ("t", {"n": 1}), ("t", {"n": 2}))
    stolen = threading.Event()

    def steal(_event: Event) -> None:
        with storage_engine.begin() as conn:  # another runner took over meanwhile
            conn.execute(update(outbox_consumer).values(lease_owner="thief"))
        stolen.set()

    consumer = Consumer(storage_engine, "c", ["t"], steal)
    deadline = time.monotonic() + 10
    while not stolen.is_set():
        assert time.monotonic() < deadline
        result = consumer.run_once()
    assert result == PassResult()  # the outcome of event 1 was not committed ...
    with storage_engine.connect() as conn:
        assert conn.execute(select(outbox_consumer.c.position)).scalar_one() == 0
    assert consumer.run_once() == PassResult(busy=True)  # ... and the thief's lease holds
    seen = Recorder()
    drain(Consumer(storage_engine, "c", ["t"], seen), 2, now=time.time() + 61)
    assert seen.numbers == [1, 2]  # so event 1 is delivered again, then event 2


class Interrupted(BaseException):
    """Stands in for KeyboardInterrupt / SystemExit inside a handler."""


def test_an_interrupted_pass_releases_its_lease_and_redelivers(storage_engine: Engine) -> None:
    emit(storage_engine, ("t", {"n": 1}), ("t", {"n": 2}), ("t", {"n": 3}))
    seen: list[int] = []

    def interrupt_at_two(event: Event) -> None:
        if event.payload["n"] == 2:
            raise Interrupted
        seen.append(event.payload["n"])

    consumer = Consumer(storage_engine, "c", ["t"], interrupt_at_two)
    with pytest.raises(Interrupted):
        for _ in range(1000):
            consumer.run_once()
            time.sleep(0.01)
    resumed = Recorder()
    drain(Consumer(storage_engine, "c", ["t"], resumed), 2)  # no waiting for the lease
    assert seen == [1]
    assert resumed.numbers == [2, 3]


CRASHING_WORKER = textwrap.dedent(
    """
    import os, sys, time
    from storage.db import make_engine
    from storage.outbox import Consumer

    log = open(sys.argv[2], "a")

    def handle(event):
        if event.payload["n"] == 3:
            os._exit(17)  # the process dies mid-pass, holding the lease
        log.write(f"{event.payload['n']}\\n")
        log.flush()

    consumer = Consumer(make_engine(sys.argv[1]), "crashy", ["t"], handle)
    for _ in range(1000):
        consumer.run_once()
        time.sleep(0.01)
    """
)


def test_a_crashed_process_is_resumed_after_its_cursor(storage_url: str, tmp_path: Path) -> None:
    engine = make_engine(storage_url)
    emit(engine, *[("t", {"n": n}) for n in range(1, 6)])
    log = tmp_path / "delivered.txt"
    worker = subprocess.run(
        [sys.executable, "-c", CRASHING_WORKER, storage_url, str(log)], timeout=60, check=False
    )
    assert worker.returncode == 17
    assert log.read_text().split() == ["1", "2"]
    seen = Recorder()
    restarted = Consumer(engine, "crashy", ["t"], seen)
    assert restarted.run_once() == PassResult(busy=True)  # the dead process's lease holds
    drain(restarted, 3, now=time.time() + 61)
    assert seen.numbers == [3, 4, 5]  # 1 and 2 are not delivered again
    engine.dispose()


def test_late_committing_event_is_not_skipped_on_postgresql(storage_engine: Engine) -> None:
    """PostgreSQL assigns ids at insert and shows rows at commit; the cursor must not pass an
    id whose transaction is still open."""
    if storage_engine.dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers, so ids always commit in order")
    slow = make_session_factory(storage_engine)()
    try:
        publish(slow, "t", {"n": 1})
        slow.flush()  # id 1 taken, not committed
        emit(storage_engine, ("t", {"n": 2}))  # id 2 committed first
        seen = Recorder()
        consumer = Consumer(storage_engine, "c", ["t"], seen)
        assert consumer.run_once() == PassResult()  # 2 waits: 1 might still commit
        slow.commit()
    finally:
        slow.close()
    drain(consumer, 2)
    assert seen.numbers == [1, 2]


def test_unreachable_database_raises_database_unavailable() -> None:
    engine = make_engine("postgresql+psycopg://root@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(DatabaseUnavailable):
        Consumer(engine, "c", ["t"], Recorder()).run_once()
    engine.dispose()


def test_tables_from_create_all_work_like_migrated_ones(db_url: str) -> None:
    engine = make_engine(db_url)
    tables = [outbox_event, outbox_consumer, outbox_retry]
    Base.metadata.create_all(engine, tables=tables)
    emit(engine, ("t", {"n": 1}), ("t", {"n": 2}))
    seen = Recorder()
    drain(Consumer(engine, "c", ["t"], seen), 2)
    assert seen.numbers == [1, 2]
    with engine.connect() as conn:
        txids = set(conn.execute(select(outbox_event.c.txid)).scalars())
    if engine.dialect.name == "postgresql":
        assert len(txids) == 1 and txids != {0}  # both from one real transaction
    else:
        assert txids == {0}
    Base.metadata.drop_all(engine, tables=tables)
    engine.dispose()
