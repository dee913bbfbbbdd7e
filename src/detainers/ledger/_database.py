"""One database URL picks the backend: SQLite (WAL, embedded default) or PostgreSQL (multi-user)."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url

__all__ = [
    "DEFAULT_URL",
    "ENV_VAR",
    "database_url",
    "is_postgres",
    "is_sqlite",
    "make_engine",
    "redact_url",
    "upgrade",
    "write_connection",
    "writer_lock",
]

ENV_VAR = "DETAINERS_DATABASE_URL"
DEFAULT_URL = "sqlite:///detainers.db"
_MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(explicit: str | None = None) -> str:
    """``--db`` wins, then ``DETAINERS_DATABASE_URL``, then ``detainers.db`` in the working directory.

    A bare path (no ``://``) means a SQLite file.
    """
    url = explicit or os.environ.get(ENV_VAR) or DEFAULT_URL
    if "://" not in url:
        url = f"sqlite:///{url}"
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def redact_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def make_engine(url: str, *, schema: str | None = None, pool_size: int = 10) -> Engine:
    """An engine with the backend's concurrency settings.

    SQLite: WAL journal, a 10 s busy timeout, and transactions the engine begins itself so that writers can ask
    for ``BEGIN IMMEDIATE`` (see :func:`write_connection`). PostgreSQL: ``schema`` sets the search path (tests use
    a fresh schema per run).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            if parsed.database not in (None, "", ":memory:"):
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

        return engine
    connect_args: dict[str, Any] = {}
    if schema:
        connect_args["options"] = f"-csearch_path={schema}"
    return create_engine(url, connect_args=connect_args, pool_size=pool_size, max_overflow=20, pool_pre_ping=False)


def write_connection(engine: Engine) -> Connection:
    """A connection whose transaction takes the write lock at BEGIN on SQLite (no lock upgrade deadlocks)."""
    conn = engine.connect()
    if is_sqlite(engine):
        conn = conn.execution_options(sqlite_begin="IMMEDIATE")
    return conn


_WRITER_LOCKS: dict[str, tuple[threading.Lock, int]] = {}
_WRITER_LOCKS_GUARD = threading.Lock()


@contextmanager
def writer_lock(engine: Engine) -> Iterator[None]:
    """Queue for the database's write lock without SQLite's busy handler (SQLite files only; a no-op elsewhere).

    SQLite's busy handler polls, sleeping up to 100 ms between tries, so writers from several processes that meet
    at ``BEGIN IMMEDIATE`` wait far longer than the lock is held. Cooperating writers first take an exclusive
    ``flock`` on ``<database>-writer.lock`` (the kernel wakes the next one at once), then begin. Writers that do
    not take it are still correct: they wait in the busy handler as before.
    """
    database = engine.url.database
    if not is_sqlite(engine) or database in (None, "", ":memory:") or str(database).startswith("file:"):
        yield
        return
    path = os.path.abspath(str(database)) + "-writer.lock"
    with _WRITER_LOCKS_GUARD:
        entry = _WRITER_LOCKS.get(path)
        if entry is None:
            entry = (threading.Lock(), os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
            _WRITER_LOCKS[path] = entry
    guard, descriptor = entry
    with guard:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations shipped inside the package (``detainers db upgrade``; also on startup)."""
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        if is_postgres(conn):
            # Serialise concurrent upgrades (several workers starting at once).
            conn.execute(text("SELECT pg_advisory_xact_lock(724701)"))
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def current_tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())
