"""Which entity an account acts for, and in which role: the read the account pages start from.

`service` answers questions about an entity; this answers the one question about an account
that the signed-in pages ask first. Nothing personal is read here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from .models import EntityMember


@dataclass(frozen=True)
class Membership:
    entity_id: str
    role: str
    """``admin`` or ``agent``."""
    disabled: bool

    @property
    def is_admin(self) -> bool:
        """An enabled administrator: may add, disable and remove the entity's members."""
        return self.role == "admin" and not self.disabled


def membership_of(sessions: sessionmaker[Session], account_id: str) -> Membership | None:
    """The account's membership, or None when it belongs to no entity.

    An account normally acts for one entity. Should it have several memberships, the oldest
    enabled one wins (as for the claims platforms receive); a disabled one is returned only when
    there is nothing else, so the page can say the access was withdrawn.
    """
    with sessions() as db:
        row = db.scalars(
            select(EntityMember)
            .where(EntityMember.account_id == account_id)
            .order_by(EntityMember.disabled, EntityMember.created_at, EntityMember.entity_id)
            .limit(1)
        ).first()
        if row is None:
            return None
        return Membership(entity_id=row.entity_id, role=row.role, disabled=bool(row.disabled))


__all__ = ["Membership", "membership_of"]
