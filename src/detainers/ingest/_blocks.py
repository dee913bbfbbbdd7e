"""Booking blocks: the report layout many jail systems print (a booking line, a charge header, its charge lines).

::

    Booking No,Race,Sex,Jail Custody,Booking Date,Release Date      <- booking header, once at the top
    1700001,W,M,IN CUSTODY,2017-01-03,                              <- a booking line
    Authority,Charge,Level,Sentence,Level,Sentence,Disp Date         <- charge header (first cell names it)
    NEW,54040011,DRIVING WHILE INTOXICATED 3RD OR MORE,,F3,,         <- its charge lines
    ,,,,,,                                                          <- a blank line ends the block

Both tables keep the file's row numbers; every charge line carries the row of its booking line.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from detainers.ingest._tabular import (
    _EXCEL_SUFFIXES,
    ROW,
    RawReject,
    RawTable,
    TableReadError,
    _cell,
    _dedupe,
    _empty_to_null,
    _Source,
    decompressed,
)

__all__ = ["BOOKING_ROW", "read_blocks"]

#: Column of the charge table naming the row of the booking line the charge belongs to.
BOOKING_ROW = "__booking_row"


def _records(path: Path, *, sheet: str | None, delimiter: str | None, encoding: str) -> list[tuple[int, list[str]]]:
    data, suffix = decompressed(path)
    if suffix in _EXCEL_SUFFIXES:
        import tempfile

        from python_calamine import CalamineWorkbook

        with tempfile.TemporaryDirectory(prefix="detainers-") as tmp:
            target = path
            if data is not None:
                target = Path(tmp) / f"book{suffix}"
                target.write_bytes(data)
            try:
                book = CalamineWorkbook.from_path(str(target))
            except Exception as exc:  # calamine raises several unrelated types
                raise TableReadError(f"{path}: cannot open workbook: {exc}") from exc
            names = list(book.sheet_names)
            if sheet is not None and sheet not in names:
                raise TableReadError(f"{path}: no sheet {sheet!r}; sheets are {', '.join(names)}")
            grid = book.get_sheet_by_name(sheet or names[0]).to_python(skip_empty_area=False)
        return [(i + 1, [_cell(v) for v in row]) for i, row in enumerate(grid)]
    source = _Source(path, data)
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in {"utf-8", "utf8"} else encoding
    try:
        with source.text(enc) as handle:
            first = handle.readline()
            sep = delimiter or max((",", "\t", ";", "|"), key=first.count)
            handle.seek(0)
            return list(enumerate(csv.reader(handle, delimiter=sep), start=1))
    except UnicodeDecodeError as exc:
        raise TableReadError(
            f"{path}: not {encoding} text ({exc.reason} at byte {exc.start}); set encoding: in the mapping"
        ) from exc


def _blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _frame(names: list[str], rows: list[list[str]], numbers: list[int], extra: dict[str, list[int]]) -> pl.DataFrame:
    frame = pl.DataFrame(
        {name: pl.Series(name, [r[i] for r in rows], dtype=pl.String) for i, name in enumerate(names)}
    ).with_columns(
        pl.Series(ROW, numbers, dtype=pl.Int64), *[pl.Series(k, v, dtype=pl.Int64) for k, v in extra.items()]
    )
    return _empty_to_null(frame, names)


def read_blocks(
    path: Path,
    *,
    charge_header: str,
    sheet: str | None = None,
    delimiter: str | None = None,
    skip_rows: int = 0,
    encoding: str = "utf-8",
) -> tuple[RawTable, RawTable]:
    """The charge lines and the booking lines of a blocks file (charge table first)."""
    records = [(n, r) for n, r in _records(path, sheet=sheet, delimiter=delimiter, encoding=encoding) if n > skip_rows]
    while records and _blank(records[0][1]):
        records.pop(0)
    if not records:
        raise TableReadError(f"{path}: empty (no booking header line)")
    marker = charge_header.strip().upper()
    header_row, header = records[0]
    while header and not header[-1].strip():
        header.pop()
    if header and header[0].strip().upper() == marker:
        raise TableReadError(f"{path}: row {header_row} is a charge header; the first row must name the booking fields")
    booking_names = _dedupe(header)
    charge_names: list[str] | None = None
    bookings: list[list[str]] = []
    booking_rows: list[int] = []
    charges: list[list[str]] = []
    charge_rows: list[int] = []
    owners: list[int] = []
    rejects: list[RawReject] = []
    current: int | None = None
    expecting = "booking"  # booking line next, else its charge header, else charge lines
    blank = 0
    for number, cells in records[1:]:
        if _blank(cells):
            blank += 1
            expecting, current = "booking", None
            continue
        if cells[0].strip().upper() == marker:
            if current is None:
                rejects.append(RawReject(number, "charge header with no booking line above it", ""))
                expecting = "skip"
                continue
            names = list(cells)
            while names and not names[-1].strip():
                names.pop()
            names = _dedupe(names)
            if charge_names is None:
                charge_names = names
            elif names != charge_names:
                raise TableReadError(
                    f"{path}: row {number}: the charge header differs from the one on earlier blocks "
                    f"({', '.join(names)} vs {', '.join(charge_names)})"
                )
            expecting = "charges"
            continue
        if expecting == "skip":
            rejects.append(RawReject(number, "charge line of a block with no booking line", ""))
            continue
        if expecting in ("booking", "header"):
            if any(cell.strip() for cell in cells[len(booking_names) :]):
                rejects.append(RawReject(number, f"booking line with more than {len(booking_names)} fields", ""))
                expecting, current = "skip", None
                continue
            bookings.append((cells + [""] * len(booking_names))[: len(booking_names)])
            booking_rows.append(number)
            current, expecting = number, "header"
            continue
        assert charge_names is not None and current is not None
        if any(cell.strip() for cell in cells[len(charge_names) :]):
            rejects.append(RawReject(number, f"charge line with more than {len(charge_names)} fields", ""))
            continue
        charges.append((cells + [""] * len(charge_names))[: len(charge_names)])
        charge_rows.append(number)
        owners.append(current)
    if charge_names is None:
        raise TableReadError(f"{path}: no charge header line starting with {charge_header!r} was found")
    notes = [f"{blank} blank row(s) between blocks"] if blank else []
    charge_table = RawTable(
        path=path,
        sheet=sheet,
        columns=charge_names,
        frame=_frame(charge_names, charges, charge_rows, {BOOKING_ROW: owners}),
        rejects=rejects,
        notes=notes,
    )
    booking_table = RawTable(
        path=path,
        sheet=sheet,
        columns=booking_names,
        frame=_frame(booking_names, bookings, booking_rows, {}),
    )
    return charge_table, booking_table
