"""Booking state → case → decision event: the facts on the desk as the engine's input, and its answer as an event
only when it changed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError
from sqlalchemy import Connection

from detainers.desk._effective import effective_decision
from detainers.desk._errors import InvalidCommand, PolicyUnavailable
from detainers.domain import (
    Booking,
    Case,
    Charge,
    Conviction,
    Detainer,
    DetainerForm,
    Person,
    Request,
)
from detainers.law import Decision, decision_json
from detainers.ledger import (
    BookingState,
    DecisionMade,
    DetainerState,
    Projector,
    parse_utc,
)

__all__ = [
    "Decider",
    "DeskDecision",
    "case_of",
    "decision_of",
    "decision_payload",
    "default_decider",
    "detainer_of",
    "requests_notify",
]

_log = logging.getLogger("detainers.desk")

Decider = Callable[[Case], Decision]

# Decision fields whose change is worth a new decision_made event (over-detention hours move with the clock).
_DECISION_KEYS = (
    "notify",
    "notify_required",
    "notify_target",
    "hold_until",
    "hold_required",
    "transfer",
    "inform_subject",
    "notices",
    "over_detention_flags",
    "rules",
)


def default_decider(case: Case) -> Decision:
    """The lead's policy engine (``detainers.law.decide``), imported when first needed."""
    try:
        from detainers.law import decide  # type: ignore[attr-defined,unused-ignore]
    except ImportError as error:  # pragma: no cover - only while the engine is being written
        raise PolicyUnavailable("the policy engine (detainers.law.decide) is not available") from error
    result: Decision = decide(case)
    return result


def _comparable(decision: dict[str, Any]) -> dict[str, Any]:
    return {key: decision.get(key) for key in _DECISION_KEYS}


def detainer_of(state: DetainerState) -> Detainer:
    """A detainer on the desk as the domain's record (what the engine reads)."""
    return Detainer(
        form=DetainerForm(state.form),
        received_at=_when(state.received_at),
        issued_on=state.issued_on,
        requests=frozenset(state.requests) if state.requests is not None else None,
        warrant=state.warrant,
        pc_basis=frozenset(state.pc_basis),
        box2_transferred_for_proceeding=state.box2_transferred_for_proceeding,
        served_on_subject_at=_when(state.served_at),
        issuing_office=state.office,
        lifted_at=_when(state.lifted_at),
        lift_reason=state.lift_reason,
    )


def requests_notify(detainer: DetainerState) -> bool:
    """Whether the detainer asks for notice of release: the boxes ticked, else what its form asks by default (the
    domain's ``effective_requests``)."""
    # Only the form and the boxes are read: built without validating the rest of the record.
    asked = Detainer.model_construct(
        form=DetainerForm(detainer.form),
        requests=frozenset(Request(r) for r in detainer.requests) if detainer.requests is not None else None,
    )
    return Request.NOTIFY in asked.effective_requests


def case_of(conn: Connection, booking: BookingState, as_of: datetime) -> Case | None:
    """The booking as ``conn`` sees it, with its linked detainers, as the engine's input (None: no detainer)."""
    detainers = [Projector.load_detainer(conn, d) for d in booking.detainer_ids]
    present = [d for d in detainers if d is not None]
    if not present:
        return None
    person = Person(
        status_proof=booking.status_proof,
        status_proof_at=_when(booking.status_proof_at),
        convictions=tuple(Conviction.model_validate(c) for c in booking.convictions),
    )
    record = Booking(
        facility=booking.facility,
        jurisdiction=booking.jurisdiction,
        timezone=booking.timezone,
        booked_at=_when(booking.booked_at),
        charges=tuple(Charge.model_validate(c) for c in booking.charges),
        eligible_for_release_at=_when(booking.eligible_at),
        eligibility_reason=booking.eligibility_reason,
        bail_refused_at=_when(booking.bail_refused_at),
        released_at=_when(booking.released_at or booking.transferred_at),
        released_to=booking.released_to,
    )
    return Case(
        name=booking.id,
        person=person,
        booking=record,
        detainers=tuple(detainer_of(d) for d in present),
        as_of=as_of,
    )


def decision_payload(
    conn: Connection, booking: BookingState, decider: Decider, trigger: str, as_of: datetime
) -> DecisionMade | None:
    """The policy engine's answer for the booking as ``conn`` sees it, as an event's payload — or None if the
    answer did not change (or the engine could not decide: the fact is recorded all the same, and logged)."""
    try:
        case = case_of(conn, booking, as_of)
    except ValidationError as error:
        raise InvalidCommand(f"the booking's facts do not make a valid case: {error.errors()[0]['msg']}") from error
    if case is None:
        return None
    try:
        decision = decider(case)
    except PolicyUnavailable:
        raise
    except Exception as error:  # noqa: BLE001 - a fact must be recordable even when the engine cannot decide
        _log.warning(
            "policy engine failed",
            extra={"booking_id": booking.id, "error": type(error).__name__, "detail": str(error)[:200]},
        )
        return None
    dumped = decision_json(decision)  # instants shown with the facility's offset, as `decide --json` prints them
    if booking.decision is not None and _comparable(booking.decision) == _comparable(dumped):
        return None
    return DecisionMade(
        detainer_ids=tuple(booking.detainer_ids),
        decision=dumped,
        engine_version=decision.engine_version,
        trigger=trigger,
    )


def _when(text: str | None) -> datetime | None:
    return parse_utc(text) if text else None


class DeskDecision(BaseModel):
    """The decision the desk acts on, typed: the engine's answer as stored on the booking with any supervisor
    override applied (see :func:`~detainers.desk.effective_decision`), its instants read as aware datetimes.
    ``written`` keeps the decision as stored (instants with the facility's offset), for what is shown or sent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    notify: bool
    notify_target: AwareDatetime | None
    hold_until: AwareDatetime | None
    rules: tuple[dict[str, Any], ...]
    overridden: bool
    override_notify: bool | None
    override_reason: str | None
    written: dict[str, Any]


def decision_of(booking: BookingState) -> DeskDecision | None:
    """The typed decision in force on ``booking`` (None before the engine first decided it)."""
    if booking.decision is None:
        return None
    effective = effective_decision(booking)
    override = booking.override or {}
    return DeskDecision(
        notify=bool(effective.get("notify")),
        notify_target=_instant(effective.get("notify_target")),
        hold_until=_instant(effective.get("hold_until")),
        rules=tuple(dict(r) for r in effective.get("rules", ())),
        overridden=bool(effective.get("overridden")),
        override_notify=override.get("notify"),
        override_reason=override.get("reason"),
        written=effective,
    )


def _instant(value: Any) -> datetime | None:
    return parse_utc(str(value).replace("Z", "+00:00")) if value else None
