"""Test support shared by the ledger and service suites: a throwaway PostgreSQL schema per test run.

PostgreSQL tests read ``DETAINERS_TEST_POSTGRES_URL``; when it is unset or the server does not answer, they are
skipped with a message saying so (CI always sets it).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from sqlalchemy import create_engine, text

__all__ = ["POSTGRES_ENV", "postgres_unavailable", "temporary_postgres_schema"]

POSTGRES_ENV = "DETAINERS_TEST_POSTGRES_URL"


def postgres_unavailable() -> str | None:
    """Why PostgreSQL tests cannot run here, or None when they can."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        return f"{POSTGRES_ENV} is not set; PostgreSQL tests skipped (CI sets it)"
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as error:  # noqa: BLE001 - any failure means "cannot run here"
        return f"PostgreSQL at {POSTGRES_ENV} unreachable ({type(error).__name__}); PostgreSQL tests skipped"
    return None


@contextmanager
def temporary_postgres_schema() -> Iterator[str]:
    """Create a fresh schema, yield a database URL whose search path is that schema, drop it afterwards."""
    base = os.environ[POSTGRES_ENV]
    schema = "t_" + secrets.token_hex(6)
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
