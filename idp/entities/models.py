"""The market-entity tables. The schema itself is made by `idp_0002_entities`.

ID numbers and mobiles never sit here in plain text: `*_sealed` holds them encrypted (AES-GCM
under the master secret) and `*_index` a keyed blind index, so exact lookups and uniqueness work
without decrypting. Credit codes are public and stay readable.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base


class MarketEntity(Base):
    """One registered market entity; `version` guards against lost concurrent updates."""

    __tablename__ = "market_entity"
    __table_args__ = (UniqueConstraint("id_type", "id_number_index"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    id_type: Mapped[str | None] = mapped_column(String(32))
    id_number_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_number_index: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    registry_checked_at: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declared form)


class EntityMember(Base):
    """An account acting for an entity: its administrator(s) and agents (经办人)."""

    __tablename__ = "entity_member"

    entity_id: Mapped[str] = mapped_column(
        ForeignKey("market_entity.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # admin | agent
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)


class EntityReview(Base):
    """One decision on an entity, by an operator or by automation ("system"); never rewritten."""

    __tablename__ = "entity_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entity_id: Mapped[str] = mapped_column(
        ForeignKey("market_entity.id", ondelete="CASCADE"), index=True
    )
    decision: Mapped[str] = mapped_column(String(16))  # verified | rejected | pending
    reasons: Mapped[list[str]] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(150))
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[float] = mapped_column(Float)


class EntityContact(Base):
    """A member's mobile for this entity, sealed, with its blind index for lookups."""

    __tablename__ = "entity_contact"

    entity_id: Mapped[str] = mapped_column(
        ForeignKey("market_entity.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    phone_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    phone_index: Mapped[str] = mapped_column(String(64), index=True)
    verified_at: Mapped[float | None] = mapped_column(Float)
