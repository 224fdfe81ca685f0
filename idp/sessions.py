"""Single sign-on sessions, kept in the ephemeral store so every worker sees the same ones.

The browser's cookie holds only a random `handle`; the record carries the OpenID `sid` that relying
parties see, and the clients the user signed in to (who gets a back-channel logout token when the
session ends). Re-authenticating the same user issues a new handle (against session fixation) but
keeps the `sid` and the client list, so platforms already signed in are still told at logout.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import asdict, dataclass, field, replace

from storage.ephemeral import EphemeralStore


@dataclass(frozen=True)
class SsoSession:
    handle: str
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

    def _key(self, handle: str) -> str:
        return f"sso:{handle}"

    def create(
        self, user_id: str, amr: list[str], acr: str, *, continues: SsoSession | None = None
    ) -> SsoSession:
        """A fresh session; `continues` (the same user's previous one) passes on sid and clients."""
        handle = secrets.token_urlsafe(24)
        if continues is not None and continues.user_id == user_id:
            session = replace(continues, handle=handle, auth_time=time.time(), amr=amr, acr=acr)
        else:
            session = SsoSession(handle, secrets.token_urlsafe(24), user_id, time.time(), amr, acr)
        self._save(session)
        return session

    def _save(self, session: SsoSession) -> None:
        self.store.put(self._key(session.handle), json.dumps(asdict(session)).encode(), self.ttl)

    def get(self, handle: str | None) -> SsoSession | None:
        if not handle or len(handle) > 64:
            return None
        raw = self.store.get(self._key(handle))
        return SsoSession(**json.loads(raw)) if raw else None

    def add_client(self, session: SsoSession, client_id: str) -> SsoSession:
        if client_id in session.clients:
            return session
        updated = replace(session, clients=[*session.clients, client_id])
        self._save(updated)
        return updated

    def end(self, handle: str) -> SsoSession | None:
        raw = self.store.take(self._key(handle))
        return SsoSession(**json.loads(raw)) if raw else None
