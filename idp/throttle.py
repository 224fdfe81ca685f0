"""Login throttling: failures counted per account and per client IP in the ephemeral store.

Reaching the limit within the window locks that account (or IP) for the lockout period; the
lock's remaining time is what the login page tells the user.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from storage.ephemeral import EphemeralStore


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    ip_max_failures: int
    window: int
    lockout: int


def _k(kind: str, scope: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:40]
    return f"login-{kind}:{scope}:{digest}"


class LoginThrottle:
    def __init__(self, store: EphemeralStore, policy: ThrottlePolicy) -> None:
        self.store = store
        self.policy = policy

    def locked_for(self, username: str, ip: str) -> int:
        """Seconds until login may be tried again (0 when not locked)."""
        waits = [self.store.ttl(_k("lock", "acct", username)), self.store.ttl(_k("lock", "ip", ip))]
        return max((int(w) + 1 for w in waits if w), default=0)

    def failure(self, username: str, ip: str) -> int:
        """Record a failure; return the lockout seconds if this failure locked something."""
        locked = 0
        for scope, value, limit in (
            ("acct", username, self.policy.max_failures),
            ("ip", ip, self.policy.ip_max_failures),
        ):
            count = self.store.incr(_k("fail", scope, value), self.policy.window)
            if count >= limit:
                self.store.put(_k("lock", scope, value), b"1", self.policy.lockout)
                self.store.delete(_k("fail", scope, value))
                locked = self.policy.lockout
        return locked

    def success(self, username: str) -> None:
        self.store.delete(_k("fail", "acct", username))
