"""The analysis store: a directory holding Parquet files (the rows) and a DuckDB catalogue (which files count).

Layout::

    STORE/catalog.duckdb                       imports table: one row per imported file, the commit point
    STORE/parquet/<table>/<import_id>.parquet  rows of one import, written to a temporary file and renamed
    STORE/rejects/<import_id>.csv              malformed rows with file, sheet, row number and reason

An import writes its Parquet file(s) first (temporary name, fsync, atomic rename), then records itself in the
catalogue in one DuckDB transaction. Readers see only catalogued files, so a killed import leaves nothing visible;
:meth:`Store.repair` deletes the orphaned files it may leave. Importing the same bytes again is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Mapping as ReadOnly
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from detainers.ingest._ice import DETAINER_COLUMNS, DetainerSlices, hashed_columns, read_detainer_table
from detainers.ingest._jail import BOOKING_COLUMNS, CHARGE_COLUMNS, Part, load_jail
from detainers.ingest._mapping import Mapping
from detainers.ingest._parquet_out import (
    HashFeed,
    RowGroups,
    write_parquet,
    write_rejects,
    write_row_groups,
)
from detainers.ingest._provenance import PROVENANCE_COLUMNS, atomic_path, file_sha256, hex_row_hash
from detainers.ingest._tabular import ROW, RawReject, RawTable

__all__ = ["TABLES", "ImportRecord", "ImportRejected", "ImportReport", "Store"]

#: Tables a store exposes, with their canonical columns (after the provenance columns).
TABLES: dict[str, dict[str, pl.DataType]] = {
    "detainers": DETAINER_COLUMNS,
    "jail_bookings": BOOKING_COLUMNS,
    "jail_charges": CHARGE_COLUMNS,
}

_CATALOG_DDL = """
CREATE TABLE IF NOT EXISTS imports (
    import_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    source_files VARCHAR NOT NULL,
    source_sheet VARCHAR,
    source_sha256 VARCHAR NOT NULL,
    mapping_sha256 VARCHAR,
    layout VARCHAR,
    rows_loaded BIGINT NOT NULL,
    rows_rejected BIGINT NOT NULL,
    rejects_file VARCHAR,
    parquet_files VARCHAR NOT NULL,
    imported_at TIMESTAMP NOT NULL
)
"""
# Added later (stores created before keep working): what filters removed, crosswalk coverage, warnings.
_CATALOG_DETAILS = "ALTER TABLE imports ADD COLUMN IF NOT EXISTS details VARCHAR"

# Test hook: called between the Parquet rename and the catalogue commit (a crash there must leave nothing visible).
_before_commit: Callable[[], None] = lambda: None  # noqa: E731


class ImportRejected(Exception):
    """``--strict`` import of a file with malformed rows: nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__(f"{report.source}: {len(report.rejects)} malformed row(s); strict import wrote nothing")
        self.report = report


@dataclass
class ImportReport:
    """What one import did."""

    status: str  # imported | already_imported | rejected
    kind: str
    import_id: str
    source: str
    sheet: str | None = None
    layout: str | None = None
    rows_loaded: int = 0
    rejects: list[tuple[str, RawReject]] = field(default_factory=list)
    rejects_file: Path | None = None
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)
    source_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)  # filters, crosswalk coverage (kept in the catalogue)

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "kind": self.kind,
            "import_id": self.import_id,
            "source": self.source,
            "sheet": self.sheet,
            "layout": self.layout,
            "rows_loaded": self.rows_loaded,
            "rows_rejected": len(self.rejects),
            "rejects_file": str(self.rejects_file) if self.rejects_file else None,
            "rejects": [
                {"file": file, "row": reject.source_row, "reason": reject.reason}
                for file, reject in self.rejects[:1000]
            ],
            "notes": self.notes,
            "warnings": self.warnings,
            "details": self.details,
            "tables": self.tables,
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class ImportRecord:
    import_id: str
    kind: str
    source_files: list[str]
    source_sheet: str | None
    layout: str | None
    rows_loaded: int
    rows_rejected: int
    imported_at: datetime
    details: dict[str, object] = field(default_factory=dict)


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Store:
    """A directory of imported data. ``Store(path)`` creates it when absent."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.catalog = root / "catalog.duckdb"
        with duckdb.connect(str(self.catalog)) as con:
            con.execute(_CATALOG_DDL)
            con.execute(_CATALOG_DETAILS)

    # ---- reading -------------------------------------------------------------------------------------------------
    def imports(self) -> list[ImportRecord]:
        with duckdb.connect(str(self.catalog), read_only=True) as con:
            rows = con.execute(
                "SELECT import_id, kind, source_files, source_sheet, layout, rows_loaded, rows_rejected, imported_at, "
                "details FROM imports ORDER BY imported_at, import_id"
            ).fetchall()
        return [
            ImportRecord(r[0], r[1], json.loads(r[2]), r[3], r[4], int(r[5]), int(r[6]), r[7], json.loads(r[8] or "{}"))
            for r in rows
        ]

    def files(self, table: str) -> list[Path]:
        """The committed Parquet files of ``table``."""
        with duckdb.connect(str(self.catalog), read_only=True) as con:
            rows = con.execute("SELECT parquet_files FROM imports ORDER BY imported_at, import_id").fetchall()
        out: list[Path] = []
        for (files,) in rows:
            for name, relative in json.loads(files).items():
                if name == table:
                    out.append(self.root / relative)
        return out

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with one view per table over the committed Parquet files."""
        con = duckdb.connect()
        for table, columns in TABLES.items():
            files = [path for path in self.files(table) if path.exists()]
            if files:
                # row_hash is stored as the 16-byte md5 digest and shown as lowercase hex; files written before
                # that keep the hex text, so the two kinds are read separately and united by column name.
                text = _text_row_hash_files(con, files)
                parts = []
                digests = [path for path in files if str(path) not in text]
                if digests:
                    parts.append(
                        "SELECT * REPLACE (lower(hex(row_hash)) AS row_hash) "
                        f"FROM read_parquet({_listing(digests)}, union_by_name = true)"
                    )
                if text:
                    older = [path for path in files if str(path) in text]
                    parts.append(f"SELECT * FROM read_parquet({_listing(older)}, union_by_name = true)")
                # Files keep only the columns that have values; the view restores the full table with typed NULLs.
                con.execute(f"CREATE VIEW __files_{table} AS " + " UNION ALL BY NAME ".join(parts))
                have = {row[0] for row in con.execute(f"DESCRIBE __files_{table}").fetchall()}
                schema = {**_provenance_schema(), **columns}
                absent = [name for name in schema if name not in have]
                if absent:
                    typed = pl.DataFrame(schema={name: schema[name] for name in absent})
                    con.register(f"__types_{table}", typed.to_arrow())
                    types = {row[0]: row[1] for row in con.execute(f"DESCRIBE __types_{table}").fetchall()}
                    select = ", ".join(
                        _quote(name) if name in have else f"CAST(NULL AS {types[name]}) AS {_quote(name)}"
                        for name in schema
                    )
                else:
                    select = ", ".join(_quote(name) for name in schema)
                con.execute(f"CREATE VIEW {table} AS SELECT {select} FROM __files_{table}")
            else:
                empty = pl.DataFrame(schema={**_provenance_schema(), **columns})
                con.register(f"__empty_{table}", empty.to_arrow())
                con.execute(f"CREATE VIEW {table} AS SELECT * FROM __empty_{table}")
        return con

    def table(self, name: str) -> pl.DataFrame:
        """A whole table as a Polars frame."""
        if name not in TABLES:
            raise KeyError(f"no table {name!r}; tables are {', '.join(TABLES)}")
        files = [path for path in self.files(name) if path.exists()]
        if not files:
            return pl.DataFrame(schema={**_provenance_schema(), **TABLES[name]})
        frames = [pl.read_parquet(path) for path in files]
        frame = pl.concat(
            [part.with_columns(hex_row_hash(part.get_column("row_hash"))) for part in frames], how="diagonal_relaxed"
        )
        schema = {**_provenance_schema(), **TABLES[name]}
        absent = [pl.lit(None, dtype=dtype).alias(col) for col, dtype in schema.items() if col not in frame.columns]
        return frame.with_columns(absent).select(list(schema)) if absent else frame.select(list(schema))

    def repair(self) -> list[Path]:
        """Delete Parquet and rejects files no committed import lists (what a killed import leaves). Returns them."""
        listed: set[Path] = set()
        with duckdb.connect(str(self.catalog), read_only=True) as con:
            for files, rejects in con.execute("SELECT parquet_files, rejects_file FROM imports").fetchall():
                listed.update(self.root / relative for relative in json.loads(files).values())
                if rejects:
                    listed.add(self.root / rejects)
        removed = []
        for folder in (self.root / "parquet", self.root / "rejects"):
            if not folder.exists():
                continue
            for path in folder.rglob("*"):
                if path.is_file() and path not in listed:
                    path.unlink()
                    removed.append(path)
        return removed

    def _identify(self, path: Path, sheet: str | None) -> tuple[str, str, bool]:
        """A detainer file's sha256, its import id (the sha256, or one of it and the sheet) and whether the catalogue
        already holds that import."""
        digest = file_sha256(path)
        import_id = digest if sheet is None else hashlib.sha256(f"{digest}:{sheet}".encode()).hexdigest()
        return digest, import_id, self._already(import_id)

    def _already(self, import_id: str) -> bool:
        with duckdb.connect(str(self.catalog), read_only=True) as con:
            return bool(con.execute("SELECT count(*) FROM imports WHERE import_id = ?", [import_id]).fetchone()[0])  # type: ignore[index]

    # ---- writing -------------------------------------------------------------------------------------------------
    def import_detainers(
        self,
        path: Path,
        *,
        fmt: str = "auto",
        sheet: str | None = None,
        skip_rows: int = 0,
        delimiter: str | None = None,
        strict: bool = False,
        rejects_path: Path | None = None,
        encoding: str = "utf-8",
    ) -> ImportReport:
        """Import one ICE detainer file (NPR or DDP layout; CSV, XLSX or Parquet); ``encoding`` for text files."""
        started = time.perf_counter()
        # The file's sha256 (one core) and the catalogue lookup of the import id it gives run while the file is
        # parsed (pyarrow's CSV parser mostly uses one core when quoted values may hold newlines); a re-import is
        # recognised before any canonical work or write.
        with ThreadPoolExecutor(1, thread_name_prefix="sha256") as pool:
            pending = pool.submit(self._identify, path, sheet)
            try:
                table, layout = read_detainer_table(
                    path, fmt=fmt, sheet=sheet, skip_rows=skip_rows, delimiter=delimiter, encoding=encoding
                )
            except Exception:
                _digest, import_id, known = pending.result()
                if known:  # as before: the same bytes imported once are not read again
                    return ImportReport("already_imported", "detainers", import_id, str(path), sheet)
                raise
            digest, import_id, known = pending.result()
        if known:
            return ImportReport("already_imported", "detainers", import_id, str(path), sheet)
        # The row hashes (the compiled _md5rows, GIL released) start now, one row group at a time, beside the
        # canonical columns (Polars), which are derived one row group at a time too: the Parquet writer writes
        # group k while group k + 1 is derived, and takes each group's hashes as it writes it.
        with HashFeed(table.frame, hashed_columns(table)) as feed:
            slices = DetainerSlices(table, layout, feed.group_rows)
            report = ImportReport("imported", "detainers", import_id, str(path), table.sheet, layout.value)

            def groups() -> Iterator[tuple[pl.DataFrame, pa.Array | pa.ChunkedArray]]:
                for index, rows in enumerate(slices):
                    yield rows, feed.for_group(index, rows.get_column(ROW))

            def settle() -> None:
                """Rejects and notes are complete once every slice is derived; a strict import stops here, before
                the file is renamed into place or anything is recorded."""
                report.rejects = [(str(path), reject) for reject in slices.rejects]
                report.notes = slices.notes
                if strict and report.rejects:
                    report.status = "rejected"
                    raise ImportRejected(report)

            provenance = {"source_file": str(path), "source_sheet": table.sheet, "source_sha256": digest}
            self._commit(
                report,
                {"detainers": (RowGroups(groups(), slices.columns, settle), slices.raw_columns, provenance)},
                digest=digest,
                mapping=None,
                rejects_path=rejects_path,
                started=started,
            )
        return report

    def import_jail(
        self,
        mapping: Mapping,
        *,
        charges: Path | Sequence[Path | Part],
        bookings: Path | None = None,
        strict: bool = False,
        rejects_path: Path | None = None,
    ) -> ImportReport:
        """Import a jail export (charges, and bookings when the mapping has them) through ``mapping``.

        ``charges`` may be several files (mapping version 2), each optionally labelled with the jail's list it is.
        """
        started = time.perf_counter()
        parts = (
            [(None, charges)]
            if isinstance(charges, Path)
            else [item if isinstance(item, tuple) else (None, item) for item in charges]
        )
        part_digests = [file_sha256(path) for _label, path in parts]
        digests: dict[str, object] = (
            {"charges": part_digests[0]}
            if len(parts) == 1 and parts[0][0] is None
            else {"charges": [[label, digest] for (label, _path), digest in zip(parts, part_digests, strict=True)]}
        )
        if bookings is not None:
            digests["bookings"] = file_sha256(bookings)
        import_id = hashlib.sha256(
            json.dumps({"mapping": mapping.sha256, **digests}, sort_keys=True).encode()
        ).hexdigest()
        charge_names = [f"{label}={path}" if label else str(path) for label, path in parts]
        sources = ", ".join([*([str(bookings)] if bookings else []), *charge_names])
        if self._already(import_id):
            return ImportReport("already_imported", "jail", import_id, sources)
        load = load_jail(mapping, charges=parts, bookings=bookings)
        report = ImportReport(
            "imported", "jail", import_id, sources, rejects=load.rejects, notes=load.notes, warnings=load.warnings
        )
        report.details = load.details
        report.source_files = [str(path) for path in (bookings, *(p for _l, p in parts)) if path is not None]
        if strict and report.rejects:
            report.status = "rejected"
            raise ImportRejected(report)
        context = {"import_id": import_id, "jurisdiction": mapping.jurisdiction, "facility": mapping.facility}
        files = pl.DataFrame(
            {
                "__part": pl.Series(list(range(len(parts))), dtype=pl.Int32),
                "__source_file": [str(path) for _label, path in parts],
                "__source_sha256": part_digests,
            }
        )
        ch = load.charges.with_columns([pl.lit(value, dtype=pl.String).alias(key) for key, value in context.items()])
        bk = load.bookings.with_columns([pl.lit(value, dtype=pl.String).alias(key) for key, value in context.items()])
        charge_raw = _raw_cells(load.charge_sources)
        raw_names = [c for c in charge_raw.columns if c.startswith("__src_")]
        ch = ch.join(charge_raw, on=["__part", ROW], how="left").join(files, on="__part", how="left")
        frames: dict[str, tuple[pl.DataFrame, list[str], dict[str, str | None]]] = {
            "jail_charges": (ch, raw_names, {"source_sheet": load.charge_source.sheet})
        }
        if bookings is not None and load.booking_source is not None:
            raw = list(load.booking_source.columns)
            bk = bk.join(
                load.booking_source.frame.select([ROW, *raw]).rename({c: f"__src_{i}" for i, c in enumerate(raw)}),
                on=ROW,
                how="left",
            )
            frames["jail_bookings"] = (
                bk,
                [f"__src_{i}" for i in range(len(raw))],
                {
                    "source_file": str(bookings),
                    "source_sheet": load.booking_source.sheet,
                    "source_sha256": str(digests["bookings"]),
                },
            )
        elif load.booking_sources and "__part" in bk.columns:  # booking lines of blocks files
            booking_raw = _raw_cells(load.booking_sources)
            names = [c for c in booking_raw.columns if c.startswith("__src_")]
            bk = bk.join(booking_raw, on=["__part", ROW], how="left").join(files, on="__part", how="left")
            frames["jail_bookings"] = (bk, names, {"source_sheet": load.charge_source.sheet})
        else:  # bookings derived from charge rows: provenance is the first charge row of the booking
            wanted = ["booking_id", "__part", ROW, "__source_file", "__source_sha256", *raw_names]
            first = ch.select(wanted).sort("__part", ROW).group_by("booking_id", maintain_order=True).first()
            bk = bk.drop([c for c in ("__part", ROW) if c in bk.columns]).join(
                first,
                on="booking_id",
                how="left",
            )
            frames["jail_bookings"] = (bk, raw_names, {"source_sheet": load.charge_source.sheet})
        self._commit(
            report,
            frames,
            digest=json.dumps(digests, sort_keys=True),
            mapping=mapping.sha256,
            rejects_path=rejects_path,
            started=started,
        )
        return report

    def _commit(
        self,
        report: ImportReport,
        frames: ReadOnly[str, tuple[pl.DataFrame | RowGroups, list[str], dict[str, str | None]]],
        *,
        digest: str,
        mapping: str | None,
        rejects_path: Path | None,
        started: float,
    ) -> None:
        written: list[Path] = []
        parquet: dict[str, str] = {}
        try:
            for table, (frame, raw_columns, provenance) in frames.items():
                dest = self.root / "parquet" / table / f"{report.import_id}.parquet"
                with atomic_path(dest) as tmp:
                    if isinstance(frame, RowGroups):
                        rows = write_row_groups(frame.groups, provenance, frame.columns, tmp)
                        frame.settle()
                    else:
                        write_parquet(frame, raw_columns, provenance, TABLES[table], tmp)
                        rows = frame.height
                written.append(dest)
                parquet[table] = str(dest.relative_to(self.root))
                report.tables[table] = rows
            rejects_rel: str | None = None
            if report.rejects:
                dest = rejects_path or (self.root / "rejects" / f"{report.import_id}.csv")
                with atomic_path(dest) as tmp:
                    write_rejects(tmp, report.rejects, report.sheet)
                written.append(dest)
                report.rejects_file = dest
                if dest.is_relative_to(self.root):
                    rejects_rel = str(dest.relative_to(self.root))
            main = "detainers" if "detainers" in report.tables else "jail_charges"
            report.rows_loaded = report.tables.get(main, 0)
            _before_commit()
            with duckdb.connect(str(self.catalog)) as con:
                con.execute("BEGIN TRANSACTION")
                con.execute(
                    "INSERT INTO imports (import_id, kind, source_files, source_sheet, source_sha256, mapping_sha256, "
                    "layout, rows_loaded, rows_rejected, rejects_file, parquet_files, imported_at, details) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        report.import_id,
                        report.kind,
                        json.dumps(report.source_files or [report.source]),
                        report.sheet,
                        digest,
                        mapping,
                        report.layout,
                        report.rows_loaded,
                        len(report.rejects),
                        rejects_rel,
                        json.dumps(parquet),
                        datetime.now(UTC).replace(tzinfo=None),
                        json.dumps(report.details, default=str) if report.details else None,
                    ],
                )
                con.execute("COMMIT")
        except BaseException:
            for path in written:
                if rejects_path is None or path != rejects_path:
                    path.unlink(missing_ok=True)
            raise
        report.seconds = time.perf_counter() - started


def _raw_cells(tables: Sequence[RawTable]) -> pl.DataFrame:
    """Every input file's raw cells under positional names (``__src_0`` ...), keyed by ``__part`` and row."""
    frames = []
    for index, table in enumerate(tables):
        raw = list(table.columns)
        frames.append(
            table.frame.select([ROW, *raw])
            .rename({c: f"__src_{i}" for i, c in enumerate(raw)})
            .with_columns(pl.lit(index, dtype=pl.Int32).alias("__part"))
        )
    return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]


def _provenance_schema() -> dict[str, pl.DataType]:
    return {
        "source_file": pl.String(),
        "source_sheet": pl.String(),
        "source_row": pl.Int64(),
        "source_sha256": pl.String(),
        "row_hash": pl.String(),
    }


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _listing(files: Sequence[Path]) -> str:
    return "[" + ", ".join(_lit(str(path)) for path in files) + "]"


def _text_row_hash_files(con: duckdb.DuckDBPyConnection, files: Sequence[Path]) -> set[str]:
    """The files (as given) whose ``row_hash`` is hex text (written before it was stored as 16 bytes)."""
    rows = con.execute(
        f"SELECT file_name FROM parquet_schema({_listing(files)}) "
        "WHERE name = 'row_hash' AND (converted_type = 'UTF8' OR logical_type LIKE 'String%')"
    ).fetchall()
    return {row[0] for row in rows}


assert PROVENANCE_COLUMNS == tuple(_provenance_schema())
