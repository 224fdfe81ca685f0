"""Mobile devices enrolled for QR-code login: one public key (ECDSA P-256 or SM2) per device.

Explicit columns only (no model imports), so this revision keeps meaning what it means today.
Tickets, enrollments and the nonce replay cache expire and live in the ephemeral store, not here.
"""

import sqlalchemy as sa
from alembic import op

revision = "idp_0005"
down_revision = "idp_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mobile_device",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "account_id",
            sa.String(36),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("algorithm", sa.String(16), nullable=False),
        sa.Column("public_key", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_used_at", sa.Float),
        sa.Column("revoked_at", sa.Float),
        sa.Column("revoked_by", sa.String(150)),
        sa.Column("revoked_reason", sa.String(500)),
    )


def downgrade() -> None:
    op.drop_table("mobile_device")
