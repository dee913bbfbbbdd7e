"""The detainer desk: commands that append events (and re-ask the policy engine), queries over the views.

Every command validates its input before anything is written, checks the stream version it was given (a stale
``expected_version`` raises :class:`~detainers.ledger.ConcurrencyError`), and appends its events, the policy
engine's new decision and any personal data in one transaction.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, Table, delete, func, insert, select

from detainers.clock import Clock, SystemClock
from detainers.domain import (
    Booking,
    Case,
    Charge,
    Conviction,
    Detainer,
    DetainerForm,
    Person,
    default_requests,
)
from detainers.law import decision_json
from detainers.law._decision import Decision
from detainers.ledger import (
    BOOKING_PREFIX,
    CORRECTABLE,
    DETAINER_PREFIX,
    AttachmentAdded,
    Authority,
    BookingOpened,
    BookingState,
    ConcurrencyError,
    Corrected,
    DecisionMade,
    DetainerLifted,
    DetainerReceived,
    DetainerServed,
    DetainerState,
    EligibilityRecorded,
    Encoded,
    LinkedToBooking,
    NotificationSent,
    Payload,
    PendingEvent,
    PersonalData,
    PersonalStore,
    PersonNoticeServed,
    PersonReleased,
    PolicyOverridden,
    Projector,
    Recorder,
    SideRow,
    StatusProofRecorded,
    StoredEvent,
    Transferred,
    encode,
    evolve_booking,
    evolve_detainer,
    format_utc,
    parse_utc,
    write_rows,
)
from detainers.ledger._projections import (
    StateCache,
    declare_new,
    first_reads,
    reading_through,
    seed,
    seen_states,
)
from detainers.ledger._schema import attachments, booking_view, detainer_view, offices
from detainers.service._against import check_confirmed, notify_breach, release_breach, to_immigration, transfer_breach
from detainers.service._effective import effective_decision
from detainers.service._errors import DeskError, InvalidCommand, NotFound, PolicyUnavailable
from detainers.service._keys import Writes, booking_key, claim, detainer_key, move
from detainers.service._schemas import (
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

_log = logging.getLogger("detainers.desk")

__all__ = ["Actor", "Decider", "Desk", "Office", "default_decider", "effective_decision"]

Decider = Callable[[Case], Decision]
_T = TypeVar("_T")
Build = Callable[[Connection, Writes], tuple[list[PendingEvent], set[str]]]
ExtraRows = Callable[[str], Sequence[SideRow]] | None  # rows to write with a new record, given its id

# Optimistic preparations of one command before it runs wholly under the chain lock.
_OPTIMISTIC_TRIES = 4


@dataclass(frozen=True)
class _Plan:
    """A command prepared outside the chain lock: its events, the side rows to write, and what it read."""

    facts: list[PendingEvent]
    decisions: list[PendingEvent]
    writes: Writes
    reads: dict[tuple[str, str], Any]
    # The events' JSON forms, made here so that the lock holder only numbers, hashes and folds them.
    facts_encoded: list[Encoded]
    decisions_encoded: list[Encoded]


_MOVED = object()  # a record the command read moved before the lock was taken: prepare again


class _Request:
    """A prepared command waiting in the group-commit queue, and its outcome once committed."""

    __slots__ = ("done", "error", "outcome", "plan", "read")

    def __init__(self, plan: _Plan, read: Callable[[Connection], Any]) -> None:
        self.plan = plan
        self.read = read
        self.done = False
        self.outcome: Any = None
        self.error: BaseException | None = None

    def finish(self, *, outcome: Any = None, error: BaseException | None = None) -> None:
        self.outcome, self.error, self.done = outcome, error, True


def _stream_of(key: tuple[str, str]) -> str:
    return f"{key[0]}-{key[1]}"


def _version(state: DetainerState | BookingState | None) -> int:
    """A record's stream version as read (0: it did not exist)."""
    return 0 if state is None else state.version


def _streams(plan: _Plan) -> set[str]:
    """Every stream a prepared command read or writes."""
    return {_stream_of(key) for key in plan.reads} | {e.stream_id for e in plan.facts + plan.decisions}


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


@dataclass(frozen=True)
class Actor:
    """Who is acting: ``name`` goes into every event (e.g. ``clerk:1a2b3c4d``); ``channel`` is the authority the
    events carry when the command does not name one (the API; the web desk's forms say ``form``)."""

    name: str
    role: str
    office: str | None = None
    channel: Authority = Authority.API


@dataclass(frozen=True)
class Office:
    code: str
    name: str
    webhook_url: str | None = None
    email: str | None = None


def _comparable(decision: dict[str, Any]) -> dict[str, Any]:
    return {key: decision.get(key) for key in _DECISION_KEYS}


class Desk:
    """The application service the API and the worker share."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock | None = None,
        decider: Decider | None = None,
    ) -> None:
        self.engine = engine
        self.clock: Clock = clock or SystemClock()
        self.decider: Decider = decider or default_decider
        self.recorder = Recorder(engine)
        self.personal = PersonalStore(self.recorder)
        # Writers in this process queue here rather than in the database: the chain head is one lock anyway, and a
        # Python lock hands over at once where SQLite's busy handler sleeps and a crowd of threads convoys on the GIL.
        self.write_lock = threading.Lock()
        # Prepared commands waiting for the writer (group commit, see _submit).
        self._queue_guard = threading.Lock()
        self._queue: list[_Request] = []
        self._offices: dict[str, Office | None] = {}
        # Records as this process last committed them: commands are prepared from here first (see StateCache).
        self.latest = StateCache()

    def warm_up(self) -> None:
        """Load the policy engine's rule packs and offense tables now (YAML, about a second) rather than in the
        first requests, where several threads would each parse them while clients wait."""
        if self.decider is not default_decider:
            return
        from detainers.law._engine import default_packs
        from detainers.law.offenses._classify import load_offense_tables
        from detainers.law.offenses._doj import doj_known_sections

        default_packs()
        load_offense_tables()
        doj_known_sections()  # the CA DOJ statute dictionary (a CSV) that classification reads for CA statutes

    # ---------------------------------------------------------------- helpers

    def now(self) -> datetime:
        return self.clock.now()

    def _event(
        self,
        stream: str,
        expected: int | None,
        payload: Payload,
        actor: Actor,
        authority: Authority | None = None,
        *,
        subject_key: str | None = None,
        rules: Sequence[dict[str, Any]] = (),
    ) -> PendingEvent:
        return PendingEvent(
            stream_id=stream,
            expected_version=expected,
            payload=payload,
            actor=actor.name,
            authority=actor.channel if authority is None else authority,
            recorded_at=self.now(),
            subject_key=subject_key,
            rules=tuple(rules),
        )

    @staticmethod
    def _load_detainer(conn: Connection, detainer_id: str) -> DetainerState:
        state = Projector.load_detainer(conn, detainer_id)
        if state is None:
            raise NotFound(f"no detainer {detainer_id}", field="detainer_id")
        return state

    @staticmethod
    def _load_booking(conn: Connection, booking_id: str) -> BookingState:
        state = Projector.load_booking(conn, booking_id)
        if state is None:
            raise NotFound(f"no booking {booking_id}", field="booking_id")
        return state

    @staticmethod
    def _expected(given: int | None, current: int) -> int:
        """The version to check: the one the client gave, else the one just read (still refuses a racing write)."""
        return current if given is None else given

    def _commit(
        self,
        build: Build,
        actor: Actor,
        trigger: str,
        read: Callable[[Connection], _T],
    ) -> _T:
        """Prepare the command outside the chain lock, then take the lock only to check and append.

        Outside the lock (a read transaction): ``build`` validates the input against the records it reads and makes
        the events; a dry fold of them gives the records as they will be, from which the policy engine's new
        decision is computed. Under the lock: the current version of every record that was read is compared with
        the version read (one query); if any moved, the command is prepared again (a stale ``expected_version``
        the caller gave then fails as a conflict, as it would have at first), and after a few tries it runs
        wholly under the lock. If none moved, the side rows are written, the events appended (numbered, hashed,
        projected) and ``read`` answers from the same transaction.
        """
        for attempt in range(_OPTIMISTIC_TRIES):
            try:
                # First from the records as this process last committed them (no database round trip) ...
                plan = self._prepare(build, actor, trigger, cached=attempt == 0)
            except (DeskError, ConcurrencyError):
                if attempt != 0:
                    raise
                # ... but a refusal is only given on the records as stored (another process may have moved them).
                plan = self._prepare(build, actor, trigger, cached=False)
            try:
                outcome = self._submit(_Request(plan, read))
            except ConcurrencyError as error:
                if error.stream_id or attempt == _OPTIMISTIC_TRIES - 1:
                    raise
                # A unique row (a natural or idempotency key) written meanwhile: prepare again from storage, where
                # the command now finds it (and refuses with the record that holds it).
                continue
            if outcome is not _MOVED:
                return outcome  # type: ignore[no-any-return]
        return self._commit_locked(build, actor, trigger, read)

    def _commit_locked(
        self,
        build: Build,
        actor: Actor,
        trigger: str,
        read: Callable[[Connection], _T],
    ) -> _T:
        """The whole command under the chain lock (the fallback when records keep moving under a prepared one)."""
        with self._locked() as conn:
            writes = Writes()
            pending, bookings = build(conn, writes)
            _delete_rows(conn, writes)
            write_rows(conn, writes)
            self.recorder.append_in(conn, pending)
            for booking_id in sorted(bookings):
                self._redecide(conn, booking_id, actor, trigger)
            return read(conn)

    @contextmanager
    def _locked(self) -> Iterator[Connection]:
        """A write transaction holding the chain lock (taken before anything is read, so what is read under it is
        current); writers in this process queue on a Python lock first."""
        with self.write_lock:
            with self.recorder.writing() as conn:
                yield conn
                committed = seen_states(conn)
            self.latest.publish(committed)

    def _submit(self, request: _Request) -> Any:
        """Group commit: queue a prepared command; whoever gets the write lock appends every queued one.

        The thread that takes ``write_lock`` with its own request still queued becomes the writer for all the
        requests queued by then: one transaction, in arrival order, one commit. A thread whose request a previous
        writer already committed just returns its outcome. Nothing is answered before its transaction commits.
        """
        with self._queue_guard:
            self._queue.append(request)
        with self.write_lock:
            if not request.done:
                with self._queue_guard:
                    batch, self._queue = self._queue, []
                self._write_batch(batch)
        if request.error is not None:
            raise request.error
        return request.outcome

    def _write_batch(self, batch: list[_Request]) -> None:
        """Append ``batch`` in one transaction (write lock held). Each command's read records are re-checked as
        one alone would be: one that moved (also by an earlier command of the batch) gets ``_MOVED`` and writes
        nothing. If any command fails otherwise, the transaction is rolled back and each is run in its own, so one
        command's failure never touches another's outcome."""
        outcomes: list[Any] = []
        try:
            # The lock and the versions of every stream the batch reads or writes in one query; the rows are
            # written at the end, one statement per table, with the commit.
            with self.recorder.writing(set().union(*(_streams(r.plan) for r in batch))) as conn:
                for request in batch:
                    outcomes.append(self._apply(conn, request.plan, request.read))
                committed = seen_states(conn)
            self.latest.publish(committed)  # still under the write lock: publications keep commit order
        except Exception as error:
            if len(batch) == 1:
                batch[0].finish(error=error)
                return
            _log.warning("group commit of %d commands failed (%r); writing them one by one", len(batch), error)
            for request in batch:
                self._write_batch([request])
            return
        for request, outcome in zip(batch, outcomes, strict=True):
            request.finish(outcome=outcome)

    def _apply(self, conn: Connection, plan: _Plan, read: Callable[[Connection], Any]) -> Any:
        """One prepared command under the chain lock: ``_MOVED`` if a record it read moved, else its answer."""
        current = self.recorder.lock(conn, _streams(plan))
        moved = [key for key, state in plan.reads.items() if current[_stream_of(key)] != _version(state)]
        if moved:
            self.latest.forget(moved)
            return _MOVED
        seed(conn, plan.reads)
        _delete_rows(conn, plan.writes)  # rare (a correction moving a natural key): at once
        # Deferred: the batch's side rows, events, head and view rows are written together when it ends.
        self.recorder.add_rows(conn, plan.writes)
        self.recorder.append_in(conn, plan.facts, defer=True, encoded=plan.facts_encoded)
        if plan.decisions:
            self.recorder.append_in(conn, plan.decisions, defer=True, encoded=plan.decisions_encoded)
        return read(conn)

    def _prepare(self, build: Build, actor: Actor, trigger: str, *, cached: bool = False) -> _Plan:
        cache = self.latest if cached else None
        with self.engine.connect() as conn, conn.begin(), reading_through(conn, cache):
            writes = Writes()
            pending, bookings = build(conn, writes)
            reads = first_reads(conn)
            versions = {_stream_of(key): _version(state) for key, state in reads.items()}
            for item in pending:
                known = versions.get(item.stream_id)
                if item.expected_version is not None and known is not None and item.expected_version != known:
                    raise ConcurrencyError(item.stream_id, item.expected_version, known)
            dry = Projector(dry=True)
            next_version = dict(versions)
            for item in pending:
                next_version[item.stream_id] = next_version.get(item.stream_id, 0) + 1
                dry.apply(conn, _probe(item, next_version[item.stream_id]))
            decisions = []
            for booking_id in sorted(bookings):
                event = self._decision_event(conn, booking_id, actor, trigger)
                if event is not None:
                    decisions.append(event)
                    next_version[event.stream_id] = next_version.get(event.stream_id, 0) + 1
                    dry.apply(conn, _probe(event, next_version[event.stream_id]))
            reads = first_reads(conn)
            conn.rollback()
        return _Plan(pending, decisions, writes, reads, [encode(e) for e in pending], [encode(e) for e in decisions])

    def _case(self, conn: Connection, booking: BookingState) -> Case | None:
        detainers = [Projector.load_detainer(conn, d) for d in booking.detainer_ids]
        present = [d for d in detainers if d is not None]
        if not present:
            return None

        def when(text: str | None) -> datetime | None:
            return parse_utc(text) if text else None

        person = Person(
            status_proof=booking.status_proof,
            status_proof_at=when(booking.status_proof_at),
            convictions=tuple(Conviction.model_validate(c) for c in booking.convictions),
        )
        record = Booking(
            facility=booking.facility,
            jurisdiction=booking.jurisdiction,
            timezone=booking.timezone,
            booked_at=when(booking.booked_at),
            charges=tuple(Charge.model_validate(c) for c in booking.charges),
            eligible_for_release_at=when(booking.eligible_at),
            eligibility_reason=booking.eligibility_reason,
            bail_refused_at=when(booking.bail_refused_at),
            released_at=when(booking.released_at or booking.transferred_at),
            released_to=booking.released_to,
        )
        return Case(
            name=booking.id,
            person=person,
            booking=record,
            detainers=tuple(
                Detainer(
                    form=DetainerForm(d.form),
                    received_at=when(d.received_at),
                    issued_on=d.issued_on,
                    requests=frozenset(d.requests) if d.requests is not None else None,
                    warrant=d.warrant,
                    pc_basis=frozenset(d.pc_basis),
                    box2_transferred_for_proceeding=d.box2_transferred_for_proceeding,
                    served_on_subject_at=when(d.served_at),
                    issuing_office=d.office,
                    lifted_at=when(d.lifted_at),
                    lift_reason=d.lift_reason,
                )
                for d in present
            ),
            as_of=self.now(),
        )

    def _redecide(self, conn: Connection, booking_id: str, actor: Actor, trigger: str) -> list[StoredEvent]:
        event = self._decision_event(conn, booking_id, actor, trigger)
        return self.recorder.append_in(conn, [event]) if event is not None else []

    def _decision_event(self, conn: Connection, booking_id: str, actor: Actor, trigger: str) -> PendingEvent | None:
        """The policy engine's answer for the booking as ``conn`` sees it, as an event — or None if unchanged."""
        booking = self._load_booking(conn, booking_id)
        try:
            case = self._case(conn, booking)
        except ValidationError as error:
            raise InvalidCommand(f"the booking's facts do not make a valid case: {error.errors()[0]['msg']}") from error
        if case is None:
            return None
        try:
            decision = self.decider(case)
        except PolicyUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - a fact must be recordable even when the engine cannot decide
            _log.warning(
                "policy engine failed",
                extra={"booking_id": booking_id, "error": type(error).__name__, "detail": str(error)[:200]},
            )
            return None
        dumped = decision_json(decision)  # instants shown with the facility's offset, as `decide --json` prints them
        if booking.decision is not None and _comparable(booking.decision) == _comparable(dumped):
            return None
        payload = DecisionMade(
            detainer_ids=tuple(booking.detainer_ids),
            decision=dumped,
            engine_version=decision.engine_version,
            trigger=trigger,
        )
        return self._event(
            BOOKING_PREFIX + booking_id,
            booking.version,
            payload,
            actor,
            actor.channel,
            subject_key=booking.subject_key,
            rules=dumped.get("rules", ()),
        )

    # ---------------------------------------------------------------- offices

    def register_office(self, office: Office) -> None:
        self._offices.pop(office.code, None)
        with self.engine.begin() as conn:
            exists = conn.execute(select(offices.c.code).where(offices.c.code == office.code)).first()
            values = {"name": office.name, "webhook_url": office.webhook_url, "email": office.email}
            if exists:
                conn.execute(offices.update().where(offices.c.code == office.code).values(**values))
            else:
                conn.execute(insert(offices).values(code=office.code, **values))

    def office(self, code: str) -> Office | None:
        if code in self._offices:
            return self._offices[code]
        with self.engine.connect() as conn:
            row = conn.execute(select(offices).where(offices.c.code == code)).first()
        found = Office(row.code, row.name, row.webhook_url, row.email) if row else None
        if found is not None:
            self._offices[code] = found
        return found

    def offices(self) -> list[Office]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(offices).order_by(offices.c.code)).all()
        return [Office(r.code, r.name, r.webhook_url, r.email) for r in rows]

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
            lambda _c, s: DetainerServed(served_at=_after_receipt(s, body.served_at, "served_at"), manner=body.manner),
            actor,
            "detainer_served",
        )

    def record_person_notice(
        self, detainer_id: str, payload: PersonNoticeServed, expected: int | None, actor: Actor
    ) -> DetainerState:
        """Append a notice served to the person on the detainer's stream (no new decision: serving changes none)."""

        def build(conn: Connection, writes: Writes) -> tuple[list[PendingEvent], set[str]]:
            state = self._load_detainer(conn, detainer_id)
            event = self._event(DETAINER_PREFIX + detainer_id, self._expected(expected, state.version), payload, actor)
            evolve_detainer(state, _probe(event, state.version + 1))
            return [event], set()

        return self._commit(build, actor, "person_notice_served", lambda c: self._load_detainer(c, detainer_id))

    def link(self, detainer_id: str, body: LinkIn, actor: Actor) -> DetainerState:
        def make(conn: Connection, state: DetainerState) -> Payload:
            self._load_booking(conn, body.booking_id)
            if state.booking_id == body.booking_id:
                raise InvalidCommand("the detainer is already linked to this booking", field="booking_id")
            if state.booking_id is not None:
                raise InvalidCommand(
                    f"the detainer is linked to booking {state.booking_id}; correct that link instead",
                    field="booking_id",
                )
            return LinkedToBooking(booking_id=body.booking_id)

        return self._detainer_command(detainer_id, body.expected_version, make, actor, "linked_to_booking")

    def lift(self, detainer_id: str, body: LiftIn, actor: Actor) -> DetainerState:
        def make(_conn: Connection, state: DetainerState) -> Payload:
            if state.lifted_at is not None:
                raise InvalidCommand("the detainer is already lifted", field="lifted_at")
            return DetainerLifted(lifted_at=_after_receipt(state, body.lifted_at, "lifted_at"), reason=body.reason)

        return self._detainer_command(detainer_id, body.expected_version, make, actor, "detainer_lifted")

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
        def make(state: BookingState) -> Payload:
            if state.booked_at and body.eligible_at < parse_utc(state.booked_at):
                raise InvalidCommand("eligible_at is before the booking", field="eligible_at")
            return EligibilityRecorded(
                eligible_at=body.eligible_at, reason=body.reason, bail_refused_at=body.bail_refused_at
            )

        return self._booking_command(booking_id, body.expected_version, make, actor, "eligibility_recorded")

    def record_status_proof(self, booking_id: str, body: StatusProofIn, actor: Actor) -> BookingState:
        return self._booking_command(
            booking_id,
            body.expected_version,
            lambda _s: StatusProofRecorded(proof=body.proof, shown_at=body.shown_at),
            actor,
            "status_proof_recorded",
        )

    def release(self, booking_id: str, body: ReleaseIn, actor: Actor) -> BookingState:
        def make(state: BookingState) -> Payload:
            if state.status != "in_custody":
                raise InvalidCommand(f"the person is already {state.status}", field="released_at")
            if state.booked_at and body.released_at < parse_utc(state.booked_at):
                raise InvalidCommand("released_at is before the booking", field="released_at")
            breach = release_breach(state, body.released_at, body.released_to.value)
            flag = check_confirmed(breach, body.against_decision_confirmed, "against_decision_confirmed")
            return PersonReleased(released_at=body.released_at, released_to=body.released_to, against_decision=flag)

        return self._booking_command(booking_id, body.expected_version, make, actor, "person_released")

    def transfer(self, booking_id: str, body: TransferIn, actor: Actor) -> BookingState:
        def make(state: BookingState) -> Payload:
            if state.status != "in_custody":
                raise InvalidCommand(f"the person is already {state.status}", field="transferred_at")
            if state.booked_at and body.transferred_at < parse_utc(state.booked_at):
                raise InvalidCommand("transferred_at is before the booking", field="transferred_at")
            breach = transfer_breach(state) if to_immigration(body.to_agency) else None
            flag = check_confirmed(breach, body.against_decision_confirmed, "against_decision_confirmed")
            return Transferred(
                transferred_at=body.transferred_at, to_agency=body.to_agency, basis=body.basis, against_decision=flag
            )

        return self._booking_command(booking_id, body.expected_version, make, actor, "transferred")

    def override(self, booking_id: str, body: OverrideIn, actor: Actor) -> BookingState:
        def make(state: BookingState) -> Payload:
            if body.notify is None and body.hold_until is None and not body.clear_hold:
                raise InvalidCommand("an override must set notify, hold_until or clear_hold", field="notify")
            if body.hold_until is not None and body.clear_hold:
                raise InvalidCommand("give hold_until or clear_hold, not both", field="hold_until")
            return PolicyOverridden(
                notify=body.notify, hold_until=body.hold_until, clear_hold=body.clear_hold, reason=body.reason
            )

        return self._booking_command(
            booking_id, body.expected_version, make, actor, "policy_overridden", redecide=False
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

    # ---------------------------------------------------------------- queries

    def detainer(self, detainer_id: str) -> DetainerState:
        with self.engine.connect() as conn:
            return self._load_detainer(conn, detainer_id)

    def booking(self, booking_id: str) -> BookingState:
        with self.engine.connect() as conn:
            return self._load_booking(conn, booking_id)

    def case_for(self, booking: BookingState) -> Case | None:
        """The booking's facts as the policy engine reads them (None without a detainer)."""
        with self.engine.connect() as conn:
            return self._case(conn, booking)

    def list_detainers(
        self,
        *,
        office: str | None = None,
        status: str | None = None,
        jurisdiction: str | None = None,
        form: str | None = None,
        booking_id: str | None = None,
        received_from: datetime | None = None,
        received_to: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[DetainerState], int]:
        conditions = []
        if office is not None:
            conditions.append(detainer_view.c.office == office)
        if status is not None:
            conditions.append(detainer_view.c.status == status)
        if jurisdiction is not None:
            conditions.append(detainer_view.c.jurisdiction.startswith(jurisdiction, autoescape=True))
        if form is not None:
            conditions.append(detainer_view.c.form == form)
        if booking_id is not None:
            conditions.append(detainer_view.c.booking_id == booking_id)
        if received_from is not None:
            conditions.append(detainer_view.c.received_at >= format_utc(received_from))
        if received_to is not None:
            conditions.append(detainer_view.c.received_at < format_utc(received_to))
        order = (detainer_view.c.received_at.desc(), detainer_view.c.id)
        datas, total = self._page(detainer_view, conditions, order, limit, offset)
        return [DetainerState.model_validate_json(d) for d in datas], total

    def list_bookings(
        self,
        *,
        status: str | None = None,
        jurisdiction: str | None = None,
        booking_number: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[BookingState], int]:
        conditions = []
        if status is not None:
            conditions.append(booking_view.c.status == status)
        if jurisdiction is not None:
            conditions.append(booking_view.c.jurisdiction.startswith(jurisdiction, autoescape=True))
        if booking_number is not None:
            conditions.append(booking_view.c.booking_number == booking_number)
        order = (booking_view.c.booking_number, booking_view.c.id)
        datas, total = self._page(booking_view, conditions, order, limit, offset)
        return [BookingState.model_validate_json(d) for d in datas], total

    def _page(
        self, view: Table, conditions: list[Any], order: tuple[Any, ...], limit: int, offset: int
    ) -> tuple[list[str], int]:
        """One page of a view's stored JSON, and how many rows match in all (for paging)."""
        with self.engine.connect() as conn:
            total = int(conn.execute(select(func.count()).select_from(view).where(*conditions)).scalar() or 0)
            rows = conn.execute(select(view.c.data).where(*conditions).order_by(*order).limit(limit).offset(offset))
            return [r.data for r in rows], total

    def active_bookings(self) -> list[BookingState]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(booking_view.c.data).where(booking_view.c.active.is_(True)))
            return [BookingState.model_validate_json(r.data) for r in rows]

    def detainers_of(self, booking: BookingState) -> list[DetainerState]:
        with self.engine.connect() as conn:
            found = [Projector.load_detainer(conn, d) for d in booking.detainer_ids]
        return [d for d in found if d is not None]

    def attachment(self, detainer_id: str, attachment_id: str) -> tuple[bytes, str]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(attachments.c.content, attachments.c.sha256).where(
                    attachments.c.id == attachment_id, attachments.c.detainer_id == detainer_id
                )
            ).first()
        if row is None:
            raise NotFound(f"no attachment {attachment_id}", field="attachment_id")
        return bytes(row.content), str(row.sha256)

    @staticmethod
    def requests_notify(detainer: DetainerState) -> bool:
        if detainer.requests is not None:
            return "notify" in detainer.requests
        return any(r.value == "notify" for r in default_requests(DetainerForm(detainer.form)))


def _check_version(stream: str, expected: int | None, current: int) -> None:
    if expected is not None and expected != current:
        raise ConcurrencyError(stream, expected, current)


def _after_receipt(state: DetainerState, when: datetime, field: str) -> datetime:
    if state.received_at and when < parse_utc(state.received_at):
        raise InvalidCommand(f"{field} is before the detainer was received", field=field)
    return when


def _delete_rows(conn: Connection, writes: Writes) -> None:
    for table, where in writes.deletes:
        conn.execute(delete(table).where(*(table.c[k] == v for k, v in where.items())))


def _probe(event: PendingEvent, version: int) -> StoredEvent:
    """The stored shape of a pending event, for validating the fold before writing."""
    return StoredEvent(
        seq=0,
        stream_id=event.stream_id,
        version=version,
        type=event.type.value,
        recorded_at=format_utc(event.recorded_at),
        actor=event.actor,
        authority=event.authority.value,
        subject_key=event.subject_key,
        payload=event.payload_json(),
        rules=event.rules,
        prev_hash="",
        hash="",
    )


def _normalise(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_utc(value)
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and "T" in value:
        try:
            return format_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return value
    return value
