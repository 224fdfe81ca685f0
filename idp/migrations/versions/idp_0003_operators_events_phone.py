"""Operators, entity-event subscriptions, and the account's mobile in sealed form.

- `account.operator`: may use the operator pages (review queue, entities).
- `oauth_client.entity_events_uri`: where a trading platform wants signed entity change events.
- `account.phone_sealed` / `account.phone_index`: the mobile encrypted at rest with a blind
  index. Moving existing plain values needs the master secret, which migrations do not have:
  `huren db upgrade` seals them right after this revision (`idp.accounts.seal_plain_phones`)
  and empties `account.phone`, which a later revision drops.
"""

import sqlalchemy as sa
from alembic import op

revision = "idp_0003"
down_revision = "idp_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("account") as batch:
        batch.add_column(
            sa.Column("operator", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("phone_sealed", sa.LargeBinary))
        batch.add_column(sa.Column("phone_index", sa.String(64)))
        batch.create_index("ix_account_phone_index", ["phone_index"])
    with op.batch_alter_table("oauth_client") as batch:
        batch.add_column(sa.Column("entity_events_uri", sa.String(2000)))


def downgrade() -> None:
    with op.batch_alter_table("oauth_client") as batch:
        batch.drop_column("entity_events_uri")
    with op.batch_alter_table("account") as batch:
        batch.drop_index("ix_account_phone_index")
        batch.drop_column("phone_index")
        batch.drop_column("phone_sealed")
        batch.drop_column("operator")
