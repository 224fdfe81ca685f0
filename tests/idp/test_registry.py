"""The market-entity registry: verdicts, the HTTP client against a real local server, caching in
both ephemeral stores, and arbitrary answers never turning into anything but a record, None or
`RegistryUnavailable`."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idp.registry import (
    MalformedUscc,
    RegistryContradiction,
    RegistryRecord,
    RegistryUnavailable,
    VerdictState,
    canonical_uscc,
    verify_organisation,
)
from idp.registry.api import same_name
from idp.registry.http import CACHE_PREFIX, HttpRegistry
from storage.ephemeral import EphemeralStore
from storage.errors import EphemeralStoreUnavailable
from tests.idp.registry_server import RegistryServer, entity

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def make_uscc(prefix8: str, org8: str) -> str:
    """A valid code: `prefix8` (registration authority, type, region), the organisation code
    `org8` with its GB 11714 check character, then the GB 32100 check character."""
    total = sum(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".index(c) * w
        for c, w in zip(org8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)
    )
    org_check = {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))
    first17 = prefix8 + org8 + org_check
    total = sum(ALPHABET.index(c) * pow(3, i, 31) for i, c in enumerate(first17))
    return first17 + ALPHABET[(31 - total % 31) % 31]


USCC = "91350100M000100Y43"  # the standard's own example
OTHER = make_uscc("12520000", "MB123456")
UNKNOWN = make_uscc("91520100", "MA6DK000")
NAME = "贵州阳光建设（集团）有限公司"
TOKEN = "s3cret-registry-token"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def record(**changes: Any) -> RegistryRecord:
    base = RegistryRecord(uscc=USCC, name=NAME, status="active", dishonest=False, fetched_at=T0)
    return replace(base, **changes)


class FakeRegistry:
    """An in-memory `Registry`: a table, or an error to raise."""

    def __init__(
        self, table: dict[str, RegistryRecord] | None = None, error: Exception | None = None
    ) -> None:
        self.table = table or {}
        self.error = error
        self.asked: list[str] = []

    def lookup(self, uscc: str) -> RegistryRecord | None:
        self.asked.append(uscc)
        if self.error is not None:
            raise self.error
        return self.table.get(uscc)


@pytest.fixture
def server() -> Iterator[RegistryServer]:
    with RegistryServer(
        {
            USCC: entity(USCC, NAME, qualifications=("建筑工程施工总承包一级",)),
            OTHER: entity(OTHER, "贵州省公共资源交易中心", legal_representative=None),
        }
    ) as srv:
        yield srv


# --- USCC and names ---------------------------------------------------------------------------


def test_canonical_uscc_accepts_sloppy_spelling_of_a_valid_code() -> None:
    assert canonical_uscc(" 91350100m000100y43\n") == USCC
    assert canonical_uscc("９１３５０１００Ｍ０００１００Ｙ４３") == USCC


@pytest.mark.parametrize(
    "bad",
    ["", "91350100M000100Y4", "91350100M000100Y433", "91350100M000100Y44", "91350100I000100Y43"],
)
def test_canonical_uscc_refuses_malformed_codes(bad: str) -> None:
    with pytest.raises(MalformedUscc):
        canonical_uscc(bad)


def test_names_compare_without_width_bracket_or_space_noise() -> None:
    assert same_name("贵州阳光建设（集团）有限公司", "贵州阳光建设(集团) 有限公司")
    assert same_name("ＡＢＣ科技有限公司", "ABC科技\u3000有限公司")
    assert not same_name("贵州阳光建设有限公司", "贵州阳光建设（集团）有限公司")


# --- verdicts (any Registry) ------------------------------------------------------------------


def test_verified_only_on_a_positive_matching_answer() -> None:
    verdict = verify_organisation(FakeRegistry({USCC: record()}), USCC, NAME)
    assert verdict.state is VerdictState.VERIFIED and verdict.verified
    assert verdict.reasons == () and verdict.record == record()


def test_declared_values_are_normalised_before_comparison() -> None:
    registry = FakeRegistry({USCC: record()})
    verdict = verify_organisation(registry, "91350100m000100y43 ", "贵州阳光建设(集团)有限公司")
    assert verdict.state == "verified"
    assert registry.asked == [USCC]


@pytest.mark.parametrize("bad", ["", "123", "91350100M000100Y44", "../../admin"])
def test_malformed_code_is_rejected_without_asking(bad: str) -> None:
    registry = FakeRegistry({USCC: record()})
    verdict = verify_organisation(registry, bad, NAME)
    assert (verdict.state, verdict.reasons) == (VerdictState.REJECTED, ("uscc_malformed",))
    assert registry.asked == []


def test_blank_name_is_rejected_without_asking() -> None:
    registry = FakeRegistry({USCC: record()})
    verdict = verify_organisation(registry, USCC, " \u3000 ")
    assert (verdict.state, verdict.reasons) == (VerdictState.REJECTED, ("name_missing",))
    assert registry.asked == []


def test_unknown_code_is_rejected() -> None:
    verdict = verify_organisation(FakeRegistry(), USCC, NAME)
    assert (verdict.state, verdict.reasons, verdict.record) == (
        VerdictState.REJECTED,
        ("registry_not_found",),
        None,
    )


def test_name_mismatch_is_rejected() -> None:
    verdict = verify_organisation(FakeRegistry({USCC: record()}), USCC, "贵州阳光建设有限公司")
    assert (verdict.state, verdict.reasons) == (VerdictState.REJECTED, ("registry_name_mismatch",))


@pytest.mark.parametrize("status", ["revoked", "cancelled", "suspended", "moved_out"])
def test_any_status_but_active_is_rejected(status: str) -> None:
    verdict = verify_organisation(FakeRegistry({USCC: record(status=status)}), USCC, NAME)
    assert verdict.state is VerdictState.REJECTED
    assert verdict.reasons == (f"registry_status_{status}",)


def test_dishonest_entity_waits_for_a_human() -> None:
    verdict = verify_organisation(FakeRegistry({USCC: record(dishonest=True)}), USCC, NAME)
    assert (verdict.state, verdict.reasons) == (VerdictState.PENDING, ("registry_dishonest",))


def test_every_applicable_reason_is_listed_and_rejection_wins() -> None:
    registry = FakeRegistry({USCC: record(status="revoked", dishonest=True)})
    verdict = verify_organisation(registry, USCC, "别的公司")
    assert verdict.state is VerdictState.REJECTED
    assert verdict.reasons == (
        "registry_name_mismatch",
        "registry_status_revoked",
        "registry_dishonest",
    )


def test_unavailable_registry_means_pending_never_verified() -> None:
    registry = FakeRegistry(error=RegistryUnavailable("down"))
    verdict = verify_organisation(registry, USCC, NAME)
    assert (verdict.state, verdict.reasons) == (VerdictState.PENDING, ("registry_unreachable",))


def test_contradicting_registry_means_pending() -> None:
    registry = FakeRegistry(error=RegistryContradiction("two answers", previous=record()))
    verdict = verify_organisation(registry, USCC, NAME)
    assert (verdict.state, verdict.reasons) == (VerdictState.PENDING, ("registry_contradiction",))


def test_a_record_about_another_code_is_no_answer() -> None:
    registry = FakeRegistry({USCC: record(uscc=OTHER)})
    verdict = verify_organisation(registry, USCC, NAME)
    assert (verdict.state, verdict.reasons) == (VerdictState.PENDING, ("registry_unreachable",))


# --- HTTP: answers ----------------------------------------------------------------------------


def test_found_record_is_parsed(server: RegistryServer) -> None:
    found = HttpRegistry(server.url, clock=Clock()).lookup(USCC)
    assert found == RegistryRecord(
        uscc=USCC,
        name=NAME,
        status="active",
        dishonest=False,
        fetched_at=T0,
        legal_representative="张三",
        registered_at=date(2015, 6, 1),
        qualifications=("建筑工程施工总承包一级",),
    )
    other = HttpRegistry(server.url).lookup(OTHER)
    assert other is not None and other.legal_representative is None


def test_unknown_code_is_none(server: RegistryServer) -> None:
    assert HttpRegistry(server.url).lookup(UNKNOWN) is None
    assert server.requests[UNKNOWN] == 1


def test_malformed_code_never_reaches_the_server(server: RegistryServer) -> None:
    with pytest.raises(MalformedUscc):
        HttpRegistry(server.url).lookup("../admin")
    assert server.total_requests == 0


@pytest.mark.parametrize(
    ("table_entry", "declared", "state", "reasons"),
    [
        (entity(USCC, NAME), NAME, "verified", ()),
        (entity(USCC, NAME), "贵州阳光建设(集团)有限公司", "verified", ()),
        (None, NAME, "rejected", ("registry_not_found",)),
        (entity(USCC, NAME), "另一家公司", "rejected", ("registry_name_mismatch",)),
        (entity(USCC, NAME, status="revoked"), NAME, "rejected", ("registry_status_revoked",)),
        (
            entity(USCC, NAME, status="cancelled"),
            NAME,
            "rejected",
            ("registry_status_cancelled",),
        ),
        (
            entity(USCC, NAME, status="suspended"),
            NAME,
            "rejected",
            ("registry_status_suspended",),
        ),
        (entity(USCC, NAME, dishonest=True), NAME, "pending", ("registry_dishonest",)),
    ],
)
def test_verdicts_over_http(
    server: RegistryServer,
    table_entry: dict[str, Any] | None,
    declared: str,
    state: str,
    reasons: tuple[str, ...],
) -> None:
    server.entities.pop(USCC)
    if table_entry is not None:
        server.entities[USCC] = table_entry
    verdict = verify_organisation(HttpRegistry(server.url), USCC, declared)
    assert (verdict.state, verdict.reasons) == (state, reasons)


def test_bearer_token_is_sent_only_when_configured(server: RegistryServer) -> None:
    HttpRegistry(server.url, token=TOKEN).lookup(USCC)
    HttpRegistry(server.url).lookup(USCC)
    assert server.authorizations == [f"Bearer {TOKEN}", None]


@pytest.mark.parametrize("switch", ["failing", "garbage", "wrong_uscc", "huge", "redirect"])
def test_bad_answers_are_unavailable(
    server: RegistryServer, switch: str, caplog: pytest.LogCaptureFixture
) -> None:
    setattr(server, switch, True)
    registry = HttpRegistry(server.url, token=TOKEN)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(RegistryUnavailable) as info:
        registry.lookup(USCC)
    assert not isinstance(info.value, RegistryContradiction)
    verdict = verify_organisation(registry, USCC, NAME)
    assert (verdict.state, verdict.reasons) == ("pending", ("registry_unreachable",))
    assert TOKEN not in caplog.text and TOKEN not in str(info.value) and TOKEN not in repr(registry)
    assert caplog.records  # the failure is logged, without the token


def test_slow_registry_times_out(server: RegistryServer) -> None:
    server.slow = 2.0
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable, match="timed out"):
        HttpRegistry(server.url, timeout=0.3).lookup(USCC)
    assert time.monotonic() - started < 1.5


def test_dripping_registry_is_cut_off_at_the_deadline(server: RegistryServer) -> None:
    server.drip = 0.05  # ~300 bytes: 15 s in all, each byte well within the socket timeout
    started = time.monotonic()
    with pytest.raises(RegistryUnavailable):
        HttpRegistry(server.url, timeout=0.5).lookup(USCC)
    assert time.monotonic() - started < 2.0


def test_unreachable_port_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    registry = HttpRegistry(f"http://127.0.0.1:{port}", timeout=1.0)
    with pytest.raises(RegistryUnavailable, match="connection failed"):
        registry.lookup(USCC)
    assert verify_organisation(registry, USCC, NAME).state is VerdictState.PENDING


def _good_body() -> dict[str, Any]:
    return entity(USCC, NAME, qualifications=("甲级",))


def _with(**changes: Any) -> bytes:
    body = _good_body()
    body.update(changes)
    return json.dumps(body, ensure_ascii=False).encode()


def _without(key: str) -> bytes:
    body = _good_body()
    del body[key]
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b'"text"',
        b"",
        "{}".encode("utf-16"),
        _without("uscc"),
        _without("name"),
        _without("status"),
        _without("dishonest"),
        _with(uscc=USCC.lower()),
        _with(name=""),
        _with(name="   "),
        _with(name=42),
        _with(name="x" * 300),
        _with(name="某\x00公司"),
        _with(status="Active"),
        _with(status="active; drop"),
        _with(status=""),
        _with(dishonest=0),
        _with(dishonest="false"),
        _with(registered_at="20150601"),
        _with(registered_at="2015-02-30"),
        _with(registered_at=20150601),
        _with(legal_representative=""),
        _with(legal_representative=["张三"]),
        _with(qualifications="甲级"),
        _with(qualifications=[1]),
        _with(qualifications=[""]),
        b'{"uscc": "91350100M000100Y43", "uscc": "91350100M000100Y43"}',
        b'{"uscc":"91350100M000100Y43","name":"a","status":"active","dishonest":false,"x":NaN}',
        b'{"uscc":"91350100M000100Y43","name":"\\ud800","status":"active","dishonest":false}',
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_strict_validation(server: RegistryServer, raw: bytes) -> None:
    server.raw_body = raw
    with pytest.raises(RegistryUnavailable):
        HttpRegistry(server.url).lookup(USCC)


def test_optional_fields_may_be_absent_or_null_and_unknown_keys_are_ignored(
    server: RegistryServer,
) -> None:
    server.raw_body = json.dumps(
        {"uscc": USCC, "name": NAME, "status": "active", "dishonest": False, "future": {"a": 1}}
    ).encode()
    found = HttpRegistry(server.url).lookup(USCC)
    assert found is not None
    assert (found.legal_representative, found.registered_at, found.qualifications) == (
        None,
        None,
        (),
    )


# --- HTTP: caching (SQL store and Redis) ------------------------------------------------------


def test_answers_are_cached_until_stale(server: RegistryServer, ephemeral: EphemeralStore) -> None:
    clock = Clock()
    registry = HttpRegistry(server.url, cache=ephemeral, cache_ttl=600, clock=clock)
    first = registry.lookup(USCC)
    assert registry.lookup(USCC) == first
    assert first is not None and server.requests[USCC] == 1
    assert ephemeral.get(CACHE_PREFIX + USCC) is not None
    clock.advance(599)
    assert registry.lookup(USCC) == first and server.requests[USCC] == 1
    clock.advance(2)
    again = registry.lookup(USCC)
    assert server.requests[USCC] == 2
    assert again == replace(first, fetched_at=clock.now)


def test_cache_is_shared_between_workers(server: RegistryServer, ephemeral: EphemeralStore) -> None:
    one = HttpRegistry(server.url, cache=ephemeral)
    two = HttpRegistry(server.url, cache=ephemeral)
    assert one.lookup(USCC) == two.lookup(USCC)
    assert one.lookup(UNKNOWN) is None and two.lookup(UNKNOWN) is None
    assert server.requests == {USCC: 1, UNKNOWN: 1}


def test_not_found_is_cached_for_a_shorter_time(
    server: RegistryServer, ephemeral: EphemeralStore
) -> None:
    clock = Clock()
    registry = HttpRegistry(
        server.url, cache=ephemeral, cache_ttl=3600, not_found_ttl=60, clock=clock
    )
    assert registry.lookup(UNKNOWN) is None
    assert registry.lookup(UNKNOWN) is None
    assert server.requests[UNKNOWN] == 1
    server.entities[UNKNOWN] = entity(UNKNOWN, "新设立有限公司")
    clock.advance(61)
    found = registry.lookup(UNKNOWN)  # unknown becoming known is news, not a contradiction
    assert found is not None and found.name == "新设立有限公司"
    assert server.requests[UNKNOWN] == 2


def test_failures_are_not_cached(server: RegistryServer, ephemeral: EphemeralStore) -> None:
    registry = HttpRegistry(server.url, cache=ephemeral)
    server.failing = True
    with pytest.raises(RegistryUnavailable):
        registry.lookup(USCC)
    assert ephemeral.get(CACHE_PREFIX + USCC) is None
    server.failing = False
    assert registry.lookup(USCC) is not None
    assert server.requests[USCC] == 2


def test_a_different_name_on_refresh_is_a_contradiction(
    server: RegistryServer, ephemeral: EphemeralStore
) -> None:
    clock = Clock()
    server.contradicting = True
    registry = HttpRegistry(server.url, cache=ephemeral, cache_ttl=600, clock=clock)
    assert verify_organisation(registry, USCC, NAME).state is VerdictState.VERIFIED
    clock.advance(601)
    with pytest.raises(RegistryContradiction) as info:
        registry.lookup(USCC)
    assert info.value.previous is not None and info.value.previous.name == NAME
    assert info.value.current is not None and info.value.current.name != NAME
    assert server.requests[USCC] == 2
    # the fresh answer is what is remembered now: no request, and no verified old name
    verdict = verify_organisation(registry, USCC, NAME)
    assert (verdict.state, verdict.reasons) == ("rejected", ("registry_name_mismatch",))
    assert server.requests[USCC] == 2


def test_contradiction_verdict_is_pending(
    server: RegistryServer, ephemeral: EphemeralStore
) -> None:
    clock = Clock()
    server.contradicting = True
    registry = HttpRegistry(server.url, cache=ephemeral, cache_ttl=600, clock=clock)
    registry.lookup(USCC)
    clock.advance(601)
    verdict = verify_organisation(registry, USCC, NAME)
    assert (verdict.state, verdict.reasons) == ("pending", ("registry_contradiction",))


def test_a_known_code_vanishing_is_a_contradiction(
    server: RegistryServer, ephemeral: EphemeralStore
) -> None:
    clock = Clock()
    registry = HttpRegistry(server.url, cache=ephemeral, cache_ttl=600, clock=clock)
    registry.lookup(USCC)
    del server.entities[USCC]
    clock.advance(601)
    with pytest.raises(RegistryContradiction):
        registry.lookup(USCC)


def test_a_status_change_is_news_not_a_contradiction(
    server: RegistryServer, ephemeral: EphemeralStore
) -> None:
    clock = Clock()
    registry = HttpRegistry(server.url, cache=ephemeral, cache_ttl=600, clock=clock)
    registry.lookup(USCC)
    server.entities[USCC] = entity(USCC, "贵州阳光建设(集团)有限公司", status="revoked")
    clock.advance(601)
    verdict = verify_organisation(registry, USCC, NAME)
    assert (verdict.state, verdict.reasons) == ("rejected", ("registry_status_revoked",))


def test_unreadable_cache_entry_is_ignored(
    server: RegistryServer, ephemeral: EphemeralStore
) -> None:
    for junk in [b"not json", b'{"v":1}', b'{"v":1,"fetched_at":"x","record":null}']:
        ephemeral.put(CACHE_PREFIX + USCC, junk, 60)
        assert HttpRegistry(server.url, cache=ephemeral).lookup(USCC) is not None
    assert server.requests[USCC] == 3


def test_tampered_cache_entry_about_another_code_is_ignored(
    server: RegistryServer, ephemeral: EphemeralStore
) -> None:
    registry = HttpRegistry(server.url, cache=ephemeral)
    registry.lookup(OTHER)
    ephemeral.put(CACHE_PREFIX + USCC, ephemeral.get(CACHE_PREFIX + OTHER) or b"", 60)
    found = registry.lookup(USCC)
    assert found is not None and found.uscc == USCC and server.requests[USCC] == 1


class DownStore:
    """An ephemeral store whose backend is gone."""

    def get(self, key: str) -> bytes | None:
        raise EphemeralStoreUnavailable("down")

    def put(self, key: str, value: bytes, ttl: float) -> None:
        raise EphemeralStoreUnavailable("down")


def test_a_broken_cache_only_costs_requests(server: RegistryServer) -> None:
    registry = HttpRegistry(server.url, cache=DownStore())  # type: ignore[arg-type]
    assert registry.lookup(USCC) is not None
    assert registry.lookup(USCC) is not None
    assert server.requests[USCC] == 2


def test_constructor_refuses_nonsense() -> None:
    bad: list[dict[str, Any]] = [{"timeout": 0}, {"cache_ttl": 0}, {"not_found_ttl": -1}]
    for kwargs in bad:
        with pytest.raises(ValueError):
            HttpRegistry("http://127.0.0.1:1", **kwargs)
    with pytest.raises(ValueError):
        HttpRegistry("file:///etc")


# --- arbitrary answers ------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_VALUES = st.one_of(
    JSON,
    st.sampled_from([USCC, NAME, "active", "revoked", "2015-06-01", "", " "]),
    st.lists(st.text(max_size=10), max_size=3),
)
RECORDISH = st.dictionaries(
    st.sampled_from(
        [
            "uscc",
            "name",
            "status",
            "legal_representative",
            "registered_at",
            "dishonest",
            "qualifications",
            "extra",
        ]
    ),
    FIELD_VALUES,
).map(lambda d: {"uscc": USCC, **d})


@pytest.fixture(scope="module")
def raw_server() -> Iterator[RegistryServer]:
    with RegistryServer() as srv:
        yield srv


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=st.one_of(JSON, RECORDISH))
def test_arbitrary_json_never_yields_anything_else(raw_server: RegistryServer, body: Any) -> None:
    raw_server.raw_body = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
    try:
        result = HttpRegistry(raw_server.url, timeout=2.0).lookup(USCC)
    except RegistryUnavailable:
        return
    assert isinstance(result, RegistryRecord)  # a 200 is never "not found"
    assert result.uscc == USCC and result.name.strip() and isinstance(result.dishonest, bool)
    assert all(isinstance(q, str) for q in result.qualifications)


def test_a_bare_404_is_unavailable_not_not_found(ephemeral: Any) -> None:
    """A wrong base URL (the server answers its own 404 to every path) leaves organisations
    pending instead of rejecting them all."""
    with RegistryServer() as server:
        registry = HttpRegistry(server.url + "/wrong-prefix", cache=ephemeral)
        verdict = verify_organisation(registry, "91350100M000100Y43", "测试投标有限公司")
        assert verdict.state == "pending" and "registry_unreachable" in verdict.reasons
