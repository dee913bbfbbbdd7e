"""Every case of every scenario file here is a pytest item, run by the same runner as ``detainers scenarios check``
(``detainers.law.run_case``): the same files (``_*.yaml`` and ``expected_failures.yaml`` hold no cases), the same
strict expected failures (``expected_failures.yaml`` beside this file), the same comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from detainers.law import (
    EXPECTED_FAILURES_FILE,
    CaseResult,
    Scenario,
    Verdict,
    default_packs,
    is_scenario_file,
    load_scenarios,
    read_expected_failures,
    run_case,
)

EXPECTED_FAILURES = read_expected_failures(Path(__file__).with_name(EXPECTED_FAILURES_FILE))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_scenario_file(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Any:
        for scenario in load_scenarios(self.path):
            yield ScenarioItem.from_parent(self, name=scenario.case.name, scenario=scenario)


class CaseFailed(Exception):
    def __init__(self, result: CaseResult) -> None:
        super().__init__(result.scenario.case.name)
        self.result = result


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        outcome = run_case(self.scenario, default_packs(), expected_failures=EXPECTED_FAILURES)
        if outcome.verdict is Verdict.XFAILED:
            pytest.xfail(outcome.expected_failure or "")
        if outcome.verdict is Verdict.XPASSED:
            pytest.fail(f"[XPASS(strict)] expected to fail: {outcome.expected_failure}", pytrace=False)
        if outcome.verdict is Verdict.FAILED:
            raise CaseFailed(outcome.result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, CaseFailed):
            result = excinfo.value.result
            lines = [f"{self.scenario.file}::{self.scenario.index + 1} {self.scenario.case.name}"]
            if result.error:
                lines.append(f"    error: {result.error}")
            lines += [f"    {m.key}: expected {m.expected}, got {m.actual}" for m in result.mismatches]
            return "\n".join(lines)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.scenario.index, f"{self.path.name}::{self.scenario.case.name}"
