"""Facts count from their own instant on both paths: a law, a lift or a proof of status that comes during a hold
cuts it at that instant, and a request received after the decision instant (or after release) is not yet a fact.

Cases are built around every version boundary of every shipped pack (eligibility the evening before a version
takes effect, released two days later), so each boundary is crossed by a running hold; both answers are computed.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from detainers.domain import Booking, Case, Detainer, DetainerForm, Person, StatusProof, WarrantKind
from detainers.law import decide, default_packs, default_zone
from detainers.law.bulk import tables_from_cases

from ._compare import disagreements


def _boundary_cases() -> list[Case]:
    cases: list[Case] = []
    for pack in default_packs():
        path = pack.pack if "/" in pack.pack else "us/ga/fulton"
        zone = ZoneInfo(pack.timezone or default_zone(path) or "America/New_York")
        for version in pack.versions[1:]:
            starts = datetime.combine(version.effective_from, time(0), zone)
            eligible = (starts - timedelta(hours=14)).astimezone(UTC)
            for form, warrant in (
                (DetainerForm.I247A_2017, WarrantKind.I200),
                (DetainerForm.I247_DEC2012, WarrantKind.NONE),
            ):
                cases.append(
                    Case(
                        name=f"{pack.pack}@{version.version}/{form.name}",
                        booking=Booking(
                            jurisdiction=path,
                            timezone=str(zone),
                            booked_at=eligible - timedelta(days=3),
                            eligible_for_release_at=eligible,
                            released_at=eligible + timedelta(hours=40),
                        ),
                        detainers=(Detainer(form=form, warrant=warrant, received_at=eligible - timedelta(days=2)),),
                    )
                )
    return cases


def test_paths_agree_on_holds_that_cross_every_version_boundary() -> None:
    cases = _boundary_cases()
    n, problems, seen = disagreements(tables_from_cases(cases))
    assert n == len(cases) >= 20
    assert not problems, "\n".join(problems[:10])
    # Some boundary really cut a running hold (the test would be empty otherwise).
    assert "after_law_change" in seen["hold_ended_by"]


def _case(name: str, **detainer: object) -> Case:
    eligible = datetime(2023, 5, 10, 18, tzinfo=UTC)
    return Case(
        name=name,
        person=Person(status_proof=StatusProof.US_CITIZEN, status_proof_at=eligible + timedelta(hours=30))
        if name.startswith("proof")
        else Person(),
        booking=Booking(
            jurisdiction="us/ga/fulton",
            timezone="America/New_York",
            booked_at=eligible - timedelta(days=5),
            eligible_for_release_at=eligible,
            released_at=eligible + timedelta(hours=45),
        ),
        detainers=(Detainer(form=DetainerForm.I247A_2017, warrant=WarrantKind.I200, **detainer),),  # type: ignore[arg-type]
    )


def test_lift_and_proof_during_the_hold_end_it_on_both_paths() -> None:
    eligible = datetime(2023, 5, 10, 18, tzinfo=UTC)
    lift = _case("lift", received_at=eligible - timedelta(days=2), lifted_at=eligible + timedelta(hours=20))
    proof = _case("proof", received_at=eligible - timedelta(days=2))
    late = _case("late request", received_at=eligible + timedelta(hours=50))  # after release: no custody
    for case, until, flag in (
        (lift, eligible + timedelta(hours=20), "after_lift"),
        (proof, eligible + timedelta(hours=30), "after_status_proof"),
    ):
        d = decide(case)
        assert d.hold_until == until
        assert [f.value for f in d.over_detention_flags] == [flag]
        assert abs(d.over_detention_hours - (45 - (until - eligible).total_seconds() / 3600)) < 1e-9
    late_decision = decide(late)
    assert not late_decision.notify and late_decision.transfer.value == "not_allowed"
    assert late_decision.over_detention_hours == 0
    n, problems, _ = disagreements(tables_from_cases([lift, proof, late]))
    assert n == 3 and not problems, problems
