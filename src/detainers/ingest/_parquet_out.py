"""How an import's rows reach disk: row hashes computed beside the canonical columns (``HashFeed``), Parquet files
written by pyarrow per row group with per-column settings (``write_parquet``), and the rejects CSV."""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from detainers.ingest._provenance import (
    ROW_HASH,
    row_hash_array,
)
from detainers.ingest._tabular import ROW, RawReject

__all__ = ["HashFeed", "Hashes", "write_parquet", "write_rejects"]


#: Row group number -> that group's row hashes (an Arrow binary array).
Hashes = Callable[[int], "pa.Array | pa.ChunkedArray"]


class HashFeed:
    """Row hashes of ``frame`` (``columns``), computed in a background thread one row group at a time.

    Used as a context manager: on exit, groups not yet started are cancelled and the thread is joined.
    :meth:`for_rows` gives the hashes of the rows that survived validation, by row group of the written file.
    """

    def __init__(self, frame: pl.DataFrame, columns: list[str]) -> None:
        self._rows = frame.get_column(ROW)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="row-hash")
        # An in-memory DuckDB connection used by the one worker thread only, opened there (~10 ms off this thread).
        self._con: list[duckdb.DuckDBPyConnection] = []
        # The columns as they are, not ``select``ed: a select would first copy every column into one chunk
        # (~0.02-0.05 s), while the join below runs on the parser's chunks in parallel.
        source = pl.DataFrame([frame.get_column(name) for name in columns])
        self._groups: list[Future[pa.Array]] = [
            self._pool.submit(self._hash, source.slice(start, _ROW_GROUP), columns)
            for start in range(0, frame.height, _ROW_GROUP)
        ]

    def _hash(self, part: pl.DataFrame, columns: list[str]) -> pa.Array:
        if not self._con:
            self._con.append(duckdb.connect())
        return row_hash_array(part, columns, self._con[0])

    def __enter__(self) -> HashFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        for group in self._groups:
            group.cancel()
        self._pool.shutdown(wait=True)
        for con in self._con:
            con.close()

    def for_rows(self, rows: pl.Series) -> Hashes:
        """The hashes of ``rows`` (row numbers, in order, a subset of the frame's), by row group of ``rows``."""
        if rows.len() == 0:
            return lambda _index: pa.nulls(0, pa.large_binary())
        if rows.len() == self._rows.len():  # no row was rejected: the frame's own groups
            return lambda index: self._groups[index].result()
        # Rows were rejected: all hashes, then those of the kept rows (row numbers are unique and in order).
        keep = self._rows.is_in(rows).to_arrow()
        kept = pa.chunked_array([group.result() for group in self._groups], type=pa.large_binary()).filter(keep)
        return lambda index: kept.slice(index * _ROW_GROUP, _ROW_GROUP)


def write_parquet(
    frame: pl.DataFrame,
    raw_columns: Sequence[str],
    provenance: dict[str, str | None],
    columns: dict[str, pl.DataType],
    dest: Path,
    hashes: Hashes | None = None,
) -> None:
    """Provenance + canonical columns to Parquet; ``row_hash`` = md5 digest (16 bytes) of the raw cells joined by
    U+001F.

    The hashes come with the frame (column ``ROW_HASH``), from ``hashes`` (row group *k*'s hashes, made elsewhere
    while this frame was being built: see :class:`HashFeed`) or are computed here by
    :func:`~detainers.ingest._provenance.row_hashes`, one row group at a time: while pyarrow writes row group *k*
    (one core, GIL released), DuckDB hashes row group *k + 1* on the others. pyarrow writes from the frame's own
    Arrow buffers (no copy), with settings per column: the constant provenance columns go in as one-value
    dictionaries (nothing to hash or compress per row), ``row_hash`` (random bytes) is neither dictionary-encoded,
    compressed nor given min/max statistics. The file's Parquet types are those Polars wrote before (strings, DATE,
    INT64, BYTE_ARRAY, UTC timestamps); no Arrow schema is stored, so every reader sees plain columns, not
    dictionaries.
    """
    # Canonical columns that are null in every row (the source does not have them, or every cell was blank or
    # redacted) are not written: readers (``connect``/``table``) add them back as typed NULLs, which costs nothing,
    # while writing all-null columns cost a quarter of an NPR import's Parquet write. (null_count is known, O(1).)
    present = {
        name: dtype
        for name, dtype in columns.items()
        if name in frame.columns and (frame.height == 0 or frame.get_column(name).null_count() < frame.height)
    }
    # Several input files (labelled charge files, blocks): each row names its own file and that file's hash.
    per_row = "__source_file" in frame.columns
    body = frame.select(
        *([pl.col("__source_file").alias("source_file")] if per_row else []),
        pl.col(ROW).cast(pl.Int64).alias("source_row"),
        *([pl.col("__source_sha256").alias("source_sha256")] if per_row else []),
        *([pl.col(ROW_HASH).alias("row_hash")] if ROW_HASH in frame.columns else []),
        *[pl.col(name).cast(dtype) for name, dtype in present.items()],
    )
    hash_input = frame.select(raw_columns)

    def group(start: int) -> pa.Table:
        """Rows ``start`` .. ``start + _ROW_GROUP`` as the Arrow table written."""
        part = body.slice(start, _ROW_GROUP)
        arrow = part.to_arrow(compat_level=pl.CompatLevel.newest())
        rows = part.height
        if "row_hash" in arrow.column_names:
            row_hash: pa.Array | pa.ChunkedArray = arrow.column("row_hash")
        elif hashes is not None:
            row_hash = hashes(start // _ROW_GROUP)
        else:
            if not con:
                con.append(duckdb.connect())  # in memory: the row hashes, opened when first needed
            row_hash = row_hash_array(hash_input.slice(start, _ROW_GROUP), raw_columns, con[0])
        if len(row_hash) != rows:
            raise AssertionError(f"{len(row_hash)} row hashes for {rows} rows")  # pragma: no cover - a bug

        def provenance_column(name: str) -> pa.Array | pa.ChunkedArray:
            if name in arrow.column_names:
                return arrow.column(name)
            value = provenance.get(name)
            return _constant(value if name == "source_sheet" else value or "", rows)

        return pa.table(
            {
                "source_file": provenance_column("source_file"),
                "source_sheet": provenance_column("source_sheet"),
                "source_row": arrow.column("source_row"),
                "source_sha256": provenance_column("source_sha256"),
                "row_hash": row_hash,
                **{name: arrow.column(name) for name in present},
            }
        )

    con: list[duckdb.DuckDBPyConnection] = []
    try:
        _write_groups(group, frame.height, dest)
    finally:
        for each in con:
            each.close()


def _write_groups(group: Callable[[int], pa.Table], rows: int, dest: Path) -> None:
    """Write ``group(0)``, ``group(_ROW_GROUP)``, ... as row groups: each made while the one before is written."""
    first = group(0)
    names = first.column_names
    settings: dict[str, object] = {
        "compression": {name: "none" if name == "row_hash" else "lz4" for name in names},
        "use_dictionary": [name for name in names if name not in {"row_hash", "source_row"}],
        "write_statistics": [name for name in names if name != "row_hash"],
        "store_schema": False,
    }
    with (
        pq.ParquetWriter(dest, first.schema, **settings) as writer,
        ThreadPoolExecutor(1, thread_name_prefix="parquet") as pool,
    ):
        pending = pool.submit(writer.write_table, first, row_group_size=_ROW_GROUP)
        for start in range(_ROW_GROUP, rows, _ROW_GROUP):
            table = group(start)  # hashed while the previous row group is written
            pending.result()
            pending = pool.submit(writer.write_table, table, row_group_size=_ROW_GROUP)
        pending.result()


#: Rows per Parquet row group (what Polars' writer used before: 512 * 512).
_ROW_GROUP = 262_144


def _constant(value: str | None, rows: int) -> pa.Array:
    """``rows`` copies of one string as a one-value dictionary (indices all zero), or a null string column."""
    if value is None:
        return pa.nulls(rows, pa.string())
    indices = pa.py_buffer(np.zeros(rows, dtype=np.int32))  # zeroed pages: no per-row work
    text = value.encode()
    # Built from buffers: pa.array() on Python objects would import pandas (~1 s, once per process).
    offsets = pa.py_buffer(np.array([0, len(text)], dtype=np.int32))
    dictionary = pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(text)])
    return pa.DictionaryArray.from_buffers(
        pa.dictionary(pa.int32(), pa.string()), rows, [None, indices], dictionary=dictionary
    )


def write_rejects(dest: Path, rejects: list[tuple[str, RawReject]], sheet: str | None) -> None:
    with dest.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_file", "source_sheet", "source_row", "reason", "raw"])
        for file, reject in rejects:
            writer.writerow([file, sheet or "", reject.source_row or "", reject.reason, reject.text])
