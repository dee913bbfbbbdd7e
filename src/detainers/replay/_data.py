"""Opening a replay data folder (``detainers synth`` output, or the same four tables from real exports)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from detainers.law.bulk import SCHEMAS

__all__ = ["DataError", "open_data"]


class DataError(ValueError):
    """A data folder without the tables replay needs, or with columns missing."""


def open_data(folder: Path, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """Views ``bookings``, ``detainers``, ``convictions``, ``charges`` (and ``facilities`` when present)."""
    con = con or duckdb.connect()
    if not folder.is_dir():
        raise DataError(f"{folder}: not a folder (expected the output of `detainers synth` or the same tables)")
    for name, schema in SCHEMAS.items():
        path = folder / f"{name}.parquet"
        if not path.exists():
            raise DataError(f"{folder}: {name}.parquet is missing")
        quoted = str(path).replace("'", "''")
        con.execute(f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet('{quoted}')")
        have = {row[0] for row in con.execute(f"DESCRIBE {name}").fetchall()}
        missing = [f.name for f in schema if f.name not in have]
        if missing:
            raise DataError(f"{path}: missing columns {', '.join(missing)}")
    facilities = folder / "facilities.parquet"
    if facilities.exists():
        quoted = str(facilities).replace("'", "''")
        con.execute(f"CREATE OR REPLACE VIEW facilities AS SELECT * FROM read_parquet('{quoted}')")
    else:
        con.execute(
            "CREATE OR REPLACE VIEW facilities AS SELECT DISTINCT facility_id, facility_id AS name FROM bookings"
        )
    return con
