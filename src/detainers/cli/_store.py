"""Open the database for a command, without creating anything a read-only command should not create."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, inspect
from sqlalchemy.engine import make_url

from detainers.cli._errors import CliError, missing_schema_message

__all__ = ["open_existing", "sqlite_file", "writable_location"]


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL, ``:memory:`` and ``file:`` URIs)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if str(parsed.database).startswith("file:"):
        return None
    return Path(str(parsed.database))


def writable_location(url: str) -> None:
    """Refuse, in one line, a SQLite file whose directory does not exist (SQLite would say only "unable to open")."""
    path = sqlite_file(url)
    if path is not None and not path.parent.is_dir():
        raise CliError(f"directory {path.parent} does not exist (create it, or choose another --db)", code=2)


def open_existing(url: str) -> Engine:
    """An engine on a database that already holds the ledger; one line naming `detainers db upgrade` otherwise.

    Never creates the SQLite file (SQLite makes one on connect), so a read-only command in the wrong directory
    leaves nothing behind.
    """
    from detainers.ledger import make_engine, redact_url

    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise CliError(missing_schema_message(redact_url(url)))
    engine = make_engine(url)
    try:
        tables = set(inspect(engine).get_table_names())
    except Exception:
        engine.dispose()
        raise
    if "ledger_head" not in tables:
        engine.dispose()
        raise CliError(missing_schema_message(redact_url(url)))
    return engine
