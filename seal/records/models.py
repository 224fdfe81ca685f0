"""Tables of the seal service (schema: `seal_0001`).

A seal belongs to a market entity by id only (no foreign key into the identity provider's
tables: the two packages share a floor and must not depend on each other's schema). The signed
GB/T 38540 structure is kept as made; the columns beside it are what queries and pages need.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base

MAX_NAME = 100
MAX_REASON = 500


class SealRecord(Base):
    __tablename__ = "seal_record"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    """The seal code (GB/T 38540 `esID`)."""
    entity_id: Mapped[str] = mapped_column(String(36), index=True)
    seal_type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(MAX_NAME))
    status: Mapped[str] = mapped_column(String(16), index=True)
    status_reason: Mapped[str | None] = mapped_column(String(MAX_REASON))
    picture: Mapped[bytes] = mapped_column(LargeBinary)
    picture_type: Mapped[str] = mapped_column(String(8))
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[float] = mapped_column(Float)
    valid_until: Mapped[float] = mapped_column(Float)
    seal_der: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The signed SESeal; None while only requested."""
    maker: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(150))
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declared form)


class SealCertificate(Base):
    """A certificate the seal is bound to (its holder may sign with that certificate's key)."""

    __tablename__ = "seal_certificate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seal_id: Mapped[str] = mapped_column(
        ForeignKey("seal_record.id", ondelete="CASCADE"), index=True
    )
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str] = mapped_column(String(1000))
    key_algorithm: Mapped[str] = mapped_column(String(16))
    not_after: Mapped[float] = mapped_column(Float)


class SealHistory(Base):
    """Every change of a seal's state: who, when, why (kept after revocation)."""

    __tablename__ = "seal_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seal_id: Mapped[str] = mapped_column(
        ForeignKey("seal_record.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(150))
    at: Mapped[float] = mapped_column(Float)
