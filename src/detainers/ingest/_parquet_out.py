"""How an import's rows reach disk: row hashes computed beside the canonical columns (``HashFeed``), Parquet files
written by pyarrow per row group with per-column settings (``write_parquet``), and the rejects CSV."""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from detainers.ingest._provenance import (
    ROW_HASH,
    row_hash_array,
)
from detainers.ingest._tabular import ROW, RawReject

__all__ = ["ROW_GROUP", "HashFeed", "RowGroups", "write_parquet", "write_rejects", "write_row_groups"]


class HashFeed:
    """Row hashes of ``frame`` (``columns``), computed in two background threads, one row group at a time each.

    Used as a context manager: on exit, groups not yet started are cancelled and the threads are joined.
    :meth:`for_group` gives the hashes of the rows of one row group that survived validation.
    """

    def __init__(self, frame: pl.DataFrame, columns: list[str]) -> None:
        self._rows = frame.get_column(ROW)
        #: Rows per group (:data:`ROW_GROUP` when the feed was made).
        self.group_rows = ROW_GROUP
        # Two threads: the groups are hashed in order, but the last ones are not left to one core while the other
        # waits for them (the writer needs each group's hashes).
        self._pool = ThreadPoolExecutor(_HASH_THREADS, thread_name_prefix="row-hash")
        # The columns as they are, not ``select``ed: a select would first copy every column into one chunk
        # (~0.02-0.05 s); the hashes read the parser's chunks in place.
        source = pl.DataFrame([frame.get_column(name) for name in columns])
        self._groups: list[Future[pa.Array]] = [
            self._pool.submit(row_hash_array, source.slice(start, self.group_rows), columns)
            for start in range(0, frame.height, self.group_rows)
        ]

    def __enter__(self) -> HashFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        for group in self._groups:
            group.cancel()
        self._pool.shutdown(wait=True)

    def for_group(self, index: int, rows: pl.Series) -> pa.Array | pa.ChunkedArray:
        """The hashes of ``rows`` (row numbers, in order) of row group ``index`` of the frame."""
        if rows.len() == 0:
            return pa.nulls(0, pa.large_binary())
        hashes = self._groups[index].result()
        if rows.len() == len(hashes):  # none of the group's rows was rejected
            return hashes
        keep = self._rows.slice(index * self.group_rows, self.group_rows).is_in(rows).to_arrow()
        return hashes.filter(keep)


@dataclass(frozen=True)
class RowGroups:
    """A table handed to the writer one row group at a time: ``groups`` yields each group's rows (at most
    :data:`ROW_GROUP`, ROW + canonical columns) with their row hashes, and is consumed while the writer writes the
    group before; ``columns`` are the canonical columns written (fixed before the first group); ``settle`` runs
    after the last group, before the file is renamed into place (it may raise: then nothing is written)."""

    groups: Iterable[tuple[pl.DataFrame, pa.Array | pa.ChunkedArray]]
    columns: dict[str, pl.DataType]
    settle: Callable[[], None]


def write_parquet(
    frame: pl.DataFrame,
    raw_columns: Sequence[str],
    provenance: dict[str, str | None],
    columns: dict[str, pl.DataType],
    dest: Path,
) -> None:
    """Provenance + canonical columns to Parquet; ``row_hash`` = md5 digest (16 bytes) of the raw cells joined by
    U+001F.

    The hashes come with the frame (column ``ROW_HASH``) or are computed here by
    :func:`~detainers.ingest._provenance.row_hash_array`, one row group at a time: while pyarrow writes row group
    *k* (GIL released), row group *k + 1* is hashed. See :func:`write_row_groups` for how the file is written.
    """
    # Canonical columns that are null in every row (the source does not have them, or every cell was blank or
    # redacted) are not written: readers (``connect``/``table``) add them back as typed NULLs, which costs nothing,
    # while writing all-null columns cost a quarter of an NPR import's Parquet write. (null_count is known, O(1).)
    present = {
        name: dtype
        for name, dtype in columns.items()
        if name in frame.columns and (frame.height == 0 or frame.get_column(name).null_count() < frame.height)
    }

    def groups() -> Iterator[tuple[pl.DataFrame, pa.Array | pa.ChunkedArray]]:
        for start in range(0, max(frame.height, 1), ROW_GROUP):
            part = frame.slice(start, ROW_GROUP)
            if ROW_HASH in part.columns:
                yield part, part.get_column(ROW_HASH).to_arrow(compat_level=pl.CompatLevel.newest())
            else:
                yield part, row_hash_array(part.select(raw_columns), raw_columns)

    write_row_groups(groups(), provenance, present, dest)


def write_row_groups(
    groups: Iterable[tuple[pl.DataFrame, pa.Array | pa.ChunkedArray]],
    provenance: dict[str, str | None],
    columns: dict[str, pl.DataType],
    dest: Path,
) -> int:
    """Write ``groups`` (rows of at most :data:`ROW_GROUP`, each with its row hashes) as the row groups of one
    Parquet file; return the number of rows written. Empty groups are skipped (a file with no rows still gets
    the schema).

    Group *k + 1* is taken from ``groups`` (made, hashed or derived there) while pyarrow writes group *k* in its
    own thread (GIL released). pyarrow writes from the frames' own Arrow buffers (no copy), with settings per
    column: the constant provenance columns go in as one-value dictionaries (nothing to hash or compress per row),
    ``row_hash`` (random bytes) is neither dictionary-encoded, compressed nor given min/max statistics. The file's
    Parquet types are those Polars wrote before (strings, DATE, INT64, BYTE_ARRAY, UTC timestamps); no Arrow
    schema is stored, so every reader sees plain columns, not dictionaries.
    """
    tables = (_arrow_group(frame, hashes, provenance, columns) for frame, hashes in groups)
    first = next(tables, None)
    if first is None:
        raise ValueError("write_row_groups needs at least one group (an empty one for a file with no rows)")
    names = first.column_names
    settings: dict[str, object] = {
        "compression": {name: "none" if name == "row_hash" else "lz4" for name in names},
        "use_dictionary": [name for name in names if name not in {"row_hash", "source_row"}],
        "write_statistics": [name for name in names if name != "row_hash"],
        "store_schema": False,
    }
    written = 0
    with (
        pq.ParquetWriter(dest, first.schema, **settings) as writer,
        ThreadPoolExecutor(1, thread_name_prefix="parquet") as pool,
    ):
        pending: Future[None] | None = None
        for table in itertools.chain([first], tables):  # each made while the one before is written
            if pending is not None:
                pending.result()
                pending = None
            if table.num_rows:
                pending = pool.submit(writer.write_table, table, row_group_size=ROW_GROUP)
                written += table.num_rows
        if pending is not None:
            pending.result()
    return written  # a file with no rows has the schema and no row group


def _arrow_group(
    frame: pl.DataFrame,
    row_hash: pa.Array | pa.ChunkedArray,
    provenance: dict[str, str | None],
    columns: dict[str, pl.DataType],
) -> pa.Table:
    """One row group as the Arrow table written: provenance, row hashes, the canonical ``columns`` (cast)."""
    if len(row_hash) != frame.height:
        raise AssertionError(f"{len(row_hash)} row hashes for {frame.height} rows")  # pragma: no cover - a bug
    # Several input files (labelled charge files, blocks): each row names its own file and that file's hash.
    per_row = "__source_file" in frame.columns
    arrow = frame.select(
        *([pl.col("__source_file").alias("source_file")] if per_row else []),
        pl.col(ROW).cast(pl.Int64).alias("source_row"),
        *([pl.col("__source_sha256").alias("source_sha256")] if per_row else []),
        *[pl.col(name).cast(dtype) for name, dtype in columns.items()],
    ).to_arrow(compat_level=pl.CompatLevel.newest())
    rows = frame.height

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
            **{name: arrow.column(name) for name in columns},
        }
    )


_HASH_THREADS = 2

#: Rows per Parquet row group (what Polars' writer used before: 512 * 512).
ROW_GROUP = 262_144


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
