"""Tables (SQLAlchemy Core). The migrations in ``migrations/versions`` create exactly these; a test compares them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "access_log",
    "attachments",
    "booking_view",
    "detainer_view",
    "events",
    "head",
    "idempotency",
    "metadata",
    "natural_keys",
    "offices",
    "outbox",
    "personal_data",
    "server_secrets",
    "tokens",
    "web_sessions",
]

metadata = MetaData()

# The ledger proper: append-only, one global sequence, a stream version per detainer/booking/person.
events = Table(
    "ledger_events",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("stream_id", String(80), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(40), nullable=False),
    Column("recorded_at", String(32), nullable=False),
    Column("actor", String(80), nullable=False),
    Column("authority", String(16), nullable=False),
    Column("subject_key", String(40), nullable=True, index=True),
    Column("payload", Text, nullable=False),
    Column("rules", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_ledger_stream_version"),
)

# One row: the chain head. Appenders lock it (FOR UPDATE / BEGIN IMMEDIATE) so the chain stays linear.
head = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
)

# Personal data, apart from the events; erasure deletes the row.
personal_data = Table(
    "personal_data",
    metadata,
    Column("subject_key", String(40), primary_key=True),
    Column("data", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
)

# Every read of personal data (also chained as a personal_data_read event); kept after erasure.
access_log = Table(
    "personal_access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_key", String(40), nullable=False, index=True),
    Column("actor", String(80), nullable=False),
    Column("role", String(20), nullable=False),
    Column("purpose", String(300), nullable=False),
    Column("at", String(32), nullable=False),
)

# Projections: current state, rebuilt from events. ``data`` is the full state as JSON; the other columns index it.
detainer_view = Table(
    "detainer_view",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("office", String(64), nullable=False, index=True),
    Column("form", String(40), nullable=False),
    Column("status", String(20), nullable=False, index=True),
    Column("jurisdiction", String(120), nullable=True, index=True),
    Column("booking_id", String(40), nullable=True, index=True),
    Column("received_at", String(32), nullable=False, index=True),
    Column("data", Text, nullable=False),
)

booking_view = Table(
    "booking_view",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("booking_number", String(64), nullable=False, index=True),
    Column("jurisdiction", String(120), nullable=False, index=True),
    Column("status", String(20), nullable=False, index=True),
    Column("active", Boolean, nullable=False, index=True),
    Column("data", Text, nullable=False),
)

# Outbound notices: written in the same transaction as the notification_queued event, delivered with retries.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("idempotency_key", String(120), nullable=False, unique=True),
    Column("booking_id", String(40), nullable=False),
    Column("detainer_id", String(40), nullable=False),
    Column("office", String(64), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("target", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", String(32), nullable=False, index=True),
    Column("created_at", String(32), nullable=False),
    Column("sent_at", String(32), nullable=True),
    Column("last_error", String(500), nullable=True),
)

offices = Table(
    "agency_offices",
    metadata,
    Column("code", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("webhook_url", String(300), nullable=True),
    Column("email", String(200), nullable=True),
)

tokens = Table(
    "api_tokens",
    metadata,
    Column("token_id", String(16), primary_key=True),
    Column("hash", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("office", String(64), nullable=True),
    Column("label", String(200), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
    Column("expires_at", String(32), nullable=True),
)

# The HMAC key of API token hashes (one row, made by migration 0003), unless DETAINERS_TOKEN_KEY gives one.
server_secrets = Table(
    "server_secrets",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", String(200), nullable=False),
)

# The web desk's signed-in browsers: the SHA-256 of the session id in the cookie, whose token, until when.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("token_id", String(16), nullable=False, index=True),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("detainer_id", String(40), nullable=False, index=True),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary, nullable=False),
)

# A record's natural key (a detainer: office + ICE event number; a booking: jurisdiction + booking number), unique,
# written in the transaction that creates the record or corrects a field of its key.
natural_keys = Table(
    "natural_keys",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("natural_key", String(200), primary_key=True),
    Column("record_id", String(40), nullable=False, index=True),
)

# Creates sent with an Idempotency-Key: the request's fingerprint, the record made (written with it, in the same
# transaction) and the response given (stored just after), so a retry gets the same answer and creates nothing.
idempotency = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(80), primary_key=True),  # who sent it (the token's actor), so keys never collide
    Column("key", String(200), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(300), nullable=False),
    Column("record_kind", String(16), nullable=False),
    Column("record_id", String(40), nullable=False),
    Column("status", Integer, nullable=True),
    Column("response", Text, nullable=True),
    Column("created_at", String(32), nullable=False),
)
