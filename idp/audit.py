"""Audit events (logins, lockouts, logouts, token reuse): one row each, never a secret."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from .models import AuditEvent


def record(
    sessions: sessionmaker[Session],
    kind: str,
    *,
    user_id: str | None = None,
    username: str | None = None,
    client_id: str | None = None,
    ip: str | None = None,
    **detail: Any,
) -> None:
    with sessions.begin() as db:
        add(db, kind, user_id=user_id, username=username, client_id=client_id, ip=ip, **detail)


def add(
    db: Session,
    kind: str,
    *,
    user_id: str | None = None,
    username: str | None = None,
    client_id: str | None = None,
    ip: str | None = None,
    **detail: Any,
) -> None:
    """Within the caller's transaction, so the event commits (or not) with the change."""
    db.add(
        AuditEvent(
            at=time.time(),
            kind=kind,
            user_id=user_id,
            username=username[:150] if username else None,
            client_id=client_id,
            ip=ip,
            detail=detail,
        )
    )
