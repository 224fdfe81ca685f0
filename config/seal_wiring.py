"""The seal service's view of market entities, implemented over the identity provider.

`seal` and `idp` share a floor and do not import each other; this composition-root adapter is
the one place that knows both (seal.records.directory explains why a live view, not a copy).
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from cert_interop.profiles import Identity
from idp.certlogin.bindings import cert_identity, identity_matches
from idp.entities.models import MarketEntity
from idp.entities.pii import PersonalData
from seal.records.directory import EntityFacts


class IdpEntityDirectory:
    def __init__(self, sessions: sessionmaker[Session], master_secret: bytes) -> None:
        self._sessions = sessions
        self._pii = PersonalData(master_secret)

    def entity(self, entity_id: str) -> EntityFacts | None:
        with self._sessions() as db:
            found = db.get(MarketEntity, entity_id[:36])
            if found is None:
                return None
            return EntityFacts(found.id, found.entity_type, found.name, found.status)

    def holds(self, entity_id: str, identity: Identity | None) -> bool:
        ident = cert_identity(identity)
        if not ident.present:
            return False
        with self._sessions() as db:
            found = db.get(MarketEntity, entity_id[:36])
            return found is not None and identity_matches(self._pii, found, ident)
