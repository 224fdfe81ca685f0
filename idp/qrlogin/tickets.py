"""QR login tickets: one per QR code, kept in the ephemeral store, moved by atomic markers.

A ticket is 24 random bytes (32 URL-safe characters). Its record, written once when the login
page opens it, holds the hash of the browser session that opened it, the relying party's name
(or "本平台"), the pending authorization request, the browser's IP address, user agent and the
opening time, and when it expires (`HUREN_QR_TICKET_TTL`, default 120 s)::

    qr:<T>        the record (never changed)
    qr:<T>:scan   {"device", "name", "account"}    put_if_absent: the first device to scan
    qr:<T>:end    {"state": "confirmed"|"cancelled", "device", "account"}    put_if_absent
    qr:<T>:done   completion marker                 put_if_absent: the login happens once

The ephemeral store has no compare-and-set, so each transition is the creation of a marker
with ``put_if_absent``: among concurrent requests exactly one creates it, and the others are
told `wrong_state` (or `already_used`). The state is read off the markers:

    created ──scan (device D)──▶ scanned ──confirm (D only)──▶ confirmed ──complete──▶ (used)
       │                            │
       └──────cancel (any)──────────┴──cancel (D only)──▶ cancelled

and is ``expired`` once the clock passes the expiry, whatever came before except a
cancellation. Nothing moves an expired, cancelled or confirmed ticket. Every key lives
`STORE_GRACE` seconds past the expiry, so a late request is told "expired" (or "already used")
rather than "unknown"; after that the store forgets the ticket entirely.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from storage.ephemeral import EphemeralStore

from .errors import QrLoginError

TICKET_BYTES = 24
"""192 random bits; 32 URL-safe base64 characters."""
TICKET_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
"""What a ticket id may look like before the store is asked about it."""
STORE_GRACE = 600
"""Seconds the keys outlive the ticket (to say "expired" rather than "unknown")."""
DEFAULT_CLIENT_NAME = "本平台"
"""Shown to the phone when no relying party's authorization request is pending."""
MAX_USER_AGENT = 300
MAX_NAME = 200
STATES = ("created", "scanned", "confirmed", "cancelled", "expired")

clock: Callable[[], float] = time.time
"""The time tickets (and device requests' timestamps) are checked at; tests move it."""


@dataclass(frozen=True)
class Ticket:
    id: str
    browser: str
    """Hash of the handle of the browser session that opened the ticket."""
    client_name: str
    client_id: str | None
    rid: str
    """The pending authorization request ("" when none)."""
    next_url: str
    ip: str
    user_agent: str
    opened_at: int
    expires_at: int
    state: str
    device_id: str | None = None
    """The device that scanned (and, when confirmed, confirmed)."""
    device_name: str | None = None
    account_id: str | None = None
    """The account of that device: the one a confirmed ticket logs in."""
    completed: bool = False

    def expires_in(self, now: float | None = None) -> int:
        left = self.expires_at - (clock() if now is None else now)
        return max(0, math.ceil(left))

    @property
    def ref(self) -> str:
        return ref(self.id)


def ref(ticket_id: str) -> str:
    """What audit rows name a ticket by: a hash prefix (the ticket itself is never logged)."""
    return hashlib.sha256(ticket_id.encode()).hexdigest()[:16]


def valid_id(ticket_id: object) -> bool:
    return isinstance(ticket_id, str) and TICKET_PATTERN.fullmatch(ticket_id) is not None


def _key(ticket_id: str, part: str = "") -> str:
    return f"qr:{ticket_id}:{part}" if part else f"qr:{ticket_id}"


def _json(raw: bytes | None) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def open_ticket(
    store: EphemeralStore,
    *,
    browser: str,
    client_name: str,
    client_id: str | None,
    rid: str,
    next_url: str,
    ip: str,
    user_agent: str,
    ttl: int,
) -> Ticket:
    """A new ticket in state ``created``, valid `ttl` seconds."""
    now = clock()
    opened_at = int(now)
    record = {
        "browser": browser,
        "client_name": client_name[:MAX_NAME],
        "client_id": client_id,
        "rid": rid,
        "next": next_url,
        "ip": ip,
        "ua": user_agent[:MAX_USER_AGENT],
        "at": opened_at,
        "exp": opened_at + ttl,
    }
    ticket_id = secrets.token_urlsafe(TICKET_BYTES)
    store.put(_key(ticket_id), json.dumps(record).encode(), ttl + STORE_GRACE)
    return _ticket(ticket_id, record, None, None, False, now)


def load(store: EphemeralStore, ticket_id: object) -> Ticket | None:
    """The ticket with its current state, or None when unknown (or forgotten)."""
    if not valid_id(ticket_id):
        return None
    assert isinstance(ticket_id, str)
    record = _json(store.get(_key(ticket_id)))
    if record is None:
        return None
    scan = _json(store.get(_key(ticket_id, "scan")))
    end = _json(store.get(_key(ticket_id, "end")))
    done = store.get(_key(ticket_id, "done")) is not None
    try:
        return _ticket(ticket_id, record, scan, end, done, clock())
    except (KeyError, TypeError, ValueError):
        return None


def _ticket(
    ticket_id: str,
    record: dict[str, Any],
    scan: dict[str, Any] | None,
    end: dict[str, Any] | None,
    done: bool,
    now: float,
) -> Ticket:
    state = "created"
    device = scan or {}
    if scan is not None:
        state = "scanned"
    if end is not None and end.get("state") in ("confirmed", "cancelled"):
        state = str(end["state"])
        device = end if end.get("device") else device
    expires_at = int(record["exp"])
    if state != "cancelled" and now >= expires_at:
        state = "expired"
    return Ticket(
        id=ticket_id,
        browser=str(record["browser"]),
        client_name=str(record["client_name"]),
        client_id=record.get("client_id"),
        rid=str(record.get("rid") or ""),
        next_url=str(record.get("next") or ""),
        ip=str(record["ip"]),
        user_agent=str(record["ua"]),
        opened_at=int(record["at"]),
        expires_at=expires_at,
        state=state,
        device_id=device.get("device"),
        device_name=(scan or {}).get("name"),
        account_id=device.get("account"),
        completed=done,
    )


def _store_ttl(ticket: Ticket) -> float:
    return max(1.0, ticket.expires_at + STORE_GRACE - clock())


def _live(store: EphemeralStore, ticket_id: str) -> Ticket:
    """The ticket for a device's request: known and not expired."""
    ticket = load(store, ticket_id)
    if ticket is None:
        raise QrLoginError("ticket_not_found")
    if ticket.state == "expired":
        raise QrLoginError("ticket_expired")
    return ticket


def scan(
    store: EphemeralStore, ticket_id: str, *, device_id: str, device_name: str, account_id: str
) -> Ticket:
    """Device `device_id` scanned the QR code: ``created → scanned``. The same device may scan
    again (an app retrying); any other device is refused once one has scanned."""
    ticket = _live(store, ticket_id)
    if ticket.state == "scanned" and ticket.device_id == device_id:
        return ticket
    if ticket.state != "created":
        raise QrLoginError("wrong_state", f"the QR code is {ticket.state}")
    marker = {"device": device_id, "name": device_name, "account": account_id}
    store.put_if_absent(_key(ticket_id, "scan"), json.dumps(marker).encode(), _store_ttl(ticket))
    after = _live(store, ticket_id)  # whoever won the marker, and no cancel meanwhile
    if after.state != "scanned" or after.device_id != device_id:
        raise QrLoginError("wrong_state", f"the QR code is {after.state}")
    return after


def _end(store: EphemeralStore, ticket: Ticket, state: str, device_id: str, account: str) -> Ticket:
    marker = {"state": state, "device": device_id, "account": account}
    if not store.put_if_absent(
        _key(ticket.id, "end"), json.dumps(marker).encode(), _store_ttl(ticket)
    ):
        raise QrLoginError("wrong_state", "the QR code was confirmed or cancelled meanwhile")
    return replace(ticket, state=state, device_id=device_id, account_id=account)


def confirm(store: EphemeralStore, ticket_id: str, *, device_id: str, account_id: str) -> Ticket:
    """``scanned → confirmed``, only by the device that scanned."""
    ticket = _live(store, ticket_id)
    if ticket.state != "scanned":
        raise QrLoginError("wrong_state", f"the QR code is {ticket.state}, not scanned")
    if ticket.device_id != device_id or ticket.account_id != account_id:
        raise QrLoginError("wrong_state", "the QR code was scanned by another device")
    return _end(store, ticket, "confirmed", device_id, account_id)


def cancel(store: EphemeralStore, ticket_id: str, *, device_id: str, account_id: str) -> Ticket:
    """``created → cancelled`` (any enrolled device holding the QR code), or
    ``scanned → cancelled`` (only the device that scanned)."""
    ticket = _live(store, ticket_id)
    if ticket.state == "scanned" and ticket.device_id != device_id:
        raise QrLoginError("wrong_state", "the QR code was scanned by another device")
    if ticket.state not in ("created", "scanned"):
        raise QrLoginError("wrong_state", f"the QR code is {ticket.state}")
    return _end(store, ticket, "cancelled", device_id, account_id)


def complete(store: EphemeralStore, ticket_id: object, browser: str | None) -> Ticket:
    """The browser session that opened the ticket finishes it, once, when it is confirmed.

    Refusals (`QrLoginError` codes): `ticket_not_found` (unknown, or another browser
    session's: the two are not told apart), `already_used`, `ticket_expired`, `cancelled`,
    `not_confirmed`."""
    ticket = load(store, ticket_id)
    if (
        ticket is None
        or browser is None
        or not hmac.compare_digest(ticket.browser.encode(), browser.encode())
    ):
        raise QrLoginError("ticket_not_found")
    if ticket.completed:
        raise QrLoginError("already_used")
    if ticket.state == "expired":
        raise QrLoginError("ticket_expired")
    if ticket.state == "cancelled":
        raise QrLoginError("cancelled")
    if ticket.state != "confirmed":
        raise QrLoginError("not_confirmed", f"the QR code is {ticket.state}")
    if not store.put_if_absent(_key(ticket.id, "done"), b"1", _store_ttl(ticket)):
        raise QrLoginError("already_used")
    return replace(ticket, completed=True)


__all__ = [
    "DEFAULT_CLIENT_NAME",
    "STATES",
    "Ticket",
    "cancel",
    "complete",
    "confirm",
    "load",
    "open_ticket",
    "ref",
    "scan",
    "valid_id",
]
