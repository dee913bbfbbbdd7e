"""Outcome taxonomy and the outcomes report on the Pennsylvania file."""

from __future__ import annotations

import json
import re
from datetime import date

import polars as pl
from typer.testing import CliRunner

from detainers.analytics import Outcome, classify_outcomes, flag_duplicates, lift_reason_table, outcome_report
from detainers.cli import app
from detainers.ingest import DetainerLoad

from .conftest import NATIONAL, PA

NAMES = {o.value for o in Outcome}


def test_every_npr_lift_reason_is_classified() -> None:
    national = pl.read_csv(NATIONAL / "export_detainers_by_lift_reason_and_year.csv", infer_schema_length=0)
    labels = national["lift_reason"].drop_nulls().unique().to_list()
    _, unknown = classify_outcomes(pl.DataFrame({"lift_reason": labels}))
    assert unknown == {}
    assert {rule.evidence for rule in lift_reason_table()} <= {"V", "V3", "I", "R"}


def test_unknown_lift_reason_is_reported_not_guessed(pa: DetainerLoad) -> None:
    frame = pa.frame.head(3).with_columns(pl.Series("lift_reason", ["Booked into Detention", "Beamed up", None]))
    report = outcome_report(frame, source="t", layout="npr")
    assert report.unknown_lift_reasons == {"Beamed up": 1}
    assert report.overall.unclassified == 1 and report.overall.by_outcome["open"] == 1
    assert any("Beamed up" in note for note in report.notes)


def test_pa_outcomes_match_raw_lift_reason_counts(pa: DetainerLoad) -> None:
    report = outcome_report(pa.frame, source="pa", layout="npr")
    counts = dict(pa.frame.group_by("lift_reason").len().iter_rows())
    by = report.overall.by_outcome
    assert set(by) == NAMES
    assert by["booked_by_ice"] == counts["Booked into Detention"]
    assert by["declined_by_lea"] == counts["Detainer Declined by LEA"]
    assert by["open"] == counts[None]
    assert sum(by.values()) == report.overall.deduplicated_total == report.overall.total_rows == pa.frame.height


def test_outcomes_cli_prints_each_category_with_its_denominator() -> None:
    result = CliRunner().invoke(app, ["report", "outcomes", "--input", str(PA), "--format", "npr"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    rows = pl.read_csv(PA, infer_schema_length=0)
    total = rows.height
    declined = rows.filter(pl.col("lift_reason") == "Detainer Declined by LEA").height
    booked = rows.filter(pl.col("lift_reason") == "Booked into Detention").height
    resolved = rows.filter(pl.col("lift_reason").is_not_null()).height
    assert f"{declined:,} / {total:,} of detainers issued" in text
    assert f"{declined:,} / {resolved:,} of resolved" in text
    assert f"{declined:,} / {booked + declined:,} of decisions by the jail" in text
    for name in NAMES:
        assert re.search(rf"{name}: [\d.]+% = [\d,]+ / {total:,} of detainers issued", text), name


def test_outcomes_json_grouped_by_year() -> None:
    result = CliRunner().invoke(
        app, ["report", "outcomes", "--input", str(PA), "--format", "npr", "--by", "year", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"total_rows", "deduplicated_total", "by_outcome", "groups"} <= set(data)
    assert set(data["by_outcome"]) == NAMES
    assert sum(g["total_rows"] for g in data["groups"]) == data["total_rows"]
    years = pl.read_csv(PA, infer_schema_length=0)["date"].str.slice(0, 4).value_counts()
    assert {g["group"]["year"]: g["total_rows"] for g in data["groups"]} == dict(years.iter_rows())
    for group in data["groups"]:
        assert set(group["by_outcome"]) == NAMES


def test_outcomes_csv_and_chart(tmp_path) -> None:  # type: ignore[no-untyped-def]
    chart = tmp_path / "o.svg"
    result = CliRunner().invoke(
        app, ["report", "outcomes", "--input", str(PA), "--csv", "--by", "facility", "--chart", str(chart)]
    )
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[0].split(",")
    assert header[:3] == ["facility", "outcome", "count"] and "denominator_jail_decisions" in header
    assert chart.read_text().lstrip().startswith("<?xml")


def test_ddp_deduplication_flags_never_deletes() -> None:
    frame = pl.DataFrame(
        {
            "person_id": ["a", "a", "a", "b", None, None],
            "prepare_date": [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 10), date(2024, 1, 1)]
            + [date(2024, 1, 1)] * 2,
            "source_file": ["f"] * 6,
            "source_sheet": [None] * 6,
            "source_row": [2, 3, 4, 5, 6, 7],
            "lift_reason": ["Booked into Detention", "Duplicate", None, "Lifted", None, None],
        }
    )
    flagged = flag_duplicates(frame)
    assert flagged.height == 6
    assert flagged["duplicate_likely"].to_list() == [False, True, False, False, False, False]
    assert flagged["duplicate_episode"].to_list()[:4] == [1, 1, 2, 1]
    report = outcome_report(
        frame.with_columns(pl.lit(None, dtype=pl.String).alias("facility")), source="x", layout="ddp"
    )
    assert report.overall.total_rows == 6 and report.overall.deduplicated_total == 5
    assert "1 row(s) flagged" in report.deduplication
