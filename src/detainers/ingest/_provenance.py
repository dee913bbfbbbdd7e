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
import numpy as np
import polars as pl
import pyarrow as pa

try:  # compiled at install (hatch_build.py); without it, DuckDB hashes the joined cells (same digests, slower)
    from detainers.ingest import _md5rows
except ImportError:  # pragma: no cover - an install without a C compiler
    _md5rows = None  # type: ignore[assignment]

__all__ = [
    "PROVENANCE_COLUMNS",
    "ROW_HASH",
    "atomic_path",
    "file_sha256",
    "hex_row_hash",
    "row_hash_array",
    "row_hashes",
]

#: Columns every imported table carries, in this order, before its own columns.
PROVENANCE_COLUMNS: tuple[str, ...] = ("source_file", "source_sheet", "source_row", "source_sha256", "row_hash")

#: Name of the precomputed row-hash column a loader may hand to the store (becomes ``row_hash``).
ROW_HASH = "__row_hash"

_CHUNK = 1 << 20
_DIGEST = 16  # bytes of an md5 digest


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, hex. Two files with the same bytes are the same import."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def row_hashes(frame: pl.DataFrame, columns: Sequence[str]) -> pl.Series:
    """``row_hash`` of every row: the md5 digest (16 bytes) of the cells of ``columns`` joined by U+001F, nulls as
    empty strings.

    The same as ``hashlib.md5("\\x1f".join(cells).encode()).digest()`` per row. Parquet files keep these 16 bytes
    (half the size of the hex text, and cheaper to write); :meth:`detainers.ingest.Store.connect` and
    :meth:`~detainers.ingest.Store.table` present them as the usual lowercase hex (:func:`hex_row_hash`). The
    compiled ``_md5rows`` module computes them with the GIL released, so they may be made in threads beside other
    work; without it DuckDB does, on an in-memory connection of its own.
    """
    return pl.Series(ROW_HASH, row_hash_array(frame, columns), dtype=pl.Binary)


def row_hash_array(
    frame: pl.DataFrame, columns: Sequence[str], con: duckdb.DuckDBPyConnection | None = None
) -> pa.Array:
    """:func:`row_hashes` as an Arrow binary array (what the Parquet writer takes without a copy).

    ``con``: an in-memory DuckDB connection for the route without ``_md5rows`` (one is opened when None).
    """
    if not columns:
        digest = hashlib.md5(b"").digest()
        return _binary16(pa.py_buffer(digest * frame.height), frame.height)
    if _md5rows is not None:
        native = _native_row_hashes(frame, columns)
        if native is not None:
            return native
    if con is None:
        with duckdb.connect() as own:
            return row_hash_array(frame, columns, own)
    # Polars joins the cells (nulls as empty strings; half the CPU of DuckDB's concat) and hands DuckDB the one
    # column as Arrow string views (no copy). Slices of _HASH_SLICE rows: the joined text of one slice is freed
    # before the next is made, so the allocator reuses the same memory instead of faulting in fresh pages for the
    # whole file's text (~150 MB for 2,000,000 NPR rows; ~0.15 s less CPU).
    numbers: list[pa.Array] = []
    first: str | None = None
    for start in range(0, frame.height, _HASH_SLICE):
        joined = frame.slice(start, _HASH_SLICE).select(_joined(columns))
        if start == 0:
            first = joined.get_column(ROW_HASH)[0]
        con.register("__joined", joined.to_arrow(compat_level=pl.CompatLevel.newest()))
        # md5_number is the digest as a 128-bit integer whose little-endian bytes are the digest: no hex text made
        # and parsed again (unhex(md5(...)) costs ~0.2 s more CPU on 2,000,000 rows).
        numbers.extend(con.sql(f"SELECT md5_number({ROW_HASH}) AS {ROW_HASH} FROM __joined").to_arrow_table()[0].chunks)
        con.unregister("__joined")
    hashes = _digests(pa.chunked_array(numbers, type=numbers[0].type).combine_chunks()) if numbers else None
    # Checked on the first row against hashlib; if DuckDB ever hands the integer over differently, every row takes
    # the hex route (one query over the whole frame).
    head: object = hashes[0] if hashes is not None and len(hashes) else None
    if isinstance(head, pa.Scalar):
        head = head.as_py()
    if hashes is None or (first is not None and head != hashlib.md5(first.encode()).digest()):
        con.register("__joined", frame.select(_joined(columns)).to_arrow(compat_level=pl.CompatLevel.newest()))
        table = con.sql(f"SELECT unhex(md5({ROW_HASH})) AS {ROW_HASH} FROM __joined").to_arrow_table()
        con.unregister("__joined")
        hashes = table.column(0).combine_chunks().cast(pa.large_binary())
    assert len(hashes) == frame.height
    return hashes


def _native_row_hashes(frame: pl.DataFrame, columns: Sequence[str]) -> pa.Array | None:
    """:func:`row_hash_array` by the compiled ``_md5rows`` module: the cells are read from the frame's own Arrow
    buffers (no joined text is made) and eight rows are hashed at once where the CPU allows; the GIL is released.
    None when the first row's digest differs from hashlib's (the caller then takes the DuckDB route)."""
    assert _md5rows is not None
    # The columns as they are (no select: it would copy them into one chunk); record batches align their chunks.
    table = pl.DataFrame([frame.get_column(name) for name in columns]).to_arrow(compat_level=pl.CompatLevel.newest())
    out = bytearray(_DIGEST * frame.height)
    view = memoryview(out)
    start = 0
    for batch in table.to_batches():
        rows = batch.num_rows
        specs = [_buffers(batch.column(index)) for index in range(batch.num_columns)]
        known = [spec for spec in specs if spec is not None]
        if len(known) != len(specs):
            return None  # a column that is not text (cannot happen for read cells; the DuckDB route copes)
        _md5rows.md5_join(known, rows, b"\x1f", view[_DIGEST * start : _DIGEST * (start + rows)])
        start += rows
    if start != frame.height:  # pragma: no cover - batches always cover the table
        return None
    if frame.height:
        first = "\x1f".join(frame.get_column(name)[0] or "" for name in columns)
        if bytes(out[:_DIGEST]) != hashlib.md5(first.encode()).digest():  # pragma: no cover - a broken build
            return None
    return _binary16(pa.py_buffer(out), frame.height)


def _buffers(array: pa.Array) -> tuple[int, int, object, object, tuple[object, ...]] | None:
    """What ``_md5rows.md5_join`` reads of one text column: kind, offset, validity, offsets or views, data."""
    kind = array.type
    buffers = array.buffers()
    if pa.types.is_string(kind) or pa.types.is_binary(kind):
        return (0, array.offset, buffers[0], buffers[1], (buffers[2],))
    if pa.types.is_large_string(kind) or pa.types.is_large_binary(kind):
        return (1, array.offset, buffers[0], buffers[1], (buffers[2],))
    if pa.types.is_string_view(kind) or pa.types.is_binary_view(kind):
        return (2, array.offset, buffers[0], buffers[1], tuple(buffers[2:]))
    if pa.types.is_null(kind):  # a column with no value at all: every cell empty
        return (0, 0, None, pa.py_buffer(bytes(4 * (len(array) + 1))), (None,))
    return None


def _joined(columns: Sequence[str]) -> pl.Expr:
    return pl.concat_str([pl.col(name).fill_null("") for name in columns], separator="\x1f").alias(ROW_HASH)


#: Rows joined and hashed at a time by :func:`row_hash_array`.
_HASH_SLICE = 131_072


def _digests(numbers: pa.Array) -> pa.Array | None:
    """16-byte integers (DuckDB's UHUGEINT, exported as 128-bit decimals) as binary values of their bytes; None when
    they are not as expected (the caller falls back)."""
    if numbers.type.byte_width != _DIGEST or numbers.null_count:
        return None
    size = len(numbers)
    return _binary16(numbers.buffers()[1].slice(numbers.offset * _DIGEST, size * _DIGEST), size)


def _binary16(data: pa.Buffer, size: int) -> pa.Array:
    """``size`` binary values of 16 bytes each, laid end to end in ``data`` (no copy)."""
    offsets = pa.py_buffer(np.arange(0, _DIGEST * (size + 1), _DIGEST, dtype=np.int64))
    return pa.Array.from_buffers(pa.large_binary(), size, [None, offsets, data])


def hex_row_hash(hashes: pl.Series) -> pl.Series:
    """Stored ``row_hash`` values as lowercase hex text (what users see); text (files written before the hashes
    were stored as 16 bytes) is returned unchanged."""
    return hashes.bin.encode("hex") if hashes.dtype == pl.Binary else hashes


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
