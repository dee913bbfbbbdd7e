"""The desk's commands as pure functions ``decide_*(state, command) -> event``: no database, no clock — the state
of the record and the command decide the event, or the refusal (naming the field)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from detainers.desk import (
    AgainstDecisionRefused,
    BookingState,
    DetainerState,
    EligibilityIn,
    InvalidCommand,
    LiftIn,
    LinkIn,
    OverrideIn,
    ReleaseIn,
    TransferIn,
    decide_eligibility,
    decide_lift,
    decide_link,
    decide_override,
    decide_release,
    decide_transfer,
    requests_notify,
)

BOOKED = datetime(2024, 3, 7, 13, 0, tzinfo=UTC)
HOLD_UNTIL = BOOKED + timedelta(days=3)


def _booking(**changes: object) -> BookingState:
    return BookingState.model_validate({"id": "b1", "version": 3, "booked_at": "2024-03-07T13:00:00Z", **changes})


def _detainer(**changes: object) -> DetainerState:
    base = {"id": "d1", "version": 2, "office": "ERO-ATL", "form": "I-247A", "received_at": "2024-03-08T14:00:00Z"}
    return DetainerState.model_validate({**base, **changes})


def test_a_lift_is_refused_once_lifted_and_made_otherwise() -> None:
    body = LiftIn(lifted_at=BOOKED + timedelta(days=2), reason="booked by ICE")
    event = decide_lift(_detainer(), body)
    assert event.lifted_at == body.lifted_at and event.reason == "booked by ICE"
    with pytest.raises(InvalidCommand, match="already lifted") as refused:
        decide_lift(_detainer(lifted_at="2024-03-08T15:00:00Z"), body)
    assert refused.value.field == "lifted_at"
    # a lift cannot precede the request it lifts (received 2024-03-08T14:00Z)
    with pytest.raises(InvalidCommand, match="before the detainer was received") as early:
        decide_lift(_detainer(), LiftIn(lifted_at=BOOKED + timedelta(days=1), reason="booked by ICE"))
    assert early.value.field == "lifted_at"


def test_a_link_names_the_booking_that_holds_the_detainer() -> None:
    assert decide_link(_detainer(), LinkIn(booking_id="b1")).booking_id == "b1"
    with pytest.raises(InvalidCommand, match="already linked"):
        decide_link(_detainer(booking_id="b1"), LinkIn(booking_id="b1"))
    with pytest.raises(InvalidCommand, match="linked to booking b2; correct that link"):
        decide_link(_detainer(booking_id="b2"), LinkIn(booking_id="b1"))


def test_release_and_eligibility_before_the_booking_are_refused() -> None:
    early = BOOKED - timedelta(minutes=1)
    with pytest.raises(InvalidCommand, match="before the booking") as refused:
        decide_release(_booking(), ReleaseIn(released_at=early))
    assert refused.value.field == "released_at"
    with pytest.raises(InvalidCommand, match="before the booking"):
        decide_eligibility(_booking(), EligibilityIn(eligible_at=early, reason="bond_posted"))
    released = decide_release(_booking(), ReleaseIn(released_at=BOOKED + timedelta(hours=5)))
    assert released.against_decision is None  # nothing decided yet: nothing to go against


def test_custody_ends_once() -> None:
    gone = _booking(released_at="2024-03-08T13:00:00Z")
    with pytest.raises(InvalidCommand, match="already released"):
        decide_release(gone, ReleaseIn(released_at=BOOKED + timedelta(days=2)))
    with pytest.raises(InvalidCommand, match="already released"):
        decide_transfer(gone, TransferIn(transferred_at=BOOKED + timedelta(days=2), to_agency="ICE ERO Atlanta"))


def test_a_release_before_a_required_hold_has_run_needs_confirmation() -> None:
    held = _booking(
        eligible_at="2024-03-08T13:00:00Z",
        decision={"hold_required": True, "hold_until": HOLD_UNTIL.isoformat(), "rules": [{"id": "x.require"}]},
    )
    body = ReleaseIn(released_at=HOLD_UNTIL - timedelta(hours=1))
    with pytest.raises(AgainstDecisionRefused, match="requires the hold until") as refused:
        decide_release(held, body)
    rules = refused.value.extra["rules"]
    assert refused.value.field == "against_decision_confirmed" and rules
    confirmed = decide_release(held, body.model_copy(update={"against_decision_confirmed": rules}))
    assert confirmed.against_decision is not None and list(confirmed.against_decision.rules) == rules


def test_an_override_must_say_what_it_overrides() -> None:
    with pytest.raises(InvalidCommand, match="must set notify, hold_until or clear_hold"):
        decide_override(_booking(), OverrideIn(reason="county counsel"))
    with pytest.raises(InvalidCommand, match="not both"):
        decide_override(_booking(), OverrideIn(hold_until=HOLD_UNTIL, clear_hold=True, reason="county counsel"))
    assert decide_override(_booking(), OverrideIn(notify=False, reason="county counsel")).notify is False


def test_notice_is_asked_for_by_the_boxes_else_by_the_form() -> None:
    assert requests_notify(_detainer())  # I-247A asks for notice by default
    assert not requests_notify(_detainer(requests=["hold"]))
    assert requests_notify(_detainer(requests=["notify"]))
