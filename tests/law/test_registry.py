"""The jurisdiction registry: every state, DC, territory and Census county-equivalent; typos refused with a
suggestion wherever an id enters; coverage named for real places without a pack."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from detainers.cli import app
from detainers.law import (
    JurisdictionError,
    ScenarioError,
    check_jurisdiction,
    coverage_note,
    coverage_of,
    decide,
    default_packs,
    default_zone,
    jurisdiction_registry,
    load_scenarios,
)
from detainers.law._registry import DATA_DIR, slug_of

TYPO = "us/ca/los-angles/lasd"
REAL = "us/ca/los-angeles/lasd"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_row_of_the_source_files_is_registered() -> None:
    registry = jurisdiction_registry()
    states, counties = _rows("us_states.csv"), _rows("us_counties.csv")
    assert len(registry.states) == len(states)
    assert len(registry.counties) == len(counties) == registry.county_rows
    kinds = {row["kind"] for row in states}
    assert kinds == {"state", "district", "territory"}
    assert sum(row["kind"] == "state" for row in states) == 50
    for row in counties:
        place = registry.get(f"us/{row['state'].lower()}/{row['slug']}")
        assert place is not None and place.fips == row["fips"] and place.name == row["name"]
    # FIPS codes are unique and start with their state's code
    state_fips = {row["postal"]: row["fips"] for row in states}
    assert len({row["fips"] for row in counties}) == len(counties)
    assert all(row["fips"][:2] == state_fips[row["state"]] and len(row["fips"]) == 5 for row in counties)
    # every state, DC and territory has at least one county-equivalent and a default zone
    assert {row["state"] for row in counties} == set(state_fips)
    assert all(default_zone(f"us/{code.lower()}") for code in state_fips)


def test_slugs_follow_the_documented_rule_and_are_unique_per_state() -> None:
    seen: set[tuple[str, str]] = set()
    for row in _rows("us_counties.csv"):
        assert row["slug"] == slug_of(row["name"]), row
        assert (row["state"], row["slug"]) not in seen
        seen.add((row["state"], row["slug"]))
    assert slug_of("Richmond city") == "richmond-city" and slug_of("Richmond County") == "richmond"
    assert slug_of("St. Louis city") == "st-louis-city" and slug_of("Prince George's County") == "prince-georges"
    assert slug_of("Doña Ana County") == "dona-ana" and slug_of("Juneau City and Borough") == "juneau"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("us/va/richmond", "Richmond County"),
        ("us/va/richmond-city", "Richmond city"),
        ("us/mo/st-louis", "St. Louis County"),
        ("us/mo/st-louis-city", "St. Louis city"),
        ("us/md/baltimore-city", "Baltimore city"),
        ("us/la/orleans", "Orleans Parish"),
        ("us/ak/kusilvak", "Kusilvak Census Area"),
        ("us/ny/new-york", "New York County"),
        ("us/ny/new-york-city", "City of New York"),
        ("us/pr/mayaguez", "Mayagüez Municipio"),
    ],
)
def test_county_equivalents_are_told_apart(path: str, name: str) -> None:
    place = jurisdiction_registry().get(path)
    assert place is not None and place.name == name
    assert check_jurisdiction(path) == path


def test_every_pack_and_scenario_id_is_a_real_place() -> None:
    registry = jurisdiction_registry()
    for pack in default_packs():
        assert registry.is_registered(pack.pack), pack.pack
    ids = set()
    for file in SCENARIOS.rglob("*.yaml"):
        if file.name == "expected_failures.yaml":
            continue
        cases = yaml.safe_load(file.read_text(encoding="utf-8"))
        ids |= {case["jurisdiction"] for case in (cases if isinstance(cases, list) else [cases])}
    assert len(ids) > 20
    assert all(check_jurisdiction(i) == i for i in ids)


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        (" US/CA/Orange ", "us/ca/orange"),
        ("us/ca/orange/", "us/ca/orange"),
        ("/us//ca/orange", "us/ca/orange"),
        ("us / tx / travis", "us/tx/travis"),
        ("us", "us"),
        ("us/dc", "us/dc"),
        ("us/ca/los-angeles/sheriff-transit", "us/ca/los-angeles/sheriff-transit"),  # unregistered agency
        ("us/ny/new-york-city/doc", "us/ny/new-york-city/doc"),
    ],
)
def test_case_blanks_and_slashes_are_normalised(given: str, canonical: str) -> None:
    assert check_jurisdiction(given) == canonical


@pytest.mark.parametrize(
    ("given", "reason", "suggestion"),
    [
        (TYPO, "no county, county-equivalent or registered city 'los-angles' in California", REAL),
        ("us/ca/los-angeles/lsad", "no agency 'lsad' is registered under us/ca/los-angeles", REAL),
        ("us/ca/los-angeles/lasdd", "no agency 'lasdd'", REAL),
        ("us/ca/los-angeles/la-sd", "no agency 'la-sd'", REAL),
        ("us/ny/new-york-city/dco", "no agency 'dco'", "us/ny/new-york-city/doc"),
        ("us/ny/nyc/doc", "'nyc' in New York", "us/ny/new-york-city/doc"),
        ("us/georgia/fulton", "no US state, DC or territory 'georgia'", "us/ga/fulton"),
        ("us/va/norfolk", "'norfolk' in Virginia", "us/va/norfolk-city"),
        ("us/mo/saint-louis", "'saint-louis' in Missouri", "us/mo/st-louis"),
        ("us/tx/harris-county", "'harris-county' in Texas", "us/tx/harris"),
        ("us/ca/cook", "'cook' in California", "us/il/cook"),
        ("us/ca/los angeles", "not a path like", "us/ca/los-angeles"),
        ("ca/orange", "country 'ca'", None),
        ("us/zz/nowhere", "no US state, DC or territory 'zz'", None),
        ("us/ca/atlantis", "'atlantis' in California", None),
        ("us/ca/los-angeles/lasd/jail", "more than 4 levels", None),
        ("", "empty", None),
    ],
)
def test_unknown_ids_are_refused_with_a_suggestion(given: str, reason: str, suggestion: str | None) -> None:
    with pytest.raises(JurisdictionError) as info:
        check_jurisdiction(given)
    message = str(info.value)
    assert message.startswith(f"unknown jurisdiction {given!r}: ") and reason in message
    if suggestion is None:
        return
    assert suggestion in info.value.suggestions and f"did you mean {info.value.suggestions[0]}" in message
    for made in info.value.suggestions:  # every suggestion is itself a real id
        assert check_jurisdiction(made) == made


def test_a_typo_in_a_scenario_file_fails_to_load_naming_file_case_and_id(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(
        f"- name: la typo\n  jurisdiction: {TYPO}\n"
        "  booking: {eligible_for_release_at: 2021-06-04T09:00}\n  detainers: [{form: I-247A}]\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenarios(path)
    message = str(info.value)
    for fragment in (str(path), "case #1 ('la typo')", "jurisdiction", repr(TYPO), f"did you mean {REAL}?"):
        assert fragment in message
    for command in (["decide", str(path)], ["decide", str(path), "--json"], ["scenarios", "check", str(path)]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2, command
        assert f"did you mean {REAL}?" in result.output and "Traceback" not in result.output


def test_decide_shows_coverage_for_a_real_county_without_a_pack(tmp_path: Path) -> None:
    path = tmp_path / "cobb.yaml"
    path.write_text(
        "- name: cobb\n  jurisdiction: us/ga/hall\n"
        "  booking: {eligible_for_release_at: 2021-06-04T09:00}\n  detainers: [{form: I-247A}]\n"
    )
    human = CliRunner().invoke(app, ["decide", str(path)])
    assert human.exit_code == 0
    assert "coverage: incomplete" in human.output
    # Georgia has a state pack (us/ga); Hall County has none (Cobb has a county pack now).
    assert "Only federal and state law are encoded for this jurisdiction; county policy is not" in human.output
    assert "us/ga/hall (Hall County, Georgia; not encoded)" in human.output
    as_json = CliRunner().invoke(app, ["decide", str(path), "--json"])
    coverage = __import__("json").loads(as_json.output)[0]["coverage"]
    assert coverage["complete"] is False and coverage["encoded"] == ["us", "us/ga"]
    assert coverage["fell_back"] == ["us/ga/hall"]
    complete = path.with_name("lasd.yaml")
    complete.write_text(path.read_text().replace("us/ga/hall", REAL))
    assert "coverage: complete" in CliRunner().invoke(app, ["decide", str(complete)]).output


def test_coverage_of_matches_the_decision_and_the_note_names_levels() -> None:
    packs = default_packs()
    (scenario,) = [
        s for s in load_scenarios(SCENARIOS / "own" / "jurisdictions.yaml") if s.case.jurisdiction == "us/ca/tulare"
    ]
    decision = decide(scenario.case, packs=packs)
    assert decision.coverage == coverage_of("us/ca/tulare", date(2021, 6, 4), packs)
    note = coverage_note(decision.jurisdiction_chain)
    assert note is not None
    assert note.startswith("Only federal and state law are encoded for this jurisdiction; county policy is not")
    agency = coverage_of("us/ca/tulare/tcso", date(2021, 6, 4), packs)
    assert agency.fell_back == ("us/ca/tulare", "us/ca/tulare/tcso")
    chain = [{"level": lv, "jurisdiction": j, "pack": None, "version": None} for lv, j in
             [("county", "us/ca/orange"), ("agency", "us/ca/orange/ocsd")]]  # fmt: skip
    chain = [{"level": "federal", "jurisdiction": "us", "pack": "us", "version": "v"}, *chain]
    worded = coverage_note(chain)
    assert worded is not None and "county and agency policy are not" in worded
    assert "us/ca/orange/ocsd (not in the registry; not encoded)" in worded
    assert coverage_note([{"level": "federal", "jurisdiction": "us", "pack": "us", "version": "v"}]) is None


def test_a_wrong_coverage_expectation_fails(tmp_path: Path) -> None:
    path = tmp_path / "cov.yaml"
    path.write_text(
        "- name: cobb\n  jurisdiction: us/ga/hall\n"
        "  booking: {eligible_for_release_at: 2021-06-04T09:00}\n  detainers: [{form: I-247A}]\n"
        "  expect: {coverage: {complete: true}}\n"
    )
    result = CliRunner().invoke(app, ["scenarios", "check", str(path)])
    assert result.exit_code == 1 and "coverage" in result.output
