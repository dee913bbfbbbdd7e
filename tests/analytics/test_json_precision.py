"""Numbers at full precision in every --json (rounding only in the human table): each report command is run with
--json and its numbers are recomputed from what the same JSON (or CSV) gives, with float equality, and checked not
to have been cut to a few decimals."""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from detainers.cli import app

from .conftest import MAPPINGS, PA, TRAVIS

ROOT = Path(__file__).resolve().parents[2]
WA = ROOT / "tests" / "data" / "synthetic" / "wa_charge_lines"
runner = CliRunner()


def _json(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _rates_exact(doc: Any) -> int:
    """Every rate carries share = n/d and percent = n/d*100 unrounded; returns how many were checked."""
    checked = 0
    for node in _walk(doc):
        if isinstance(node, dict) and {"numerator", "denominator", "percent"} <= set(node):
            n, d = node["numerator"], node["denominator"]
            if d:
                assert node["share"] == n / d and node["percent"] == n / d * 100, node
            else:
                assert node["share"] is None and node["percent"] is None
            checked += 1
    return checked


def _not_cut(values: list[float], places: int = 4) -> None:
    floats = [v for v in values if isinstance(v, float)]
    assert floats and any(v != round(v, places) for v in floats), floats


def test_outcomes_json_is_unrounded() -> None:
    doc = _json("report", "outcomes", "--input", str(PA), "--format", "npr", "--by", "year", "--json")
    assert _rates_exact(doc) > 50
    _not_cut([n["percent"] for n in _walk(doc) if isinstance(n, dict) and isinstance(n.get("percent"), float)])
    rows = list(
        csv.DictReader(io.StringIO(runner.invoke(app, ["report", "outcomes", "--input", str(PA), "--csv"]).stdout))
    )
    _not_cut([float(r["percent_issued"]) for r in rows if r["percent_issued"]])


def test_monthly_json_is_unrounded() -> None:
    args = [
        "--mapping",
        str(MAPPINGS / "travis_county_tx.yaml"),
        "--bookings",
        str(TRAVIS / "travis_ice_detainer_bookings.csv"),
    ]
    doc = _json("report", "monthly", *args, "--charges", str(TRAVIS / "travis_ice_detainer_charges.csv"), "--json")
    assert _rates_exact(doc) > 100
    _not_cut([m["felony_rate"]["percent"] for m in doc["months"]])


@pytest.fixture(scope="module")
def wa_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("wa") / "store"
    result = runner.invoke(
        app,
        [
            "import",
            "jail",
            "--mapping",
            str(WA / "mapping.yaml"),
            "--charges",
            str(WA / "jail_charge_lines.csv.gz"),
            "--store",
            str(store),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    crosswalk = doc["details"]["crosswalk"]
    assert crosswalk["translated_share"] == crosswalk["translated"] / crosswalk["charge_lines"]
    _not_cut([doc["seconds"], crosswalk["translated_share"]])
    return store


def test_held_longer_json_is_unrounded_and_the_csv_has_every_booking(wa_store: Path) -> None:
    doc = _json("report", "held-longer", "--store", str(wa_store), "--json")
    assert _rates_exact(doc) == 1
    rows = list(
        csv.DictReader(
            io.StringIO(runner.invoke(app, ["report", "held-longer", "--store", str(wa_store), "--csv"]).stdout)
        )
    )
    assert len(rows) == doc["bookings"] and {"booking_id", "verdict", "length_of_stay_days"} <= set(rows[0])
    for group, hold in (("with_hold", "True"), ("without_hold", "False")):
        stays = [
            float(r["length_of_stay_days"]) for r in rows if r["immigration_hold"] == hold and r["length_of_stay_days"]
        ]
        got = doc["length_of_stay_days"][group]
        assert got["bookings"] == len(stays)
        assert got["mean"] == pytest.approx(statistics.fmean(stays), abs=1e-12)
        assert got["median"] == pytest.approx(statistics.median(stays), abs=1e-12)
    extra = [float(r["extra_days"]) for r in rows if r["verdict"] == "held_longer"]
    assert doc["extra_days_mean"] == pytest.approx(statistics.fmean(extra), abs=1e-12)
    _not_cut([doc["extra_days_mean"], *(g["mean"] for g in doc["length_of_stay_days"].values())])


def test_rearrest_json_is_unrounded() -> None:
    from datetime import date, timedelta

    from detainers.analytics import rearrest

    from .test_jail_reports import _jail

    lines: list[tuple[str, str | None, str | None, str, str | None, str | None]] = []
    people: dict[str, str] = {}
    start = date(2010, 1, 1)
    for i in range(30):  # synthetic: released despite a detainer; every third re-booked within a year
        day = (start + timedelta(days=i)).isoformat()
        lines += [
            (f"r{i}", None, "misdemeanor", day, day, "bond_posted"),
            (f"r{i}", "immigration", None, day, day, "bond_posted"),
        ]
        people[f"r{i}"] = f"p{i}"
        if i % 3 == 0:
            again = (start + timedelta(days=i + 40 + 7 * i)).isoformat()
            lines.append((f"n{i}", None, "misdemeanor", again, again, "time_served"))
            people[f"n{i}"] = f"p{i}"
    bookings, charges = _jail(lines, people)
    cohort = {c["cohort"]: c for c in rearrest(bookings, charges, data_end=date(2016, 1, 1)).as_dict()["cohorts"]}
    one = cohort["released_despite_detainer"]["horizons"]["1y"]
    assert one["cumulative_incidence"] == pytest.approx(10 / 30, abs=1e-12)  # every digit (no censoring yet)
    _not_cut([one["cumulative_incidence"], one["ci_lower"], one["ci_upper"]])


def test_replay_json_is_unrounded(tmp_path: Path) -> None:
    from datetime import date

    from detainers.synth import SynthConfig, write_population

    write_population(
        tmp_path, SynthConfig(scale=300, seed=4, start=date(2021, 1, 1), end=date(2021, 12, 31), detainer_share=1.0)
    )
    doc = _json(
        "replay",
        str(tmp_path),
        "--policy",
        "us/ca/los-angeles/lasd@2021-01-01",
        "--vs",
        "us/tx/travis@2021-01-01",
        "--json",
    )
    for side in ("a", "b"):
        assert doc["totals"][f"hours_{side}"] == sum(row[f"hours_{side}"] for row in doc["rows"])
    _not_cut([doc["seconds"], doc["totals"]["hours_a"], doc["totals"]["hours_b"]], places=2)
