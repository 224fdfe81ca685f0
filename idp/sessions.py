"""Single sign-on sessions, kept in the ephemeral store so every worker sees the same ones.

The browser holds only the session id (in Flask's signed cookie); the record lists the clients the
user signed in to, which is who gets a back-channel logout token when the session ends.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field, replace

from storage.ephemeral import EphemeralStore


@dataclass(frozen=True)
class SsoSession:
    sid: str
    user_id: str
    auth_time: float
    amr: list[str]
    acr: str
    clients: list[str] = field(default_factory=list)


class SessionStore:
    def __init__(self, store: EphemeralStore, ttl: int) -> None:
        self.store = store
        self.ttl = ttl

    def _key(self, sid: str) -> str:
        return f"sso:{sid}"

    def create(self, user_id: str, amr: list[str], acr: str) -> SsoSession:
        session = SsoSession(secrets.token_urlsafe(24), user_id, time.time(), amr, acr)
        self._save(session)
        return session

    def _save(self, session: SsoSession) -> None:
        self.store.put(self._key(session.sid), json.dumps(asdict(session)).encode(), self.ttl)

    def get(self, sid: str | None) -> SsoSession | None:
        if not sid or len(sid) > 64:
            return None
        raw = self.store.get(self._key(sid))
        return SsoSession(**json.loads(raw)) if raw else None

    def add_client(self, session: SsoSession, client_id: str) -> SsoSession:
        if client_id in session.clients:
            return session
        updated = replace(session, clients=[*session.clients, client_id])
        self._save(updated)
        return updated

    def end(self, sid: str) -> SsoSession | None:
        raw = self.store.take(self._key(sid))
        return SsoSession(**json.loads(raw)) if raw else None
