"""The readings declared by the state packs (issue 14), decided both ways on the states' own scenario cases."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from detainers.domain import Case
from detainers.law import decide, default_packs, load_packs, load_scenarios
from detainers.law._decision import Transfer

STATES = Path(__file__).parents[1] / "scenarios" / "states"
SHIPPED = Path(__file__).parents[2] / "src" / "detainers" / "law"


def _case(state: str, name_start: str) -> Case:
    for s in load_scenarios(STATES / f"{state}.yaml"):
        if s.case.name.startswith(name_start):
            return s.case
    raise AssertionError(name_start)


@pytest.mark.parametrize(
    ("state", "case", "reading", "default", "alternative"),
    [
        ("wv", "wv Berkeley 2023-06-09", "wv.15-16-3.extent-required", "statute_requires", "other_law_only"),
        ("tn", "tn Davidson 2019-01-01", "tn.sanctuary.own-practice", "policies_only", "practice_mandate"),
        ("ar", "ar Washington 2025-08-05", "ar.sanctuary.own-practice", "policies_only", "practice_mandate"),
    ],
)
def test_mandate_readings_change_only_whether_honouring_is_required(
    state: str, case: str, reading: str, default: str, alternative: str
) -> None:
    packs = default_packs()
    assert packs.readings[reading].default == default
    chosen = decide(_case(state, case), readings={reading: default})
    other = decide(_case(state, case), readings={reading: alternative})
    required = {o for o, d in ((default, chosen), (alternative, other)) if d.hold_required}
    assert len(required) == 1  # exactly one of the two readings makes the hold mandatory
    for d in (chosen, other):
        assert d.notify and d.hold_allowed  # both readings allow honouring the request
        assert d.hold_until == chosen.hold_until
        assert d.readings[reading] in (default, alternative)
        assert any(w.startswith(f"reading {reading}") for w in d.warnings)
    mandatory = chosen if chosen.hold_required else other
    assert mandatory.notify_required and mandatory.transfer is Transfer.REQUIRED


def test_virginia_2015_opinion_followed_or_advisory() -> None:
    case = _case("va", "va Virginia Beach 2015-01-05")
    followed = decide(case, readings={"va.ag-2015.weight": "followed"})
    advisory = decide(case, readings={"va.ag-2015.weight": "advisory_only"})
    assert not followed.hold_allowed and followed.hold_until == case.booking.eligible_for_release_at
    assert advisory.hold_allowed and advisory.hold_until is not None and followed.hold_until is not None
    assert advisory.hold_until > followed.hold_until
    assert followed.over_detention_hours == pytest.approx(24)
    assert advisory.over_detention_hours == pytest.approx(0)
    assert any(w.startswith("reading va.ag-2015.weight") for w in followed.warnings)


def test_georgia_release_notice_reading_decides_a_county_ban(tmp_path: Path) -> None:
    # A county policy forbidding release notices (DeKalb here is a test pack, not the county's real policy):
    # under the default reading 36-80-23 voids it; under the alternative the county's ban stands.
    root = tmp_path / "packs"
    shutil.copytree(SHIPPED / "packs", root)
    (root / "us" / "ga" / "dekalb.yaml").parent.mkdir(parents=True, exist_ok=True)
    (root / "us" / "ga" / "dekalb.yaml").write_text(
        "pack: us/ga/dekalb\nlevel: county\ntitle: test county ban on release notices\nversions:\n"
        "  - version: v1\n    title: t\n    effective_from: 2000-01-01\n    reviewed_by: test\n    rules:\n"
        "      - id: test.dekalb.no-notice\n        title: no release notices to ICE\n"
        "        sets: {notify: forbid}\n        citation: {title: test}\n        evidence: I\n"
    )
    packs = load_packs(root, SHIPPED / "conditions.yaml")
    case = _case("ga", "ga DeKalb 2025, proof of U.S. citizenship")
    case = case.model_copy(update={"person": case.person.model_copy(update={"status_proof": None})})
    voided = decide(case, packs=packs, readings={"ga.36-80-23.release-notice": "covered"})
    stands = decide(case, packs=packs, readings={"ga.36-80-23.release-notice": "not_covered"})
    # 2025 is under HB 1105: the hold request must be honoured either way, notice included (the mandate preempts)
    assert voided.notify_required and stands.notify_required
    earlier = _case("ga", "ga Clayton 2009-05-05")
    earlier = earlier.model_copy(
        update={"booking": earlier.booking.model_copy(update={"jurisdiction": "us/ga/dekalb"})}
    )
    voided = decide(earlier, packs=packs, readings={"ga.36-80-23.release-notice": "covered"})
    stands = decide(earlier, packs=packs, readings={"ga.36-80-23.release-notice": "not_covered"})
    assert voided.notify and not stands.notify
    assert any(w.startswith("reading ga.36-80-23.release-notice") for w in voided.warnings)
