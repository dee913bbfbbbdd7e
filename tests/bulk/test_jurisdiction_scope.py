"""A court order scoped to one sheriff ({jurisdiction_in: [...]}) is read alike by both paths."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from detainers.domain import Booking, Case, Detainer, DetainerForm, WarrantKind
from detainers.law import decide
from detainers.law._predicates import PredicateError, parse_predicate
from detainers.law.bulk import tables_from_cases

from ._compare import disagreements


def _case(jurisdiction: str) -> Case:
    # 2026-07-15 10:00 in Indianapolis: Indiana SEA 76 in force; enjoined as to the Monroe County Sheriff
    return Case(
        name=jurisdiction,
        booking=Booking(
            jurisdiction=jurisdiction,
            timezone="America/Indiana/Indianapolis",
            booked_at=datetime(2026, 7, 14, 18, tzinfo=UTC),
            eligible_for_release_at=datetime(2026, 7, 15, 14, tzinfo=UTC),
        ),
        detainers=(
            Detainer(
                form=DetainerForm.I247A_2025,
                warrant=WarrantKind.I200,
                received_at=datetime(2026, 7, 14, 20, tzinfo=UTC),
            ),
        ),
    )


CASES = [_case("us/in/marion"), _case("us/in/monroe"), _case("us/in/monroe/mcso"), _case("us/in/morgan")]


def test_the_order_binds_only_the_named_county_and_its_agencies() -> None:
    got = {c.name: decide(c).hold_required for c in CASES}
    assert got == {"us/in/marion": True, "us/in/monroe": False, "us/in/monroe/mcso": False, "us/in/morgan": True}


def test_bulk_reads_the_scope_like_the_per_case_path() -> None:
    n, problems, _seen = disagreements(tables_from_cases(CASES))
    assert n == len(CASES)
    assert not problems, problems


def test_a_bad_path_is_refused_with_its_key() -> None:
    with pytest.raises(PredicateError, match=r"when\.jurisdiction_in: 'US/IN' is not a jurisdiction path"):
        parse_predicate({"jurisdiction_in": ["US/IN"]})
