"""The desk's unit of work: group commit, optimistic concurrency and the state cache.

Every command validates its input before anything is written, checks the stream version it was given (a stale
``expected_version`` raises :class:`~detainers.ledger.ConcurrencyError`), and appends its events, the policy
engine's new decision and any personal data in one transaction. Every write of the desk (commands, the deadline
worker's and the outbox's events) goes through :meth:`UnitOfWork._locked` or :meth:`UnitOfWork._commit`, which
publish what they committed to the state cache: nothing outside this module touches the cache.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, delete

from detainers.clock import Clock, SystemClock
from detainers.desk._decisions import Decider, decision_payload, default_decider
from detainers.desk._errors import DeskError, NotFound
from detainers.desk._keys import Writes
from detainers.ledger import (
    BOOKING_PREFIX,
    Authority,
    BookingState,
    ConcurrencyError,
    DetainerState,
    Encoded,
    Payload,
    PendingEvent,
    PersonalStore,
    Projector,
    Recorder,
    SideRow,
    StateCache,
    StoredEvent,
    encode,
    first_reads,
    format_utc,
    reading_through,
    seed,
    seen_states,
    write_rows,
)

_log = logging.getLogger("detainers.desk")

__all__ = ["Actor", "Build", "ExtraRows", "UnitOfWork", "pending_event"]

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


@dataclass(frozen=True)
class Actor:
    """Who is acting: ``name`` goes into every event (e.g. ``clerk:1a2b3c4d``); ``channel`` is the authority the
    events carry when the command does not name one (the API; the web desk's forms say ``form``)."""

    name: str
    role: str
    office: str | None = None
    channel: Authority = Authority.API


class UnitOfWork:
    """The desk's write path: prepare a command outside the chain lock, then check and append under it."""

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
        # Records as this process last committed them: commands are prepared from here first (see StateCache).
        self.latest = StateCache()

    def warm_up(self) -> None:
        """Load the policy engine's rule packs and offense tables now (YAML, about a second) rather than in the
        first requests, where several threads would each parse them while clients wait."""
        if self.decider is not default_decider:
            return
        from detainers.law import default_packs
        from detainers.law.offenses import doj_known_sections, load_offense_tables

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
        return pending_event(
            stream,
            expected,
            payload,
            actor.name,
            actor.channel if authority is None else authority,
            self.now(),
            subject_key=subject_key,
            rules=rules,
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

    def _redecide(self, conn: Connection, booking_id: str, actor: Actor, trigger: str) -> list[StoredEvent]:
        event = self._decision_event(conn, booking_id, actor, trigger)
        return self.recorder.append_in(conn, [event]) if event is not None else []

    def _decision_event(self, conn: Connection, booking_id: str, actor: Actor, trigger: str) -> PendingEvent | None:
        """The policy engine's answer for the booking as ``conn`` sees it, as an event — or None if unchanged."""
        booking = self._load_booking(conn, booking_id)
        payload = decision_payload(conn, booking, self.decider, trigger, self.now())
        if payload is None:
            return None
        return self._event(
            BOOKING_PREFIX + booking_id,
            booking.version,
            payload,
            actor,
            actor.channel,
            subject_key=booking.subject_key,
            rules=payload.decision.get("rules", ()),
        )

    def _write(self, work: Callable[[Connection], _T]) -> _T:
        """Run ``work`` in a write transaction under the chain lock; what it appended or folded is published to
        the state cache when it commits (the worker's and the outbox's writes come through here)."""
        with self._locked() as conn:
            return work(conn)


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


def pending_event(
    stream: str,
    expected: int | None,
    payload: Any,
    actor: str,
    authority: Authority,
    now: datetime,
    *,
    subject_key: str | None = None,
    rules: Sequence[dict[str, Any]] = (),
) -> PendingEvent:
    """One event to append: on ``stream`` at ``expected`` (None: wherever it stands), by ``actor`` with
    ``authority``, recorded at ``now``."""
    return PendingEvent(
        stream_id=stream,
        expected_version=expected,
        payload=payload,
        actor=actor,
        authority=authority,
        recorded_at=now,
        subject_key=subject_key,
        rules=tuple(rules),
    )
