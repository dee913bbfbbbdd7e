"""Natural keys (unique office + ICE event number, jurisdiction + booking number) and idempotency keys.

Existing records get their natural keys from the views; where two already share one, the first recorded keeps it
(the later one is left without, so the upgrade never fails on old duplicates).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "natural_keys",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("natural_key", sa.String(200), primary_key=True),
        sa.Column("record_id", sa.String(40), nullable=False),
    )
    op.create_index("ix_natural_keys_record_id", "natural_keys", ["record_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(80), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("record_kind", sa.String(16), nullable=False),
        sa.Column("record_id", sa.String(40), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    bind = op.get_bind()
    keys = sa.table("natural_keys", sa.column("kind"), sa.column("natural_key"), sa.column("record_id"))
    seen: set[tuple[str, str]] = set()
    rows: list[dict[str, str]] = []
    detainers = bind.execute(sa.text("SELECT id, data FROM detainer_view ORDER BY received_at, id"))
    for ident, data in detainers:
        state = json.loads(data)
        if state.get("ice_event_no") and state.get("office"):
            key = ("detainer", f"{state['office']}\x1f{state['ice_event_no']}")
            if key not in seen:
                seen.add(key)
                rows.append({"kind": key[0], "natural_key": key[1], "record_id": ident})
    bookings = bind.execute(sa.text("SELECT id, data FROM booking_view ORDER BY id"))
    for ident, data in bookings:
        state = json.loads(data)
        key = ("booking", f"{state.get('jurisdiction')}\x1f{state.get('booking_number')}")
        if key not in seen:
            seen.add(key)
            rows.append({"kind": key[0], "natural_key": key[1], "record_id": ident})
    if rows:
        op.bulk_insert(keys, rows)


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("natural_keys")
