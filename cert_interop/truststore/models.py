"""The trust store's tables (made by ``cert_interop/migrations``; declared here for queries).

Times are UNIX seconds (``Float``) as in the other packages' tables. A CRL number may be up to
20 octets (RFC 5280 §5.2.3), more than any SQL integer holds, so it is kept as decimal text and
compared in Python. ``trust_store_version`` is one row whose counter every change bumps in its
own transaction: workers compare it to the version of their in-memory snapshot, and the
``UPDATE`` doubles as the lock that serializes writers across processes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base

__all__ = ["TrustStoreVersion", "TrustedCa", "UploadedCrl"]

VERSION_ROW = 1
"""The id of the single ``trust_store_version`` row."""


class TrustedCa(Base):
    """A CA certificate the platform trusts: a root (anchor) or an intermediate below one."""

    __tablename__ = "trusted_ca"
    __table_args__ = (
        CheckConstraint("revocation_policy IN ('hard', 'soft')", name="revocation_policy"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    der: Mapped[bytes] = mapped_column(LargeBinary)
    sha256_fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(Text)
    is_anchor: Mapped[bool] = mapped_column(Boolean)
    profile: Mapped[str] = mapped_column(String(64))
    revocation_policy: Mapped[str] = mapped_column(String(8))
    enabled: Mapped[bool] = mapped_column(Boolean)
    added_at: Mapped[float] = mapped_column(Float)
    disabled_at: Mapped[float | None] = mapped_column(Float)
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class UploadedCrl(Base):
    """The newest CRL an operator uploaded for a stored CA (one per issuer)."""

    __tablename__ = "uploaded_crl"

    issuer_id: Mapped[str] = mapped_column(
        ForeignKey("trusted_ca.id", ondelete="CASCADE"), primary_key=True
    )
    der: Mapped[bytes] = mapped_column(LargeBinary)
    this_update: Mapped[float] = mapped_column(Float)
    next_update: Mapped[float | None] = mapped_column(Float)
    crl_number: Mapped[str | None] = mapped_column(String(64))
    uploaded_at: Mapped[float] = mapped_column(Float)


class TrustStoreVersion(Base):
    """A counter bumped by every change, so workers know when to reload their snapshot."""

    __tablename__ = "trust_store_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
