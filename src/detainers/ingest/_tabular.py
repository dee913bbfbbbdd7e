"""Read a CSV, XLSX/XLS/ODS sheet or Parquet file into string columns with the row number of every record.

The fast path reads CSV with pyarrow's multi-threaded parser, which stops at the first record with the wrong number
of fields; the file is then read again with Python's csv module so that every rejected record gets its exact row
number and every loaded record keeps the right one: nothing is padded, truncated or skipped silently. Blank rows are
skipped with a note and still counted in row numbers.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import re
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.csv as pacsv

__all__ = [
    "ROW",
    "RawReject",
    "RawTable",
    "TableReadError",
    "compression_of",
    "decompressed",
    "normalize_name",
    "read_table",
]

#: Name of the row-number column in a :class:`RawTable` frame.
ROW = "__row"

_EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}


class TableReadError(ValueError):
    """The file cannot be read as a table at all (missing header, unknown sheet, unreadable encoding)."""


@dataclass(frozen=True)
class RawReject:
    """A record that could not be loaded, with where it is and why."""

    source_row: int | None
    reason: str
    text: str


@dataclass
class RawTable:
    """A file's records as strings: one column per header cell plus :data:`ROW`."""

    path: Path
    sheet: str | None
    columns: list[str]
    frame: pl.DataFrame
    rejects: list[RawReject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Columns known to hold no ``(`` in any cell (read off the parser's buffers; empty when not checked). A FOIA
    #: redaction marker always holds one, so these columns need no redaction scan.
    paren_free: frozenset[str] = frozenset()


def normalize_name(name: str) -> str:
    """``"Detainer Prepare Date"`` and ``"Detainer_Prepare_Date"`` both become ``detainer_prepare_date``."""
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def _dedupe(names: Sequence[str]) -> list[str]:
    seen: dict[str, int] = {}
    out: list[str] = []
    for raw in names:
        name = raw.strip() or "column"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        out.append(name)
    return out


def read_table(
    path: Path,
    *,
    sheet: str | None = None,
    delimiter: str | None = None,
    skip_rows: int = 0,
    encoding: str = "utf-8",
    header_hint: Callable[[list[str]], bool] | None = None,
) -> RawTable:
    """Read ``path`` (by suffix: ``.csv``/``.txt``/``.tsv``, ``.xlsx``/``.xls``/``.ods``, ``.parquet``).

    ``skip_rows`` rows above the header are ignored (banner lines in agency exports). For spreadsheets, when
    ``header_hint`` is given and ``skip_rows`` is 0, the header is the first of the top 30 rows the hint accepts.
    """
    if not path.is_file():
        raise TableReadError(f"{path}: no such file")
    data, suffix = decompressed(path)
    if suffix in _EXCEL_SUFFIXES:
        if data is not None:  # the workbook reader needs a file: the decompressed bytes go to a temporary one
            with tempfile.TemporaryDirectory(prefix="detainers-") as tmp:
                inner = Path(tmp) / f"book{suffix}"
                inner.write_bytes(data)
                table = _read_excel(inner, sheet=sheet, skip_rows=skip_rows, header_hint=header_hint)
            table.path = path
            return table
        return _read_excel(path, sheet=sheet, skip_rows=skip_rows, header_hint=header_hint)
    if suffix in {".parquet", ".pq"}:
        return _read_parquet(path, data)
    source = _Source(path, data)
    sep = delimiter or ("\t" if suffix == ".tsv" else _sniff_delimiter(source, encoding, skip_rows))
    return _read_csv(source, sep=sep, skip_rows=skip_rows, encoding=encoding)


#: Compressed containers read transparently, by their first bytes (not the file name).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PK\x03\x04", "zip"),
)
_COMPRESSED_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}


def compression_of(path: Path) -> str | None:
    """``gzip``, ``bz2``, ``xz`` or ``zip`` when the file is such a container (a workbook is not), else None."""
    with path.open("rb") as handle:
        head = handle.read(8)
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "zip" and path.suffix.lower() in _EXCEL_SUFFIXES | {".ods"}:
                return None  # an .xlsx or .ods file is itself a zip archive
            return kind
    return None


def decompressed(path: Path) -> tuple[bytes | None, str]:
    """The file's decompressed bytes (None when it is not compressed) and the suffix of what it holds."""
    kind = compression_of(path)
    suffix = path.suffix.lower()
    if kind is None:
        return None, suffix
    inner_name = path.name[: -len(path.suffix)] if suffix in _COMPRESSED_SUFFIXES else path.name
    try:
        if kind == "gzip":
            data = gzip.decompress(path.read_bytes())
        elif kind == "bz2":
            data = bz2.decompress(path.read_bytes())
        elif kind == "xz":
            data = lzma.decompress(path.read_bytes())
        else:
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX")]
                if len(members) != 1:
                    names = ", ".join(m.filename for m in members[:5]) or "none"
                    raise TableReadError(f"{path}: a zip archive must hold exactly one file; it holds {names}")
                inner_name = members[0].filename
                data = archive.read(members[0])
    except (OSError, EOFError, lzma.LZMAError, zipfile.BadZipFile) as exc:
        raise TableReadError(f"{path}: cannot decompress as {kind}: {exc}") from exc
    inner = Path(inner_name).suffix.lower()
    return data, inner if inner else ".csv"


@dataclass(frozen=True)
class _Source:
    """A CSV file on disk, or its decompressed bytes (rows still numbered as in the file)."""

    path: Path
    data: bytes | None = None

    def text(self, encoding: str, errors: str = "strict") -> io.TextIOBase:
        if self.data is None:
            return self.path.open("r", encoding=encoding, errors=errors, newline="")
        return io.TextIOWrapper(io.BytesIO(self.data), encoding=encoding, errors=errors, newline="")

    def binary(self) -> Path | io.BytesIO:
        return self.path if self.data is None else io.BytesIO(self.data)

    def read_bytes(self) -> bytes:
        return self.path.read_bytes() if self.data is None else self.data


def _sniff_delimiter(source: _Source, encoding: str, skip_rows: int) -> str:
    with source.text(encoding, errors="replace") as handle:
        lines = [handle.readline() for _ in range(skip_rows + 1)]
    header = lines[-1] if lines else ""
    counts = {sep: header.count(sep) for sep in (",", "\t", ";", "|")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] > 0 else ","


def _first_undecodable_byte(src: _Source, encoding: str) -> int | None:
    """Where ``src`` stops being ``encoding`` text (None if it decodes), for an error message."""
    try:
        src.read_bytes().decode("utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding)
    except UnicodeDecodeError as exc:
        return int(exc.start)
    except LookupError:
        return None
    return None


def _read_csv(src: _Source, *, sep: str, skip_rows: int, encoding: str) -> RawTable:
    path = src.path
    source = src.binary()
    if encoding.lower().replace("_", "-") not in {"utf-8", "utf8", "utf-8-sig"}:
        try:
            source = io.BytesIO(src.read_bytes().decode(encoding).encode("utf-8"))
        except UnicodeDecodeError as exc:
            raise TableReadError(
                f"{path}: cannot read as {encoding} text: {exc.reason} at byte offset {exc.start}"
            ) from exc
    header = _csv_header(src, sep=sep, skip_rows=skip_rows, encoding=encoding)
    names = _dedupe(header)
    # Fast path: pyarrow's parser raises on the first record with the wrong number of fields (blank lines count as
    # such a record); the slow path then reads every record with its exact row number and reason.
    try:
        table = pacsv.read_csv(
            source,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=skip_rows + 1, use_threads=True),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                # Empty cells (quoted or not) become null in the parser itself: no pass over the columns after it.
                null_values=[""],
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
            ),
        )
    except UnicodeDecodeError as exc:
        raise TableReadError(f"{path}: cannot read as {encoding} CSV: {exc}") from exc
    except pa.ArrowInvalid as exc:
        if "utf8" in str(exc).lower() or "utf-8" in str(exc).lower():
            offset = _first_undecodable_byte(src, encoding)
            where = f" (invalid byte at byte offset {offset})" if offset is not None else ""
            raise TableReadError(
                f"{path}: not {encoding} text{where}; if it is another encoding, pass --encoding (e.g. cp1252) "
                "or set encoding: in the mapping"
            ) from exc
        if "column" not in str(exc).lower():
            raise TableReadError(f"{path}: cannot read as {encoding} CSV: {exc}") from exc
        return _read_csv_slow(src, sep=sep, skip_rows=skip_rows, encoding=encoding, names=names)
    # Cells are trimmed only in columns where some cell starts or ends with a byte that may be whitespace (read off
    # the Arrow buffers): trimming a column costs ~0.05 s per 2 M cells, the check a few milliseconds. The same
    # buffers tell which columns hold no "(" at all (no redaction marker can be there).
    # Both checks run on two threads beside the conversion to Polars (NumPy's gathers release the GIL).
    with ThreadPoolExecutor(2, thread_name_prefix="csv-checks") as pool:
        trims = [pool.submit(_may_need_trim, column) for column in table.columns]
        parens = [pool.submit(_holds, column, b"(") for column in table.columns]
        frame = pl.from_arrow(table)
        trim = [name for name, pending in zip(names, trims, strict=True) if pending.result()]
        paren_free = frozenset(name for name, pending in zip(names, parens, strict=True) if not pending.result())
    assert isinstance(frame, pl.DataFrame)
    first = skip_rows + 2  # header is row skip_rows + 1
    frame = frame.with_columns(pl.int_range(first, first + frame.height, dtype=pl.Int64).alias(ROW))
    if trim:  # empty cells are already null (parser); trimmed cells may become empty
        frame = _empty_to_null(frame, trim)
    notes: list[str] = []
    # A blank row is null in every column: none can exist when some column has no null (null counts are known).
    if all(frame.get_column(name).null_count() for name in names):
        blank = frame.select(pl.all_horizontal([pl.col(name).is_null() for name in names])).to_series()
        if blank.any():
            notes.append(f"{int(blank.sum())} blank row(s) skipped (counted in row numbers)")
            frame = frame.filter(~blank)
    return RawTable(path=path, sheet=None, columns=names, frame=frame, notes=notes, paren_free=paren_free)


def _csv_header(src: _Source, *, sep: str, skip_rows: int, encoding: str) -> list[str]:
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
    try:
        with src.text(enc) as handle:
            reader = csv.reader(handle, delimiter=sep)
            for _ in range(skip_rows):
                next(reader, None)
            header = next(reader, None)
    except UnicodeDecodeError as exc:
        raise TableReadError(
            f"{src.path}: not {encoding} text ({exc.reason} at byte offset {exc.start}); if it is another encoding, "
            "pass --encoding (e.g. cp1252) or set encoding: in the mapping"
        ) from exc
    if not header or not any(cell.strip() for cell in header):
        raise TableReadError(f"{src.path}: no header row (row {skip_rows + 1} is empty)")
    return header


def _read_csv_slow(src: _Source, *, sep: str, skip_rows: int, encoding: str, names: list[str]) -> RawTable:
    path = src.path
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
    width = len(names)
    columns: list[list[str]] = [[] for _ in names]
    rows: list[int] = []
    rejects: list[RawReject] = []
    blank = 0
    with src.text(enc) as handle:
        reader = csv.reader(handle, delimiter=sep)
        for number, record in enumerate(reader, start=1):
            if number <= skip_rows + 1:
                continue
            if not record or (len(record) == 1 and record[0] == ""):
                blank += 1
                continue
            if len(record) != width:
                # The raw text is withheld: with fields shifted we cannot tell which cell is a name or a date of
                # birth, and identifying columns must never reach a rejects file. The row number finds it.
                rejects.append(RawReject(number, f"expected {width} fields as in the header, found {len(record)}", ""))
                continue
            rows.append(number)
            for index, value in enumerate(record):
                columns[index].append(value)
    frame = pl.DataFrame(
        {name: pl.Series(name, col, dtype=pl.String) for name, col in zip(names, columns, strict=True)}
    )
    frame = frame.with_columns(pl.Series(ROW, rows, dtype=pl.Int64))
    notes = [f"{blank} blank row(s) skipped (counted in row numbers)"] if blank else []
    return RawTable(
        path=path, sheet=None, columns=names, frame=_empty_to_null(frame, names), rejects=rejects, notes=notes
    )


def _empty_to_null(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Trim surrounding whitespace in ``names`` and make empty cells null."""
    return frame.with_columns([pl.col(name).str.strip_chars().replace("", None).alias(name) for name in names])


# First or last bytes that may begin or end whitespace: ASCII whitespace and separators, and any non-ASCII byte
# (a multi-byte character such as U+00A0 or U+2003 may be whitespace; the trim itself decides).
_EDGE = np.zeros(256, dtype=bool)
_EDGE[[0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20]] = True
_EDGE[0x80:] = True


def _string_buffers(chunk: pa.Array) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]] | None:
    """A string chunk's offsets (its own slice) and the bytes its cells span; None when it has no bytes."""
    width: type[np.signedinteger[Any]] = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    _validity, offsets_buf, data_buf = chunk.buffers()
    if data_buf is None or len(chunk) == 0:
        return None
    offsets = np.frombuffer(offsets_buf, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8)[: int(offsets[-1])]
    if data.size == 0:
        return None
    return offsets, data


def _is_plain_string(chunk: pa.Array) -> bool:
    return bool(pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type))


def _may_need_trim(column: pa.ChunkedArray) -> bool:
    """Whether some cell of a string column starts or ends with a byte of :data:`_EDGE` (True when unsure)."""
    for chunk in column.chunks:
        if not _is_plain_string(chunk):
            return True
        found = _string_buffers(chunk)
        if found is None:
            continue
        offsets, data = found
        # Empty (or null) cells have start == end: their "first byte" is the next cell's first byte and their "last
        # byte" the previous cell's last one, both looked at anyway; clipping keeps the indices inside the data.
        if (
            np.take(_EDGE, np.take(data, offsets[:-1], mode="clip")).any()
            or np.take(_EDGE, np.take(data, offsets[1:] - 1, mode="clip")).any()
        ):
            return True
    return False


def _holds(column: pa.ChunkedArray, byte: bytes) -> bool:
    """Whether some cell of a string column holds ``byte`` (True when unsure); scans the cells' bytes, no copy."""
    pattern = re.compile(re.escape(byte))
    for chunk in column.chunks:
        if not _is_plain_string(chunk):
            return True
        found = _string_buffers(chunk)
        if found is not None and pattern.search(found[1].data) is not None:
            return True
    return False


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _read_excel(
    path: Path, *, sheet: str | None, skip_rows: int, header_hint: Callable[[list[str]], bool] | None
) -> RawTable:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several unrelated types
        raise TableReadError(f"{path}: cannot open workbook: {exc}") from exc
    names_in_book: list[str] = list(book.sheet_names)
    if sheet is None:
        if not names_in_book:
            raise TableReadError(f"{path}: workbook has no sheets")
        sheet = names_in_book[0]
    elif sheet not in names_in_book:
        raise TableReadError(f"{path}: no sheet {sheet!r}; sheets are {', '.join(names_in_book)}")
    grid = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    header_index = skip_rows
    if header_hint is not None and skip_rows == 0:
        for index, row in enumerate(grid[:30]):
            cells = [_cell(value).strip() for value in row]
            if header_hint([normalize_name(cell) for cell in cells if cell]):
                header_index = index
                break
    if header_index >= len(grid):
        raise TableReadError(f"{path} [{sheet}]: no header row")
    header = [_cell(value) for value in grid[header_index]]
    while header and not header[-1].strip():
        header.pop()
    if not header:
        raise TableReadError(f"{path} [{sheet}]: header row {header_index + 1} is empty")
    names = _dedupe(header)
    width = len(names)
    columns: list[list[str]] = [[] for _ in names]
    rows: list[int] = []
    rejects: list[RawReject] = []
    blank = 0
    for index in range(header_index + 1, len(grid)):
        cells = [_cell(value) for value in grid[index]]
        if not any(cell.strip() for cell in cells):
            blank += 1
            continue
        extra = [cell for cell in cells[width:] if cell.strip()]
        if extra:
            rejects.append(RawReject(index + 1, f"{len(extra)} value(s) to the right of the last header column", ""))
            continue
        cells = (cells + [""] * width)[:width]
        rows.append(index + 1)
        for position, value in enumerate(cells):
            columns[position].append(value)
    frame = pl.DataFrame(
        {name: pl.Series(name, col, dtype=pl.String) for name, col in zip(names, columns, strict=True)}
    )
    frame = frame.with_columns(pl.Series(ROW, rows, dtype=pl.Int64))
    notes = [f"header found on sheet row {header_index + 1}"] if header_index else []
    if blank:
        notes.append(f"{blank} blank row(s) skipped (counted in row numbers)")
    return RawTable(
        path=path, sheet=sheet, columns=names, frame=_empty_to_null(frame, names), rejects=rejects, notes=notes
    )


def _read_parquet(path: Path, data: bytes | None = None) -> RawTable:
    try:
        frame = pl.read_parquet(path if data is None else io.BytesIO(data))
    except Exception as exc:  # polars raises several types for corrupt files
        raise TableReadError(f"{path}: cannot read Parquet: {exc}") from exc
    names = list(frame.columns)
    casts = []
    for name, dtype in frame.schema.items():
        if dtype == pl.String:
            casts.append(pl.col(name))
        elif dtype.is_temporal():
            casts.append(
                pl.col(name).dt.to_string().alias(name) if dtype != pl.Duration else pl.col(name).cast(pl.String)
            )
        else:
            casts.append(pl.col(name).cast(pl.String))
    frame = frame.select(casts).with_columns(pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias(ROW))
    return RawTable(path=path, sheet=None, columns=names, frame=_empty_to_null(frame, names))
