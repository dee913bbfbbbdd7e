"""The one scenario runner: which files hold cases, which cases are expected to fail, and each case's outcome.

``detainers scenarios check`` and the test suite (``tests/scenarios/conftest.py``, which collects every case as a
pytest item) both call these functions, so they find the same files (``*.yaml`` under a folder, except
``expected_failures.yaml`` and files whose name starts with ``_``, which hold shared fragments or drafts), read the
same expected failures, and judge a case the same way (strict: an expected failure that passes fails).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import yaml

from detainers.law._packs import PackSet
from detainers.law._scenarios import CaseResult, Scenario, ScenarioError, check_scenario

__all__ = [
    "EXPECTED_FAILURES_FILE",
    "CaseOutcome",
    "Verdict",
    "is_scenario_file",
    "read_expected_failures",
    "run_case",
    "scenario_files",
]

EXPECTED_FAILURES_FILE = "expected_failures.yaml"


def is_scenario_file(path: Path) -> bool:
    """A file of cases: ``*.yaml``, not the expected-failures list, not a ``_``-named fragment or draft."""
    return path.suffix == ".yaml" and path.name != EXPECTED_FAILURES_FILE and not path.name.startswith("_")


def scenario_files(paths: Iterable[Path]) -> list[Path]:
    """The scenario files named or found (recursively, sorted) under the folders named; naming a file that holds no
    cases (the expected failures, a ``_`` fragment) is an error rather than a silent skip."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += [f for f in sorted(path.rglob("*.yaml")) if is_scenario_file(f)]
        elif path.suffix == ".yaml" and not is_scenario_file(path):
            raise ScenarioError(f"{path}: not a scenario file (expected_failures.yaml and _*.yaml hold no cases)")
        else:
            found.append(path)
    return found


def read_expected_failures(path: Path | None) -> dict[str, str]:
    """Case name → reason (naming the issue that will fix it); an empty file is an empty mapping."""
    if path is None:
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    if not isinstance(raw, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise ScenarioError(f"{path}: expected a mapping of case name to reason (naming the issue that will fix it)")
    return dict(raw)


class Verdict(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    XFAILED = "xfailed"  # expected to fail, and failed
    XPASSED = "xpassed"  # expected to fail, but passed: a failure (strict)

    @property
    def ok(self) -> bool:
        return self in (Verdict.PASSED, Verdict.XFAILED)


@dataclass(frozen=True)
class CaseOutcome:
    result: CaseResult
    verdict: Verdict
    expected_failure: str | None  # the reason, when the case is listed as an expected failure


def run_case(
    scenario: Scenario,
    packs: PackSet | None = None,
    readings: Mapping[str, str] | None = None,
    expected_failures: Mapping[str, str] | None = None,
) -> CaseOutcome:
    """Decide one case, compare it with its ``expect:`` block and judge it against the expected failures (looked
    up by the case's own name, whatever characters it holds)."""
    result = check_scenario(scenario, packs, readings)
    reason = (expected_failures or {}).get(scenario.case.name)
    if reason is None:
        verdict = Verdict.PASSED if result.passed else Verdict.FAILED
    else:
        verdict = Verdict.XPASSED if result.passed else Verdict.XFAILED
    return CaseOutcome(result, verdict, reason)
