"""Local packs (issue 14, item 2): the ranking they come from, their coverage, and their "no local rule" versions.

docs/jurisdictions/local.md records the top-30 table built from NPR's facility table shipped under tests/data/real;
these tests recompute every count from that CSV, so the table cannot drift from its source, and hold each local
pack to the pack conventions: versions from 2008-01-01 to today with no gap, a "no local rule found" version that
sets nothing and says what was searched, and scenario cases of its own.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from detainers.law import Pack, default_packs

ROOT = Path(__file__).parents[2]
DOC = ROOT / "docs" / "jurisdictions" / "local.md"
FACILITIES = (
    ROOT
    / "tests/data/real/ice_detainers_national_fy2008_2015_aggregates"
    / "privatefacility_public_detentations_percentages.csv"
)
SCENARIOS = ROOT / "tests" / "scenarios" / "local"
# Packs written before issue 14 and audited elsewhere: listed in the ranking, not held to these conventions here.
AUDITED_ELSEWHERE = {"us/ca/los-angeles", "us/tx/travis", "us/ny/new-york-city"}
CITED = ["us/wa/king", "us/pa/philadelphia", "us/co/denver", "us/or/multnomah", "us/mn/hennepin", "us/la/orleans"]
ROW = re.compile(r"^\| (\d+) \| ([^|]+) \| `([a-z/-]+)` \| ([\d,]+) \| ([^|]+) \|")


def _counts() -> dict[str, int]:
    with FACILITIES.open(encoding="utf-8", newline="") as handle:
        return {row["det_facility"]: int(row["count_all"]) for row in csv.DictReader(handle)}


def _ranking() -> list[tuple[int, str, int, list[tuple[str, int]]]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        found = ROW.match(line)
        if found:
            rank, _, pack, total, facilities = found.groups()
            parts = [p.strip().rsplit(" ", 1) for p in facilities.split(";")]
            counted = [(name, int(count.replace(",", ""))) for name, count in parts]
            rows.append((int(rank), pack, int(total.replace(",", "")), counted))
    return rows


def _local_packs() -> list[str]:
    return [pack for _, pack, _, _ in _ranking() if pack not in AUDITED_ELSEWHERE] + CITED


def test_the_ranking_is_thirty_rows_recomputed_from_the_shipped_facility_table() -> None:
    counts = _counts()
    rows = _ranking()
    assert [rank for rank, *_ in rows] == list(range(1, 31))
    for rank, pack, total, facilities in rows:
        for name, count in facilities:
            assert counts.get(name) == count, f"rank {rank} ({pack}): {name!r} has {counts.get(name)} in the CSV"
        assert sum(c for _, c in facilities) == total, f"rank {rank} ({pack}): facilities do not add up to {total}"
    totals = [total for _, _, total, _ in rows]
    assert totals == sorted(totals, reverse=True)
    assert len({pack for _, pack, _, _ in rows}) == 30


@pytest.mark.parametrize("jurisdiction", _local_packs())
def test_local_pack_covers_2008_to_today_without_gaps(jurisdiction: str) -> None:
    pack = default_packs().get(jurisdiction)
    assert isinstance(pack, Pack), f"{jurisdiction}: no pack"
    assert pack.level == "county" and pack.timezone and pack.holiday_calendar == "us-federal"
    versions = pack.versions
    assert versions[0].effective_from <= date(2008, 1, 1)
    assert versions[-1].effective_to is None, f"{jurisdiction}: the last version must still be in force"
    for before, after in zip(versions, versions[1:], strict=False):
        assert before.effective_to is not None
        assert before.effective_to + timedelta(days=1) == after.effective_from, f"{jurisdiction}: gap or overlap"


@pytest.mark.parametrize("jurisdiction", _local_packs())
def test_no_local_rule_versions_set_nothing_and_say_what_was_searched(jurisdiction: str) -> None:
    pack = default_packs().get(jurisdiction)
    assert pack is not None
    found = 0
    for version in pack.versions:
        for rule in version.rules:
            if not rule.id.endswith(".no-local-rule"):
                continue
            found += 1
            assert rule.sets.model_dump(exclude_none=True) == {}, rule.id
            assert rule.evidence == "I" and rule.citation.source is not None and rule.citation.source.value == "none"
            assert rule.note and "Searched" in rule.note, f"{rule.id}: the note must say what was searched"
    first = pack.versions[0]
    if not any(r.id.endswith(".no-local-rule") for r in first.rules):
        # the first version encodes a rule of its own: it must then say so with a citation that is not "none"
        assert all(r.citation.source is not None and r.citation.source.value != "none" for r in first.rules)
    else:
        assert found >= 1


@pytest.mark.parametrize("jurisdiction", _local_packs())
def test_every_local_pack_has_scenario_cases_at_its_boundaries(jurisdiction: str) -> None:
    slug = jurisdiction.rsplit("/", 1)[1]
    path = SCENARIOS / f"{slug}.yaml"
    assert path.exists(), f"{jurisdiction}: no tests/scenarios/local/{slug}.yaml"
    text = path.read_text(encoding="utf-8")
    assert f"jurisdiction: {jurisdiction}" in text
    pack = default_packs().get(jurisdiction)
    assert pack is not None
    for version in pack.versions[1:]:
        day = version.effective_from
        before = day - timedelta(days=1)
        assert f"eligible_for_release_at: {day.isoformat()}" in text, f"{jurisdiction}: no case on {day}"
        assert f"eligible_for_release_at: {before.isoformat()}" in text, f"{jurisdiction}: no case on {before}"
