"""Hypothesis properties of the engine: invariants that hold for any case, in any jurisdiction, at any date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from detainers.domain import (
    Booking,
    Case,
    Conviction,
    Detainer,
    DetainerForm,
    Level,
    Person,
    Request,
    StatusProof,
    WarrantKind,
)
from detainers.law import Decision, decide

ZONES = {"us/ca": "America/Los_Angeles", "us/tx": "America/Chicago", "us/ga": "America/New_York"}
JURISDICTIONS = [
    "us/ca/orange",
    "us/ca/los-angeles/lasd",
    "us/ca/los-angeles",
    "us/tx/harris",
    "us/tx/travis",
    "us/ga/fulton",
]
STATUTES = [
    ("CA PC 211", Level.FELONY),
    ("CA PC 245(a)(1)", Level.MISDEMEANOR),
    ("CA PC 245(a)(1)", Level.FELONY),
    ("CA PC 496(a)", Level.FELONY),
    ("CA PC 459.5", Level.MISDEMEANOR),
    ("CA VC 23152(a)", Level.MISDEMEANOR),
    ("CA PC 647(f)", Level.MISDEMEANOR),
    ("TX PC 19.02", Level.FELONY),
    ("TX PC 31.03", Level.MISDEMEANOR),
    ("GA 16-8-2", Level.MISDEMEANOR),
    ("CA XX 1.1", Level.FELONY),
]
# Form printings and the years they were in use.
FORMS = [
    (DetainerForm.I247_PRE2012, 2010, 2012),
    (DetainerForm.I247_DEC2012, 2013, 2014),
    (DetainerForm.I247D_2015, 2015, 2016),
    (DetainerForm.I247N_2015, 2015, 2016),
    (DetainerForm.I247X_2015, 2015, 2016),
    (DetainerForm.I247A_2017, 2017, 2025),
    (DetainerForm.I247A_2025, 2025, 2026),
    (DetainerForm.I247G_2025, 2025, 2026),
]


@st.composite
def cases(draw: st.DrawFn, jurisdiction: str | None = None) -> Case:
    j = jurisdiction or draw(st.sampled_from(JURISDICTIONS))
    zone = ZONES[j[:5]]
    form, first, last = draw(st.sampled_from(FORMS))
    eligible = datetime(first, 1, 1, tzinfo=UTC) + timedelta(
        minutes=draw(st.integers(0, (last - first + 1) * 365 * 24 * 60 - 1))
    )
    convictions = tuple(
        Conviction(statute=s, level=lvl, date=(eligible - timedelta(days=days)).date())
        for (s, lvl), days in draw(st.lists(st.tuples(st.sampled_from(STATUTES), st.integers(30, 9000)), max_size=3))
    )
    lifted = draw(st.one_of(st.none(), st.integers(-72, 72)))
    proof = draw(st.sampled_from(list(StatusProof)))
    requests = draw(st.one_of(st.none(), st.sets(st.sampled_from(list(Request)), max_size=3).map(frozenset)))
    detainer = Detainer(
        form=form,
        received_at=eligible - timedelta(hours=draw(st.integers(1, 500))),
        requests=requests,
        warrant=draw(st.sampled_from(list(WarrantKind))),
        lifted_at=None if lifted is None else eligible + timedelta(hours=lifted),
    )
    released = draw(st.one_of(st.none(), st.integers(0, 200)))
    return Case(
        name="generated",
        person=Person(convictions=convictions, status_proof=proof, status_proof_at=eligible - timedelta(hours=1)),
        booking=Booking(
            jurisdiction=j,
            timezone=zone,
            booked_at=eligible - timedelta(days=draw(st.integers(0, 400))),
            eligible_for_release_at=eligible,
            released_at=None if released is None else eligible + timedelta(hours=released),
        ),
        detainers=(detainer,),
    )


def _rank(d: Decision) -> tuple[bool, datetime | None, int]:
    return d.notify, d.hold_until, ["not_allowed", "allowed", "required"].index(d.transfer.value)


@settings(max_examples=300, deadline=None)
@given(cases())
def test_hold_never_before_eligibility_and_never_past_the_form_window(case: Case) -> None:
    d = decide(case)
    eligible = case.booking.eligible_for_release_at
    assert eligible is not None and d.hold_until is not None
    assert d.hold_until >= eligible
    span = d.hold_until - eligible
    detainer = case.detainers[0]
    if detainer.form in (DetainerForm.I247_PRE2012, DetainerForm.I247_DEC2012):
        assert span <= timedelta(days=6)  # 48 business hours across a weekend and a holiday
    else:
        assert span <= timedelta(hours=48)
    if span > timedelta(0):
        assert d.custody_basis in ("detainer", "judicial_warrant", "federal_admin_warrant_287g")
    assert d.over_detention_hours >= 0


@settings(max_examples=300, deadline=None)
@given(cases())
def test_lifted_or_notification_only_never_holds(case: Case) -> None:
    d = decide(case)
    detainer = case.detainers[0]
    eligible = case.booking.eligible_for_release_at
    if detainer.lifted_at is not None and eligible is not None and detainer.lifted_at <= eligible:
        assert not d.notify and d.transfer.value == "not_allowed" and d.hold_until == eligible
    if (
        detainer.form in (DetainerForm.I247N_2015, DetainerForm.I247G_2025)
        or Request.HOLD not in detainer.effective_requests
    ):
        assert d.hold_until == eligible and not d.hold_required


@settings(max_examples=300, deadline=None)
@given(cases())
def test_jurisdiction_specific_invariants(case: Case) -> None:
    d = decide(case)
    eligible = case.booking.eligible_for_release_at
    assert eligible is not None
    local_day = eligible.astimezone(__import__("zoneinfo").ZoneInfo(case.booking.timezone)).date()
    if case.jurisdiction.startswith("us/ca") and local_day >= date(2018, 1, 1):
        assert d.hold_until == eligible, "SB 54: no detention on a hold request"
    detainer = case.detainers[0]
    active = detainer.lifted_at is None or detainer.lifted_at > eligible
    if (
        case.jurisdiction.startswith("us/tx")
        # SB 4's mandate binds from the Fifth Circuit's stay of the injunction (El Cenizo, 2017-09-25)
        and local_day >= date(2017, 9, 25)
        and active
        and Request.HOLD in detainer.effective_requests
        and case.person.status_proof is StatusProof.NONE
        and detainer.form not in (DetainerForm.I247N_2015, DetainerForm.I247G_2025)
    ):
        assert d.hold_required and d.hold_until is not None and d.hold_until > eligible
    if case.person.status_proof is StatusProof.US_CITIZEN:
        assert d.hold_until == eligible


@settings(max_examples=200, deadline=None)
@given(cases(jurisdiction="us/ca/tulare"))  # a county without a pack: the state layer alone
def test_an_added_restrictive_layer_never_widens_what_is_allowed(case: Case) -> None:
    state_only = decide(case)
    for deeper in ("us/ca/los-angeles", "us/ca/los-angeles/lasd"):
        layered = decide(case, jurisdiction=deeper)
        notify, hold, transfer = _rank(layered)
        s_notify, s_hold, s_transfer = _rank(state_only)
        assert not notify or s_notify
        assert hold is not None and s_hold is not None and hold <= s_hold
        assert transfer <= s_transfer


@settings(max_examples=200, deadline=None)
@given(cases(jurisdiction="us/tx/travis"))
def test_texas_mandate_makes_county_policy_irrelevant_after_sb4(case: Case) -> None:
    eligible = case.booking.eligible_for_release_at
    assert eligible is not None
    travis, harris = decide(case), decide(case, jurisdiction="us/tx/harris")
    # from the Fifth Circuit's stay of the El Cenizo injunction (2017-09-25), SB 4 preempts the county's policy
    if eligible >= datetime(2017, 9, 25, 5, tzinfo=UTC):
        assert _rank(travis) == _rank(harris)


@settings(max_examples=150, deadline=None)
@given(cases(), st.sampled_from(["UTC", "Asia/Tokyo", "America/Anchorage"]))
def test_same_instants_in_other_offsets_give_the_same_decision(case: Case, other_zone: str) -> None:
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(other_zone)
    booking = case.booking
    assert booking.eligible_for_release_at is not None
    shifted = case.model_copy(
        update={
            "booking": booking.model_copy(
                update={"eligible_for_release_at": booking.eligible_for_release_at.astimezone(zone)}
            )
        }
    )
    a, b = decide(case), decide(shifted)
    assert (a.notify, a.hold_until, a.transfer, a.hold_required) == (
        b.notify,
        b.hold_until,
        b.transfer,
        b.hold_required,
    )
