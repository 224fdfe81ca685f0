"""storage: ephemeral store and outbox tables

Revision ID: storage_0001
Revises:
Create Date: 2025-11-28

Explicit columns only (no model imports), so this revision keeps meaning what it meant today
after the models change. Portable to SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "storage_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("storage",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"

    op.create_table(
        "ephemeral_entry",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=True),
        sa.Column("counter", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_ephemeral_entry"),
    )
    op.create_index("ix_ephemeral_entry_expires_at", "ephemeral_entry", ["expires_at"])

    # txid: the writing transaction on PostgreSQL (consumers read only finished transactions,
    # so ids that commit out of order are never skipped); always 0 on SQLite.
    txid_default = sa.text("txid_current()") if postgresql else sa.text("0")
    op.create_table(
        "outbox_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False, server_default=txid_default),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_event"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_event_topic", "outbox_event", ["topic"])
    op.create_index("ix_outbox_event_txid_id", "outbox_event", ["txid", "id"])

    op.create_table(
        "outbox_consumer",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("position_txid", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("name", name="pk_outbox_consumer"),
    )

    op.create_table(
        "outbox_retry",
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("dead", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("consumer", "event_id", name="pk_outbox_retry"),
        sa.ForeignKeyConstraint(
            ["consumer"],
            ["outbox_consumer.name"],
            name="fk_outbox_retry_consumer_outbox_consumer",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["outbox_event.id"],
            name="fk_outbox_retry_event_id_outbox_event",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_outbox_retry_due", "outbox_retry", ["consumer", "dead", "next_at"])


def downgrade() -> None:
    op.drop_table("outbox_retry")
    op.drop_table("outbox_consumer")
    op.drop_table("outbox_event")
    op.drop_table("ephemeral_entry")
