"""Malformed scenario files fail with a message naming file, case and key — and the CLI prints no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from detainers.cli import app
from detainers.law import ScenarioError, load_scenarios

GOOD = """
- name: ok
  jurisdiction: us/ga/fulton
  booking: {eligible_for_release_at: 2024-03-08T14:00}
  detainers: [{form: I-247A}]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        (GOOD.replace("booking:", "bookng:"), ["case.yaml", "case #1 ('ok')", "bookng", "unknown key"]),
        (GOOD.replace("{form: I-247A}", "{form: I-247A, warant: I-200}"), ["detainers[0].warant", "unknown key"]),
        (GOOD.replace("I-247A", "I-999"), ["detainers[0].form", "unknown detainer form"]),
        (GOOD.replace("2024-03-08T14:00", "2024-03-10T02:30"), ["eligible_for_release_at", "does not exist"]),
        (GOOD.replace("2024-03-08T14:00", "March 8th"), ["eligible_for_release_at", "not an ISO 8601 time"]),
        (GOOD.replace("us/ga/fulton", "US/Georgia"), ["jurisdiction", "no US state", "did you mean us/ga?"]),
        (GOOD.replace("us/ga/fulton", "us/ga/fulton county"), ["jurisdiction", "did you mean us/ga/fulton?"]),
        (GOOD.replace("- name: ok", "- name: ok\n  expect: {hold: true}"), ["expect.hold", "unknown key"]),
        (GOOD + "  person: {convictions: [{statute: CA PC 211, level: felony}]}\n", ["person.convictions[0]", "date"]),
        (GOOD + GOOD, ["'ok' is used twice"]),
        ("- name: a\n  name: b\n", ["duplicate key 'name'"]),
        (GOOD.replace("us/ga/fulton", "xx/zz"), ["jurisdiction", "country 'xx'"]),
        (GOOD.replace("- name: ok", "- name: ok\n  expect: {coverage: {full: true}}"), ["expect.coverage.full"]),
    ],
)
def test_bad_scenarios_name_file_case_and_key(tmp_path: Path, text: str, fragments: list[str]) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenarios(_write(tmp_path, text))
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_zone_less_times_are_read_in_the_facility_zone_and_reported(tmp_path: Path) -> None:
    (scenario,) = load_scenarios(_write(tmp_path, GOOD))
    assert scenario.case.booking.eligible_for_release_at is not None
    assert scenario.case.booking.eligible_for_release_at.isoformat() == "2024-03-08T19:00:00+00:00"
    assert scenario.offsets_used == (
        "booking.eligible_for_release_at 2024-03-08T14:00 read as 2024-03-08T14:00:00-05:00 (America/New_York)",
    )


def test_cli_reports_bad_file_without_traceback(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("booking:", "bookng:"))
    result = CliRunner().invoke(app, ["decide", str(path)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "bookng" in result.output


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    good = _write(tmp_path, GOOD.replace("- name: ok", "- name: ok\n  expect: {notify: true}"))
    assert CliRunner().invoke(app, ["scenarios", "check", str(good)]).exit_code == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("- name: ok", "- name: ok\n  expect: {notify: false}"))
    result = CliRunner().invoke(app, ["scenarios", "check", str(bad)])
    assert result.exit_code == 1
    assert "notify: expected false, got true" in result.output
    xfail = tmp_path / "x.yaml"
    xfail.write_text("ok: issue 99 will fix it\n")
    assert CliRunner().invoke(app, ["scenarios", "check", str(bad), "-x", str(xfail)]).exit_code == 0
    # an expected failure that passes is a failure (strict)
    assert CliRunner().invoke(app, ["scenarios", "check", str(good), "-x", str(xfail)]).exit_code == 1


def test_decide_json_prints_offsets(tmp_path: Path) -> None:
    import json

    result = CliRunner().invoke(app, ["decide", str(_write(tmp_path, GOOD)), "--json"])
    assert result.exit_code == 0, result.output
    (decision,) = json.loads(result.output)
    assert decision["hold_until"] == "2024-03-10T15:00:00-04:00"
    assert decision["offsets_used"]
