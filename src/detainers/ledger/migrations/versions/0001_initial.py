"""Initial schema: ledger, chain head, personal data, projections, outbox, offices, tokens, attachments.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ledger_events",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("stream_id", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("authority", sa.String(16), nullable=False),
        sa.Column("subject_key", sa.String(40), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("rules", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("stream_id", "version", name="uq_ledger_stream_version"),
    )
    op.create_index("ix_ledger_events_subject_key", "ledger_events", ["subject_key"])
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.execute(sa.text("INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '" + "0" * 64 + "')"))
    op.create_table(
        "personal_data",
        sa.Column("subject_key", sa.String(40), primary_key=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "personal_access_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject_key", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("purpose", sa.String(300), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
    )
    op.create_index("ix_personal_access_log_subject_key", "personal_access_log", ["subject_key"])
    op.create_table(
        "detainer_view",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("office", sa.String(64), nullable=False),
        sa.Column("form", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("jurisdiction", sa.String(120), nullable=True),
        sa.Column("booking_id", sa.String(40), nullable=True),
        sa.Column("received_at", sa.String(32), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    for column in ("office", "status", "jurisdiction", "booking_id", "received_at"):
        op.create_index(f"ix_detainer_view_{column}", "detainer_view", [column])
    op.create_table(
        "booking_view",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("booking_number", sa.String(64), nullable=False),
        sa.Column("jurisdiction", sa.String(120), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    for column in ("booking_number", "jurisdiction", "status", "active"):
        op.create_index(f"ix_booking_view_{column}", "booking_view", [column])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("idempotency_key", sa.String(120), nullable=False, unique=True),
        sa.Column("booking_id", sa.String(40), nullable=False),
        sa.Column("detainer_id", sa.String(40), nullable=False),
        sa.Column("office", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("sent_at", sa.String(32), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
    )
    for column in ("office", "status", "next_attempt_at"):
        op.create_index(f"ix_outbox_{column}", "outbox", [column])
    op.create_table(
        "agency_offices",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("webhook_url", sa.String(300), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
    )
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.String(16), primary_key=True),
        sa.Column("hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("office", sa.String(64), nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
    )
    op.create_table(
        "attachments",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("detainer_id", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_attachments_detainer_id", "attachments", ["detainer_id"])


def downgrade() -> None:
    for table in (
        "attachments",
        "api_tokens",
        "agency_offices",
        "outbox",
        "booking_view",
        "detainer_view",
        "personal_access_log",
        "personal_data",
        "ledger_head",
        "ledger_events",
    ):
        op.drop_table(table)
