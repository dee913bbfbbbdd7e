"""Issue 11's misuse list: each gives one line of error, or a warning with counts — never a traceback, never a number
the data did not say. All data here are made up (obviously synthetic)."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
import re
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from detainers.cli import app

from .test_mapping_import import SYNTHETIC_EXPORT, SYNTHETIC_MAPPING

WA = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "wa_charge_lines"
NPR = """date,lift_reason,det_facility,city,state,detainer_type
2014-01-02 00:00:00,Booked into Detention,SYNTHETIC JAIL A,TOWN,PENNSYLVANIA,
2014-01-03 00:00:00,,SYNTHETIC JAIL A,TOWN,PENNSYLVANIA,
2014-02-04 00:00:00,Detainer Declined by LEA,SYNTHETIC JAIL B,TOWN,PENNSYLVANIA,
"""
# A release without a lift reason column (DDP-like): outcomes are not available from it.
NO_OUTCOME = """Detainer Prepare Date,Detention Facility,Facility State
2020-01-02,SYNTHETIC JAIL A,TX
2020-01-05,SYNTHETIC JAIL B,TX
"""
runner = CliRunner()


def _one_line_error(result: Result, *words: str) -> None:
    assert result.exit_code != 0
    text = result.output.strip()
    assert "Traceback" not in text and len(text.splitlines()) == 1, text
    for word in words:
        assert word in text, text


def _compressed(tmp_path: Path, name: str, text: str, kind: str) -> Path:
    data = text.encode("utf-8")
    if kind == "gzip":
        path = tmp_path / f"{name}.gz"
        path.write_bytes(gzip.compress(data))
    elif kind == "bz2":
        path = tmp_path / f"{name}.bz2"
        path.write_bytes(bz2.compress(data))
    elif kind == "xz":
        path = tmp_path / f"{name}.xz"
        path.write_bytes(lzma.compress(data))
    else:
        path = tmp_path / f"{name}.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr(name, data)
    return path


@pytest.mark.parametrize("kind", ["gzip", "bz2", "xz", "zip"])
def test_compressed_inputs_are_read_transparently(tmp_path: Path, kind: str) -> None:
    path = _compressed(tmp_path, "npr.csv", NPR, kind)
    result = runner.invoke(app, ["report", "outcomes", "--input", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["total_rows"] == 3 and report["by_outcome"]["booked_by_ice"] == 1
    mapping = tmp_path / "m.yaml"
    mapping.write_text(SYNTHETIC_MAPPING, encoding="utf-8")
    export = _compressed(tmp_path, "export.txt", SYNTHETIC_EXPORT, kind)
    imported = runner.invoke(
        app, ["import", "jail", "--mapping", str(mapping), "--charges", str(export), "--store", str(tmp_path / "s")]
    )
    assert imported.exit_code == 0 and "7 row(s) loaded" in imported.stdout, imported.output


def test_a_zip_with_two_files_and_a_wrong_encoding_are_one_line_errors(tmp_path: Path) -> None:
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.csv", NPR)
        archive.writestr("b.csv", NPR)
    _one_line_error(runner.invoke(app, ["report", "outcomes", "--input", str(two)]), "exactly one file", "two.zip")
    latin = tmp_path / "latin.csv.gz"
    latin.write_bytes(gzip.compress(NPR.replace("SYNTHETIC JAIL B", "SYNTHÉTIC JAIL B").encode("latin-1")))
    _one_line_error(runner.invoke(app, ["report", "outcomes", "--input", str(latin)]), "latin.csv.gz", "utf-8")


def test_no_outcome_column_is_not_available_never_open(tmp_path: Path) -> None:
    path = tmp_path / "no_lift.csv"
    path.write_text(NO_OUTCOME, encoding="utf-8")
    result = runner.invoke(app, ["report", "outcomes", "--input", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["outcomes_available"] is False and report["rates"] is None
    assert set(report["by_outcome"].values()) == {None}  # not 100% "open"
    assert any("not available" in note for note in report["notes"])
    text = runner.invoke(app, ["report", "outcomes", "--input", str(path)])
    assert "not available" in text.stdout and "100.0%" not in text.stdout
    chart = runner.invoke(app, ["report", "outcomes", "--input", str(path), "--chart", str(tmp_path / "c.png")])
    assert chart.exit_code == 0 and not (tmp_path / "c.png").exists() and "no chart" in chart.stderr


def test_outcomes_from_a_store(tmp_path: Path) -> None:
    path = tmp_path / "npr.csv"
    path.write_text(NPR, encoding="utf-8")
    store = str(tmp_path / "s")
    assert runner.invoke(app, ["import", "detainers", str(path), "--store", store]).exit_code == 0
    from_store = json.loads(runner.invoke(app, ["report", "outcomes", "--store", store, "--json"]).stdout)
    from_file = json.loads(runner.invoke(app, ["report", "outcomes", "--input", str(path), "--json"]).stdout)
    assert from_store["by_outcome"] == from_file["by_outcome"] and from_store["rates"] == from_file["rates"]
    _one_line_error(runner.invoke(app, ["report", "outcomes", "--store", str(tmp_path / "nothing")]), "not a store")
    empty = tmp_path / "jailonly"
    mapping = tmp_path / "m.yaml"
    mapping.write_text(SYNTHETIC_MAPPING, encoding="utf-8")
    export = tmp_path / "e.txt"
    export.write_text(SYNTHETIC_EXPORT, encoding="utf-8")
    runner.invoke(app, ["import", "jail", "--mapping", str(mapping), "--charges", str(export), "--store", str(empty)])
    _one_line_error(runner.invoke(app, ["report", "outcomes", "--store", str(empty)]), "no ICE detainer rows")


def test_an_export_without_booking_numbers(tmp_path: Path) -> None:
    export = tmp_path / "e.txt"
    export.write_text(SYNTHETIC_EXPORT, encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(SYNTHETIC_MAPPING.replace("booking_key: [person_id, booked_at]\n", ""), encoding="utf-8")
    _one_line_error(
        runner.invoke(app, ["import", "jail", "--mapping", str(mapping), "--charges", str(export)]),
        "booking_key",
        "booking_id",
    )
    # a key of person and booking *day* merges two stays of one person on one day: the import says so, with counts
    day = SYNTHETIC_MAPPING.replace("mapping_version: 1", "mapping_version: 2").replace(
        '  formats: ["%m/%d/%Y %I:%M %p"]', '  formats: ["%m/%d/%Y"]'
    )
    merged = SYNTHETIC_EXPORT.replace("P-001;07/01/2019 02:30 AM", "P-001;03/09/2019 11:15 PM").replace(
        "07/01/2019", "03/09/2019"
    )
    mapping.write_text(day, encoding="utf-8")
    export.write_text(re.sub(r" \d\d:\d\d [AP]M", "", merged), encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "import",
            "jail",
            "--mapping",
            str(mapping),
            "--charges",
            str(export),
            "--store",
            str(tmp_path / "s"),
            "--json",
        ],
    )
    report = json.loads(result.stdout)
    warnings = " ".join(report["warnings"])
    assert "dates only" in warnings
    assert "booking_key merges rows: 1 booking(s) repeat a charge number" in warnings


def test_state_reports_on_another_states_jail_are_refused(tmp_path: Path) -> None:
    store = str(tmp_path / "wa")
    args = ["--mapping", str(WA / "mapping.yaml"), "--charges", str(WA / "jail_charge_lines.csv.gz")]
    assert runner.invoke(app, ["import", "jail", *args, "--store", store]).exit_code == 0
    _one_line_error(runner.invoke(app, ["report", "truth-act", "--store", store]), "California", "us/wa/pierce")
    _one_line_error(runner.invoke(app, ["report", "illinois", "--store", store]), "Illinois", "us/wa/pierce")


def test_columns_the_export_lacks_are_not_available_not_zero(tmp_path: Path) -> None:
    # no level, no charge text, no disposition column: felony / violent / transfers are unknown, not 0
    export = tmp_path / "bare.csv"
    export.write_text(
        "booking,booked,code,released\nB1,2019-05-01,4200,2019-05-03\nB1,2019-05-01,PC 484,2019-05-02\n",
        encoding="utf-8",
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        """mapping_version: 1
name: bare synthetic export
jurisdiction: us/ca/los-angeles
timezone: America/Los_Angeles
files:
  charges:
    columns: {booking_id: booking, booked_at: booked, charge_code: code, released_at: released}
timestamps:
  formats: ["%Y-%m-%d"]
holds:
  immigration:
    - {field: charge_code, equals: "4200"}
""",
        encoding="utf-8",
    )
    args = ["--mapping", str(mapping), "--charges", str(export)]
    monthly = json.loads(runner.invoke(app, ["report", "monthly", *args, "--json"]).stdout)
    (month,) = monthly["months"]
    assert month["bookings_with_detainer"] == 1
    assert month["with_at_least_one_felony"] is None and month["with_at_least_one_violent"] is None
    text = runner.invoke(app, ["report", "monthly", *args]).stdout
    assert "not available" in text
    truth = json.loads(runner.invoke(app, ["report", "truth-act", *args, "--json"]).stdout)
    (year,) = truth["years"]
    assert year["hold_requests"] == 1 and year["transfers_to_ice"] is None and year["transfers_by_sex"] is None


def test_a_rule_that_matches_no_row_is_named(tmp_path: Path) -> None:
    export = tmp_path / "e.txt"
    export.write_text(SYNTHETIC_EXPORT, encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        SYNTHETIC_MAPPING.replace("mapping_version: 1", "mapping_version: 2").replace(
            '    - {field: charge_text, matches: "WARRANT"}', "    - {field: charge_text, equals: BENCH WARRNT}"
        ),
        encoding="utf-8",
    )
    result = runner.invoke(
        app,
        [
            "import",
            "jail",
            "--mapping",
            str(mapping),
            "--charges",
            str(export),
            "--store",
            str(tmp_path / "s"),
            "--json",
        ],
    )
    report = json.loads(result.stdout)
    assert any(
        "holds.other rule" in w and "BENCH WARRNT" in w and "matched no charge line" in w for w in report["warnings"]
    )


def test_reports_on_a_folder_that_is_no_store(tmp_path: Path) -> None:
    for command in ("held-longer", "monthly", "concordance", "truth-act"):
        _one_line_error(runner.invoke(app, ["report", command, "--store", str(tmp_path)]), "not a store")


def test_cells_are_trimmed_only_where_needed_and_always_correctly(tmp_path: Path) -> None:
    import pyarrow as pa

    from detainers.ingest import read_table
    from detainers.ingest._tabular import _may_need_trim

    path = tmp_path / "t.csv"
    path.write_text("a,b,c,d\n x,y,\u00a0z\u2003,w\nx2 ,y2,z2,\nx3,\ty3,z3, \n", encoding="utf-8")
    table = read_table(path)
    assert table.frame["a"].to_list() == ["x", "x2", "x3"]
    assert table.frame["b"].to_list() == ["y", "y2", "y3"]
    assert table.frame["c"].to_list() == ["z", "z2", "z3"]  # Unicode spaces too
    assert table.frame["d"].to_list() == ["w", None, None]  # empty and whitespace-only cells are null
    assert not _may_need_trim(pa.chunked_array([pa.array(["abc", "", "d e"])]))
    assert _may_need_trim(pa.chunked_array([pa.array(["abc", "d "])]))
    assert _may_need_trim(pa.chunked_array([pa.array(["é"])]))  # non-ASCII edges: the trim decides
