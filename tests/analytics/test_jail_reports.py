"""Held-longer, re-arrest, reconciliation, concordance and compliance views on small synthetic jail data
(hand-made, clearly synthetic) and on the Travis files where they apply."""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
import pytest
from typer.testing import CliRunner

from detainers.analytics import (
    concordance,
    form_in_use,
    held_longer,
    illinois_805_25_rows,
    rearrest,
    reconcile,
    truth_act_annual,
)
from detainers.cli import app
from detainers.domain import DetainerForm
from detainers.ingest import JailLoad

from .conftest import MAPPINGS, TRAVIS

UTC_DT = pl.Datetime("us", "UTC")


def _jail(
    lines: list[tuple[str, str | None, str | None, str, str | None, str | None]], people: dict[str, str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """lines: (booking, hold, level, booked YYYY-MM-DD, released YYYY-MM-DD or None, release_reason)."""
    charges = pl.DataFrame(
        {
            "booking_id": [x[0] for x in lines],
            "hold": [x[1] for x in lines],
            "level": [x[2] for x in lines],
            "booked_on": [date.fromisoformat(x[3]) for x in lines],
            "released_on": [date.fromisoformat(x[4]) if x[4] else None for x in lines],
            "release_reason": [x[5] for x in lines],
            "violent": [False] * len(lines),
            "charge_code": ["1"] * len(lines),
            "charge_text": ["SYNTHETIC CHARGE"] * len(lines),
        }
    ).with_columns(
        pl.lit(None, dtype=UTC_DT).alias("booked_at"),
        pl.lit(None, dtype=UTC_DT).alias("released_at"),
        pl.int_range(pl.len()).alias("__row"),
    )
    bookings = (
        charges.group_by("booking_id", maintain_order=True)
        .agg(
            pl.col("booked_on").min(),
            pl.when(pl.col("released_on").is_null().any())
            .then(None)
            .otherwise(pl.col("released_on").max())
            .alias("released_on"),
            pl.col("release_reason").sort_by("released_on").last(),
            (pl.col("hold") == "immigration").any().alias("immigration_hold"),
        )
        .with_columns(
            pl.col("booking_id").replace_strict(people, default=None).alias("person_id"),
            pl.lit(None, dtype=UTC_DT).alias("booked_at"),
            pl.lit(None, dtype=UTC_DT).alias("released_at"),
            pl.lit("M").alias("sex"),
            pl.lit("W").alias("race"),
        )
    )
    return bookings, charges


def test_held_longer_counts_by_the_uwchr_rule() -> None:
    bookings, charges = _jail(
        [
            ("b1", None, "misdemeanor", "2020-01-01", "2020-01-02", "own_recognizance"),
            ("b1", "immigration", None, "2020-01-01", "2020-01-04", "released_to_ice"),  # +2 days
            ("b2", None, "felony", "2020-02-01", "2020-02-10", "time_served"),
            ("b2", "immigration", None, "2020-02-01", "2020-02-10", "released_to_ice"),  # same day: not longer
            ("b3", "immigration", None, "2020-03-01", "2020-03-02", "hold_lifted"),  # hold only
            ("b4", None, "felony", "2020-04-01", "2020-04-05", "bond_posted"),  # no hold
            ("b5", None, "felony", "2020-05-01", None, None),
            ("b5", "immigration", None, "2020-05-01", None, None),  # open
        ],
        {},
    )
    report = held_longer(bookings, charges)
    assert (report.bookings_with_hold, report.judgeable, report.held_longer) == (4, 2, 1)
    assert (report.hold_only, report.open_hold) == (1, 1)
    assert report.extra_days_median == 2.0
    assert report.rate().text() == "50.0% = 1 / 2 of bookings with a hold and other charges"
    assert report.length_of_stay["without_hold"] == {"bookings": 1, "mean": 4.0, "median": 4.0}
    assert report.length_of_stay["with_hold"]["bookings"] == 3


def test_held_longer_on_travis(travis: JailLoad) -> None:
    report = held_longer(travis.bookings, travis.charges)
    holds = travis.charges.filter(pl.col("hold") == "immigration")
    assert report.bookings_with_hold <= holds["booking_id"].n_unique()
    assert report.held_longer + (report.judgeable - report.held_longer) == report.judgeable
    assert 0 < report.held_longer < report.judgeable


def test_rearrest_km_with_censoring() -> None:
    lines: list[tuple[str, str | None, str | None, str, str | None, str | None]] = []
    people: dict[str, str] = {}
    start = date(2010, 1, 1)
    # 40 synthetic people released despite a detainer; person i (even) is re-booked i + 100(i+1) days later.
    for i in range(40):
        b = f"r{i}"
        people[b] = f"p{i}"
        day = (start + timedelta(days=i)).isoformat()
        lines.append((b, None, "misdemeanor", day, day, "bond_posted"))
        lines.append((b, "immigration", None, day, day, "bond_posted"))
        if i % 2 == 0:
            again = (start + timedelta(days=i + 100 * (i + 1))).isoformat()
            lines.append((f"n{i}", None, "misdemeanor", again, again, "time_served"))
            people[f"n{i}"] = f"p{i}"
    # a warrant-only booking is not a re-arrest
    lines.append(("w1", "other", None, "2010-06-01", "2010-06-02", "transferred"))
    people["w1"] = "p1"
    bookings, charges = _jail(lines, people)
    report = rearrest(bookings, charges, data_end=date(2016, 1, 1))
    cohort = {c.name: c for c in report.cohorts}["released_despite_detainer"]
    # even i re-booked after i + 100(i+1) days; only those up to i = 20 fall before the data end (2,191 days)
    assert cohort.people == 40 and cohort.events == 11
    one = cohort.horizons["1y"]
    # by 365 days: people 0 and 2 re-arrested (after 100 and 302 days), nobody censored yet -> 2/40
    assert one.incidence == pytest.approx(2 / 40, abs=1e-4)
    assert one.lower is not None and one.upper is not None and one.lower < one.incidence < one.upper
    five = cohort.horizons["5y"]
    assert five.incidence is not None and five.incidence > one.incidence
    # removal censors: remove everyone on day 50 -> no events seen
    removed = {f"p{i}": start + timedelta(days=50) for i in range(40)}
    censored = rearrest(bookings, charges, data_end=date(2016, 1, 1), removed_on=removed)
    assert {c.name: c for c in censored.cohorts}["released_despite_detainer"].events == 0
    assert "46%" in " ".join(report.as_dict()["caveats"])  # type: ignore[arg-type]


def test_reconcile_counts_each_category() -> None:
    bookings, charges = _jail(
        [
            ("b1", None, "felony", "2020-01-05", "2020-01-06", "time_served"),
            ("b1", "immigration", None, "2020-01-05", "2020-01-07", "released_to_ice"),
            ("b2", None, "felony", "2020-01-20", "2020-01-21", "bond_posted"),
            ("b2", "immigration", None, "2020-01-20", "2020-01-21", "hold_lifted"),
            ("b3", None, "felony", "2020-02-02", "2020-02-03", "bond_posted"),
            ("b3", "immigration", None, "2020-02-02", "2020-02-03", "bond_posted"),
        ],
        {},
    )
    ice = pl.DataFrame(
        {
            "facility": ["SYNTHETIC JAIL"] * 4 + ["OTHER JAIL"],
            "prepare_date": [
                date(2020, 1, 4),
                date(2020, 1, 20),
                date(2020, 1, 31),
                date(2020, 2, 2),
                date(2020, 2, 2),
            ],
            "lift_reason": ["Booked into Detention", "Lifted", "Duplicate", "Detainer Declined by LEA", None],
        }
    )
    result = reconcile(bookings, charges, ice, "synthetic jail")
    assert result.months == ["2020-01", "2020-02"]
    cats = {c["category"]: (c["jail"], c["ice"]) for c in result.categories}
    assert cats == {"lodged": (3, 4), "to_ice": (1, 1), "hold_lifted": (1, 2), "released": (1, 1), "open": (0, 0)}
    assert result.by_month[0] == {"month": "2020-01", "jail": 2, "ice": 3, "difference": -1}


def test_compliance_views() -> None:
    bookings, charges = _jail(
        [
            ("b1", None, "felony", "2019-12-30", "2020-01-02", "bond_posted"),
            ("b1", "immigration", None, "2019-12-30", "2020-01-03", "released_to_ice"),
            ("b2", None, "misdemeanor", "2020-03-01", "2020-03-01", "own_recognizance"),
            ("b2", "immigration", None, "2020-03-01", "2020-03-01", "own_recognizance"),
        ],
        {"b1": "secret-person-1"},
    )
    truth = truth_act_annual(bookings, charges)
    assert truth == [
        {
            "year": 2020,
            "hold_requests": 2,
            "transfers_to_ice": 1,
            "notification_requests": None,
            "transfers_by_sex": {"M": 1},
            "transfers_by_race": {"W": 1},
        }
    ]
    rows = illinois_805_25_rows(bookings, charges)
    assert [
        (r["A_date_received"], r["B_bail_posted"], r["C_released_or_transferred"], r["E_receiving_agency"])
        for r in rows
    ] == [("2019-12-30", "2020-01-02", "transferred", "ICE"), ("2020-03-01", None, "released", None)]
    assert "secret-person-1" not in json.dumps(rows) and "b1" not in json.dumps(rows)
    assert illinois_805_25_rows(bookings, charges, year=2021) == []


def test_form_in_use_by_date() -> None:
    assert form_in_use(date(2010, 1, 1)) is DetainerForm.I247_PRE2012
    assert form_in_use(date(2014, 1, 1)) is DetainerForm.I247_DEC2012
    assert form_in_use(date(2018, 1, 1)) is DetainerForm.I247A_2017


def test_concordance_on_travis_sample(travis: JailLoad) -> None:
    report = concordance(
        travis.bookings, travis.charges, jurisdiction="us/tx/travis", timezone="America/Chicago", limit=150
    )
    # every booking is counted once: decided on established facts, decided on unknowns, or not decidable
    assert report.decided + len(report.undecided) + report.undecidable == 150
    assert report.decided == report.agree + len({d.case for d in report.disagreements})
    # the v1 Travis mapping gives the jail's own codes, which no statute table knows: those answers are undecided,
    # each with the unknown statute named
    assert report.undecided and all(any("statute" in f for f in u.facts) for u in report.undecided)
    for item in report.disagreements:
        assert item.explanation and item.policy


def test_concordance_flags_a_transfer_california_forbids() -> None:
    bookings, charges = _jail(
        [
            ("c1", None, "misdemeanor", "2019-06-03", "2019-06-04", "own_recognizance"),
            ("c1", "immigration", None, "2019-06-03", "2019-06-05", "released_to_ice"),
        ],
        {},
    )
    charges = charges.with_columns(pl.lit("PC 484").alias("statute"))  # petty theft: a statute the DOJ table knows
    report = concordance(bookings, charges, jurisdiction="us/ca/los-angeles", timezone="America/Los_Angeles")
    assert report.decided == 1 and len(report.disagreements) >= 1
    assert any("held" in d.actual or "transferred" in d.actual for d in report.disagreements)


def test_report_cli_on_travis_mapping(tmp_path) -> None:  # type: ignore[no-untyped-def]
    args = [
        "--mapping",
        str(MAPPINGS / "travis_county_tx.yaml"),
        "--bookings",
        str(TRAVIS / "travis_ice_detainer_bookings.csv"),
        "--charges",
        str(TRAVIS / "travis_ice_detainer_charges.csv"),
    ]
    runner = CliRunner()
    monthly = runner.invoke(
        app,
        [
            "report",
            "monthly",
            *args,
            "--since",
            "2006-01",
            "--json",
            "--compare",
            str(TRAVIS / "summary_table_by_month.csv"),
            "--chart",
            str(tmp_path / "m.png"),
        ],
    )
    assert monthly.exit_code == 0, monthly.output
    data = json.loads(monthly.output)
    assert data["comparison"]["total"]["matching"] == 112
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    held = runner.invoke(app, ["report", "held-longer", *args])
    assert held.exit_code == 0 and "of bookings with a hold and other charges" in " ".join(held.output.split())
    no_ids = runner.invoke(app, ["report", "rearrest", *args])
    assert no_ids.exit_code == 2 and "person identifier" in no_ids.output
    refused = runner.invoke(app, ["report", "illinois", *args, "--year", "2015", "--csv"])
    assert refused.exit_code == 2 and "Illinois" in refused.output and "us/tx/travis" in refused.output
    assert len(refused.output.strip().splitlines()) == 1  # one line, no traceback
    csv_out = runner.invoke(app, ["report", "illinois", *args, "--year", "2015", "--csv", "--any-jurisdiction"])
    assert csv_out.exit_code == 0 and csv_out.stdout.startswith("row,A_date_received")
    truth = runner.invoke(app, ["report", "truth-act", *args, "--json"])
    assert truth.exit_code == 2 and "California" in truth.output  # a California report on a Texas jail: refused
    truth = runner.invoke(app, ["report", "truth-act", *args, "--json", "--any-jurisdiction"])
    assert truth.exit_code == 0 and json.loads(truth.stdout)["years"]
    assert "warning" in truth.stderr and "California" in truth.stderr
