"""Done-when of issue 11: the February-2017 question (did the jail honour the detainers its new policy allowed, and
only those?) answered by `report concordance` alone, from the county's accepted / declined / reinstated lists
(synthetic, in the county's report layout) imported with a mapping and the Texas crosswalk.

Expectations are computed, not hard-coded: which list a booking is on (the jail's decision), which of its charges
the policy lists (the four offenses of the 2017 policy, via the offense tables) and which statutes the tables know.
The Texas statute dictionary may or may not have landed: the second test adds a small dictionary of the fixture's
sections itself, so both directions of disagreement are exercised either way.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from detainers.cli import app
from detainers.domain import Level
from detainers.ingest import Store
from detainers.law.offenses import classify, load_offense_tables

DATA = Path(__file__).resolve().parents[1] / "data" / "synthetic" / "travis_feb2017"
LISTS = {
    "accepted": "ice_4200_accepted_01feb2017.csv",
    "declined": "ice_4200_released_as_r217.csv",
    "reinstated": "ice_4200_released_and_reinstated.csv",
}
LISTED = "tx_travis_2017_listed"
ON = date(2017, 2, 1)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("feb2017") / "store"
    args = ["import", "jail", "--mapping", str(DATA / "mapping.yaml"), "--store", str(root), "--json"]
    for label, name in LISTS.items():
        args += ["--charges", f"{label}={DATA / name}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["tables"]["jail_bookings"] == 18  # 19 booking blocks, one booking on two lists
    assert any("more than one input file" in w and "1790109" in w for w in report["warnings"])
    return root


def _concordance(store: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        app, ["report", "concordance", "--store", str(store), "--decided-at", "2017-02-01", "--json"]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _expected(store: Path, known: Any) -> dict[str, Any]:
    """From the data and the tables alone: each booking's list, whether a charge is listed, whether all are known."""
    st = Store(store)
    bookings = st.table("jail_bookings").select("booking_id", "decision")
    charges = st.table("jail_charges").filter(pl.col("hold").is_null())
    table: dict[str, dict[str, int]] = {
        p: {"honoured": 0, "declined": 0} for p in ("required", "allowed", "forbidden", "undecided")
    }
    directions: dict[str, set[str]] = {}
    for booking, decision in bookings.iter_rows():
        lines = charges.filter(pl.col("booking_id") == booking)
        jail = "declined" if decision == "declined" else "honoured"
        found = [known(s or "", lvl) for s, lvl in lines.select("statute", "level").iter_rows()]
        if not all(f.known for f in found):
            table["undecided"][jail] += 1
            continue
        policy = "allowed" if any(LISTED in f.tags for f in found) else "forbidden"
        table[policy][jail] += 1
        direction = {
            ("forbidden", "honoured"): "honoured_where_forbidden",
            ("allowed", "declined"): "declined_where_allowed",
        }.get((policy, jail))
        if direction:
            directions.setdefault(direction, set()).add(booking)
    return {"table": table, "directions": directions}


def _check(report: dict[str, Any], want: dict[str, Any]) -> None:
    assert report["mode"] == "decisions" and report["counts_in"] == "bookings"
    assert report["confusion"]["table"] == want["table"]
    got = {d["direction"]: set() for d in report["disagreements"]}
    for d in report["disagreements"]:
        got[d["direction"]].add(d["booking_id"])
        # each disagreement by its own booking number, with its charges and the full explanation
        assert d["booking_id"].startswith("179") and d["charges"]
        assert "Holds and transfers only for the four listed offenses" in d["explanation"]
        assert len(d["steps"]) > 5 and all(len(step) < 2000 for step in d["steps"])
    assert got == want["directions"]
    assert report["directions"] == {k: len(v) for k, v in want["directions"].items()}
    assert report["bookings"] == 18 == report["decided"] + report["undecided"] + report["undecidable"]
    assert report["decided"] == report["agree"] + report["disagree"]
    for item in report["undecided_bookings"]:
        assert item["unknown"] and item["booking_id"].startswith("179")


def _tables_known(statute: str, level: str | None) -> Any:
    return classify(
        statute, level=Level(level) if level in ("felony", "misdemeanor") else None, jurisdiction="us/tx/travis", on=ON
    )


def test_concordance_of_the_lists_with_the_tables_as_they_are(store: Path) -> None:
    report = _concordance(store)
    _check(report, _expected(store, _tables_known))
    # the jail declined a booking its policy allowed (aggravated sexual assault): named, whatever the tables hold
    assert "1790106" in {d["booking_id"] for d in report["disagreements"] if d["direction"] == "declined_where_allowed"}
    # bookings still in custody on the decision date are judged at it, not skipped
    assert report["undecidable"] == 0
    assert report["decision_instant"].startswith("2017-02-01T00:00")


@pytest.fixture
def texas_dictionary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A stand-in for the Texas statute dictionary: the fixture's Texas sections, known (no policy tags)."""
    from detainers.law import _engine
    from detainers.law.bulk import _tags
    from detainers.law.offenses import OffenseTables
    from detainers.law.offenses._tables import load_table

    sections = [
        "TX PC 21.11", "TX PC 22.01", "TX PC 22.02", "TX PC 30.04", "TX PC 31.03", "TX PC 49.02", "TX PC 49.04",
        "TX PC 49.09", "TX HS 481.115", "TX HS 481.121",
    ]  # fmt: skip
    path = tmp_path / "tx_test_dictionary.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "id": "tx_test_dictionary",
                "title": "test stand-in for the Texas statute dictionary",
                "jurisdiction": "us/tx",
                "as_of": "2026-12-01",
                "citation": {
                    "title": "test data",
                    "section": "n/a",
                    "url": "https://example.invalid",
                    "date": "2026-12-01",
                    "source": "test",
                },
                "evidence": "I",
                "reviewed_by": "test",
                "tags": ["tx_statute_known"],
                "entries": [{"statute": s} for s in sections],
            }
        ),
        encoding="utf-8",
    )
    tables = OffenseTables([*load_offense_tables(), load_table(path)])

    def known(statute: str, **kwargs: Any) -> Any:
        return tables.classify(statute, **kwargs)

    monkeypatch.setattr(_engine, "classify", known)
    monkeypatch.setattr(_tags, "load_offense_tables", lambda: tables)
    yield lambda statute, level: tables.classify(
        statute, level=Level(level) if level in ("felony", "misdemeanor") else None, jurisdiction="us/tx/travis", on=ON
    )


def test_concordance_both_directions_with_a_texas_dictionary(store: Path, texas_dictionary: Any) -> None:
    report = _concordance(store)
    want = _expected(store, texas_dictionary)
    _check(report, want)
    assert set(want["directions"]) == {"honoured_where_forbidden", "declined_where_allowed"}
    # the jail's case-by-case exceptions (a child victim, a weapon) and the reinstated booking show up as honoured
    # where the policy forbade; the animal-cruelty charge no crosswalk entry translates stays undecided
    assert {"1790004", "1790005", "1790109"} <= want["directions"]["honoured_where_forbidden"]
    assert [u["booking_id"] for u in report["undecided_bookings"]] == ["1790107"]


def test_concordance_text_names_bookings_and_counts(store: Path) -> None:
    result = CliRunner().invoke(app, ["report", "concordance", "--store", str(store), "--decided-at", "2017-02-01"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "18 booking(s) with a detainer" in text and "What the policy says × what the jail did" in text
    assert "1790106 — jail: declined; policy: allowed" in text
