"""Issue 12: rules keyed on the right instant (issue date, receipt), readings declared and checked."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from detainers.domain import Booking, Case, Detainer, DetainerForm, WarrantKind
from detainers.law import DecisionError, PackError, decide, load_packs


def _ga(form: DetainerForm, issued: date, warrant: WarrantKind = WarrantKind.NONE) -> Case:
    return Case(
        booking=Booking(
            jurisdiction="us/ga/fulton",
            timezone="America/New_York",
            eligible_for_release_at=datetime(2018, 3, 1, 15, tzinfo=UTC),
        ),
        detainers=(
            Detainer(
                form=form,
                issued_on=issued,
                received_at=datetime(issued.year, issued.month, issued.day, 18, tzinfo=UTC),
                warrant=warrant,
            ),
        ),
    )


def test_ice_policy_warning_follows_the_issue_date_not_the_decision_date() -> None:
    old = decide(_ga(DetainerForm.I247D_2015, date(2016, 12, 1)))
    new = decide(_ga(DetainerForm.I247A_2017, date(2018, 2, 20)))
    assert not any(w.startswith("us.ice-10074.warrant-missing") for w in old.warnings)
    assert any(w.startswith("us.ice-10074.warrant-missing") for w in new.warnings)
    # with the warrant the policy asks for, no warning either
    ok = decide(_ga(DetainerForm.I247A_2017, date(2018, 2, 20), WarrantKind.I200))
    assert not any(w.startswith("us.ice-10074.warrant-missing") for w in ok.warnings)


def test_as_of_before_any_request_is_refused_by_name() -> None:
    case = _ga(DetainerForm.I247A_2017, date(2018, 2, 20)).model_copy(
        update={"as_of": datetime(2018, 2, 1, tzinfo=UTC)}
    )
    with pytest.raises(DecisionError, match="no detainer had been received by as_of"):
        decide(case)


def test_unknown_reading_or_option_is_refused() -> None:
    case = _ga(DetainerForm.I247A_2017, date(2018, 2, 20))
    with pytest.raises(DecisionError, match="unknown reading 'xx.nope'"):
        decide(case, readings={"xx.nope": "a"})
    with pytest.raises(DecisionError, match="has no option 'maybe'"):
        decide(case, readings={"ca.7282.5-a6": "maybe"})


_FEDERAL = """
pack: us
level: federal
title: t
versions:
  - version: v1
    title: t
    effective_from: 2000-01-01
    reviewed_by: test
    rules:
{rules}
"""


def _packs(tmp_path: Path, rules: str) -> None:
    root = tmp_path / "packs"
    root.mkdir(exist_ok=True)
    (root / "us.yaml").write_text(_FEDERAL.format(rules=textwrap.indent(textwrap.dedent(rules), "      ")))
    load_packs(root, conditions_file=tmp_path / "none.yaml")


def test_a_rule_may_test_only_a_declared_reading(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="reading 'xx.q' is not declared"):
        _packs(
            tmp_path,
            """
            - id: r1
              title: t
              when: {reading: {xx.q: a}}
              sets: {hold: forbid}
              citation: {title: t}
              evidence: I
            """,
        )


def test_a_rule_arising_on_issue_may_only_warn(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="arises on issue binds ICE"):
        _packs(
            tmp_path,
            """
            - id: r1
              title: t
              arises: issue
              sets: {inform_subject: true}
              citation: {title: t}
              evidence: I
            """,
        )
    with pytest.raises(PackError, match="may only add notices, inform_subject or a warning"):
        _packs(
            tmp_path,
            """
            - id: r2
              title: t
              arises: receipt
              sets: {hold: forbid}
              citation: {title: t}
              evidence: I
            """,
        )
