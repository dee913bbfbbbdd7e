"""Done-when of issue 11: a Washington-shaped jail export (charge lines with the booking's columns repeated, pipe-
separated, gzip) imported with a mapping file alone reproduces a published analysis exactly.

The export is synthetic (tests/data/synthetic/wa_charge_lines, made by make_fixture.py); the analysis is the one a
university human-rights center published for such a file, re-implemented below from its description with nothing
but the standard library, on the raw file: drop entry-error lines, lines of unknown category and lines its charge
table does not list; drop bookings whose most serious charge is of type "other"; length of stay = the booking's
own release minus booking time on naive local timestamps (first line of the booking); "held longer" = the hold
line released after every other line. The tool's numbers come from `detainers import jail` and
`detainers report held-longer --json`, and must match: counts exactly, means and medians to 1e-9.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import statistics
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from detainers.cli import app

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "wa_charge_lines"
EXPORT = DATA / "jail_charge_lines.csv.gz"
FMT = "%Y-%m-%d %H:%M:%S"
ORDER = ["other", "civil infraction", "misdemeanor", "gross misdemeanor", "class C felony", "class B felony"]
ORDER.append("class A felony")


def _published() -> dict[str, Any]:
    """The center's method, step by step, on the raw rows."""
    with gzip.open(EXPORT, "rt", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="|"))
    with (DATA / "crosswalk.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.DictReader(handle))
    exact = {r["text"]: r for r in table if r["text"]}
    start_lines, start_bookings = len(rows), len({r["booking_id"] for r in rows})

    def entry(text: str) -> dict[str, str] | None:
        import re

        if text in exact:
            return exact[text]
        return next((r for r in table if r["pattern"] and re.search(r["pattern"], text, re.I)), None)

    out: dict[str, Any] = {"start_lines": start_lines, "start_bookings": start_bookings}
    kept = [r for r in rows if r["booking_charge_desc"] != "ENTRY ERROR"]
    out["entry_error_dropped"] = len(rows) - len(kept)
    before = len(kept)
    kept = [r for r in kept if (entry(r["booking_charge_desc"]) or {}).get("category") != "unknown"]
    out["unknown_category_dropped"] = before - len(kept)
    before, ids = len(kept), {r["booking_id"] for r in kept}
    kept = [r for r in kept if entry(r["booking_charge_desc"]) is not None]
    out["untranslated_dropped"] = before - len(kept)
    out["untranslated_dropped_bookings"] = len(ids) - len({r["booking_id"] for r in kept})
    by_booking: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in kept:
        by_booking[r["booking_id"]].append(r)
    other = set()
    for booking, lines in by_booking.items():
        ranks = [ORDER.index(entry(r["booking_charge_desc"])["category"]) for r in lines]  # type: ignore[index]
        top = lines[ranks.index(max(ranks))]  # ties: the first line in the file
        if entry(top["booking_charge_desc"])["type"] == "other":  # type: ignore[index]
            other.add(booking)
    out["max_charge_other_dropped"] = len(other)
    for booking in other:
        del by_booking[booking]
    out["end_bookings"] = len(by_booking)
    out["end_lines"] = sum(len(lines) for lines in by_booking.values())

    def days(end: str, start: str) -> float:
        return (datetime.strptime(end, FMT) - datetime.strptime(start, FMT)).total_seconds() / 86400

    stays: dict[bool, list[float]] = {True: [], False: []}
    held_longer = 0
    for lines in by_booking.values():
        first = lines[0]
        hold = any(r["booking_charge_desc"] == "HOLD IMMIGRAT" for r in lines)
        if first["release_dt"]:
            stays[hold].append(days(first["release_dt"], first["booking_dt"]))
        if hold:
            hold_end = next(r["charge_release_dt"] for r in lines if r["booking_charge_desc"] == "HOLD IMMIGRAT")
            others = [r["charge_release_dt"] for r in lines if r["booking_charge_desc"] != "HOLD IMMIGRAT"]
            if hold_end and others and all(others) and hold_end > max(others):
                held_longer += 1
    out["hold_count"] = sum(
        1 for lines in by_booking.values() if any(r["booking_charge_desc"] == "HOLD IMMIGRAT" for r in lines)
    )
    out["held_longer_on_detainer"] = held_longer
    every = stays[True] + stays[False]
    out["hold_mean_jail_days"] = statistics.fmean(stays[True])
    out["hold_median_jail_days"] = statistics.median(stays[True])
    out["no_hold_mean_jail_days"] = statistics.fmean(stays[False])
    out["no_hold_median_jail_days"] = statistics.median(stays[False])
    out["overall_mean_jail_days"] = statistics.fmean(every)
    out["overall_median_jail_days"] = statistics.median(every)
    # the booking's own release differs from its latest charge line's (why booking_fields matter)
    out["release_differs"] = sum(
        1
        for lines in by_booking.values()
        if lines[0]["release_dt"]
        and all(r["charge_release_dt"] for r in lines)
        and lines[0]["release_dt"] != max(r["charge_release_dt"] for r in lines)
    )
    return out


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    store = tmp_path_factory.mktemp("wa") / "store"
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "import",
            "jail",
            "--mapping",
            str(DATA / "mapping.yaml"),
            "--charges",
            str(EXPORT),
            "--store",
            str(store),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    local = runner.invoke(app, ["report", "held-longer", "--store", str(store), "--json", "--clock", "local"])
    elapsed = runner.invoke(app, ["report", "held-longer", "--store", str(store), "--json"])
    per_booking = runner.invoke(app, ["report", "held-longer", "--store", str(store), "--csv", "--clock", "local"])
    assert local.exit_code == 0 and elapsed.exit_code == 0 and per_booking.exit_code == 0, local.output
    return {
        "import": report,
        "local": json.loads(local.stdout),
        "elapsed": json.loads(elapsed.stdout),
        "csv": list(csv.DictReader(io.StringIO(per_booking.stdout))),
    }


def test_counts_match_the_published_analysis_exactly(imported: dict[str, Any]) -> None:
    want = _published()
    report = imported["import"]
    removed = {f["filter"]: f for f in report["details"]["filters"]}
    assert removed["entry errors"]["charge_lines_removed"] == want["entry_error_dropped"] > 0
    assert removed["unknown category"]["charge_lines_removed"] == want["unknown_category_dropped"] > 0
    assert removed["not in the crosswalk"]["charge_lines_removed"] == want["untranslated_dropped"] > 0
    assert removed["not in the crosswalk"]["bookings_removed"] == want["untranslated_dropped_bookings"] > 0
    assert removed["most serious charge is other"]["bookings_removed"] == want["max_charge_other_dropped"] > 0
    assert report["tables"] == {"jail_charges": want["end_lines"], "jail_bookings": want["end_bookings"]}
    local = imported["local"]
    assert local["bookings"] == want["end_bookings"]
    assert local["bookings_with_hold"] == want["hold_count"] > 20
    assert local["held_longer"] == want["held_longer_on_detainer"] > 0


@pytest.mark.parametrize(
    ("group", "name"),
    [("with_hold", "hold"), ("without_hold", "no_hold"), ("all", "overall")],
)
def test_means_and_medians_match_to_1e9(imported: dict[str, Any], group: str, name: str) -> None:
    want = _published()
    got = imported["local"]["length_of_stay_days"][group]
    assert got["mean"] == pytest.approx(want[f"{name}_mean_jail_days"], abs=1e-9, rel=0)
    assert got["median"] == pytest.approx(want[f"{name}_median_jail_days"], abs=1e-9, rel=0)


def test_booking_release_is_the_bookings_own_not_the_latest_line(imported: dict[str, Any]) -> None:
    want = _published()
    assert want["release_differs"] > 50  # the shape the issue describes: most bookings end after their last line
    rows = imported["csv"]
    assert {"booking_id", "verdict", "length_of_stay_days", "length_of_stay_days_from_charges"} <= set(rows[0])
    differ = [
        r
        for r in rows
        if r["length_of_stay_days"]
        and r["length_of_stay_days_from_charges"]
        and abs(float(r["length_of_stay_days"]) - float(r["length_of_stay_days_from_charges"])) > 1e-9
    ]
    assert len(differ) >= want["release_differs"] - 5  # both lengths are carried, and they differ as in the data
    assert all(r["release_from"] == "booking_fields" for r in rows)


def test_elapsed_clock_differs_by_the_dst_hours_only(imported: dict[str, Any]) -> None:
    local = imported["local"]["length_of_stay_days"]["all"]
    elapsed = imported["elapsed"]["length_of_stay_days"]["all"]
    assert local["bookings"] == elapsed["bookings"]
    # stays spanning a DST change are an hour longer or shorter in elapsed time: the means differ by less than 1 h
    assert 0 < abs(local["mean"] - elapsed["mean"]) < 1 / 24
    assert imported["local"]["clock"] == "local" and imported["elapsed"]["clock"] == "elapsed"


def test_import_reports_disagreeing_booking_columns_and_crosswalk_coverage(imported: dict[str, Any]) -> None:
    report = imported["import"]
    disagree = report["details"]["booking_fields"]["disagreements"]["released_at"]
    assert disagree["bookings"] == 3
    assert all(len(example["rows"]) >= 2 for example in disagree["examples"])
    assert any("disagree" in w and "SYN-00007" in w for w in report["warnings"])
    crosswalk = report["details"]["crosswalk"]
    assert 0 < crosswalk["translated"] < crosswalk["charge_lines"]
    assert crosswalk["most_frequent_untranslated"][0]["charge"] == "LITTERING 2"
    assert any(note.startswith("crosswalk:") and "%" in note for note in report["notes"])
