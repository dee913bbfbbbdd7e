"""The desk's commands: each validates its input against the records it reads and makes the events."""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from detainers.desk._against import check_confirmed, notify_breach, release_breach, to_immigration, transfer_breach
from detainers.desk._errors import InvalidCommand, NotFound
from detainers.desk._inputs import (
    AttachmentIn,
    BookingIn,
    CorrectionIn,
    DetainerIn,
    EligibilityIn,
    LiftIn,
    LinkIn,
    ManualNotificationIn,
    OverrideIn,
    ReleaseIn,
    ServedIn,
    StatusProofIn,
    TransferIn,
)
from detainers.desk._keys import Writes, booking_key, claim, detainer_key, move
from detainers.desk._queries import Queries
from detainers.desk._unit_of_work import Actor, ExtraRows, _probe
from detainers.ledger import (
    BOOKING_PREFIX,
    CORRECTABLE,
    DETAINER_PREFIX,
    AttachmentAdded,
    BookingOpened,
    BookingState,
    ConcurrencyError,
    Corrected,
    DetainerLifted,
    DetainerReceived,
    DetainerServed,
    DetainerState,
    EligibilityRecorded,
    LinkedToBooking,
    NotificationSent,
    Payload,
    PendingEvent,
    PersonalData,
    PersonNoticeServed,
    PersonReleased,
    PolicyOverridden,
    Projector,
    StatusProofRecorded,
    Transferred,
    attachments,
    declare_new,
    evolve_booking,
    evolve_detainer,
    format_utc,
    parse_utc,
)

__all__ = [
    "Commands",
    "decide_eligibility",
    "decide_lift",
    "decide_link",
    "decide_override",
    "decide_release",
    "decide_serve",
    "decide_status_proof",
    "decide_transfer",
]


class Commands(Queries):
    """Commands that append events (and re-ask the policy engine)."""

    # ---------------------------------------------------------------- detainer commands

    def receive_detainer(self, intake: DetainerIn, actor: Actor, *, extra_rows: ExtraRows = None) -> DetainerState:
        """Record a detainer; ``extra_rows(id)`` are written with it (the idempotency key of the request)."""
        office = actor.office if actor.role == "ice_liaison" else intake.office
        if not office:
            raise InvalidCommand("the issuing ICE office is required", field="office")
        if self.office(office) is None:
            raise InvalidCommand(f"unknown ICE office {office!r}; register it first", field="office")
        detainer_id = uuid.uuid4().hex
        stream = DETAINER_PREFIX + detainer_id
        now = self.now()

        def build(conn: Connection, writes: Writes) -> tuple[list[PendingEvent], set[str]]:
            declare_new(conn, "detainer", detainer_id)
            key = detainer_key(office, intake.ice_event_no, intake.cancels_detainer_id)
            claim(conn, writes, "detainer", key, detainer_id)
            if extra_rows is not None:
                writes.extend(extra_rows(detainer_id))
            if intake.booking_id is not None:
                self._load_booking(conn, intake.booking_id)
            if intake.cancels_detainer_id is not None:
                cancelled = Projector.load_detainer(conn, intake.cancels_detainer_id)
                # A liaison may name only its own office's detainers: another office's answers as an unknown id.
                if cancelled is None or (actor.role == "ice_liaison" and cancelled.office != office):
                    raise NotFound(f"no detainer {intake.cancels_detainer_id}", field="cancels_detainer_id")
            subject_key = None
            events: list[PendingEvent] = []
            if intake.subject is not None:
                subject_key, recorded, store = self.personal.prepare(
                    PersonalData.model_validate(intake.subject.model_dump()),
                    actor=actor.name,
                    authority=intake.source,
                    now=now,
                )
                writes.append(store)
                events.append(recorded)
            received = DetainerReceived(
                office=office,
                form=intake.form,
                requests=tuple(intake.requests) if intake.requests is not None else None,
                warrant=intake.warrant,
                pc_basis=tuple(sorted(set(intake.pc_basis))),
                box2_transferred_for_proceeding=intake.box2_transferred_for_proceeding,
                issued_on=intake.issued_on,
                received_at=intake.received_at,
                ice_subject_id=intake.ice_subject_id,
                ice_event_no=intake.ice_event_no,
                addressed_to=intake.addressed_to,
                notify_phone=intake.notify_phone,
                death_transfer_notify=intake.death_transfer_notify,
                cancels_detainer_id=intake.cancels_detainer_id,
                subject_key=subject_key,
            )
            events.append(self._event(stream, 0, received, actor, intake.source, subject_key=subject_key))
            if intake.served_at is not None:
                events.append(self._event(stream, 0, DetainerServed(served_at=intake.served_at), actor, intake.source))
            bookings: set[str] = set()
            if intake.booking_id is not None:
                events.append(
                    self._event(stream, 0, LinkedToBooking(booking_id=intake.booking_id), actor, intake.source)
                )
                bookings.add(intake.booking_id)
            return events, bookings

        return self._commit(build, actor, "detainer_received", lambda c: self._load_detainer(c, detainer_id))

    def _detainer_command(
        self,
        detainer_id: str,
        expected: int | None,
        make: Callable[[Connection, DetainerState], Payload],
        actor: Actor,
        trigger: str,
    ) -> DetainerState:
        def build(conn: Connection, writes: Writes) -> tuple[list[PendingEvent], set[str]]:
            state = self._load_detainer(conn, detainer_id)
            # a stale version is a 409 before any "no longer valid" refusal (the caller acted on an old view)
            _check_version(DETAINER_PREFIX + detainer_id, expected, state.version)
            payload = make(conn, state)
            event = self._event(DETAINER_PREFIX + detainer_id, self._expected(expected, state.version), payload, actor)
            # validate the fold before writing: a payload that cannot be applied never reaches the ledger
            evolve_detainer(state, _probe(event, state.version + 1))
            booking = payload.booking_id if isinstance(payload, LinkedToBooking) else state.booking_id
            return [event], {booking} if booking else set()

        return self._commit(build, actor, trigger, lambda c: self._load_detainer(c, detainer_id))

    def serve(self, detainer_id: str, body: ServedIn, actor: Actor) -> DetainerState:
        return self._detainer_command(
            detainer_id,
            body.expected_version,
            lambda _c, state: decide_serve(state, body),
            actor,
            "detainer_served",
        )

    def record_person_notice(
        self,
        detainer_id: str,
        payload: PersonNoticeServed,
        expected: int | None,
        actor: Actor,
        *,
        extra_rows: ExtraRows = None,
    ) -> DetainerState:
        """Append a notice served to the person on the detainer's stream (no new decision: serving changes none).
        ``extra_rows``: written in the same transaction (an Idempotency-Key with the event it made)."""

        def build(conn: Connection, writes: Writes) -> tuple[list[PendingEvent], set[str]]:
            state = self._load_detainer(conn, detainer_id)
            event = self._event(DETAINER_PREFIX + detainer_id, self._expected(expected, state.version), payload, actor)
            evolve_detainer(state, _probe(event, state.version + 1))
            if extra_rows is not None:
                writes.extend(extra_rows(detainer_id))
            return [event], set()

        return self._commit(build, actor, "person_notice_served", lambda c: self._load_detainer(c, detainer_id))

    def link(self, detainer_id: str, body: LinkIn, actor: Actor) -> DetainerState:
        def make(conn: Connection, state: DetainerState) -> Payload:
            self._load_booking(conn, body.booking_id)
            return decide_link(state, body)

        return self._detainer_command(detainer_id, body.expected_version, make, actor, "linked_to_booking")

    def lift(self, detainer_id: str, body: LiftIn, actor: Actor) -> DetainerState:
        return self._detainer_command(
            detainer_id, body.expected_version, lambda _c, state: decide_lift(state, body), actor, "detainer_lifted"
        )

    def add_attachment(
        self, detainer_id: str, body: AttachmentIn, actor: Actor, *, extra_rows: ExtraRows = None
    ) -> DetainerState:
        try:
            content = base64.b64decode(body.content_base64, validate=True)
        except (binascii.Error, ValueError) as error:
            raise InvalidCommand("content_base64 is not valid base64", field="content_base64") from error
        if len(content) > 5_000_000:
            raise InvalidCommand("attachments are limited to 5 MB", field="content_base64")
        attachment_id = secrets.token_hex(8)
        digest = hashlib.sha256(content).hexdigest()

        def build(conn: Connection, writes: Writes) -> tuple[list[PendingEvent], set[str]]:
            state = self._load_detainer(conn, detainer_id)
            payload = AttachmentAdded(
                attachment_id=attachment_id,
                kind=body.kind,
                filename=body.filename,
                media_type=body.media_type,
                sha256=digest,
                size=len(content),
            )

            writes.append(
                (attachments, {"id": attachment_id, "detainer_id": detainer_id, "sha256": digest, "content": content})
            )
            if extra_rows is not None:
                writes.extend(extra_rows(detainer_id))
            return [self._event(DETAINER_PREFIX + detainer_id, state.version, payload, actor)], set()

        return self._commit(build, actor, "attachment_added", lambda c: self._load_detainer(c, detainer_id))

    def correct(self, target: str, ident: str, body: CorrectionIn, actor: Actor) -> DetainerState | BookingState:
        if body.field not in CORRECTABLE[target]:
            allowed = ", ".join(CORRECTABLE[target])
            raise InvalidCommand(f"{target} field {body.field!r} cannot be corrected; one of: {allowed}", field="field")

        def build(conn: Connection, writes: Writes) -> tuple[list[PendingEvent], set[str]]:
            state: DetainerState | BookingState
            if target == "detainer":
                state = self._load_detainer(conn, ident)
                stream = DETAINER_PREFIX + ident
            else:
                state = self._load_booking(conn, ident)
                stream = BOOKING_PREFIX + ident
            _check_version(stream, body.expected_version, state.version)
            old = state.model_dump(mode="json").get(body.field)
            payload = Corrected(
                target=target, field=body.field, old=old, new=_normalise(body.value), reason=body.reason
            )
            event = self._event(stream, self._expected(body.expected_version, state.version), payload, actor)
            probe = _probe(event, state.version + 1)
            try:
                if isinstance(state, DetainerState):
                    after = evolve_detainer(state, probe)
                    DetainerReceived.model_validate(
                        {k: getattr(after, k) for k in DetainerReceived.model_fields if k in after.model_fields}
                    )
                    booking = after.booking_id
                    was = detainer_key(state.office, state.ice_event_no, state.cancels_detainer_id)
                    now_key = detainer_key(after.office, after.ice_event_no, after.cancels_detainer_id)
                    move(conn, writes, "detainer", was, now_key, ident)
                else:
                    after_b = evolve_booking(state, probe)
                    BookingOpened.model_validate(
                        {k: getattr(after_b, k) for k in BookingOpened.model_fields if k in after_b.model_fields}
                    )
                    was = booking_key(state.jurisdiction, state.booking_number)
                    move(conn, writes, "booking", was, booking_key(after_b.jurisdiction, after_b.booking_number), ident)
                    if after_b.eligible_at:
                        EligibilityRecorded.model_validate(
                            {"eligible_at": after_b.eligible_at, "reason": after_b.eligibility_reason or "other"}
                        )
                    booking = ident
            except ValidationError as error:
                first = error.errors()[0]
                raise InvalidCommand(f"corrected value is invalid: {first['msg']}", field="value") from error
            return [event], {booking} if booking else set()

        def read(c: Connection) -> DetainerState | BookingState:
            return self._load_detainer(c, ident) if target == "detainer" else self._load_booking(c, ident)

        return self._commit(build, actor, f"corrected:{body.field}", read)

    # ---------------------------------------------------------------- booking commands

    def open_booking(self, intake: BookingIn, actor: Actor, *, extra_rows: ExtraRows = None) -> BookingState:
        """Open a booking; ``extra_rows(id)`` are written with it (the idempotency key of the request)."""
        booking_id = uuid.uuid4().hex
        now = self.now()

        def build(conn: Connection, writes: Writes) -> tuple[list[PendingEvent], set[str]]:
            declare_new(conn, "booking", booking_id)
            claim(conn, writes, "booking", booking_key(intake.jurisdiction, intake.booking_number), booking_id)
            if extra_rows is not None:
                writes.extend(extra_rows(booking_id))
            subject_key = intake.subject_key
            events: list[PendingEvent] = []
            if intake.subject is not None:
                subject_key, recorded, store = self.personal.prepare(
                    PersonalData.model_validate(intake.subject.model_dump()),
                    actor=actor.name,
                    authority=intake.source,
                    now=now,
                )
                writes.append(store)
                events.append(recorded)
            try:
                payload = BookingOpened(
                    booking_number=intake.booking_number,
                    facility=intake.facility,
                    jurisdiction=intake.jurisdiction,
                    timezone=intake.timezone or "UTC",
                    booked_at=intake.booked_at,
                    charges=tuple(intake.charges),
                    convictions=tuple(intake.convictions),
                    subject_key=subject_key,
                )
            except ValidationError as error:
                first = error.errors()[0]
                raise InvalidCommand(first["msg"], field=str(first["loc"][0]) if first["loc"] else None) from error
            stream = BOOKING_PREFIX + booking_id
            events.append(self._event(stream, 0, payload, actor, intake.source, subject_key=subject_key))
            return events, set()

        return self._commit(build, actor, "booking_opened", lambda c: self._load_booking(c, booking_id))

    def _booking_command(
        self,
        booking_id: str,
        expected: int | None,
        make: Callable[[BookingState], Payload],
        actor: Actor,
        trigger: str,
        *,
        redecide: bool = True,
    ) -> BookingState:
        def build(conn: Connection, writes: Writes) -> tuple[list[PendingEvent], set[str]]:
            state = self._load_booking(conn, booking_id)
            _check_version(BOOKING_PREFIX + booking_id, expected, state.version)
            payload = make(state)
            event = self._event(
                BOOKING_PREFIX + booking_id,
                self._expected(expected, state.version),
                payload,
                actor,
                subject_key=state.subject_key,
            )
            return [event], {booking_id} if redecide else set()

        return self._commit(build, actor, trigger, lambda c: self._load_booking(c, booking_id))

    def record_eligibility(self, booking_id: str, body: EligibilityIn, actor: Actor) -> BookingState:
        return self._booking_command(
            booking_id,
            body.expected_version,
            lambda state: decide_eligibility(state, body),
            actor,
            "eligibility_recorded",
        )

    def record_status_proof(self, booking_id: str, body: StatusProofIn, actor: Actor) -> BookingState:
        return self._booking_command(
            booking_id,
            body.expected_version,
            lambda state: decide_status_proof(state, body),
            actor,
            "status_proof_recorded",
        )

    def release(self, booking_id: str, body: ReleaseIn, actor: Actor) -> BookingState:
        return self._booking_command(
            booking_id, body.expected_version, lambda state: decide_release(state, body), actor, "person_released"
        )

    def transfer(self, booking_id: str, body: TransferIn, actor: Actor) -> BookingState:
        return self._booking_command(
            booking_id, body.expected_version, lambda state: decide_transfer(state, body), actor, "transferred"
        )

    def override(self, booking_id: str, body: OverrideIn, actor: Actor) -> BookingState:
        return self._booking_command(
            booking_id,
            body.expected_version,
            lambda state: decide_override(state, body),
            actor,
            "policy_overridden",
            redecide=False,
        )

    def record_notification(self, booking_id: str, body: ManualNotificationIn, actor: Actor) -> DetainerState:
        """A notice the desk gave by hand (phone, fax …), recorded on the detainer's stream."""

        def build(conn: Connection, writes: Writes) -> tuple[list[PendingEvent], set[str]]:
            booking = self._load_booking(conn, booking_id)
            if body.detainer_id not in booking.detainer_ids:
                raise InvalidCommand("that detainer is not linked to this booking", field="detainer_id")
            detainer = self._load_detainer(conn, body.detainer_id)
            flag = check_confirmed(
                notify_breach(booking), body.against_decision_confirmed, "against_decision_confirmed"
            )
            payload = NotificationSent(
                detainer_id=body.detainer_id,
                office=detainer.office,
                channel=body.channel,
                sent_at=body.sent_at,
                manual=True,
                recipient=body.recipient,
                note=body.note,
                against_decision=flag,
            )
            rules = (booking.decision or {}).get("rules", ())
            expected = self._expected(body.expected_version, detainer.version)
            event = self._event(DETAINER_PREFIX + body.detainer_id, expected, payload, actor, rules=rules)
            return [event], set()

        return self._commit(build, actor, "notification_sent", lambda c: self._load_detainer(c, body.detainer_id))

    def redecide(self, booking_id: str, actor: Actor) -> BookingState:
        with self._locked() as conn:
            self._redecide(conn, booking_id, actor, "requested")
        return self.booking(booking_id)


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and "T" in value:
        try:
            return format_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return value


# ---------------------------------------------------------------- decide(state, command) -> event
# Pure functions beside the ledger's evolve_* projections: each refuses a command the record's state does not
# allow (InvalidCommand naming the field) or answers with the event's payload; the Commands methods load the state,
# call them and append what they answer.


def _check_version(stream: str, expected: int | None, current: int) -> None:
    if expected is not None and expected != current:
        raise ConcurrencyError(stream, expected, current)


def _after_receipt(state: DetainerState, when: datetime, field: str) -> datetime:
    if state.received_at and when < parse_utc(state.received_at):
        raise InvalidCommand(f"{field} is before the detainer was received", field=field)
    return when


def decide_serve(state: DetainerState, body: ServedIn) -> DetainerServed:
    return DetainerServed(served_at=_after_receipt(state, body.served_at, "served_at"), manner=body.manner)


def decide_link(state: DetainerState, body: LinkIn) -> LinkedToBooking:
    if state.booking_id == body.booking_id:
        raise InvalidCommand("the detainer is already linked to this booking", field="booking_id")
    if state.booking_id is not None:
        raise InvalidCommand(
            f"the detainer is linked to booking {state.booking_id}; correct that link instead",
            field="booking_id",
        )
    return LinkedToBooking(booking_id=body.booking_id)


def decide_lift(state: DetainerState, body: LiftIn) -> DetainerLifted:
    if state.lifted_at is not None:
        raise InvalidCommand("the detainer is already lifted", field="lifted_at")
    return DetainerLifted(lifted_at=_after_receipt(state, body.lifted_at, "lifted_at"), reason=body.reason)


def decide_eligibility(state: BookingState, body: EligibilityIn) -> EligibilityRecorded:
    if state.booked_at and body.eligible_at < parse_utc(state.booked_at):
        raise InvalidCommand("eligible_at is before the booking", field="eligible_at")
    return EligibilityRecorded(eligible_at=body.eligible_at, reason=body.reason, bail_refused_at=body.bail_refused_at)


def decide_status_proof(state: BookingState, body: StatusProofIn) -> StatusProofRecorded:
    return StatusProofRecorded(proof=body.proof, shown_at=body.shown_at)


def decide_release(state: BookingState, body: ReleaseIn) -> PersonReleased:
    if state.status != "in_custody":
        raise InvalidCommand(f"the person is already {state.status}", field="released_at")
    if state.booked_at and body.released_at < parse_utc(state.booked_at):
        raise InvalidCommand("released_at is before the booking", field="released_at")
    breach = release_breach(state, body.released_at, body.released_to.value)
    flag = check_confirmed(breach, body.against_decision_confirmed, "against_decision_confirmed")
    return PersonReleased(released_at=body.released_at, released_to=body.released_to, against_decision=flag)


def decide_transfer(state: BookingState, body: TransferIn) -> Transferred:
    if state.status != "in_custody":
        raise InvalidCommand(f"the person is already {state.status}", field="transferred_at")
    if state.booked_at and body.transferred_at < parse_utc(state.booked_at):
        raise InvalidCommand("transferred_at is before the booking", field="transferred_at")
    breach = transfer_breach(state) if to_immigration(body.to_agency) else None
    flag = check_confirmed(breach, body.against_decision_confirmed, "against_decision_confirmed")
    return Transferred(
        transferred_at=body.transferred_at, to_agency=body.to_agency, basis=body.basis, against_decision=flag
    )


def decide_override(state: BookingState, body: OverrideIn) -> PolicyOverridden:
    if body.notify is None and body.hold_until is None and not body.clear_hold:
        raise InvalidCommand("an override must set notify, hold_until or clear_hold", field="notify")
    if body.hold_until is not None and body.clear_hold:
        raise InvalidCommand("give hold_until or clear_hold, not both", field="hold_until")
    return PolicyOverridden(
        notify=body.notify, hold_until=body.hold_until, clear_hold=body.clear_hold, reason=body.reason
    )
