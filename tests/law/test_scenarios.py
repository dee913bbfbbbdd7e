"""The reference cases are present; the scenario cases themselves run as pytest items (tests/scenarios/conftest.py)
through the same runner as ``detainers scenarios check``, and this file checks that both runners agree."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from detainers.cli import app
from detainers.law import load_scenarios, read_expected_failures, scenario_files

ROOT = Path(__file__).parents[1] / "scenarios"
EXPECTED_FAILURES = read_expected_failures(ROOT / "expected_failures.yaml")

CASE = """
- name: "{name}"
  jurisdiction: us/ga/fulton
  booking:
    booked_at: 2024-03-07T22:00
    charges: [{{statute: GA 40-6-48, level: misdemeanor}}]
    eligible_for_release_at: 2024-03-08T14:00
  detainers:
    - {{form: I-247A, received_at: 2024-03-08T09:00, warrant: I-200, pc_basis: [biometric_records]}}
  expect:
    notify: {notify}
"""


def test_reference_cases_are_present() -> None:
    golden = load_scenarios(ROOT / "golden.yaml")
    assert len(golden) >= 20
    names = {s.case.name for f in scenario_files([ROOT]) for s in load_scenarios(f)}
    assert set(EXPECTED_FAILURES) <= names


def test_the_cli_and_pytest_run_the_same_cases_with_the_same_verdicts(tmp_path: Path) -> None:
    """A folder with a passing case, a failing case, a listed failure whose name holds brackets, a listed case that
    passes (strict: a failure) and a ``_`` draft that must not run: both runners see the same five verdicts."""
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "cases.yaml").write_text(
        CASE.format(name="passes", notify="true")
        + CASE.format(name="fails", notify="false")
        + CASE.format(name="listed [bracketed] failure", notify="false")
        + CASE.format(name="listed [bracketed] but passes", notify="true")
    )
    (tmp_path / "_draft.yaml").write_text(CASE.format(name="a draft that would fail", notify="false"))
    (tmp_path / "expected_failures.yaml").write_text(
        '"listed [bracketed] failure": "issue 0: a reason"\n"listed [bracketed] but passes": "issue 0: another"\n'
    )
    cli = CliRunner().invoke(
        app, ["scenarios", "check", str(tmp_path), "-x", str(tmp_path / "expected_failures.yaml"), "-v"]
    )
    assert cli.exit_code == 1, cli.output
    assert "1 passed, 2 failed, 1 xfailed (1 unexpectedly passed)" in cli.output
    assert "XPASS" in cli.output and "listed [bracketed] but passes" in cli.output  # found by its own name
    assert "draft" not in cli.output
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rA",
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    summary = run.stdout.strip().splitlines()[-1]
    assert "2 failed, 1 passed, 1 xfailed" in summary, run.stdout[-3000:]  # the strict XPASS counts as failed
    assert "XPASS(strict)" in run.stdout and "listed [bracketed] but passes" in run.stdout
    assert "draft" not in run.stdout
