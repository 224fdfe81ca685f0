"""cert_interop: the multi-CA trust store (trusted CAs, uploaded CRLs, change counter)

Revision ID: cert_interop_0001
Revises:
Depends on: storage_0001

Explicit columns only (no model imports), so this revision keeps meaning what it meant today
after the models change. Portable to SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cert_interop_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("cert_interop",)
depends_on: str | Sequence[str] | None = "storage_0001"


def upgrade() -> None:
    op.create_table(
        "trusted_ca",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("sha256_fingerprint", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("is_anchor", sa.Boolean(), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("revocation_policy", sa.String(8), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("added_at", sa.Float(), nullable=False),
        sa.Column("disabled_at", sa.Float(), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trusted_ca")),
        sa.UniqueConstraint("name", name=op.f("uq_trusted_ca_name")),
        sa.UniqueConstraint("sha256_fingerprint", name=op.f("uq_trusted_ca_sha256_fingerprint")),
        sa.CheckConstraint(
            "revocation_policy IN ('hard', 'soft')",
            name=op.f("ck_trusted_ca_revocation_policy"),
        ),
    )
    op.create_table(
        "uploaded_crl",
        sa.Column("issuer_id", sa.String(36), nullable=False),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("this_update", sa.Float(), nullable=False),
        sa.Column("next_update", sa.Float(), nullable=True),
        sa.Column("crl_number", sa.String(64), nullable=True),
        sa.Column("uploaded_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("issuer_id", name=op.f("pk_uploaded_crl")),
        sa.ForeignKeyConstraint(
            ["issuer_id"],
            ["trusted_ca.id"],
            name=op.f("fk_uploaded_crl_issuer_id_trusted_ca"),
            ondelete="CASCADE",
        ),
    )
    version = op.create_table(
        "trust_store_version",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trust_store_version")),
    )
    op.bulk_insert(version, [{"id": 1, "version": 0}])


def downgrade() -> None:
    for table in ("trust_store_version", "uploaded_crl", "trusted_ca"):
        op.drop_table(table)
