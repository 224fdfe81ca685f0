"""What the seal service needs to know about market entities, behind an interface.

Entities are the identity provider's records; `seal` sits on the same floor and must not import
`idp`. The composition root (`config`) implements this protocol over the identity provider and
hands it in, so the seal service always sees the entity's current status (a seal is never made
for an entity that was rejected a second ago).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cert_interop.profiles import Identity

ORGANISATION_TYPES = frozenset({"legal_person", "public_institution", "other_org"})
"""Entity types that may hold institution seals (公章, 合同专用章, 财务专用章)."""


@dataclass(frozen=True)
class EntityFacts:
    entity_id: str
    entity_type: str
    """``legal_person``, ``natural_person``, ``public_institution`` or ``other_org``."""
    name: str
    status: str
    """``verified``, ``pending`` or ``rejected``."""


class EntityDirectory(Protocol):
    def entity(self, entity_id: str) -> EntityFacts | None:
        """The entity, or None when there is no such entity."""
        ...

    def holds(self, entity_id: str, identity: Identity | None) -> bool:
        """The certificate identity (as the CA profile read it) is this entity's: its credit
        code for an organisation, its ID document number for a natural person."""
        ...
