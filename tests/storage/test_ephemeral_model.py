"""Property test: under random sequences of operations each backend behaves like a plain dict
with expiry times. The SQL store runs on a fake clock (so time jumps are exact); Redis runs on
real time with TTLs long enough never to expire during an example."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.ephemeral import EphemeralStore, SqlEphemeralStore

pytestmark = pytest.mark.parametrize("ephemeral", ["sql", "sql-postgresql", "redis"], indirect=True)

KEYS = st.sampled_from(["a", "b", "c"])
VALUES = st.binary(max_size=6).map(lambda b: b"v" + b)  # never a decimal number
TTLS = st.sampled_from([0.5, 1.0, 2.5, 30.0])
AMOUNTS = st.integers(-3, 5)


@dataclass
class Model:
    """The reference: key -> (bytes or counter, expires_at)."""

    now: float
    entries: dict[str, tuple[bytes | int, float]] = field(default_factory=dict)

    def live(self, key: str) -> tuple[bytes | int, float] | None:
        entry = self.entries.get(key)
        return entry if entry is not None and entry[1] > self.now else None

    def read(self, key: str) -> bytes | None:
        entry = self.live(key)
        if entry is None:
            return None
        return entry[0] if isinstance(entry[0], bytes) else str(entry[0]).encode()

    def apply(self, op: tuple[Any, ...]) -> object:
        name, key, *args = op
        live = self.live(key)
        if name == "put":
            self.entries[key] = (args[0], self.now + args[1])
            return None
        if name == "put_if_absent":
            if live is not None:
                return False
            self.entries[key] = (args[0], self.now + args[1])
            return True
        if name == "get":
            return self.read(key)
        if name == "take":
            value = self.read(key)
            self.entries.pop(key, None)
            return value
        if name == "delete":
            self.entries.pop(key, None)
            return live is not None
        if name == "incr":
            ttl, amount = args
            if live is None:
                self.entries[key] = (amount, self.now + ttl)
                return amount
            if isinstance(live[0], bytes):
                return ValueError
            self.entries[key] = (live[0] + amount, live[1])
            return live[0] + amount
        if name == "ttl":
            return None if live is None else live[1] - self.now
        raise AssertionError(name)


def store_op(op: tuple[Any, ...], store: EphemeralStore, namespace: str) -> object:
    name, key, *args = op
    method = getattr(store, name)
    try:
        return method(namespace + key, *args)
    except ValueError:
        return ValueError


OPERATIONS = st.one_of(
    st.tuples(st.just("put"), KEYS, VALUES, TTLS),
    st.tuples(st.just("put_if_absent"), KEYS, VALUES, TTLS),
    st.tuples(st.just("get"), KEYS),
    st.tuples(st.just("take"), KEYS),
    st.tuples(st.just("delete"), KEYS),
    st.tuples(st.just("incr"), KEYS, TTLS, AMOUNTS),
    st.tuples(st.just("ttl"), KEYS),
)
TIME_STEPS = st.tuples(st.just("advance"), st.just(""), st.sampled_from([0.25, 0.5, 1.0, 3.0]))

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(data=st.data())
def test_store_behaves_like_a_dict_with_expiry(ephemeral: EphemeralStore, data: Any) -> None:
    namespace = f"{uuid.uuid4().hex}:"  # every example starts from an empty store
    model = Model(now=1_700_000_000.0)
    if isinstance(ephemeral, SqlEphemeralStore):
        store: EphemeralStore = SqlEphemeralStore(ephemeral.engine, clock=lambda: model.now)
        operations = st.one_of(OPERATIONS, TIME_STEPS)
        exact = True
    else:
        store = ephemeral  # real time: only TTLs that outlive the example
        operations = OPERATIONS.map(lambda op: op if op[0] == "ttl" else _long_ttl(op))
        exact = False
    for op in data.draw(st.lists(operations, max_size=30), label="operations"):
        if op[0] == "advance":
            model.now += op[2]
            continue
        expected = model.apply(op)
        got = store_op(op, store, namespace)
        if op[0] == "ttl" and isinstance(expected, float) and isinstance(got, float):
            tolerance = 1e-6 if exact else 5.0
            assert got == pytest.approx(expected, abs=tolerance), op
            assert got <= expected + 1e-6, op
        else:
            assert got == expected, op


def _long_ttl(op: tuple[Any, ...]) -> tuple[Any, ...]:
    name = op[0]
    if name in ("put", "put_if_absent"):
        return (name, op[1], op[2], op[3] + 600)
    if name == "incr":
        return (name, op[1], op[2] + 600, op[3])
    return op
