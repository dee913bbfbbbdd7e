"""PostgreSQL round trips under the chain lock: psycopg's pipeline mode, and rows written without SQLAlchemy's
per-call work.

Every writer waits for the chain lock, so what a writer does while holding it sets the ledger's throughput. On
PostgreSQL (through psycopg 3) the recorder sends the lock and the version reads in one pipeline, and the
deferred rows and ``COMMIT`` in another: each is one round trip, however many statements it holds. The rows go
through psycopg's ``executemany`` with the SQL that SQLAlchemy compiled once per statement and column set, so the
server runs one prepared statement per table instead of parsing a new multi-row ``INSERT`` each time. Every
column the ledger writes is a plain string, integer or boolean, so no SQLAlchemy type processing is skipped.

On any other backend or driver these helpers fall back to SQLAlchemy's ``Connection.execute``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.dml import UpdateBase

__all__ = ["driver_of", "execute_rows", "unique_violation"]

# (statement identity, column keys) → the SQL and the values bound in the statement itself (``WHERE id = 1``).
_COMPILED: dict[tuple[int, tuple[str, ...]], tuple[str, dict[str, Any]]] = {}


def driver_of(conn: Connection) -> Any:
    """The psycopg 3 connection under ``conn`` (PostgreSQL), or None when pipelining is not available."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return None
    return conn.connection.driver_connection


def execute_rows(conn: Connection, statement: UpdateBase, rows: Sequence[dict[str, Any]]) -> None:
    """Run ``statement`` once per row (an executemany), rows grouped by their keys.

    On psycopg this queues the rows in the pipeline the caller opened (or sends them at once without one); the
    statement must be one of the module-level constants the ledger builds once (the compiled SQL is cached by
    the statement's identity).
    """
    if not rows:
        return
    driver = driver_of(conn)
    if driver is None:
        conn.execute(statement, list(rows))
        return
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for keys, group in groups.items():
        cache_key = (id(statement), keys)
        compiled = _COMPILED.get(cache_key)
        if compiled is None:
            done = statement.compile(dialect=conn.dialect, column_keys=list(keys))
            fixed = {name: value for name, value in done.params.items() if name not in keys}
            compiled = _COMPILED[cache_key] = (str(done), fixed)
        sql, fixed = compiled
        # The cursor is not closed here: inside a pipeline its results only arrive at the caller's sync.
        driver.cursor().executemany(sql, [{**fixed, **row} for row in group] if fixed else group)


def unique_violation(error: BaseException) -> bool:
    """A unique index refused a row: psycopg's error (raised when a pipeline syncs), or SQLAlchemy's wrapping
    psycopg's or sqlite3's."""
    for cause in (error, getattr(error, "orig", None)):
        if getattr(cause, "sqlstate", None) == "23505":
            return True
        if getattr(cause, "sqlite_errorname", None) in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"):
            return True
    return False
