"""What the decision says, not only what it decides: explanations, citations, chain, notices."""

from __future__ import annotations

from pathlib import Path

from detainers.law import decide, decision_json, load_scenarios

GOLDEN = Path(__file__).parents[1] / "scenarios" / "golden.yaml"


def _case(name_start: str) -> object:
    for s in load_scenarios(GOLDEN):
        if s.case.name.startswith(name_start):
            return s
    raise AssertionError(name_start)


def test_la_2021_explains_county_policy_overrides_state_permission() -> None:
    scenario = _case("LA County 2021")
    d = decide(scenario.case)  # type: ignore[attr-defined]
    text = "\n".join(step.text for step in d.explanation)
    ids = [r.id for r in d.rules]
    # SB 54 alone would have allowed both, and says so with its citation ...
    assert "ca.sb54.notify-criteria" in ids and "ca.sb54.transfer" in ids
    assert "Release dates only in response to a notification request under 7282.5(a): applies" in text
    assert "7284.6(a)(4)" in text
    # ... and the Board of Supervisors policy forbids both, cited too.
    assert "ca-la.board.judicial-authority" in ids
    assert "us/ca/los-angeles is more restrictive on notify" in text
    assert "us/ca/los-angeles is more restrictive on transfer" in text
    assert not d.notify and d.transfer.value == "not_allowed"
    chain = [(c.jurisdiction, c.version) for c in d.jurisdiction_chain]
    assert chain == [
        ("us", "ninth-circuit-2020"),  # after the Gonzalez injunctions were vacated (975 F.3d 788)
        ("us/ca", "sb54-2018"),
        ("us/ca/los-angeles", "board-2020-09-01"),
        ("us/ca/los-angeles/lasd", "board-policy-2020"),
    ]
    assert d.engine_version.startswith("detainers ")


def test_jurisdiction_without_pack_says_the_layers_above_decide() -> None:
    # Georgia has a state pack (us/ga) but Fulton County none: the explanation names the missing layer.
    d = decide(_case("federal baseline").case)  # type: ignore[attr-defined]
    text = "\n".join(step.text for step in d.explanation)
    assert "no policy pack is encoded for us/ga/fulton (county): the layers above decide" in text
    assert [c.pack for c in d.jurisdiction_chain] == ["us", "us/ga", None]


def test_printed_instants_carry_the_facility_offset() -> None:
    d = decide(_case("Harris County 2018, Texas SB 4 requires").case)  # type: ignore[attr-defined]
    printed = decision_json(d)
    assert printed["hold_until"] == "2018-11-05T09:00:00-06:00"
    assert printed["decided_at"] == "2018-11-03T10:00:00-05:00"
    kinds = {n["kind"] for n in printed["notices"]}
    assert kinds == {"texas_detainer_notice"}


def test_every_rule_in_a_decision_has_citation_and_evidence() -> None:
    for scenario in load_scenarios(GOLDEN):
        d = decide(scenario.case)
        for rule in d.rules:
            assert rule.citation and rule.evidence in {"V", "V3", "I", "R"}, rule
