"""Done-when of issue 11: `detainers replay --store` on the Travis County example data (real bookings, imported with
the version 2 mapping and the county's charge crosswalk) runs both policies and prints decided / undecided counts.

Nothing is hard-coded: counts are checked against the store itself, and a sample of cases is decided one by one
with `decide()` to check that the bulk answers (and whether each rests on unknowns) are the engine's.
"""

from __future__ import annotations

import json
from datetime import UTC
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from detainers.cli import app
from detainers.ingest import Store, load_mapping
from detainers.law import decide
from detainers.law.bulk import cases_from_rows
from detainers.replay._store import open_store

ROOT = Path(__file__).resolve().parents[2]
TRAVIS = ROOT / "tests" / "data" / "real" / "travis_county_tx"
MAPPING = ROOT / "examples" / "mappings" / "travis_county_tx_v2.yaml"
A, B = "us/tx/travis@2017-03-01", "us/tx/travis@2018-01-01"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("travis") / "store"
    Store(root).import_jail(
        load_mapping(MAPPING),
        bookings=TRAVIS / "travis_ice_detainer_bookings.csv",
        charges=TRAVIS / "travis_ice_detainer_charges.csv",
    )
    return root


@pytest.fixture(scope="module")
def replayed(store: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["replay", "--store", str(store), "--policy", A, "--vs", B, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_every_booking_with_a_hold_is_a_case_or_counted_out(store: Path, replayed: dict[str, Any]) -> None:
    charges = Store(store).table("jail_charges")
    with_hold = charges.filter(pl.col("hold") == "immigration")["booking_id"].n_unique()
    assert replayed["cases"] + sum(replayed["excluded_bookings"].values()) == with_hold > 9_000
    for side in ("a", "b"):
        c = replayed["certainty"][side]
        assert c["decided"] + c["undecided"] + c["not_decided"] == replayed["cases"]
        assert c["decided"] > 0 and c["undecided"] > 0  # real charges: some translated and known, some not
        assert all(item["cases"] > 0 and item["fact"] for item in c["undecided_because"])


def test_text_output_counts_decided_and_undecided(store: Path) -> None:
    result = CliRunner().invoke(app, ["replay", "--store", str(store), "--policy", A, "--vs", B, "--brief"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert f"A = {A}" in text and f"B = {B}" in text
    assert "decided on established facts" in text and "undecided (the answer rests on facts" in text


def test_bulk_answers_are_the_engines_on_a_sample(store: Path) -> None:
    loaded = open_store(store)
    con = loaded.con
    ids = [r[0] for r in con.execute("SELECT booking_id FROM bookings ORDER BY hash(booking_id) LIMIT 250").fetchall()]
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in ("bookings", "detainers", "convictions", "charges"):
        cur = con.execute(f"SELECT * FROM {name} WHERE booking_id IN (SELECT unnest(?))", [ids])
        columns = [d[0] for d in cur.description]
        tables[name] = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    cases = cases_from_rows(tables["bookings"], tables["detainers"], tables["convictions"], tables["charges"])
    from detainers.law.bulk import bulk_decide

    bulk_decide(con, jurisdiction="us/tx/travis", into="sample_check")
    got = {
        r[0]: r[1:]
        for r in con.execute("SELECT booking_id, transfer, hold_until, undecided FROM sample_check").fetchall()
    }
    undecided = 0
    for case in cases:
        d = decide(case, jurisdiction="us/tx/travis")
        transfer, hold_until, bulk_undecided = got[case.name]
        assert transfer == d.transfer.value, case.name
        assert (hold_until is None and d.hold_until is None) or hold_until.astimezone(UTC) == d.hold_until.astimezone(
            UTC
        )  # type: ignore[union-attr]
        assert bulk_undecided == bool(d.undecided_facts), case.name
        undecided += bulk_undecided
    assert len(cases) == 250 and 0 < undecided < 250


def test_store_replay_refuses_a_folder_that_is_not_a_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["replay", "--store", str(tmp_path), "--policy", A, "--vs", B])
    assert result.exit_code == 2 and "not a store" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
