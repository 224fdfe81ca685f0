"""seal: seal records, their certificates and history

Revision ID: seal_0001
Revises:
Depends on: storage_0001

Explicit columns only (no model imports), so this revision keeps meaning what it means today.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "seal_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("seal",)
depends_on: str | Sequence[str] | None = "storage_0001"


def upgrade() -> None:
    op.create_table(
        "seal_record",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("entity_id", sa.String(36), nullable=False, index=True),
        sa.Column("seal_type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("status_reason", sa.String(500)),
        sa.Column("picture", sa.LargeBinary(), nullable=False),
        sa.Column("picture_type", sa.String(8), nullable=False),
        sa.Column("width_mm", sa.Integer(), nullable=False),
        sa.Column("height_mm", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Float(), nullable=False),
        sa.Column("valid_until", sa.Float(), nullable=False),
        sa.Column("seal_der", sa.LargeBinary()),
        sa.Column("maker", sa.String(200)),
        sa.Column("created_by", sa.String(150), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.create_table(
        "seal_certificate",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "seal_id",
            sa.String(32),
            sa.ForeignKey("seal_record.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("fingerprint", sa.String(64), nullable=False, index=True),
        sa.Column("der", sa.LargeBinary(), nullable=False),
        sa.Column("subject", sa.String(1000), nullable=False),
        sa.Column("key_algorithm", sa.String(16), nullable=False),
        sa.Column("not_after", sa.Float(), nullable=False),
    )
    op.create_table(
        "seal_history",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "seal_id",
            sa.String(32),
            sa.ForeignKey("seal_record.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("actor", sa.String(150), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("seal_history")
    op.drop_table("seal_certificate")
    op.drop_table("seal_record")
