"""Authentication that holds under attack: token expiry, a server key for HMAC token hashes, browser sessions.

``api_tokens`` gains ``expires_at``. Existing rows keep their argon2 hashes: such a token still signs in (its
failures rate-limited like any other) and is re-hashed with HMAC-SHA256 on its first successful use, so no token
has to be re-issued. ``server_secrets`` holds the HMAC key, generated here once per database (a key in the
``DETAINERS_TOKEN_KEY`` environment variable takes precedence; see docs/security.md). ``web_sessions`` holds the
web desk's sessions by the SHA-256 of their id: the cookie carries the id, never the API token.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("expires_at", sa.String(32), nullable=True))
    op.create_table(
        "server_secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
    )
    secrets_table = sa.table("server_secrets", sa.column("name"), sa.column("value"))
    op.bulk_insert(secrets_table, [{"name": "token_hmac_key", "value": secrets.token_hex(32)}])
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("token_id", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
    )
    op.create_index("ix_web_sessions_token_id", "web_sessions", ["token_id"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_token_id", "web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("server_secrets")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
