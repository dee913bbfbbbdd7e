"""ICE detainer releases: NPR and DDP layouts, provenance, redactions, idempotent and crash-safe imports."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import polars as pl
import pytest
from typer.testing import CliRunner

from detainers.cli import app
from detainers.ingest import ImportRejected, Layout, LayoutError, Store, detect_layout, load_detainers
from detainers.ingest import _store as store_module

PA = Path("ice_detainers_pa_fy2008_2015/pa_detainers.csv")
XlsxWriter = Callable[[Path, dict[str, Sequence[Sequence[object]]]], Path]


def _pa_rows(real: Path) -> list[dict[str, str]]:
    with (real / PA).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_pa_file_imports_every_row_with_provenance(real: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    report = store.import_detainers(real / PA, fmt="npr")
    rows = _pa_rows(real)
    assert report.status == "imported" and report.layout == "npr"
    assert report.rows_loaded == len(rows) and not report.rejects
    table = store.table("detainers").sort("source_row")
    assert table.height == len(rows)
    assert table["source_row"].to_list() == list(range(2, len(rows) + 2))
    assert set(table["source_sha256"].unique()) == {hashlib.sha256((real / PA).read_bytes()).hexdigest()}
    # row 2 of the file, checked against the csv module
    first = table.row(0, named=True)
    assert first["lift_reason"] == rows[0]["lift_reason"] and first["facility"] == rows[0]["det_facility"]
    assert str(first["prepare_date"]) == rows[0]["date"][:10]
    expected_hash = hashlib.md5("\x1f".join(rows[0].values()).encode()).hexdigest()
    assert first["row_hash"] == expected_hash
    # lift reasons survive exactly (empty -> null)
    got = table.group_by("lift_reason").len().rows()
    want: dict[str | None, int] = {}
    for row in rows:
        key = row["lift_reason"] or None
        want[key] = want.get(key, 0) + 1
    assert dict(got) == want


def test_detainer_type_labels_parsed_and_raw_kept(real: Path) -> None:
    load = load_detainers(real / PA)
    typed = load.frame.filter(pl.col("detainer_type").is_not_null())
    pairs = dict(typed.select("detainer_type", "detainer_form").unique().rows())
    assert pairs["I247N - Immigration Advisal - Request for Notification"] == "I247N_2015"
    assert pairs["I247D - Immigration Detainer - Request for Action"] == "I247D_2015"
    assert pairs["I247 - Immigration Detainer - Notice of Action (as of March 2013)"] == "I247_DEC2012"
    assert typed.height == sum(1 for row in _pa_rows(real) if row["detainer_type"])


def test_reimport_is_a_noop(real: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    store.import_detainers(real / PA)
    again = store.import_detainers(real / PA)
    assert again.status == "already_imported"
    assert store.table("detainers").height == 32757
    assert len(store.imports()) == 1


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


NPR_HEADER = ["date", "lift_reason", "det_facility", "city", "state", "detainer_type"]


def _malformed_file(tmp_path: Path) -> Path:
    path = _write_csv(
        tmp_path / "npr_bad.csv",
        NPR_HEADER,
        [
            ["2014-01-02 00:00:00", "Booked into Detention", "YORK COUNTY PRISON", "YORK", "PENNSYLVANIA", ""],
            ["not a date", "Lifted", "YORK COUNTY PRISON", "YORK", "PENNSYLVANIA", ""],
            ["2014-01-03 00:00:00", "Detainer Declined by LEA", "LEHIGH COUNTY JAIL", "ALLENTOWN", "PENNSYLVANIA", ""],
            ["", "Lifted", "YORK COUNTY PRISON", "YORK", "PENNSYLVANIA", ""],
        ],
    )
    with path.open("a", encoding="utf-8") as handle:
        handle.write("2014-01-05 00:00:00,Lifted,TOO,MANY,FIELDS,HERE,EXTRA\n")
        handle.write('2014-01-06 00:00:00,"Case\nClosed",BERKS COUNTY JAIL,READING,PENNSYLVANIA,\n')
        handle.write("2014-01-07 00:00:00,Lifted,SHORT ROW\n")
    return path


def test_malformed_rows_go_to_rejects_with_row_numbers(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    report = store.import_detainers(_malformed_file(tmp_path))
    assert report.rows_loaded == 3
    assert [(r.source_row, r.reason.split(" ")[0]) for _, r in report.rejects] == [
        (3, "prepare"),
        (5, "prepare"),
        (6, "expected"),
        (8, "expected"),
    ]
    assert report.rejects_file is not None and report.rejects_file.exists()
    with report.rejects_file.open(newline="") as handle:
        rejected = list(csv.DictReader(handle))
    assert [row["source_row"] for row in rejected] == ["3", "5", "6", "8"]
    assert "not a date" in rejected[0]["reason"] and "found 7" in rejected[2]["reason"]
    loaded = store.table("detainers").sort("source_row")
    # the multi-line quoted value is one record: row 7
    assert loaded["source_row"].to_list() == [2, 4, 7]
    assert loaded["lift_reason"].to_list()[2] == "Case\nClosed"


def test_strict_rejects_whole_file_and_writes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    with pytest.raises(ImportRejected) as info:
        store.import_detainers(_malformed_file(tmp_path), strict=True)
    assert len(info.value.report.rejects) == 4
    assert store.imports() == [] and store.table("detainers").height == 0
    assert not list((tmp_path / "s").rglob("*.parquet"))


def test_cli_strict_fails_cleanly(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["import", "detainers", str(_malformed_file(tmp_path)), "--store", str(tmp_path / "s"), "--strict"]
    )
    assert result.exit_code == 1
    assert "rejected" in result.output and "nothing" in result.output
    assert "Traceback" not in result.output
    assert Store(tmp_path / "s").imports() == []


def test_cli_default_loads_good_rows_and_reports(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["import", "detainers", str(_malformed_file(tmp_path)), "--store", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "3 row(s) loaded, 4 malformed" in " ".join(result.output.split())


def test_crash_between_parquet_and_commit_leaves_nothing(
    real: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "s")

    def crash() -> None:
        raise KeyboardInterrupt("killed mid-import")

    monkeypatch.setattr(store_module, "_before_commit", crash)
    with pytest.raises(KeyboardInterrupt):
        store.import_detainers(real / PA)
    assert store.imports() == [] and store.table("detainers").height == 0
    with store.connect() as con:
        assert con.execute("SELECT count(*) FROM detainers").fetchone() == (0,)
    monkeypatch.undo()
    assert store.import_detainers(real / PA).status == "imported"
    assert store.table("detainers").height == 32757


def test_hard_kill_orphans_are_invisible_and_repaired(real: Path, tmp_path: Path) -> None:
    """A process killed after its rename (os._exit, no cleanup) leaves a file that nobody reads; repair removes it."""
    store = Store(tmp_path / "s")
    orphan = tmp_path / "s" / "parquet" / "detainers" / "deadbeef.parquet"
    orphan.parent.mkdir(parents=True)
    pl.DataFrame({"x": [1]}).write_parquet(orphan)
    (orphan.parent / ".x.parquet.abc.tmp").write_bytes(b"partial")
    assert store.table("detainers").height == 0
    removed = store.repair()
    assert len(removed) == 2 and not orphan.exists()
    store.import_detainers(real / PA)
    assert store.repair() == []


def test_redaction_markers_become_null(tmp_path: Path) -> None:
    header = ["Detainer Prepare Date", "Facility State", "Detention Facility", "Detainer Lift Reason", "Detainer Type"]
    header += ["Unique Identifier", "Birth Date", "Alien File Number", "Gender"]
    path = _write_csv(
        tmp_path / "ddp.csv",
        header,
        [
            [
                "2024-01-02",
                "TX",
                "HARRIS COUNTY JAIL",
                "b(6), b(7)c",
                "I247A - Immigration Detainer - Immigration Detainer - Notice of Action",
                "(b)(6), (b)(7)(c) (b)(7)(e)",
                "1990-01-01",
                "A123456789",
                "Male",
            ],
            [
                "2024-01-03",
                "TX",
                "(b)(6), (b)(7)(c)",
                "Booked into Detention",
                "I247A - Immigration Detainer - Notice of Action (as of May 2025)",
                "P1",
                "1990-01-01",
                "A123456789",
                "Female",
            ],
        ],
    )
    load = load_detainers(path, fmt="ddp")
    assert load.layout is Layout.DDP_LATEST
    frame = load.frame
    assert frame["lift_reason"].to_list() == [None, "Booked into Detention"]
    assert frame["person_id"].to_list() == [None, "P1"]
    assert frame["facility"].to_list() == ["HARRIS COUNTY JAIL", None]
    assert frame["detainer_form"].to_list() == ["I247A_2017", "I247A_2025"]
    assert load.redacted == {"Detainer Lift Reason": 1, "Unique Identifier": 1, "Detention Facility": 1}
    # nothing that identifies a person is read
    assert "Birth Date" not in load.source_columns and "Alien File Number" not in load.source_columns
    store = Store(tmp_path / "s")
    store.import_detainers(path)
    with duckdb.connect() as con:
        text = con.execute(f"SELECT * FROM read_parquet('{store.files('detainers')[0]}')").fetchall()
    assert "A123456789" not in repr(text) and "1990-01-01" not in repr(text)


def test_ddp_historical_xlsx_with_banner_rows(tmp_path: Path, xlsx_writer: XlsxWriter) -> None:
    header: list[object] = [
        "Detainer_Prepare_Date",
        "Detainer_Lift_Date",
        "Detainer_Lift_Reason",
        "Detainer_Type",
        "Detainer_Detention_Facility",
        "Detainer_AOR",
        "Alien_Number_Unique_Identifier",
        "Detainer_ID",
        "Subject_Name",
    ]
    rows: list[list[object]] = [
        ["ICE LESA release 2025-ICFO-18038"],
        [],
        ["Produced under FOIA"],
        [],
        [],
        [],
        header,
        [
            "2019-05-01",
            "2019-05-03",
            "Booked into Detention",
            "I247A - Immigration Detainer - Immigration Detainer - Notice of Action",
            "DALLAS COUNTY JAIL",
            "DAL",
            "X1",
            11,
            "SHOULD NOT BE READ",
        ],
        ["2019-05-02", None, None, "I-247A", "DALLAS COUNTY JAIL", "DAL", "X1", 12, "SHOULD NOT BE READ"],
        [None, None, None, None, None, None, None, None, None],
        ["2019/05/09", None, "Duplicate", "I-247A", "TARRANT COUNTY JAIL", "DAL", "X2", 13, "X"],
    ]
    path = xlsx_writer(tmp_path / "lesa.xlsx", {"Detainers": rows})
    store = Store(tmp_path / "s")
    report = store.import_detainers(path, fmt="ddp")
    assert report.layout == Layout.DDP_HISTORICAL.value and report.sheet == "Detainers"
    table = store.table("detainers").sort("source_row")
    assert table["source_row"].to_list() == [8, 9, 11]
    assert table["source_sheet"].unique().to_list() == ["Detainers"]
    assert table["detainer_id"].to_list() == ["11", "12", "13"]
    assert str(table["lift_date"][0]) == "2019-05-03" and str(table["prepare_date"][2]) == "2019-05-09"
    assert "SHOULD NOT BE READ" not in repr(table.rows())


def test_parquet_and_2026_layout(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "Detainer Prepare Date": ["2025-04-01", "2025-04-01"],
            "Detainer Facility": ["A JAIL", "B JAIL"],
            "Facility State": ["CA", "CA"],
            "Detainer Lift Reason": ["Detainer Declined by LEA", None],
            "Detainer Lift Reason Code": ["DD", None],
            "Detainer Type": ["I247A - Immigration Detainer - Immigration Detainer - Notice of Action", None],
            "Anonymized Identifier": ["a", "b"],
        }
    )
    path = tmp_path / "fy25.parquet"
    frame.write_parquet(path)
    load = load_detainers(path)
    assert load.layout is Layout.DDP_2026
    assert load.frame["lift_reason_code"].to_list() == ["DD", None]
    assert load.frame["person_id"].to_list() == ["a", "b"]
    assert load.frame["__row"].to_list() == [1, 2]


def test_unknown_layout_and_wrong_format_are_errors(tmp_path: Path) -> None:
    with pytest.raises(LayoutError, match="match no detainer layout"):
        detect_layout(["foo", "bar"])
    path = _write_csv(tmp_path / "n.csv", NPR_HEADER, [["2014-01-02", "", "X", "Y", "Z", ""]])
    with pytest.raises(LayoutError, match="--format ddp"):
        load_detainers(path, fmt="ddp")


def test_rejects_file_never_holds_identifying_columns(tmp_path: Path) -> None:
    header = ["Detainer Prepare Date", "Detention Facility", "Birth Date", "Alien File Number", "Subject_Name"]
    path = _write_csv(
        tmp_path / "ddp_bad.csv",
        header,
        [
            ["2024-01-02", "A JAIL", "1990-01-01", "A123456789", "SOMEONE"],
            ["not a date", "A JAIL", "1991-02-02", "A987654321", "SOMEONE ELSE"],
        ],
    )
    with path.open("a", encoding="utf-8") as handle:
        handle.write("2024-01-03,B JAIL,1992-03-03,A111222333,THIRD PERSON,EXTRA\n")
    report = Store(tmp_path / "s").import_detainers(path)
    assert [r.source_row for _, r in report.rejects] == [3, 4]
    assert report.rejects_file is not None
    text = report.rejects_file.read_text()
    for secret in ("1991-02-02", "A987654321", "SOMEONE ELSE", "1992-03-03", "A111222333", "THIRD PERSON"):
        assert secret not in text


@pytest.mark.parametrize("kind", ["fast", "malformed", "one-column"])
def test_every_row_hash_matches_its_source_record(tmp_path: Path, kind: str) -> None:
    """row_hash is computed beside the other work (on the fast CSV path from the parser's untrimmed cells) and
    joined before rejected rows are dropped: each loaded row must carry the md5 of its own trimmed cells (fast
    path with date rejects and Unicode spaces, the slow path with field-count rejects, a one-column file with a
    blank row)."""
    if kind == "malformed":
        path = _malformed_file(tmp_path)
    elif kind == "one-column":
        path = tmp_path / "one.csv"
        path.write_text("Detainer Prepare Date\n2019-05-01\n\n\u30002019-05-03\u00a0\nnot a date\n2019-05-04\n")
    else:
        path = tmp_path / "mixed.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["date", "lift_reason", "det_facility", "city", "state", "detainer_type"])
            for day in range(1, 29):
                date_text = "not a date" if day % 7 == 0 else f"2014-02-{day:02d} 00:00:00"
                city = "\u3000CITY\u00a0" if day % 5 == 0 else "CITY"
                writer.writerow([date_text, "Lifted" if day % 2 else "", f" JAIL {day} ", city, "PENNSYLVANIA", ""])
    store = Store(tmp_path / "s")
    report = store.import_detainers(path)
    with path.open(newline="", encoding="utf-8") as handle:
        records = list(csv.reader(handle))
    table = store.table("detainers").sort("source_row")
    assert table.height == report.rows_loaded > 0
    by_row: dict[int, list[str]] = {}
    number = 1
    for record in records[1:]:
        number += 1
        by_row[number] = record
    if kind == "one-column":  # the blank line counts in row numbers (csv.reader yields [] for it)
        assert table["source_row"].to_list() == [2, 4, 6]
    for row, digest in table.select("source_row", "row_hash").rows():
        cells = [cell.strip() for cell in by_row[row]]
        assert digest == hashlib.md5("\x1f".join(cells).encode()).hexdigest(), row


def test_row_hash_stored_as_16_bytes_and_shown_as_hex(tmp_path: Path) -> None:
    """Parquet keeps the md5 digest (16 bytes); the views and Store.table show lowercase hex, also for files written
    when row_hash was stored as hex text, and columns with no value in any row are restored as typed NULLs."""
    rows = [["2014-02-01 00:00:00", "Lifted", "JAIL A", "CITY", "PENNSYLVANIA", ""]]
    new = _write_csv(tmp_path / "new.csv", NPR_HEADER, rows)
    old = _write_csv(tmp_path / "old.csv", NPR_HEADER, [["2014-02-02 00:00:00", "", "JAIL B", "TOWN", "OHIO", ""]])
    store = Store(tmp_path / "s")
    store.import_detainers(new)
    store.import_detainers(old)
    digest = hashlib.md5("\x1f".join(rows[0]).encode())
    new_file, old_file = store.files("detainers")
    written = pl.read_parquet(new_file)
    assert written.schema["row_hash"] == pl.Binary and written["row_hash"].to_list() == [digest.digest()]
    # the NPR layout has no person id: the column is not written, the table still has it (typed NULL)
    assert "person_id" not in written.columns and "lift_date" not in written.columns
    # a store file from before: row_hash as hex text
    before = pl.read_parquet(old_file)
    before.with_columns(pl.col("row_hash").bin.encode("hex")).write_parquet(old_file)
    old_hash = hashlib.md5("\x1f".join(["2014-02-02 00:00:00", "", "JAIL B", "TOWN", "OHIO", ""]).encode()).hexdigest()
    table = store.table("detainers").sort("source_row", "facility")
    assert dict(zip(table["facility"], table["row_hash"], strict=True)) == {
        "JAIL A": digest.hexdigest(),
        "JAIL B": old_hash,
    }
    assert table.schema["row_hash"] == pl.String and table.schema["person_id"] == pl.String
    assert table["person_id"].null_count() == 2 and table.schema["lift_date"] == pl.Date
    with store.connect() as con:
        got = con.execute("SELECT facility, row_hash, person_id FROM detainers ORDER BY facility").fetchall()
        types = dict(con.execute("SELECT column_name, column_type FROM (DESCRIBE detainers)").fetchall())
    assert got == [("JAIL A", digest.hexdigest(), None), ("JAIL B", old_hash, None)]
    assert types["row_hash"] == "VARCHAR" and types["lift_date"] == "DATE"
    assert list(table.columns) == list(types)


def test_row_hashes_fall_back_to_hex_route_when_digest_bytes_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast route reads md5_number's 16 bytes; the first row is checked against hashlib, and a mismatch (DuckDB
    handing the integer over differently) makes every hash come from unhex(md5(...)) instead."""
    from detainers.ingest import _provenance

    monkeypatch.setattr(_provenance, "_md5rows", None)  # the DuckDB route (what runs without the extension)
    frame = pl.DataFrame({"a": ["x", None, "é"], "b": ["1", "2", None]})
    want = [hashlib.md5("\x1f".join(cell or "" for cell in row).encode()).digest() for row in frame.rows()]
    assert _provenance.row_hashes(frame, ["a", "b"]).to_list() == want
    monkeypatch.setattr(_provenance, "_digests", lambda numbers: pl.Series([b"\0" * 16] * len(numbers)))
    fallback = _provenance.row_hashes(frame, ["a", "b"])
    assert fallback.dtype == pl.Binary and fallback.to_list() == want
