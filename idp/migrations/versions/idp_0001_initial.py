"""Identity provider: clients, accounts, consent, signing keys, grants, refresh tokens, audit."""

import sqlalchemy as sa
from alembic import op

revision = "idp_0001"
down_revision = None
branch_labels = ("idp",)
depends_on = "storage_0001"


def upgrade() -> None:
    op.create_table(
        "oauth_client",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("secret_hash", sa.String(128)),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("redirect_uris", sa.JSON, nullable=False),
        sa.Column("post_logout_redirect_uris", sa.JSON, nullable=False),
        sa.Column("backchannel_logout_uri", sa.String(2000)),
        sa.Column("grant_types", sa.JSON, nullable=False),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(40), nullable=False),
        sa.Column("jwks", sa.JSON),
        sa.Column("trusted", sa.Boolean, nullable=False),
        sa.Column("id_token_signed_response_alg", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "account",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("username", sa.String(150), nullable=False, unique=True),
        sa.Column("name", sa.String(200)),
        sa.Column("phone", sa.String(32)),
        sa.Column("email", sa.String(254)),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "consent",
        sa.Column(
            "user_id",
            sa.String(36),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "client_id",
            sa.String(64),
            sa.ForeignKey("oauth_client.client_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("scopes", sa.JSON, nullable=False),
        sa.Column("granted_at", sa.Float, nullable=False),
    )
    op.create_table(
        "signing_key",
        sa.Column("kid", sa.String(64), primary_key=True),
        sa.Column("alg", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("private_sealed", sa.LargeBinary, nullable=False),
        sa.Column("public_jwk", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("retired_at", sa.Float),
    )
    op.create_table(
        "oauth_grant",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "client_id",
            sa.String(64),
            sa.ForeignKey("oauth_client.client_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "user_id",
            sa.String(36),
            sa.ForeignKey("account.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("sid", sa.String(64), index=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("auth_time", sa.Float, nullable=False),
        sa.Column("acr", sa.String(100)),
        sa.Column("amr", sa.JSON, nullable=False),
        sa.Column("claims", sa.JSON),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("revoked_at", sa.Float),
        sa.Column("revoke_reason", sa.String(100)),
    )
    op.create_table(
        "refresh_token",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column(
            "grant_id",
            sa.String(36),
            sa.ForeignKey("oauth_grant.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("issued_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float, nullable=False, index=True),
        sa.Column("kind", sa.String(50), nullable=False, index=True),
        sa.Column("user_id", sa.String(36)),
        sa.Column("username", sa.String(150)),
        sa.Column("client_id", sa.String(64)),
        sa.Column("ip", sa.String(64)),
        sa.Column("detail", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "audit_event",
        "refresh_token",
        "oauth_grant",
        "signing_key",
        "consent",
        "account",
        "oauth_client",
    ):
        op.drop_table(table)
