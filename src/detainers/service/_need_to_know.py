"""Need-to-know: what each role may see of a detainer, decided by the effective decision as well as the role.

One module for the API and the web pages. The staff roles (clerk, supervisor, auditor) see the whole record. An
ICE liaison sees only its own office's detainers, and of those:

* ``shared`` — where the effective decision allows notice to ICE: the detainer, its status and the release timing
  the jail may give ICE (eligibility, hold deadline, notify target, custody status, facility) with the rules that
  decided it. Never the person's criminal history or the facts behind the decision, never other offices' detainers
  (their ids, or explanation steps that would describe them), never the booking or the supervisor's reasons.
* ``request_only`` — where notice to ICE is not allowed (SB 54 and the like), and equally where there is no decision
  yet: the detainer as ICE sent it and whether it is lifted. Its status reads ``received`` or ``lifted`` whatever
  the person's custody, and its version, timeline and notices are withheld, so that nothing (release timing,
  custody, facility, explanation, criminal history, or the mere fact that the person was booked) can be read from
  it. The two cases look exactly alike, so the answer itself reveals nothing about custody.

Another office's detainer answers exactly as an id that does not exist (:func:`visible`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from detainers.ledger import BookingState, DetainerState, StoredEvent
from detainers.service._desk import Desk, effective_decision
from detainers.service._errors import NotFound
from detainers.service._roles import Role

__all__ = [
    "REQUEST_FIELDS",
    "Audience",
    "Record",
    "Sight",
    "decision_for",
    "decision_kind",
    "detainer_for",
    "events_for",
    "load",
    "notices_for",
    "records_for",
    "sight",
    "visible",
]


class Sight(StrEnum):
    FULL = "full"
    SHARED = "shared"
    REQUEST_ONLY = "request_only"


# What a liaison sees of a detainer whose release information is not shared: what ICE itself sent, and the lift.
REQUEST_FIELDS = (
    "id",
    "office",
    "form",
    "requests",
    "warrant",
    "pc_basis",
    "box2_transferred_for_proceeding",
    "issued_on",
    "received_at",
    "ice_subject_id",
    "ice_event_no",
    "addressed_to",
    "notify_phone",
    "death_transfer_notify",
    "cancels_detainer_id",
    "attachments",
    "lifted_at",
    "lift_reason",
    "corrections",
)
# Withheld from a liaison in every case: the person's key, the booking (liaisons never see bookings), and the record
# of notices served to the person (a liaison sees their status only through /person-notices, see _person_notices).
_NEVER_FOR_LIAISON = ("subject_key", "booking_id", "person_notices", "person_notices_overdue")
# Withheld when only the request is shown: custody, timing and the record's own history.
_CUSTODY_FIELDS = ("version", "served_at", "served_manner", "jurisdiction", "booking_status", "notices")

# The effective decision's keys a liaison sees where notice to ICE is allowed.
_SHARED_DECISION = (
    "notify",
    "notify_required",
    "notify_target",
    "hold_until",
    "hold_required",
    "hold_allowed",
    "transfer",
    "custody_basis",
    "rules",
    "jurisdiction",
    "timezone",
    "jurisdiction_chain",
    "coverage",
    "decided_at",
    "engine_version",
    "overridden",
)
# Events of the detainer's own stream a liaison sees, by sight.
_REQUEST_EVENTS = {"detainer_received", "attachment_added", "detainer_lifted", "corrected"}
_SHARED_EVENTS = _REQUEST_EVENTS | {
    "detainer_served",
    "linked_to_booking",
    "notification_queued",
    "notification_sent",
    "notification_failed",
    "notification_cancelled",
}


@dataclass(frozen=True)
class Audience:
    """Who is looking: the role, and the office an ICE liaison is scoped to."""

    role: Role
    office: str | None = None

    @property
    def liaison(self) -> bool:
        return self.role is Role.ICE_LIAISON


@dataclass(frozen=True)
class Record:
    """A detainer with its booking (if linked) and the other detainers on that booking."""

    detainer: DetainerState
    booking: BookingState | None
    peers: tuple[DetainerState, ...] = ()


def decision_kind(booking: BookingState | None) -> str:
    """``none`` (no booking or no decision yet), ``notify_forbidden``, ``notify_allowed`` or ``notify_required``,
    from the effective decision (a supervisor's override applied)."""
    if booking is None or booking.decision is None:
        return "none"
    effective = effective_decision(booking)
    if not effective.get("notify"):
        return "notify_forbidden"
    return "notify_required" if effective.get("notify_required") else "notify_allowed"


def sight(audience: Audience, record: Record) -> Sight:
    if not audience.liaison:
        return Sight.FULL
    shared = decision_kind(record.booking) in ("notify_allowed", "notify_required")
    return Sight.SHARED if shared else Sight.REQUEST_ONLY


def _not_found(detainer_id: str) -> NotFound:
    # The same words as for an id that was never issued (Desk.detainer), so the two cannot be told apart.
    return NotFound(f"no detainer {detainer_id}", field="detainer_id")


def visible(desk: Desk, audience: Audience, detainer_id: str) -> DetainerState:
    """The detainer, or the not-found error an unknown id gets when it belongs to another office (a liaison)."""
    state = desk.detainer(detainer_id)
    if audience.liaison and state.office != audience.office:
        raise _not_found(detainer_id)
    return state


def load(desk: Desk, detainer: DetainerState) -> Record:
    booking = desk.booking(detainer.booking_id) if detainer.booking_id else None
    peers = tuple(d for d in desk.detainers_of(booking) if d.id != detainer.id) if booking is not None else ()
    return Record(detainer, booking, peers)


def records_for(desk: Desk, detainers: Iterable[DetainerState]) -> list[Record]:
    """Records for many detainers with one read of the bookings (peers are not loaded: lists need none)."""
    found = list(detainers)
    ids = {d.booking_id for d in found if d.booking_id}
    bookings = {b.id: b for b in (desk.booking(i) for i in sorted(ids))} if ids else {}
    return [Record(d, bookings.get(d.booking_id or "")) for d in found]


def _request_only(detainer: DetainerState) -> DetainerState:
    """The detainer as ICE sent it: custody and timing cleared (status then reads received or lifted)."""
    corrections = [c for c in detainer.corrections if c.get("field") in REQUEST_FIELDS]
    return detainer.model_copy(
        update={
            "version": 0,
            "served_at": None,
            "served_manner": None,
            "booking_id": None,
            "jurisdiction": None,
            "booking_status": None,
            "notices": [],
            "subject_key": None,
            "person_notices": [],
            "person_notices_overdue": [],
            "corrections": corrections,
        }
    )


def detainer_for(audience: Audience, record: Record) -> tuple[DetainerState, Sight, tuple[str, ...]]:
    """The detainer as ``audience`` may see it, the sight, and the fields withheld: a page or an answer shows those
    empty (the object keeps ``booking_id`` where the liaison may see the status it implies)."""
    seen = sight(audience, record)
    if seen is Sight.FULL:
        return record.detainer, seen, ()
    if seen is Sight.SHARED:
        # booking_id stays on the object (its status follows it); whoever shows it leaves the withheld fields empty
        hidden: dict[str, Any] = {"subject_key": None, "person_notices": [], "person_notices_overdue": []}
        return record.detainer.model_copy(update=hidden), seen, _NEVER_FOR_LIAISON
    return _request_only(record.detainer), seen, _NEVER_FOR_LIAISON + _CUSTODY_FIELDS


def notices_for(audience: Audience, record: Record) -> list[dict[str, Any]]:
    return [] if sight(audience, record) is Sight.REQUEST_ONLY else record.detainer.notices


def _liaison_step(step: dict[str, Any]) -> dict[str, Any] | None:
    """One explanation step as a liaison may read it, or None. Only the law and the clock: a rule step keeps the
    rule's title and effect (its details can quote the person's convictions), a clock step only the hold and notice
    arithmetic (not events during a hold, which name facts), a layer step as it is; facts and notes never."""
    kind, text = step.get("kind"), str(step.get("text", ""))
    if kind == "layer":
        return dict(step)
    if kind == "rule":
        title, _, rest = text.partition(": ")
        effect = rest.split("→", 1)[1].split("[", 1)[0].strip() if "→" in rest else ""
        return {**step, "text": f"{title}: {effect}" if effect else title}
    if kind == "clock" and text.startswith(("hold allowed for", "hold: no", "notify ICE by", "release eligibility")):
        return dict(step)
    return None


def _explanation(record: Record, audience: Audience, effective: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The engine's steps a liaison may read: none where the booking holds another office's detainer (the steps
    describe the operative detainer, which may be that one); otherwise the law and the clock (:func:`_liaison_step`),
    never the facts behind the decision (the person's convictions among them)."""
    if any(p.office != audience.office for p in record.peers):
        return None
    steps = (_liaison_step(dict(s)) for s in effective.get("explanation", ()))
    return [s for s in steps if s is not None]


def decision_for(audience: Audience, record: Record) -> dict[str, Any]:
    """The decision as ``audience`` may see it, shaped like the API's ``DecisionOut``."""
    seen = sight(audience, record)
    booking = record.booking
    if seen is Sight.FULL:
        if booking is None:
            raise NotFound("the detainer is not linked to a booking yet, so there is no decision", field="booking_id")
        return {
            "booking_id": booking.id,
            "decision": booking.decision,
            "decision_seq": booking.decision_seq,
            "override": booking.override,
            "effective": effective_decision(booking),
            "sight": seen.value,
            "withheld": [],
        }
    withheld = ["booking_id", "decision", "decision_seq", "override"]
    if seen is Sight.REQUEST_ONLY or booking is None:
        # Identical whether notice is forbidden or nothing is decided yet (an unlinked detainer).
        return {
            "booking_id": None,
            "decision": None,
            "decision_seq": None,
            "override": None,
            "effective": {"notify": False},
            "sight": Sight.REQUEST_ONLY.value,
            "withheld": [*withheld, "effective"],
        }
    full = effective_decision(booking)
    effective = {key: full.get(key) for key in _SHARED_DECISION if key in full}
    own = {record.detainer.id} | {p.id for p in record.peers if p.office == audience.office}
    effective["detainer_ids"] = [d for d in full.get("detainer_ids", ()) if d in own]
    steps = _explanation(record, audience, full)
    effective["explanation"] = steps or []
    hidden = sorted(set(full) - set(effective))
    if steps is None:
        hidden.append("explanation")
    return {
        "booking_id": None,
        "decision": None,
        "decision_seq": None,
        "override": None,
        "effective": effective,
        "sight": seen.value,
        "withheld": [*withheld, *(f"effective.{k}" for k in hidden)],
    }


def events_for(audience: Audience, record: Record, events: Sequence[StoredEvent]) -> list[dict[str, Any]]:
    """The detainer stream's events ``audience`` may see, as the API's ``EventOut`` dicts."""
    seen = sight(audience, record)
    out = []
    for event in events:
        data = event.model_dump(mode="json")
        if seen is Sight.FULL:
            out.append(data)
            continue
        allowed = _REQUEST_EVENTS if seen is Sight.REQUEST_ONLY else _SHARED_EVENTS
        if event.type not in allowed:
            continue
        payload = dict(event.payload)
        if event.type == "corrected" and seen is Sight.REQUEST_ONLY and payload.get("field") not in REQUEST_FIELDS:
            continue
        payload.pop("subject_key", None)
        if "booking_id" in payload:
            payload["booking_id"] = None
        data.update(payload=payload, subject_key=None)
        if seen is Sight.REQUEST_ONLY:
            data["version"] = None  # gaps in the versions would show that something happened meanwhile
        out.append(data)
    return out
