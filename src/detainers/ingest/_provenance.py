"""Where every imported row came from: file, sheet, row number and content hashes; atomic file writes.

Row numbers follow what a person sees in a spreadsheet: in a CSV or sheet with a header on row 1 the first data
row is row 2 (a quoted value spanning several lines still counts as one row); in a Parquet file, where there is no
header, the first record is row 1.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

__all__ = [
    "PROVENANCE_COLUMNS",
    "ROW_HASH",
    "atomic_path",
    "file_sha256",
    "row_hashes",
]

#: Columns every imported table carries, in this order, before its own columns.
PROVENANCE_COLUMNS: tuple[str, ...] = ("source_file", "source_sheet", "source_row", "source_sha256", "row_hash")

#: Name of the precomputed row-hash column a loader may hand to the store (becomes ``row_hash``).
ROW_HASH = "__row_hash"

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, hex. Two files with the same bytes are the same import."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def row_hashes(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """``row_hash`` of every row: md5 (hex) of the cells of ``columns`` joined by U+001F, nulls as empty strings.

    The same as ``hashlib.md5("\\x1f".join(cells).encode()).hexdigest()`` per row. DuckDB computes it (in parallel,
    row order kept) on its own in-memory connection, so it may run in a thread beside other work.
    """
    if not columns:
        return pl.Series(ROW_HASH, [hashlib.md5(b"").hexdigest()] * frame.height, dtype=pl.String)
    # concat() reads NULL as the empty string (cheaper than concat_ws over coalesce(cell, ''), same bytes)
    cells = ", chr(31), ".join('"' + name.replace('"', '""') + '"' for name in columns)
    with duckdb.connect() as con:
        con.register("__raw", frame.select(columns).to_arrow())
        table = con.sql(f"SELECT md5(concat({cells})) AS {ROW_HASH} FROM __raw").to_arrow_table()
    hashes = pl.from_arrow(table)
    assert isinstance(hashes, pl.DataFrame) and hashes.height == frame.height
    return hashes.get_column(ROW_HASH)


@contextmanager
def atomic_path(dest: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; on success it is fsynced and renamed onto ``dest`` in one step.

    If the body raises (or the process dies), ``dest`` is untouched and the temporary file is removed (or left with
    a ``.tmp`` suffix that :meth:`detainers.ingest.Store.repair` deletes).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    finally:
        tmp.unlink(missing_ok=True)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
