"""Edge facts both paths must treat alike: late convictions and holding orders, preemption on `otherwise`."""

from __future__ import annotations

from datetime import UTC, date, datetime

from detainers.domain import Booking, Case, Charge, Conviction, Detainer, DetainerForm, Level, Person, WarrantKind
from detainers.law import decide
from detainers.law.bulk import tables_from_cases

from ._compare import disagreements

ELIGIBLE = datetime(2022, 3, 12, 18, tzinfo=UTC)  # 10:00 in Orange County


def _case(name: str, *, convictions: tuple[Conviction, ...] = (), charges: tuple[Charge, ...] = ()) -> Case:
    return Case(
        name=name,
        person=Person(convictions=convictions),
        booking=Booking(
            jurisdiction="us/ca/orange",
            timezone="America/Los_Angeles",
            booked_at=datetime(2022, 3, 1, 18, tzinfo=UTC),
            charges=charges,
            eligible_for_release_at=ELIGIBLE,
        ),
        detainers=(
            Detainer(
                form=DetainerForm.I247A_2017, warrant=WarrantKind.I200, received_at=datetime(2022, 3, 2, tzinfo=UTC)
            ),
        ),
    )


CASES = [
    _case(
        "late-conviction", convictions=(Conviction(statute="CA PC 211", level=Level.FELONY, date=date(2022, 3, 13)),)
    ),
    _case(
        "early-conviction", convictions=(Conviction(statute="CA PC 211", level=Level.FELONY, date=date(2022, 3, 12)),)
    ),
    _case(
        "late-holding-order",
        charges=(
            Charge(
                statute="CA PC 211", level=Level.FELONY, magistrate_probable_cause_at=datetime(2022, 3, 13, tzinfo=UTC)
            ),
        ),
    ),
    _case(
        "early-holding-order",
        charges=(
            Charge(
                statute="CA PC 211", level=Level.FELONY, magistrate_probable_cause_at=datetime(2022, 3, 10, tzinfo=UTC)
            ),
        ),
    ),
]


def test_facts_after_the_decision_do_not_count() -> None:
    got = {c.name: decide(c).notify for c in CASES}
    assert got == {
        "late-conviction": False,
        "early-conviction": True,
        "late-holding-order": False,
        "early-holding-order": True,
    }


def test_bulk_treats_late_facts_like_the_per_case_path() -> None:
    n, problems, _seen = disagreements(tables_from_cases(CASES))
    assert n == len(CASES)
    assert not problems, problems
