"""The market-entity registry over HTTP (protocol: docs/registry-protocol.md).

`GET {base_url}/v1/entities/{uscc}` answers 200 with the entity as JSON, 404 when the code is
unknown; anything else means no answer. The body is validated strictly, because a registry
answer is what lets an organisation in: a record about another code, a missing field, a wrong
type, an oversized or non-JSON body, a redirect or a slow server all raise
`RegistryUnavailable` (so the organisation waits for a human) rather than guessing.

Answers (found and not found) are cached in the ephemeral store under `registry:<uscc>`: fresh
for `cache_ttl` (`not_found_ttl` for "no such code", shorter, as a new company may appear any
minute) and remembered twice as long, so that when a stale entry is refreshed the two answers
can be compared: a different name, or a known code turning unknown, raises
`RegistryContradiction`. Status changes are not contradictions, the fresh answer wins.
"""

from __future__ import annotations

import json
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

import requests
import urllib3

from idp.registry.api import RegistryRecord, canonical_uscc, same_name
from idp.registry.errors import RegistryContradiction, RegistryUnavailable
from storage.ephemeral.api import EphemeralStore
from storage.errors import EphemeralStoreUnavailable

__all__ = ["CACHE_PREFIX", "MAX_BODY_BYTES", "HttpRegistry"]

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
"""Largest answer read; a record is a few hundred bytes."""

CACHE_PREFIX = "registry:"
"""Ephemeral-store keys: this prefix + the canonical USCC."""

_CACHE_FORMAT = 1
_CHUNK = 8 * 1024
_STATUS_RE = re.compile(r"[a-z][a-z0-9_]{0,31}", re.ASCII)
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_MAX_NAME = 256
_MAX_PERSON = 128
_MAX_QUALIFICATIONS = 256


class _Garbage(Exception):
    """An answer that is not a usable answer; internal, becomes `RegistryUnavailable`."""


@dataclass(frozen=True)
class _Entry:
    """One remembered answer: when it was fetched and what it was (None = no such code)."""

    fetched_at: datetime
    record: RegistryRecord | None


def _utcnow() -> datetime:
    return datetime.now(UTC)


class HttpRegistry:
    """A `Registry` that asks the market-entity registry service at `base_url`.

    `token` is sent as a bearer token and never logged; `timeout` (seconds) bounds each
    socket wait and, roughly, the whole exchange. `cache` is the shared ephemeral store (None:
    every lookup asks the registry, and contradictions cannot be noticed). `clock` returns the
    current UTC time (tests move it).
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 5.0,
        cache: EphemeralStore | None = None,
        cache_ttl: float = 3600,
        not_found_ttl: float = 300,
        session: requests.Session | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not base_url.lower().startswith(("http://", "https://")):
            raise ValueError("the registry base_url must be an http(s) URL")
        if not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds")
        if not cache_ttl > 0 or not not_found_ttl > 0:
            raise ValueError("cache TTLs must be positive numbers of seconds")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = float(timeout)
        self.cache = cache
        self.cache_ttl = float(cache_ttl)
        self.not_found_ttl = float(not_found_ttl)
        self.session = session or requests.Session()
        self._clock = clock or _utcnow

    def __repr__(self) -> str:  # spelled out so that no token ever shows up in a repr
        return f"HttpRegistry({self.base_url!r}, timeout={self.timeout})"

    def lookup(self, uscc: str) -> RegistryRecord | None:
        """The registry's record for `uscc`, None if it has no such code; see the module."""
        code = canonical_uscc(uscc)
        now = self._clock()
        previous = self._recall(code)
        if previous is not None and (now - previous.fetched_at).total_seconds() < self._ttl(
            previous.record
        ):
            return previous.record
        try:
            record = self._fetch(code, now)
        except _Garbage as exc:
            logger.warning("registry lookup of %s gave no usable answer: %s", code, exc)
            raise RegistryUnavailable(
                f"the market-entity registry gave no usable answer: {exc}"
            ) from None
        self._remember(code, _Entry(now, record))
        if previous is not None and _contradicts(previous.record, record):
            logger.warning("registry answers about %s contradict each other", code)
            raise RegistryContradiction(
                "the market-entity registry's answers about this code disagree",
                previous=previous.record,
                current=record,
            )
        return record

    # --- HTTP -------------------------------------------------------------------------------

    def _fetch(self, code: str, now: datetime) -> RegistryRecord | None:
        url = f"{self.base_url}/v1/entities/{quote(code, safe='')}"
        headers = {"Accept": "application/json", "Accept-Encoding": "identity"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        deadline = time.monotonic() + self.timeout
        try:
            with self.session.get(
                url,
                headers=headers,
                timeout=self.timeout,
                stream=True,
                allow_redirects=False,  # a redirect is not an answer (and could carry the token)
            ) as resp:
                if resp.status_code not in (200, 404):
                    raise _Garbage(f"HTTP {resp.status_code}")
                media_type = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
                if media_type != "application/json":
                    raise _Garbage(f"content type {media_type or 'missing'!r}, not JSON")
                declared = resp.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                    raise _Garbage(f"a {declared}-byte answer, over the {MAX_BODY_BYTES} limit")
                body = bytearray()
                while chunk := resp.raw.read1(_CHUNK, decode_content=True):
                    # read1, unlike iter_content, returns what has arrived: a server dripping
                    # bytes cannot keep us past the deadline by never filling a chunk
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise _Garbage(f"an answer over the {MAX_BODY_BYTES}-byte limit")
                    if time.monotonic() > deadline:
                        raise _Garbage(f"the answer took longer than {self.timeout:g} s")
                status = resp.status_code
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise _Garbage(_describe(exc)) from None
        if status == 404:
            _check_not_found(_load_json(bytes(body)), code)
            return None
        return _parse_record(_load_json(bytes(body)), code, now)

    # --- cache ------------------------------------------------------------------------------

    def _ttl(self, record: RegistryRecord | None) -> float:
        return self.cache_ttl if record is not None else self.not_found_ttl

    def _recall(self, code: str) -> _Entry | None:
        """The remembered answer, or None (absent, unreadable, or the store is down: a cache
        problem only costs a request)."""
        if self.cache is None:
            return None
        try:
            raw = self.cache.get(CACHE_PREFIX + code)
        except EphemeralStoreUnavailable as exc:
            logger.warning("registry cache unavailable, asking the registry: %s", exc)
            return None
        if raw is None:
            return None
        try:
            data = _load_json(raw)
            if not isinstance(data, dict) or data.get("v") != _CACHE_FORMAT:
                raise _Garbage("unknown cache format")
            at = data.get("fetched_at")
            if not isinstance(at, str):
                raise _Garbage("no fetch time")
            fetched_at = datetime.fromisoformat(at)
            if fetched_at.tzinfo is None:
                raise _Garbage("naive fetch time")
            body = data.get("record")
            record = None if body is None else _parse_record(body, code, fetched_at)
        except (_Garbage, ValueError) as exc:
            logger.warning("ignoring an unreadable registry cache entry for %s: %s", code, exc)
            return None
        return _Entry(fetched_at, record)

    def _remember(self, code: str, entry: _Entry) -> None:
        if self.cache is None:
            return
        value = {
            "v": _CACHE_FORMAT,
            "fetched_at": entry.fetched_at.isoformat(),
            "record": None if entry.record is None else _record_body(entry.record),
        }
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            self.cache.put(CACHE_PREFIX + code, data, 2 * self._ttl(entry.record))
        except EphemeralStoreUnavailable as exc:
            logger.warning("registry cache unavailable, answer not cached: %s", exc)


def _contradicts(previous: RegistryRecord | None, current: RegistryRecord | None) -> bool:
    """A known code that became unknown, or a different name for one code. (Unknown becoming
    known is a new registration; a changed status is news, not a contradiction.)"""
    if previous is None:
        return False
    if current is None:
        return True
    return not same_name(previous.name, current.name)


def _describe(exc: Exception) -> str:
    """A short reason without URLs or headers."""
    if isinstance(exc, requests.Timeout | urllib3.exceptions.TimeoutError | TimeoutError):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "connection failed"
    return type(exc).__name__


def _reject_constant(name: str) -> Any:
    raise _Garbage(f"non-standard JSON constant {name}")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _Garbage(f"duplicate key {key!r}")
        result[key] = value
    return result


def _load_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
        return json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError, JSONDecodeError
        raise _Garbage(f"not JSON: {type(exc).__name__}") from None


def _text(value: Any, key: str, limit: int) -> str:
    if not isinstance(value, str):
        raise _Garbage(f"{key} is not a string")
    if not value.strip() or len(value) > limit:
        raise _Garbage(f"{key} is empty or longer than {limit} characters")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise _Garbage(f"{key} contains control characters or lone surrogates")
    return value


def _check_not_found(data: object, code: str) -> None:
    """A 404 is "no such code" only when the registry says so about this code: a wrong base URL
    or a proxy answering 404 to everything must not get every organisation rejected."""
    if not (isinstance(data, dict) and data.get("uscc") == code and data.get("found") is False):
        raise _Garbage("a 404 without the registry's not-found answer (wrong URL or a proxy?)")


def _parse_record(body: Any, code: str, fetched_at: datetime) -> RegistryRecord:
    """The record in a 200 body, about `code` and nothing else. Unknown keys are ignored
    (room for the registry to grow); known ones must be exactly right."""
    if not isinstance(body, dict):
        raise _Garbage("the body is not a JSON object")
    if body.get("uscc") != code:
        raise _Garbage("the record is not about the code asked for")
    status = body.get("status")
    if not isinstance(status, str) or not _STATUS_RE.fullmatch(status):
        raise _Garbage("status is not a short lowercase identifier")
    dishonest = body.get("dishonest")
    if not isinstance(dishonest, bool):
        raise _Garbage("dishonest is not a boolean")
    person = body.get("legal_representative")
    registered = body.get("registered_at")
    registered_at: date | None = None
    if registered is not None:
        if not isinstance(registered, str) or not _DATE_RE.fullmatch(registered):
            raise _Garbage("registered_at is not a YYYY-MM-DD date")
        try:
            registered_at = date.fromisoformat(registered)
        except ValueError:
            raise _Garbage("registered_at is not a valid date") from None
    raw_qualifications = body.get("qualifications", [])
    if not isinstance(raw_qualifications, list) or len(raw_qualifications) > _MAX_QUALIFICATIONS:
        raise _Garbage("qualifications is not a list of at most 256 strings")
    return RegistryRecord(
        uscc=code,
        name=_text(body.get("name"), "name", _MAX_NAME),
        status=status,
        dishonest=dishonest,
        fetched_at=fetched_at,
        legal_representative=None
        if person is None
        else _text(person, "legal_representative", _MAX_PERSON),
        registered_at=registered_at,
        qualifications=tuple(_text(q, "qualification", _MAX_NAME) for q in raw_qualifications),
    )


def _record_body(record: RegistryRecord) -> dict[str, Any]:
    """`record` in the registry's own JSON shape (what the cache keeps)."""
    return {
        "uscc": record.uscc,
        "name": record.name,
        "status": record.status,
        "legal_representative": record.legal_representative,
        "registered_at": None if record.registered_at is None else record.registered_at.isoformat(),
        "dishonest": record.dishonest,
        "qualifications": list(record.qualifications),
    }
