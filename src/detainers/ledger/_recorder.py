"""The recorder: appends events to the chain under one lock, reads streams, verifies, rebuilds projections.

One SQLAlchemy implementation serves both backends; the backend specifics are how the chain head is locked:
``SELECT … FOR UPDATE`` on the single ``ledger_head`` row on PostgreSQL, ``BEGIN IMMEDIATE`` (a database write
lock taken at the start of the transaction) on SQLite in WAL mode. Either way appends are serialised, so the
global chain is linear, and a stale ``expected_version`` for a stream raises :class:`ConcurrencyError`.

The chain lock is the one thing every writer waits for, so :meth:`Recorder.writing` keeps the round trips made
while holding it to two on PostgreSQL, with psycopg's pipeline mode: ``BEGIN``, the lock and the versions of the
streams to be written go in one; the deferred rows and ``COMMIT`` in the other.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select, update
from sqlalchemy.sql.dml import Insert

from detainers.ledger._chain import VerifyReport, canonical_and_text, event_digest, verify_events
from detainers.ledger._database import is_postgres, write_connection, writer_lock
from detainers.ledger._events import PendingEvent, StoredEvent, format_utc
from detainers.ledger._pipeline import driver_of, execute_rows, unique_violation
from detainers.ledger._projections import Projector, flush, rebuild
from detainers.ledger._schema import events, head
from detainers.ledger._views_audit import ViewMismatch, audit_views

__all__ = ["AfterAppend", "ConcurrencyError", "Encoded", "Recorder", "SideRow", "encode", "write_rows"]

AfterAppend = Callable[[Connection, list[StoredEvent]], None]

#: A row for a table beside the ledger (personal data, attachments) written in the same transaction as events.
SideRow = tuple[Table, dict[str, Any]]

_INSERTS: dict[str, Insert] = {}


@dataclass(frozen=True, slots=True)
class Encoded:
    """An event's JSON forms, which do not depend on its place in the chain (so a writer can make them before it
    takes the lock): the payload and rules as stored and as hashed, and the UTC timestamp."""

    payload: dict[str, Any]
    rules: list[dict[str, Any]]
    recorded_at: str
    payload_canonical: bytes
    payload_text: str
    rules_canonical: bytes
    rules_text: str


def encode(item: PendingEvent) -> Encoded:
    """``item``'s JSON forms; :meth:`Recorder.append_in` takes them (``encoded=``) or makes them itself."""
    payload = item.payload_json()
    rules = [dict(r) for r in item.rules]
    payload_canonical, payload_text = canonical_and_text(payload)
    rules_canonical, rules_text = canonical_and_text(rules)
    return Encoded(
        payload, rules, format_utc(item.recorded_at), payload_canonical, payload_text, rules_canonical, rules_text
    )


def write_rows(conn: Connection, rows: Sequence[SideRow]) -> None:
    """Insert side rows: one statement per table (executemany), tables in the order first seen."""
    by_table: dict[str, tuple[Table, list[dict[str, Any]]]] = {}
    for table, row in rows:
        by_table.setdefault(table.name, (table, []))[1].append(row)
    for name, (table, group) in by_table.items():
        statement = _INSERTS.get(name)
        if statement is None:
            statement = _INSERTS[name] = insert(table)
        execute_rows(conn, statement, group)


def _versions(stream_ids: Sequence[str], rows: Iterable[tuple[Any, Any]]) -> dict[str, int]:
    """Each stream's version from ``(stream_id, max(version))`` rows; 0 for a stream with no events yet."""
    found = dict.fromkeys(stream_ids, 0)
    found.update((str(stream_id), int(version or 0)) for stream_id, version in rows)
    return found


class ConcurrencyError(Exception):
    """Somebody else wrote to the stream since the writer read it."""

    def __init__(self, stream_id: str, expected: int, actual: int, *, message: str | None = None) -> None:
        super().__init__(message or f"stream {stream_id} is at version {actual}, not {expected}: reload and retry")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


# Statements built once (building SQLAlchemy constructs per call costs more CPU than running them).
_HEAD_FOR_UPDATE = select(head.c.seq, head.c.hash).where(head.c.id == 1).with_for_update()
_HEAD = select(head.c.seq, head.c.hash).where(head.c.id == 1)
_SET_HEAD = update(head).where(head.c.id == 1).values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
_INSERT_EVENTS = insert(events)
_STREAM_VERSION = select(func.max(events.c.version)).where(events.c.stream_id == bindparam("stream"))
_STREAM_VERSIONS = (
    select(events.c.stream_id, func.max(events.c.version))
    .where(events.c.stream_id.in_(bindparam("streams", expanding=True)))
    .group_by(events.c.stream_id)
)


# The same two reads as raw SQL for psycopg's pipeline (SQLAlchemy reads a result as soon as it executes).
_PG_HEAD_FOR_UPDATE = f"SELECT seq, hash FROM {head.name} WHERE id = 1 FOR UPDATE"
_PG_STREAM_VERSIONS = f"SELECT stream_id, max(version) FROM {events.name} WHERE stream_id = ANY(%s) GROUP BY stream_id"


def _stored(row: Any) -> StoredEvent:
    return StoredEvent(
        seq=row.seq,
        stream_id=row.stream_id,
        version=row.version,
        type=row.type,
        recorded_at=row.recorded_at,
        actor=row.actor,
        authority=row.authority,
        subject_key=row.subject_key,
        payload=json.loads(row.payload),
        rules=tuple(json.loads(row.rules)),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class _Unit:
    """What a write transaction holding the chain lock knows: the head, stream versions, and unwritten rows."""

    __slots__ = ("known", "prev", "rows", "seq", "side", "transaction", "written_seq")

    def __init__(self, transaction: Any, seq: int, prev: str) -> None:
        self.transaction = transaction
        self.seq = self.written_seq = seq
        self.prev = prev
        self.known: dict[str, int] = {}  # stream → version, as of the last append in this transaction
        self.rows: list[dict[str, Any]] = []  # event rows appended with ``defer`` and not yet inserted
        self.side: list[SideRow] = []  # side rows added and not yet inserted


class Recorder:
    """Append-only event store with a hash chain and synchronous projections."""

    def __init__(self, engine: Engine, *, projector: Projector | None = None) -> None:
        self.engine = engine
        self.projector = projector if projector is not None else Projector()

    # -- writing

    def append(self, pending: Sequence[PendingEvent], *, after: AfterAppend | None = None) -> list[StoredEvent]:
        """Append ``pending`` atomically; ``after`` runs in the same transaction (views, outbox, side tables).

        Each event's ``expected_version`` is compared with its stream's version before this batch.
        """
        if not pending:
            return []
        with self.writing({item.stream_id for item in pending}) as conn:
            return self.append_in(conn, pending, after=after)

    @contextmanager
    def writing(self, stream_ids: Iterable[str] = ()) -> Iterator[Connection]:
        """A write transaction holding the chain lock, committed when the block ends, rolled back if it raises.

        The versions of ``stream_ids`` are read with the lock (see :meth:`lock`), and what deferred appends left
        is written just before the commit (see :meth:`finish`). On PostgreSQL each of those two steps is one round
        trip: the lock is held for two round trips and the work in between.
        """
        with writer_lock(self.engine), write_connection(self.engine) as conn:
            transaction = conn.begin()
            try:
                self.lock(conn, stream_ids)
                yield conn
                self._send_deferred(conn, commit=True)
                transaction.commit()  # on PostgreSQL the server has committed: psycopg sends nothing more
            except BaseException:
                # Also a connection lost in a pipeline: SQLAlchemy's rollback finds it lost and drops it from the pool.
                if transaction.is_active:
                    transaction.rollback()
                raise

    def append_in(
        self,
        conn: Connection,
        pending: Sequence[PendingEvent],
        *,
        after: AfterAppend | None = None,
        defer: bool = False,
        encoded: Sequence[Encoded] | None = None,
    ) -> list[StoredEvent]:
        """Like :meth:`append`, inside a transaction the caller opened with ``write_connection``.

        The events are numbered, hashed and folded into the views at once. ``defer=True`` keeps their rows, the
        new chain head and the view rows in the transaction's memory until :meth:`finish` (or a later append
        without ``defer``) writes them all, one statement per table: a writer appending several commands in one
        transaction pays the round trips once. Whatever is deferred must be finished before the commit.
        ``encoded`` (one per event, from :func:`encode`) spares the lock holder the JSON work.
        """
        if defer and after is not None:
            raise ValueError("an append with an `after` hook cannot be deferred")
        if encoded is not None and len(encoded) != len(pending):
            raise ValueError("one encoding per pending event")
        # Within one transaction the head and stream versions this recorder wrote are remembered, so a second
        # append in the same transaction (the policy engine's decision after a fact) skips those round trips.
        unit = self._locked(conn)
        seq, prev = unit.seq, unit.prev
        known = unit.known
        before: dict[str, int] = {}
        current: dict[str, int] = {}
        stored: list[StoredEvent] = []
        rows: list[dict[str, Any]] = []
        for index, item in enumerate(pending):
            if item.stream_id not in before:
                if item.stream_id in known:
                    before[item.stream_id] = known[item.stream_id]
                else:
                    found = conn.execute(_STREAM_VERSION, {"stream": item.stream_id}).scalar()
                    before[item.stream_id] = int(found or 0)
                current[item.stream_id] = before[item.stream_id]
            if item.expected_version is not None and item.expected_version != before[item.stream_id]:
                raise ConcurrencyError(item.stream_id, item.expected_version, before[item.stream_id])
            current[item.stream_id] += 1
            seq += 1
            form = encode(item) if encoded is None else encoded[index]
            payload, rules, recorded_at = form.payload, form.rules, form.recorded_at
            digest = event_digest(
                seq=seq,
                stream_id=item.stream_id,
                version=current[item.stream_id],
                type=item.type.value,
                recorded_at=recorded_at,
                actor=item.actor,
                authority=item.authority.value,
                subject_key=item.subject_key,
                payload=form.payload_canonical,
                rules=form.rules_canonical,
                prev_hash=prev,
            )
            rows.append(
                {
                    "seq": seq,
                    "stream_id": item.stream_id,
                    "version": current[item.stream_id],
                    "type": item.type.value,
                    "recorded_at": recorded_at,
                    "actor": item.actor,
                    "authority": item.authority.value,
                    "subject_key": item.subject_key,
                    "payload": form.payload_text,
                    "rules": form.rules_text,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            stored.append(
                StoredEvent.model_construct(  # fields built just above: no second validation
                    seq=seq,
                    stream_id=item.stream_id,
                    version=current[item.stream_id],
                    type=item.type.value,
                    recorded_at=recorded_at,
                    actor=item.actor,
                    authority=item.authority.value,
                    subject_key=item.subject_key,
                    payload=payload,
                    rules=tuple(rules),
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
        unit.rows.extend(rows)
        unit.seq, unit.prev = seq, prev
        known.update(current)
        for event in stored:
            self.projector.apply(conn, event)
        if not defer:
            self.finish(conn)
        if after is not None:
            after(conn, stored)
        return stored

    def add_rows(self, conn: Connection, rows: Sequence[SideRow]) -> None:
        """Side rows to write with the next :meth:`finish` (or the next append without ``defer``)."""
        self._locked(conn).side.extend(rows)

    @staticmethod
    def finish(conn: Connection) -> None:
        """Write what deferred appends left in this transaction: side rows, events, the chain head, view rows.

        On PostgreSQL the statements go in one pipeline: one round trip.
        """
        Recorder._send_deferred(conn, commit=False)

    @staticmethod
    def _send_deferred(conn: Connection, *, commit: bool) -> None:
        """:meth:`finish`; with ``commit`` on PostgreSQL, ``COMMIT`` goes in the same pipeline as the rows
        (``transaction.commit()`` inside it would sync twice; a refused row aborts the pipeline and COMMIT with it).
        A row refused by the unique (stream, version) index — belt and braces behind the version check — is a
        conflict; in a pipeline it only shows at the sync, and which row it was is not known."""
        driver = driver_of(conn)
        try:
            if driver is None:
                Recorder._write_deferred(conn)  # SQLite commits with the caller's transaction
                return
            with driver.cursor() as cursor, driver.pipeline():  # the cursor outlives the pipeline's sync
                Recorder._write_deferred(conn)
                if commit:
                    cursor.execute("COMMIT")
        except Exception as error:
            if unique_violation(error):
                message = "a stream of this write was written meanwhile: reload and retry"
                raise ConcurrencyError("", -1, -1, message=message) from error
            raise

    @staticmethod
    def _write_deferred(conn: Connection) -> None:
        unit = conn.info.get("ledger_memo")
        if isinstance(unit, _Unit) and unit.transaction is conn.get_transaction():
            if unit.side:
                side, unit.side = unit.side, []
                write_rows(conn, side)
            if unit.rows:
                rows, unit.rows = unit.rows, []
                execute_rows(conn, _INSERT_EVENTS, rows)
            if unit.seq != unit.written_seq:
                execute_rows(conn, _SET_HEAD, [{"head_seq": unit.seq, "head_hash": unit.prev}])
                unit.written_seq = unit.seq
        flush(conn)

    @staticmethod
    def _locked(conn: Connection, stream_ids: Sequence[str] = ()) -> _Unit:
        """The chain head, locked for this transaction (taken once per transaction).

        On PostgreSQL the versions of ``stream_ids`` are read in the same round trip (the pipeline runs the version
        query after the lock is granted, so it sees every commit that came before); elsewhere :meth:`lock` reads
        them next.
        """
        transaction = conn.get_transaction()
        unit = conn.info.get("ledger_memo")
        if isinstance(unit, _Unit) and unit.transaction is transaction:
            return unit
        driver = driver_of(conn)
        if driver is None:
            seq, prev = conn.execute(_HEAD_FOR_UPDATE).one()
            unit = _Unit(transaction, int(seq), str(prev))
        else:
            with driver.cursor() as head_cursor, driver.cursor() as versions_cursor:
                with driver.pipeline():
                    head_cursor.execute(_PG_HEAD_FOR_UPDATE)
                    if stream_ids:
                        versions_cursor.execute(_PG_STREAM_VERSIONS, (list(stream_ids),))
                seq, prev = head_cursor.fetchone()
                unit = _Unit(transaction, int(seq), str(prev))
                if stream_ids:
                    unit.known.update(_versions(stream_ids, versions_cursor.fetchall()))
        conn.info["ledger_memo"] = unit
        # Views read before the lock may be stale (another process may have written meanwhile): forget them.
        conn.info.pop("views_memo", None)
        return unit

    def lock(self, conn: Connection, stream_ids: Iterable[str]) -> dict[str, int]:
        """Take the chain lock in ``conn``'s write transaction and return the current version of each stream.

        One query for all the streams; the versions are remembered, so the appends that follow in the same
        transaction do not ask again. A command prepared outside the lock compares these with what it read.
        """
        ids = sorted(set(stream_ids))
        known = self._locked(conn, ids).known
        wanted = [s for s in ids if s not in known]
        if wanted:
            known.update(_versions(wanted, conn.execute(_STREAM_VERSIONS, {"streams": wanted})))
        return {s: known[s] for s in ids}

    # -- reading

    def stream_version(self, stream_id: str) -> int:
        with self.engine.connect() as conn:
            found = conn.execute(select(func.max(events.c.version)).where(events.c.stream_id == stream_id)).scalar()
        return int(found or 0)

    def stream(self, stream_id: str, *, after_version: int = 0) -> list[StoredEvent]:
        query = (
            select(events)
            .where(events.c.stream_id == stream_id, events.c.version > after_version)
            .order_by(events.c.version)
        )
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def read(self, *, after_seq: int = 0, limit: int = 100, subject_key: str | None = None) -> list[StoredEvent]:
        query = select(events).where(events.c.seq > after_seq).order_by(events.c.seq).limit(limit)
        if subject_key is not None:
            query = query.where(events.c.subject_key == subject_key)
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def iter_all(self, *, batch: int = 2000, conn: Connection | None = None) -> Iterator[StoredEvent]:
        after = 0
        while True:
            query = select(events).where(events.c.seq > after).order_by(events.c.seq).limit(batch)
            if conn is None:
                with self.engine.connect() as own:
                    rows = list(own.execute(query))
            else:
                rows = list(conn.execute(query))
            if not rows:
                return
            for row in rows:
                yield _stored(row)
            after = int(rows[-1].seq)

    def head(self) -> tuple[int, str]:
        with self.engine.connect() as conn:
            row = conn.execute(_HEAD).one()
        return int(row.seq), str(row.hash)

    # -- audit

    def verify(self) -> VerifyReport:
        """Recompute the whole chain; the report names the first event that does not match."""
        head_seq, head_hash = self.head()
        return verify_events(self.iter_all(), head_seq=head_seq, head_hash=head_hash)

    def audit_views(self) -> list[ViewMismatch]:
        """Fold every event again in memory and name each view cell that differs (see ``_views_audit``).

        Events and views are read in one snapshot (REPEATABLE READ on PostgreSQL; one read transaction on SQLite),
        so appends running meanwhile are not reported.
        """
        with self.engine.connect() as conn:
            if is_postgres(conn):
                conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                return audit_views(conn, self.iter_all(conn=conn))

    def rebuild_projections(self) -> int:
        with write_connection(self.engine) as conn, conn.begin():
            return rebuild(conn, list(self.iter_all(conn=conn)))
