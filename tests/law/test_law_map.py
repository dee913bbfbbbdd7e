"""The law map (issue 14 item 4): every state and DC from the registry, decided by the engine on representative
cases; "depends" names what changes the answer; evidence, versions and 287(g) counts come with each state."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detainers.cli import app
from detainers.domain import Agreement
from detainers.law import AgreementRecord, AgreementRegistry, PackSet, jurisdiction_registry, law_map, load_packs

LAW = Path(__file__).parents[2] / "src" / "detainers" / "law"

TEST_PACK = """
pack: us/vt
level: state
title: A test state (not Vermont's law)
timezone: America/New_York
versions:
  - version: before-2020
    title: nothing statewide
    effective_from: 2008-01-01
    effective_to: 2019-12-31
    reviewed_by: test
    rules: []
  - version: test-2020
    title: no hold without a judge; notice only for a serious record
    effective_from: 2020-01-01
    reviewed_by: test
    rules:
      - id: vt.test.no-hold-without-judge
        title: no hold without a judicial warrant
        when: {not: {warrant_in: [judicial_warrant]}}
        sets: {hold: forbid}
        citation: {title: "Test Act", section: "s. 1", source: statute, url: "https://example.org/act"}
        evidence: V
      - id: vt.test.notice-serious
        title: notice only for a serious felony record
        when: {conviction: {tags_any: [vt_test_serious], level: felony}}
        sets: {notify: allow}
        otherwise: {notify: forbid}
        citation: {title: "Test Act", section: "s. 2", source: secondary}
        evidence: V3
"""


@pytest.fixture(scope="module")
def packs(tmp_path_factory: pytest.TempPathFactory) -> PackSet:
    root = tmp_path_factory.mktemp("law")
    (root / "packs" / "us").mkdir(parents=True)
    shutil.copy(LAW / "packs" / "us.yaml", root / "packs" / "us.yaml")
    shutil.copy(LAW / "conditions.yaml", root / "conditions.yaml")
    (root / "packs" / "us" / "vt.yaml").write_text(TEST_PACK, encoding="utf-8")
    return load_packs(root / "packs")


def _states() -> set[str]:
    return {p.path.rsplit("/", 1)[1].upper() for p in jurisdiction_registry().states if p.kind in ("state", "district")}


def test_every_state_and_dc_of_the_registry_has_a_row(packs: PackSet) -> None:
    result = law_map(date(2020, 6, 1), packs=packs)
    assert {s.code for s in result.states} == _states()
    assert "DC" in {s.code for s in result.states} and "PR" not in {s.code for s in result.states}
    assert all(s.error is None for s in result.states)


def test_depends_names_what_changes_the_answer(packs: PackSet) -> None:
    vt = law_map(date(2020, 6, 1), packs=packs).by_code()["VT"]
    assert (vt.pack, vt.version, vt.effective_from) == ("us/vt", "test-2020", date(2020, 1, 1))
    hold, notify, transfer = (vt.dimensions[d] for d in ("hold", "notify", "transfer"))
    assert (hold.answer, hold.typical, hold.depends_on) == ("depends", "forbid", ("warrant",))
    assert hold.by_case["none/judicial"] == "allow"
    # the serious felony record carries the tag the state's rule tests, so it meets the state's own definition
    assert (notify.answer, notify.typical, notify.depends_on) == ("depends", "forbid", ("record",))
    assert notify.by_case["serious_felony/administrative"] == "allow"
    assert (transfer.answer, transfer.depends_on) == ("allow", ())
    assert {r.id for r in vt.state_rules} == {"vt.test.no-hold-without-judge", "vt.test.notice-serious"}
    assert vt.state_verified_only is True  # [V] and [V3] only
    assert "Test Act s. 1" in vt.citation
    assert [v.version for v in vt.timeline] == ["before-2020", "test-2020"]
    assert [v.in_force for v in vt.timeline] == [False, True]


def test_the_version_in_force_on_the_date_decides(packs: PackSet) -> None:
    before = law_map(date(2019, 12, 31), packs=packs).by_code()
    vt, other = before["VT"], before["NH"]
    assert vt.version == "before-2020" and vt.state_rules == () and vt.state_verified_only is None
    # a version with no rules answers as the federal layer alone does, like a state with no pack
    assert {d: a.answer for d, a in vt.dimensions.items()} == {d: a.answer for d, a in other.dimensions.items()}
    assert other.pack is None and other.version is None and "no state pack" in other.citation


def test_287g_agreements_in_force_in_the_state_are_counted(packs: PackSet) -> None:
    def record(jurisdiction: str | None, signed: date, ended: date | None = None) -> AgreementRecord:
        return AgreementRecord(
            "vt", "Test County Sheriff", "County", Agreement.WARRANT_SERVICE, signed, jurisdiction, ended, "test"
        )

    registry = AgreementRegistry(
        (
            record("us/vt/chittenden", date(2020, 1, 1)),
            record(None, date(2020, 1, 1)),
            record("us/vt/addison", date(2019, 1, 1), ended=date(2020, 3, 1)),
            record("us/vt/orange", date(2021, 1, 1)),
        )
    )
    result = law_map(date(2020, 6, 1), packs=packs, agreements=registry)
    vt = result.by_code()["VT"]
    assert (vt.agreements, vt.agreements_mapped) == (2, 1)
    assert result.by_code()["NH"].agreements == 0
    assert law_map(date(2020, 6, 1), packs=packs).by_code()["VT"].agreements is None
    assert result.as_dict()["agreements_registry"] is True


def test_packs_map_cli_json_csv_and_errors() -> None:
    runner = CliRunner()
    as_json = runner.invoke(app, ["packs", "map", "--on", "2025-06-01", "--json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["date"] == "2025-06-01" and {s["code"] for s in data["states"]} == _states()
    assert {s["hold"]["answer"] for s in data["states"]} <= {"forbid", "allow", "require", "depends"}
    as_csv = runner.invoke(app, ["packs", "map", "--on", "2025-06-01", "--csv"])
    lines = as_csv.output.splitlines()
    assert lines[0].startswith("state,code,name,hold,") and len(lines) == 1 + len(_states())
    table = runner.invoke(app, ["packs", "map", "--on", "2025-06-01"])
    assert table.exit_code == 0
    for s in data["states"]:  # ids are printed whole, never cut
        if s["version"]:
            assert f"{s['pack']}@{s['version']}" in table.output
    bad = runner.invoke(app, ["packs", "map", "--on", "2025-13-01"])
    assert bad.exit_code == 2 and "is not a date" in bad.output and "Traceback" not in bad.output
    both = runner.invoke(app, ["packs", "map", "--on", "2025-06-01", "--json", "--csv"])
    assert both.exit_code == 2 and "choose one" in both.output
