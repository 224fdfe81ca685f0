"""Market entities: entities, their members, review history and members' sealed mobiles.

Explicit columns only (no model imports), so this revision keeps meaning what it means today.
The `account` table is left as it is; its plain `phone` column moves to sealed storage later.
"""

import sqlalchemy as sa
from alembic import op

revision = "idp_0002"
down_revision = "idp_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "market_entity",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("uscc", sa.String(18)),
        sa.Column("id_type", sa.String(32)),
        sa.Column("id_number_sealed", sa.LargeBinary),
        sa.Column("id_number_index", sa.String(64)),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("registry_checked_at", sa.Float),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("uscc", name="uq_market_entity_uscc"),
        sa.UniqueConstraint("id_type", "id_number_index", name="uq_market_entity_id_type"),
    )
    op.create_table(
        "entity_member",
        sa.Column(
            "entity_id",
            sa.String(36),
            sa.ForeignKey("market_entity.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "entity_review",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "entity_id",
            sa.String(36),
            sa.ForeignKey("market_entity.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("actor", sa.String(150), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("at", sa.Float, nullable=False),
    )
    op.create_table(
        "entity_contact",
        sa.Column(
            "entity_id",
            sa.String(36),
            sa.ForeignKey("market_entity.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("phone_sealed", sa.LargeBinary, nullable=False),
        sa.Column("phone_index", sa.String(64), nullable=False, index=True),
        sa.Column("verified_at", sa.Float),
    )


def downgrade() -> None:
    for table in ("entity_contact", "entity_review", "entity_member", "market_entity"):
        op.drop_table(table)
