"""How an import's Parquet file is written: row hashes per row group (made beside the writer), rejected rows left
out of them, plain column types for every reader, and the redaction scan skipped only where no '(' can be."""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from detainers.ingest import Store
from detainers.ingest import _parquet_out as parquet_out
from detainers.ingest._tabular import read_table

HEADER = ["date", "lift_reason", "det_facility", "city", "state", "detainer_type"]


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def _rows(count: int) -> list[list[str]]:
    rows = []
    for index in range(count):
        rows.append(
            [
                f"2014-{index % 12 + 1:02d}-{index % 28 + 1:02d} 00:00:00",
                ["Lifted", "", "Case Closed"][index % 3],
                f"SYNTHETIC FACILITY {index % 7}",
                f"CITY {index % 5}",
                ["TEXAS", "  OHIO ", "IOWA"][index % 3],
                ["", "I247D - Immigration Detainer - Request for Action (as of 2015)"][index % 2],
            ]
        )
    return rows


def _want_hash(cells: list[str]) -> str:
    return hashlib.md5("\x1f".join(cell.strip() for cell in cells).encode()).hexdigest()


@pytest.mark.parametrize("bad", [[], [4, 9, 10, 23]])
def test_row_hashes_match_hashlib_across_row_groups_with_and_without_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: list[int]
) -> None:
    """Row groups of 4 rows: the hashes made beside the writer land on their own rows, rejects or not."""
    monkeypatch.setattr(parquet_out, "ROW_GROUP", 4)
    rows = _rows(30)
    for index in bad:
        rows[index][0] = "not a date"
    source = _write(tmp_path / "npr.csv", rows)
    store = Store(tmp_path / "store")
    report = store.import_detainers(source, fmt="npr")
    assert report.rows_loaded == 30 - len(bad) and len(report.rejects) == len(bad)
    table = store.table("detainers").sort("source_row")
    kept = [index for index in range(30) if index not in bad]
    assert table["source_row"].to_list() == [index + 2 for index in kept]
    assert table["row_hash"].to_list() == [_want_hash(rows[index]) for index in kept]
    # One row group per slice of 4 rows of the file (derived while the slice before is written), rejects left out.
    meta = pq.ParquetFile(store.files("detainers")[0]).metadata
    assert meta.num_row_groups == len({index // 4 for index in kept})
    assert [meta.row_group(g).num_rows for g in range(meta.num_row_groups)] == [
        sum(1 for index in kept if index // 4 == group) for group in sorted({index // 4 for index in kept})
    ]
    view = store.connect().sql("SELECT source_row, row_hash FROM detainers ORDER BY source_row").fetchall()
    assert [hash_ for _row, hash_ in view] == table["row_hash"].to_list()


def test_parquet_columns_are_plain_types_for_every_reader(tmp_path: Path) -> None:
    """The constant provenance columns are written as dictionaries, but no reader sees a dictionary type."""
    source = _write(tmp_path / "npr.csv", _rows(10))
    store = Store(tmp_path / "store")
    store.import_detainers(source, fmt="npr")
    path = store.files("detainers")[0]
    arrow = pq.read_table(path).schema
    assert str(arrow.field("source_file").type) == "string" and str(arrow.field("row_hash").type) == "binary"
    polars = pl.read_parquet(path).schema
    assert polars["source_sha256"] == pl.String and polars["prepare_date"] == pl.Date
    assert polars["row_hash"] == pl.Binary and polars["source_row"] == pl.Int64
    types = dict(duckdb.sql(f"SELECT name, type FROM parquet_schema('{path}')").fetchall())
    assert types["row_hash"] == "BYTE_ARRAY" and types["source_file"] == "BYTE_ARRAY"
    # the row hash is neither compressed nor given min/max statistics; the others keep theirs
    meta = pq.ParquetFile(path).metadata.row_group(0)
    columns = {meta.column(i).path_in_schema: meta.column(i) for i in range(meta.num_columns)}
    hash_stats = columns["row_hash"].statistics
    assert columns["row_hash"].compression == "UNCOMPRESSED" and (hash_stats is None or not hash_stats.has_min_max)
    assert columns["prepare_date"].statistics.has_min_max and columns["source_file"].statistics.has_min_max
    assert columns["source_file"].statistics.min == str(source)


def test_redaction_scan_is_skipped_only_in_columns_without_a_parenthesis(tmp_path: Path) -> None:
    rows = _rows(6)
    rows[2][3] = "(b)(6), (b)(7)(c)"
    source = _write(tmp_path / "npr.csv", rows)
    table = read_table(source)
    assert "city" not in table.paren_free and "detainer_type" not in table.paren_free
    assert {"date", "lift_reason", "det_facility", "state"} <= table.paren_free
    store = Store(tmp_path / "store")
    report = store.import_detainers(source, fmt="npr")
    assert any("city 1" in note for note in report.notes)
    assert store.table("detainers").sort("source_row")["city"].to_list()[2] is None


@pytest.mark.parametrize("bad", [[4, 5, 6, 7], list(range(10))])
def test_slices_with_every_row_rejected_write_no_row_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: list[int]
) -> None:
    """Slices are derived one at a time; one whose rows are all refused leaves no empty row group, and a file
    whose rows are all refused still writes the columns (no rows) and records the import."""
    monkeypatch.setattr(parquet_out, "ROW_GROUP", 4)
    rows = _rows(10)
    for index in bad:
        rows[index][0] = "not a date"
    store = Store(tmp_path / "store")
    report = store.import_detainers(_write(tmp_path / "npr.csv", rows), fmt="npr")
    kept = [index for index in range(10) if index not in bad]
    assert report.rows_loaded == len(kept) and [r.source_row for _f, r in report.rejects] == [i + 2 for i in bad]
    meta = pq.ParquetFile(store.files("detainers")[0]).metadata
    assert meta.num_rows == len(kept)
    assert meta.num_row_groups == len({index // 4 for index in kept})
    assert all(meta.row_group(g).num_rows > 0 for g in range(meta.num_row_groups))
    table = store.table("detainers").sort("source_row")
    assert table["source_row"].to_list() == [index + 2 for index in kept]
    assert table["row_hash"].to_list() == [_want_hash(rows[index]) for index in kept]
    assert {"prepare_date", "state", "row_hash"} <= set(table.columns)
    assert store.connect().sql("SELECT count(*) FROM detainers").fetchall() == [(len(kept),)]


def test_a_file_with_a_header_and_no_rows_imports_nothing_and_records_it(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    report = store.import_detainers(_write(tmp_path / "npr.csv", []), fmt="npr")
    assert report.status == "imported" and report.rows_loaded == 0 and report.rejects == []
    assert pq.ParquetFile(store.files("detainers")[0]).metadata.num_rows == 0
    assert store.table("detainers").height == 0 and len(store.imports()) == 1
