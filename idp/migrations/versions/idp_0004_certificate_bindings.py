"""Certificate bindings: which CA certificate (by SHA-256 fingerprint) logs in which account.

Explicit columns only (no model imports), so this revision keeps meaning what it means today.
"""

import sqlalchemy as sa
from alembic import op

revision = "idp_0004"
down_revision = "idp_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificate_binding",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "entity_id",
            sa.String(36),
            sa.ForeignKey("market_entity.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("issuer", sa.String(1000), nullable=False),
        sa.Column("serial", sa.String(80), nullable=False),
        sa.Column("subject", sa.String(1000), nullable=False),
        sa.Column("ca", sa.String(200)),
        sa.Column("not_before", sa.Float, nullable=False),
        sa.Column("not_after", sa.Float, nullable=False),
        sa.Column("created_by", sa.String(150), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("fingerprint", name="uq_certificate_binding_fingerprint"),
    )


def downgrade() -> None:
    op.drop_table("certificate_binding")
