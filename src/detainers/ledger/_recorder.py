"""The recorder: appends events to the chain under one lock, reads streams, verifies, rebuilds projections.

One SQLAlchemy implementation serves both backends; the backend specifics are how the chain head is locked:
``SELECT … FOR UPDATE`` on the single ``ledger_head`` row on PostgreSQL, ``BEGIN IMMEDIATE`` (a database write
lock taken at the start of the transaction) on SQLite in WAL mode. Either way appends are serialised, so the
global chain is linear, and a stale ``expected_version`` for a stream raises :class:`ConcurrencyError`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.dml import Insert

from detainers.ledger._chain import VerifyReport, canonical_and_text, event_digest, verify_events
from detainers.ledger._database import write_connection
from detainers.ledger._events import PendingEvent, StoredEvent, format_utc
from detainers.ledger._projections import Projector, flush, rebuild
from detainers.ledger._schema import events, head

__all__ = ["AfterAppend", "ConcurrencyError", "Recorder", "SideRow", "write_rows"]

AfterAppend = Callable[[Connection, list[StoredEvent]], None]

#: A row for a table beside the ledger (personal data, attachments) written in the same transaction as events.
SideRow = tuple[Table, dict[str, Any]]

_INSERTS: dict[str, Insert] = {}


def write_rows(conn: Connection, rows: Sequence[SideRow]) -> None:
    """Insert side rows: one statement per table (executemany), tables in the order first seen."""
    by_table: dict[str, tuple[Table, list[dict[str, Any]]]] = {}
    for table, row in rows:
        by_table.setdefault(table.name, (table, []))[1].append(row)
    for name, (table, group) in by_table.items():
        statement = _INSERTS.get(name)
        if statement is None:
            statement = _INSERTS[name] = insert(table)
        conn.execute(statement, group)


class ConcurrencyError(Exception):
    """Somebody else wrote to the stream since the writer read it."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(f"stream {stream_id} is at version {actual}, not {expected}: reload and retry")
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
        with write_connection(self.engine) as conn, conn.begin():
            return self.append_in(conn, pending, after=after)

    def append_in(
        self,
        conn: Connection,
        pending: Sequence[PendingEvent],
        *,
        after: AfterAppend | None = None,
        defer: bool = False,
    ) -> list[StoredEvent]:
        """Like :meth:`append`, inside a transaction the caller opened with ``write_connection``.

        The events are numbered, hashed and folded into the views at once. ``defer=True`` keeps their rows, the
        new chain head and the view rows in the transaction's memory until :meth:`finish` (or a later append
        without ``defer``) writes them all, one statement per table: a writer appending several commands in one
        transaction pays the round trips once. Whatever is deferred must be finished before the commit.
        """
        if defer and after is not None:
            raise ValueError("an append with an `after` hook cannot be deferred")
        # Within one transaction the head and stream versions this recorder wrote are remembered, so a second
        # append in the same transaction (the policy engine's decision after a fact) skips those round trips.
        unit = self._locked(conn)
        seq, prev = unit.seq, unit.prev
        known = unit.known
        before: dict[str, int] = {}
        current: dict[str, int] = {}
        stored: list[StoredEvent] = []
        rows: list[dict[str, Any]] = []
        for item in pending:
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
            payload = item.payload_json()
            rules = [dict(r) for r in item.rules]
            recorded_at = format_utc(item.recorded_at)
            payload_canonical, payload_text = canonical_and_text(payload)
            rules_canonical, rules_text = canonical_and_text(rules)
            digest = event_digest(
                seq=seq,
                stream_id=item.stream_id,
                version=current[item.stream_id],
                type=item.type.value,
                recorded_at=recorded_at,
                actor=item.actor,
                authority=item.authority.value,
                subject_key=item.subject_key,
                payload=payload_canonical,
                rules=rules_canonical,
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
                    "payload": payload_text,
                    "rules": rules_text,
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
        """Write what deferred appends left in this transaction: side rows, events, the chain head, view rows."""
        unit = conn.info.get("ledger_memo")
        if isinstance(unit, _Unit) and unit.transaction is conn.get_transaction():
            if unit.side:
                side, unit.side = unit.side, []
                write_rows(conn, side)
            if unit.rows:
                rows, unit.rows = unit.rows, []
                try:
                    conn.execute(_INSERT_EVENTS, rows)
                except IntegrityError as error:  # belt and braces: the unique (stream, version) index
                    raise ConcurrencyError(str(rows[0]["stream_id"]), -1, -1) from error
            if unit.seq != unit.written_seq:
                conn.execute(_SET_HEAD, {"head_seq": unit.seq, "head_hash": unit.prev})
                unit.written_seq = unit.seq
        flush(conn)

    @staticmethod
    def _locked(conn: Connection) -> _Unit:
        """The chain head, locked for this transaction (taken once per transaction)."""
        transaction = conn.get_transaction()
        unit = conn.info.get("ledger_memo")
        if not isinstance(unit, _Unit) or unit.transaction is not transaction:
            row = conn.execute(_HEAD_FOR_UPDATE).one()
            unit = _Unit(transaction, int(row.seq), str(row.hash))
            conn.info["ledger_memo"] = unit
            # Views read before the lock may be stale (another process may have written meanwhile): forget them.
            conn.info.pop("views_memo", None)
        return unit

    def lock(self, conn: Connection, stream_ids: Iterable[str]) -> dict[str, int]:
        """Take the chain lock in ``conn``'s write transaction and return the current version of each stream.

        One query for all the streams; the versions are remembered, so the appends that follow in the same
        transaction do not ask again. A command prepared outside the lock compares these with what it read.
        """
        known = self._locked(conn).known
        wanted = sorted({s for s in stream_ids if s not in known})
        if wanted:
            found = dict.fromkeys(wanted, 0)
            rows = conn.execute(_STREAM_VERSIONS, {"streams": wanted})
            for stream_id, version in rows:
                found[str(stream_id)] = int(version or 0)
            known.update(found)
        return {s: known[s] for s in stream_ids}

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

    def rebuild_projections(self) -> int:
        with write_connection(self.engine) as conn, conn.begin():
            return rebuild(conn, list(self.iter_all(conn=conn)))
