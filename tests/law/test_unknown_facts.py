"""Unknown statutes and missing facts are reported, never silently counted as a match or a non-match."""

from __future__ import annotations

from datetime import UTC, date, datetime

from detainers.domain import Booking, Case, Conviction, Detainer, DetainerForm, Level, Person, WarrantKind
from detainers.law import decide


def _case(conviction: Conviction, jurisdiction: str = "us/ca/orange") -> Case:
    return Case(
        name="unknown",
        person=Person(convictions=(conviction,)),
        booking=Booking(
            jurisdiction=jurisdiction,
            timezone="America/Los_Angeles",
            eligible_for_release_at=datetime(2021, 6, 1, 17, tzinfo=UTC),
        ),
        detainers=(Detainer(form=DetainerForm.I247A_2017, warrant=WarrantKind.I200),),
    )


def test_unknown_statute_is_listed_and_warned() -> None:
    d = decide(_case(Conviction(statute="CA XX 999.9", level=Level.FELONY, date=date(2015, 1, 1))))
    assert d.unknown_statutes == ("CA XX 999.9",)
    assert any("unknown" in w for w in d.warnings)
    # Undecidable criteria grant nothing, and the decision says so.
    assert not d.notify
    assert any("cannot establish" in w for w in d.warnings)


def test_explicit_tag_decides_an_unknown_statute() -> None:
    d = decide(_case(Conviction(statute="CA XX 999.9", level=Level.FELONY, date=date(2015, 1, 1), tags=("serious",))))
    assert d.unknown_statutes == ()
    assert d.notify


def test_degree_dependent_burglary_is_undecided_without_its_degree() -> None:
    plain = decide(_case(Conviction(statute="CA PC 459", level=Level.FELONY, date=date(1990, 1, 1))))
    first_degree = decide(
        _case(
            Conviction(statute="CA PC 459", level=Level.FELONY, date=date(1990, 1, 1), tags=("burglary_first_degree",))
        )
    )
    assert not plain.notify
    assert any("cannot establish" in w for w in plain.warnings)
    assert first_degree.notify


def test_known_but_unlisted_statute_is_a_plain_non_match() -> None:
    d = decide(_case(Conviction(statute="CA PC 647(f)", level=Level.MISDEMEANOR, date=date(2020, 1, 1))))
    assert d.unknown_statutes == ()
    assert not d.notify
    assert not any("cannot establish" in w for w in d.warnings)
