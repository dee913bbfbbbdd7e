"""Alembic environment: always run with a connection passed in ``config.attributes`` (see ``upgrade``)."""

from __future__ import annotations

from alembic import context

from detainers.ledger._schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the bare alembic CLI
    raise RuntimeError("run migrations through `detainers db upgrade`")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
