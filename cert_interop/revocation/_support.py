"""What the CRL fetcher and the OCSP client share: bounded HTTP, a tolerant view of the
ephemeral store, and a small in-process LRU.

A revocation source must never raise into path validation: every failure here becomes
:class:`Unusable` with an English detail, which the callers turn into an ``UNKNOWN`` answer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Generic, TypeVar
from urllib.parse import urlsplit

import requests

from storage.ephemeral.api import EphemeralStore
from storage.errors import EphemeralStoreUnavailable

__all__ = ["Lru", "Unusable", "http_fetch", "http_urls", "store_get", "store_put"]

_K = TypeVar("_K")
_V = TypeVar("_V")
_CHUNK = 64 * 1024


class Unusable(Exception):
    """A source gave nothing usable; ``detail`` says what and why. Internal control flow: it
    never leaves this package (callers turn it into an ``UNKNOWN`` answer)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def http_urls(urls: tuple[str, ...]) -> list[str]:
    """The http(s) URLs among ``urls`` (LDAP and others are skipped: nothing here speaks them)."""
    return [u for u in urls if urlsplit(u).scheme.lower() in ("http", "https")]


def http_fetch(
    session: requests.Session,
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """GET (or POST ``data``) ``url`` and return the body of a 200 answer.

    ``timeout`` bounds the whole exchange, not just each socket read, so a responder that
    drips bytes cannot hold a validation for long. Bodies over ``max_bytes`` are refused
    without being read to the end.
    """
    deadline = time.monotonic() + timeout
    method = "POST" if data is not None else "GET"
    try:
        with session.request(
            method,
            url,
            data=data,
            headers=dict(headers or {}),
            timeout=timeout,
            stream=True,
            allow_redirects=data is None,  # never re-send a POST elsewhere
        ) as resp:
            if resp.status_code != 200:
                raise Unusable(f"HTTP {resp.status_code} {resp.reason or ''}".rstrip())
            declared = resp.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise Unusable(f"the answer is {int(declared)} bytes, over the {max_bytes} limit")
            body = bytearray()
            for chunk in resp.iter_content(_CHUNK):
                body += chunk
                if len(body) > max_bytes:
                    raise Unusable(f"the answer is over the {max_bytes}-byte limit")
                if time.monotonic() > deadline:
                    raise Unusable(f"no complete answer within {timeout:g} s")
    except requests.Timeout:
        raise Unusable(f"no answer within {timeout:g} s (timed out)") from None
    except requests.ConnectionError as exc:
        raise Unusable(f"cannot connect: {_root_cause(exc)}") from None
    except (requests.RequestException, ValueError, OSError) as exc:  # bad URL, TLS, socket
        raise Unusable(f"HTTP request failed: {type(exc).__name__}: {exc}") from None
    if not body:
        raise Unusable("the answer is empty")
    return bytes(body)


def _root_cause(exc: BaseException) -> str:
    seen: set[int] = set()
    while exc.__cause__ is not None or exc.__context__ is not None:
        nxt = exc.__cause__ or exc.__context__
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        exc = nxt
    text = str(exc)
    if "Connection refused" in text or isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return text or type(exc).__name__


def store_get(store: EphemeralStore | None, key: str) -> bytes | None:
    """The cached value, or None; an unreachable store is treated as an empty cache."""
    if store is None:
        return None
    try:
        return store.get(key)
    except (EphemeralStoreUnavailable, ValueError):
        return None


def store_put(store: EphemeralStore | None, key: str, value: bytes, ttl: float) -> bool:
    """Cache ``value`` for ``ttl`` seconds; False (and nothing cached) when that cannot be."""
    if store is None or not ttl > 0:
        return False
    try:
        store.put(key, value, ttl)
    except (EphemeralStoreUnavailable, ValueError):
        return False
    return True


class Lru(Generic[_K, _V]):
    """Thread-safe bounded LRU memo of pure computations (parsing, verifying)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = max(0, maxsize)
        self._data: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self._lock:
            value = self._data.get(key)
            if value is not None:
                self._data.move_to_end(key)
            return value

    def put(self, key: _K, value: _V) -> None:
        if not self.maxsize:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)
