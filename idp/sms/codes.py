"""One-time SMS verification codes (registration checks a mobile number this way, §6.3.1).

A code is random digits from `secrets`, sent through an `SmsSender`, and kept only as an
HMAC-SHA256 digest bound to its purpose and number, in the ephemeral store under
`sms:<purpose>:<phone>`, so a leaked store entry reveals nothing and every worker sees the same
code. It is valid for `ttl` seconds, used at most once, and destroyed after `max_attempts`
guesses. Sending is limited per number and per client IP (fixed windows counted with
`store.incr`) and to one code per number and purpose every `resend_after` seconds, because each
message costs money and can be used to harass the number's owner.

Codes never reach the log here; only the development sender writes them out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from cert_interop.identifiers import mask_phone, normalize_phone, phone_problem
from idp.sms.api import SmsSender
from idp.sms.errors import InvalidPhone, SmsThrottled, SmsTooSoon
from storage.ephemeral import EphemeralStore

__all__ = ["SentCode", "SmsCodes"]

log = logging.getLogger(__name__)

_PURPOSE = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_SENDING_TTL = 60.0
"""Upper bound on how long a crashed worker's in-flight marker can block a number."""


@dataclass(frozen=True)
class SentCode:
    """What the page tells the user after a code went out."""

    expires_in: int
    """Seconds the code stays valid."""
    resend_in: int
    """Seconds before another code may be asked for."""


@dataclass(frozen=True)
class _Record:
    id: str
    digest: str
    issued_at: float
    expires_at: float

    def dump(self) -> bytes:
        return json.dumps(
            {"id": self.id, "h": self.digest, "iat": self.issued_at, "exp": self.expires_at}
        ).encode()

    @classmethod
    def load(cls, raw: bytes) -> _Record | None:
        try:
            data = json.loads(raw)
            return cls(str(data["id"]), str(data["h"]), float(data["iat"]), float(data["exp"]))
        except (ValueError, KeyError, TypeError):
            return None


class SmsCodes:
    """Sends and checks verification codes; see the module docstring for the rules.

    `key` is a secret (normally the service's master secret); the digest key is derived from
    it with HKDF so the master secret itself never keys anything else. Every worker must be
    given the same one. `clock` is for tests.
    """

    def __init__(
        self,
        store: EphemeralStore,
        sender: SmsSender,
        *,
        key: bytes,
        ttl: int = 300,
        length: int = 6,
        max_attempts: int = 5,
        per_number_limit: tuple[int, int] = (5, 3600),
        per_ip_limit: tuple[int, int] = (20, 3600),
        resend_after: int = 60,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if len(key) < 16:
            raise ValueError("SMS code key must be at least 16 bytes")
        if not 4 <= length <= 12:
            raise ValueError("SMS code length must be between 4 and 12 digits")
        if ttl < 1 or max_attempts < 1 or resend_after < 0:
            raise ValueError("ttl and max_attempts must be positive, resend_after not negative")
        for count, window in (per_number_limit, per_ip_limit):
            if count < 1 or window < 1:
                raise ValueError("rate limits must be (positive count, positive seconds)")
        self.store = store
        self.sender = sender
        self.ttl = ttl
        self.length = length
        self.max_attempts = max_attempts
        self.per_number_limit = per_number_limit
        self.per_ip_limit = per_ip_limit
        self.resend_after = resend_after
        self.clock = clock
        self._key = HKDF(hashes.SHA256(), 32, salt=b"huren", info=b"sms-codes").derive(key)
        # the record must outlive the code while it still blocks a resend
        self._record_ttl = float(max(ttl, resend_after))

    def send(self, phone: str, purpose: str, ip: str) -> SentCode:
        """Send a fresh code for `purpose` to `phone`, replacing any earlier one.

        Raises `InvalidPhone`, `SmsTooSoon`, `SmsThrottled`, or `SmsUnavailable` from the
        sender; in every case no new code is stored.
        """
        number = self._number(phone)
        _check_purpose(purpose)
        key = _code_key(purpose, number)
        self._refuse_if_too_soon(key)
        # one send at a time per number and purpose, so two quick clicks can't both pass the check
        sending = f"sms-sending:{purpose}:{number}"
        if not self.store.put_if_absent(sending, b"1", _SENDING_TTL):
            raise SmsTooSoon("a code is being sent to this number", self.resend_after or 1)
        try:
            self._refuse_if_too_soon(key)
            self._count("ip", _ip_digest(ip), self.per_ip_limit, "from this address")
            self._count("phone", number, self.per_number_limit, "to this number")
            code = f"{secrets.randbelow(10**self.length):0{self.length}d}"
            minutes = str(max(1, self.ttl // 60))
            self.sender.send(number, purpose, {"code": code, "minutes": minutes})
            now = self.clock()
            record = _Record(
                id=secrets.token_hex(8),
                digest=self._digest(purpose, number, code),
                issued_at=now,
                expires_at=now + self.ttl,
            )
            self.store.put(key, record.dump(), self._record_ttl)
        finally:
            self.store.delete(sending)
        log.info("SMS code for %s sent to %s", purpose, mask_phone(number))
        return SentCode(expires_in=self.ttl, resend_in=self.resend_after)

    def verify(self, phone: str, purpose: str, code: str) -> bool:
        """True once for the right unexpired code; False for anything else, never an error
        about `code` itself. Every check counts as an attempt; the last allowed wrong one
        destroys the code."""
        number = _normalize(phone)
        _check_purpose(purpose)
        if number is None:
            return False
        key = _code_key(purpose, number)
        raw = self.store.get(key)
        record = _Record.load(raw) if raw is not None else None
        if record is None or self.clock() >= record.expires_at:
            return False
        attempts = self.store.incr(f"sms-attempts:{purpose}:{number}:{record.id}", self.ttl)
        if attempts > self.max_attempts:
            return False
        candidate = self._digest(purpose, number, code.strip())
        if not hmac.compare_digest(candidate, record.digest):
            if attempts >= self.max_attempts:
                self.store.delete(key)
                masked = mask_phone(number)
                log.info("SMS code for %s to %s destroyed: too many tries", purpose, masked)
            return False
        taken = self.store.take(key)
        if taken is None:
            return False  # a concurrent check used it first
        if taken != raw:
            # a new code replaced this one between our read and take: leave the new one be
            self.store.put(key, taken, self._record_ttl)
            return False
        return True

    def _number(self, phone: str) -> str:
        number = _normalize(phone)
        if number is None:
            raise InvalidPhone("not an 11-digit mainland mobile number")
        return number

    def _refuse_if_too_soon(self, key: str) -> None:
        raw = self.store.get(key)
        record = _Record.load(raw) if raw is not None else None
        if record is None:
            return
        wait = record.issued_at + self.resend_after - self.clock()
        if wait > 0:
            raise SmsTooSoon("a code was sent to this number moments ago", wait)

    def _count(self, scope: str, value: str, limit: tuple[int, int], what: str) -> None:
        count, window = limit
        name = f"sms-rate:{scope}:{value}"
        if self.store.incr(name, window) > count:
            left = self.store.ttl(name)
            raise SmsThrottled(f"too many codes sent {what}", left or window)

    def _digest(self, purpose: str, number: str, code: str) -> str:
        message = f"{purpose}\x00{number}\x00".encode() + code.encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def _check_purpose(purpose: str) -> None:
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError("SMS purpose must be a short lowercase name such as 'register'")


def _code_key(purpose: str, number: str) -> str:
    return f"sms:{purpose}:{number}"


def _ip_digest(ip: str) -> str:
    """Client IPs are hashed for the key: bounded length, and no addresses at rest."""
    return hashlib.sha256(ip.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _normalize(phone: str) -> str | None:
    """11 digits, or None: the registration form's own rules (`cert_interop.identifiers`)."""
    return normalize_phone(phone) if phone_problem(phone) is None else None
