"""Current state of each detainer and booking, folded from events (pure ``evolve``), kept in two view tables.

The views are updated in the same transaction as the append, and :func:`rebuild` throws them away and folds the
whole ledger again; a test checks both give the same rows.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, computed_field
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from detainers.ledger._events import (
    AttachmentAdded,
    BookingOpened,
    Corrected,
    DeadlineWarning,
    DecisionMade,
    DetainerLifted,
    DetainerReceived,
    DetainerServed,
    EligibilityRecorded,
    EventType,
    LinkedToBooking,
    NotificationCancelled,
    NotificationFailed,
    NotificationQueued,
    NotificationSent,
    OverLimitMarked,
    Payload,
    PersonNoticeOverdue,
    PersonNoticeServed,
    PersonReleased,
    PolicyOverridden,
    StatusProofRecorded,
    StoredEvent,
    Transferred,
    format_utc,
    parse_utc,
)
from detainers.ledger._pipeline import execute_rows
from detainers.ledger._read_set import (
    _ABSENT,
    _CACHE_KEY,
    StateCache,
    _memo,
    _seen,
    declare_new,
    first_reads,
    reading_through,
    seed,
    seen_states,
)
from detainers.ledger._schema import booking_view, detainer_view

__all__ = [
    "BOOKING_PREFIX",
    "BookingState",
    "CORRECTABLE",
    "DETAINER_PREFIX",
    "DetainerState",
    "PERSON_PREFIX",
    "Projector",
    "StateCache",
    "declare_new",
    "evolve_booking",
    "evolve_detainer",
    "first_reads",
    "flush",
    "reading_through",
    "rebuild",
    "seed",
    "seen_states",
    "stream_kind",
]

DETAINER_PREFIX = "detainer-"
BOOKING_PREFIX = "booking-"
PERSON_PREFIX = "person-"


def stream_kind(stream_id: str) -> tuple[str, str]:
    kind, _, ident = stream_id.partition("-")
    return kind, ident


class _State(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DetainerState(_State):
    id: str
    version: int = 0
    office: str = ""
    form: str = ""
    requests: list[str] | None = None
    warrant: str = "none"
    pc_basis: list[str] = []
    box2_transferred_for_proceeding: bool = False
    issued_on: str | None = None
    received_at: str = ""
    ice_subject_id: str | None = None
    ice_event_no: str | None = None
    addressed_to: str | None = None
    notify_phone: str | None = None
    death_transfer_notify: bool = False
    cancels_detainer_id: str | None = None
    subject_key: str | None = None
    served_at: str | None = None
    served_manner: str | None = None
    booking_id: str | None = None
    jurisdiction: str | None = None
    booking_status: str | None = None
    lifted_at: str | None = None
    lift_reason: str | None = None
    attachments: list[dict[str, Any]] = []
    corrections: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    # Notices and consent forms served to the person or their counsel (each with seq, by, and the event's payload),
    # and the worker's overdue warnings ("kind:recipient" keys), so it warns once per notice.
    person_notices: list[dict[str, Any]] = []
    person_notices_overdue: list[str] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> str:
        if self.lifted_at:
            return "lifted"
        if self.booking_status in ("released", "transferred"):
            return self.booking_status
        if self.booking_id:
            return "active"
        return "received"


class BookingState(_State):
    id: str
    version: int = 0
    booking_number: str = ""
    facility: str | None = None
    jurisdiction: str = ""
    timezone: str = "UTC"
    booked_at: str | None = None
    charges: list[dict[str, Any]] = []
    convictions: list[dict[str, Any]] = []
    subject_key: str | None = None
    eligible_at: str | None = None
    eligibility_reason: str | None = None
    bail_refused_at: str | None = None
    status_proof: str = "none"
    status_proof_at: str | None = None
    released_at: str | None = None
    released_to: str | None = None
    transferred_at: str | None = None
    to_agency: str | None = None
    detainer_ids: list[str] = []
    decision: dict[str, Any] | None = None
    decision_seq: int | None = None
    override: dict[str, Any] | None = None
    warned_hold_until: str | None = None
    over_limit_at: str | None = None
    corrections: list[dict[str, Any]] = []
    # Facts recorded although the decision in force did not allow them (each with the rules it named).
    against_decision: list[dict[str, Any]] = []

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> str:
        if self.transferred_at:
            return "transferred"
        if self.released_at:
            return "released"
        return "in_custody"


# Fields a supervisor may correct, and the state attribute each one sets.
CORRECTABLE: dict[str, tuple[str, ...]] = {
    "detainer": (
        "form",
        "requests",
        "warrant",
        "pc_basis",
        "box2_transferred_for_proceeding",
        "issued_on",
        "received_at",
        "served_at",
        "office",
        "ice_subject_id",
        "ice_event_no",
        "lifted_at",
        "lift_reason",
    ),
    "booking": (
        "booking_number",
        "facility",
        "jurisdiction",
        "timezone",
        "booked_at",
        "eligible_at",
        "eligibility_reason",
        "bail_refused_at",
        "released_at",
        "released_to",
        "status_proof",
        "charges",
        "convictions",
    ),
}


def evolve_detainer(state: DetainerState, event: StoredEvent) -> DetainerState:
    """The detainer after one event of its own stream (pure)."""
    kind = event.kind
    data = state.model_dump()
    data["version"] = event.version
    payload = event.payload
    if kind is EventType.DETAINER_RECEIVED:
        DetainerReceived.model_validate(payload)
        for key, value in payload.items():
            data[key] = value
    elif kind is EventType.DETAINER_SERVED:
        DetainerServed.model_validate(payload)
        data["served_at"] = payload["served_at"]
        data["served_manner"] = payload["manner"]
    elif kind is EventType.ATTACHMENT_ADDED:
        AttachmentAdded.model_validate(payload)
        data["attachments"] = [*state.attachments, payload]
    elif kind is EventType.LINKED_TO_BOOKING:
        LinkedToBooking.model_validate(payload)
        data["booking_id"] = payload["booking_id"]
    elif kind is EventType.DETAINER_LIFTED:
        DetainerLifted.model_validate(payload)
        data["lifted_at"] = payload["lifted_at"]
        data["lift_reason"] = payload["reason"]
    elif kind is EventType.CORRECTED:
        Corrected.model_validate(payload)
        data[payload["field"]] = payload["new"]
        data["corrections"] = [*state.corrections, {**payload, "seq": event.seq, "by": event.actor}]
    elif kind is EventType.NOTIFICATION_QUEUED:
        NotificationQueued.model_validate(payload)
        data["notices"] = [*state.notices, {"status": "queued", "seq": event.seq, **payload}]
    elif kind in (EventType.NOTIFICATION_SENT, EventType.NOTIFICATION_FAILED, EventType.NOTIFICATION_CANCELLED):
        models: dict[EventType, type[Payload]] = {
            EventType.NOTIFICATION_SENT: NotificationSent,
            EventType.NOTIFICATION_FAILED: NotificationFailed,
            EventType.NOTIFICATION_CANCELLED: NotificationCancelled,
        }
        model = models[kind]
        model.model_validate(payload)
        status = {"notification_sent": "sent", "notification_failed": "failed"}.get(kind.value, "cancelled")
        notices = [dict(n) for n in state.notices]
        idem = payload.get("idempotency_key")
        for notice in notices:
            if idem is not None and notice.get("idempotency_key") == idem:
                notice.update(status=status, attempts=payload.get("attempts"), at=event.recorded_at)
                if kind is EventType.NOTIFICATION_CANCELLED:
                    notice.update(reason=payload["reason"], detail=payload["detail"])
                break
        else:
            notices.append({"status": status, "seq": event.seq, **payload})
        data["notices"] = notices
    elif kind is EventType.PERSON_NOTICE_SERVED:
        PersonNoticeServed.model_validate(payload)
        served = {**payload, "seq": event.seq, "by": event.actor, "recorded_at": event.recorded_at}
        data["person_notices"] = [*state.person_notices, served]
    elif kind is EventType.PERSON_NOTICE_OVERDUE:
        PersonNoticeOverdue.model_validate(payload)
        key = f"{payload['kind']}:{payload['recipient']}"
        data["person_notices_overdue"] = [*state.person_notices_overdue, key]
    return DetainerState.model_validate(data)


def evolve_booking(state: BookingState, event: StoredEvent) -> BookingState:
    """The booking after one event of its own stream (pure)."""
    kind = event.kind
    data = state.model_dump()
    data["version"] = event.version
    payload = event.payload
    if kind is EventType.BOOKING_OPENED:
        BookingOpened.model_validate(payload)
        data.update(payload)
    elif kind is EventType.ELIGIBILITY_RECORDED:
        EligibilityRecorded.model_validate(payload)
        data["eligible_at"] = payload["eligible_at"]
        data["eligibility_reason"] = payload["reason"]
        data["bail_refused_at"] = payload.get("bail_refused_at")
    elif kind is EventType.STATUS_PROOF_RECORDED:
        StatusProofRecorded.model_validate(payload)
        data["status_proof"] = payload["proof"]
        data["status_proof_at"] = payload["shown_at"]
    elif kind is EventType.PERSON_RELEASED:
        PersonReleased.model_validate(payload)
        data["released_at"] = payload["released_at"]
        data["released_to"] = payload["released_to"]
        if payload.get("against_decision"):
            data["against_decision"] = [*state.against_decision, {**payload["against_decision"], "seq": event.seq}]
    elif kind is EventType.TRANSFERRED:
        Transferred.model_validate(payload)
        data["transferred_at"] = payload["transferred_at"]
        data["to_agency"] = payload["to_agency"]
        data["released_to"] = "ice" if payload["to_agency"].lower().startswith("ice") else "other_agency"
        if payload.get("against_decision"):
            data["against_decision"] = [*state.against_decision, {**payload["against_decision"], "seq": event.seq}]
    elif kind is EventType.DECISION_MADE:
        DecisionMade.model_validate(payload)
        data["decision"] = {
            **payload["decision"],
            "detainer_ids": payload["detainer_ids"],
            "trigger": payload["trigger"],
        }
        data["decision_seq"] = event.seq
    elif kind is EventType.POLICY_OVERRIDDEN:
        PolicyOverridden.model_validate(payload)
        data["override"] = {**payload, "seq": event.seq, "by": event.actor}
    elif kind is EventType.DEADLINE_WARNING:
        DeadlineWarning.model_validate(payload)
        data["warned_hold_until"] = payload["hold_until"]
    elif kind is EventType.OVER_LIMIT_MARKED:
        OverLimitMarked.model_validate(payload)
        data["over_limit_at"] = payload["at"]
    elif kind is EventType.CORRECTED:
        Corrected.model_validate(payload)
        data[payload["field"]] = payload["new"]
        data["corrections"] = [*state.corrections, {**payload, "seq": event.seq, "by": event.actor}]
    return BookingState.model_validate(data)


_PARSED: dict[tuple[str, str], tuple[str, Any]] = {}
_PARSED_LIMIT = 4096


_S = TypeVar("_S", bound=_State)


def _parse(kind: str, ident: str, text: str, model: type[_S]) -> _S:
    """Parse a view row, reusing the last parse of the very same text (states are immutable by convention)."""
    hit = _PARSED.get((kind, ident))
    if hit is not None and hit[0] == text and isinstance(hit[1], model):
        return hit[1].model_copy()
    state = model.model_validate_json(text)
    if len(_PARSED) >= _PARSED_LIMIT:
        _PARSED.clear()
    _PARSED[(kind, ident)] = (text, state)
    return state.model_copy()


# Statements built once: building SQLAlchemy constructs per call cost more CPU than running them.
_LOAD = {
    "detainer": select(detainer_view.c.data).where(detainer_view.c.id == bindparam("ident")),
    "booking": select(booking_view.c.data).where(booking_view.c.id == bindparam("ident")),
}
_INSERT = {"detainer": insert(detainer_view), "booking": insert(booking_view)}
_UPDATE = {
    "detainer": update(detainer_view).where(detainer_view.c.id == bindparam("view_id")),
    "booking": update(booking_view).where(booking_view.c.id == bindparam("view_id")),
}


def _detainer_row(state: DetainerState) -> dict[str, Any]:
    return {
        "version": state.version,
        "office": state.office,
        "form": state.form,
        "status": state.status,
        "jurisdiction": state.jurisdiction,
        "booking_id": state.booking_id,
        "received_at": format_utc(parse_utc(state.received_at)) if state.received_at else "",
        "data": state.model_dump_json(),
    }


def _booking_row(state: BookingState) -> dict[str, Any]:
    return {
        "version": state.version,
        "booking_number": state.booking_number,
        "jurisdiction": state.jurisdiction,
        "status": state.status,
        "active": state.status == "in_custody",
        "data": state.model_dump_json(),
    }


def flush(conn: Connection) -> None:
    """Write every record folded since the last flush, once each: one INSERT and one UPDATE per view."""
    _transaction, seen, _reads, dirty = _memo(conn)
    if not dirty:
        return
    for kind, row_of in (("detainer", _detainer_row), ("booking", _booking_row)):
        new: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for key, is_new in dirty.items():
            if key[0] == kind:
                row = row_of(seen[key])
                if is_new:
                    new.append({"id": key[1], **row})
                else:
                    changed.append({"view_id": key[1], **row})
        execute_rows(conn, _INSERT[kind], new)
        execute_rows(conn, _UPDATE[kind], changed)
    dirty.clear()


class Projector:
    """Keeps ``detainer_view`` and ``booking_view`` in step with the ledger, inside the append transaction.

    A ``dry`` projector folds into the transaction's memory only (nothing is written): the desk uses one to see
    what a command's events will make of the records before it takes the chain lock.
    """

    def __init__(self, *, dry: bool = False) -> None:
        self.dry = dry

    def apply(self, conn: Connection, event: StoredEvent) -> None:
        kind, ident = stream_kind(event.stream_id)
        if kind == "detainer":
            self._detainer(conn, ident, event)
        elif kind == "booking":
            self._booking(conn, ident, event)

    # -- detainers

    @staticmethod
    def load_detainer(conn: Connection, ident: str) -> DetainerState | None:
        seen = _seen(conn)
        hit = seen.get(("detainer", ident))
        if isinstance(hit, DetainerState):
            return hit.model_copy()
        if hit is _ABSENT:
            return None
        cache: StateCache | None = conn.info.get(_CACHE_KEY)
        state = cache.get(("detainer", ident)) if cache is not None else None
        if not isinstance(state, DetainerState):
            row = conn.execute(_LOAD["detainer"], {"ident": ident}).first()
            state = _parse("detainer", ident, row.data, DetainerState) if row else None
        seen[("detainer", ident)] = _ABSENT if state is None else state
        _memo(conn)[2].setdefault(("detainer", ident), _ABSENT if state is None else state)
        return state.model_copy() if state is not None else None

    @staticmethod
    def load_booking(conn: Connection, ident: str) -> BookingState | None:
        seen = _seen(conn)
        hit = seen.get(("booking", ident))
        if isinstance(hit, BookingState):
            return hit.model_copy()
        if hit is _ABSENT:
            return None
        cache: StateCache | None = conn.info.get(_CACHE_KEY)
        state = cache.get(("booking", ident)) if cache is not None else None
        if not isinstance(state, BookingState):
            row = conn.execute(_LOAD["booking"], {"ident": ident}).first()
            state = _parse("booking", ident, row.data, BookingState) if row else None
        seen[("booking", ident)] = _ABSENT if state is None else state
        _memo(conn)[2].setdefault(("booking", ident), _ABSENT if state is None else state)
        return state.model_copy() if state is not None else None

    def _save(self, conn: Connection, kind: str, state: DetainerState | BookingState, *, new: bool) -> None:
        """Remember the folded state; unless dry, mark it to be written at the next :func:`flush`."""
        key = (kind, state.id)
        _transaction, seen, _reads, dirty = _memo(conn)
        seen[key] = state
        if not self.dry:
            dirty[key] = dirty.get(key, False) or new

    def _save_detainer(self, conn: Connection, state: DetainerState, *, new: bool) -> None:
        self._save(conn, "detainer", state, new=new)

    def _save_booking(self, conn: Connection, state: BookingState, *, new: bool) -> None:
        self._save(conn, "booking", state, new=new)

    def _detainer(self, conn: Connection, ident: str, event: StoredEvent) -> None:
        current = self.load_detainer(conn, ident)
        state = evolve_detainer(current or DetainerState(id=ident), event)
        if event.kind is EventType.LINKED_TO_BOOKING:
            booking = self.load_booking(conn, state.booking_id or "")
            if booking is not None:
                state = state.model_copy(
                    update={"jurisdiction": booking.jurisdiction, "booking_status": booking.status}
                )
                if ident not in booking.detainer_ids:
                    booking = booking.model_copy(update={"detainer_ids": [*booking.detainer_ids, ident]})
                    self._save_booking(conn, booking, new=False)
        self._save_detainer(conn, state, new=current is None)

    def _booking(self, conn: Connection, ident: str, event: StoredEvent) -> None:
        current = self.load_booking(conn, ident)
        state = evolve_booking(current or BookingState(id=ident), event)
        self._save_booking(conn, state, new=current is None)
        if current is not None and (current.status != state.status or current.jurisdiction != state.jurisdiction):
            for detainer_id in state.detainer_ids:
                detainer = self.load_detainer(conn, detainer_id)
                if detainer is not None:
                    detainer = detainer.model_copy(
                        update={"booking_status": state.status, "jurisdiction": state.jurisdiction}
                    )
                    self._save_detainer(conn, detainer, new=False)


def rebuild(conn: Connection, events: Any) -> int:
    """Empty the views and fold every event again (``events``: iterable of StoredEvent in seq order)."""
    conn.execute(delete(detainer_view))
    conn.execute(delete(booking_view))
    _seen(conn).clear()
    _memo(conn)[3].clear()
    projector = Projector()
    count = 0
    for event in events:
        projector.apply(conn, event)
        count += 1
    flush(conn)
    return count
