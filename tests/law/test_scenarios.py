"""Every scenario file in tests/scenarios runs as tests; listed reference cases are strict expected failures."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from detainers.law import Scenario, check_scenario, default_packs, load_scenarios

ROOT = Path(__file__).parents[1] / "scenarios"
EXPECTED_FAILURES: dict[str, str] = yaml.safe_load((ROOT / "expected_failures.yaml").read_text()) or {}


def _all() -> list[Scenario]:
    found: list[Scenario] = []
    for file in sorted(ROOT.rglob("*.yaml")):
        if file.name == "expected_failures.yaml":
            continue
        found.extend(load_scenarios(file))
    return found


SCENARIOS = _all()


def _param(s: Scenario) -> object:
    marks = []
    if s.case.name in EXPECTED_FAILURES:
        marks.append(pytest.mark.xfail(strict=True, reason=EXPECTED_FAILURES[s.case.name]))
    return pytest.param(s, id=f"{Path(s.file).relative_to(ROOT)}::{s.case.name}", marks=marks)


def test_reference_cases_are_present() -> None:
    golden = [s for s in SCENARIOS if Path(s.file).name == "golden.yaml"]
    assert len(golden) >= 20
    assert set(EXPECTED_FAILURES) <= {s.case.name for s in golden}


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS])
def test_scenario(scenario: Scenario) -> None:
    result = check_scenario(scenario, default_packs())
    assert result.error is None, result.error
    assert not result.mismatches, "; ".join(
        f"{m.key}: expected {m.expected}, got {m.actual}" for m in result.mismatches
    )
