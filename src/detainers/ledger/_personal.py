"""Personal data (names, dates of birth, A-numbers, addresses) kept apart from the events.

Events carry only a random ``subject_key``. Reading personal data appends a ``personal_data_read`` event (who,
when, why) and an access-log row in the same transaction, so no read goes unrecorded. Erasure (court-ordered
expungement) deletes the row; the events, and so the chain, are untouched. On SQLite the deletion overwrites the
row's bytes (``secure_delete``) and the write-ahead log is then checkpointed and truncated, so the erased data does not
linger in ``-wal`` or in free pages of the file (docs/security.md, "Erasure and backups").
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, delete, insert, select

from detainers.domain import ANumber
from detainers.ledger._database import is_sqlite, write_connection
from detainers.ledger._events import (
    Authority,
    PendingEvent,
    PersonalDataErased,
    PersonalDataRead,
    PersonalDataRecorded,
    StoredEvent,
    format_utc,
)
from detainers.ledger._projections import PERSON_PREFIX
from detainers.ledger._recorder import Recorder, SideRow, write_rows
from detainers.ledger._schema import access_log, personal_data

__all__ = ["PersonalData", "PersonalDataErasedError", "PersonalStore", "new_subject_key", "truncate_wal"]


def truncate_wal(raw: Any, *, attempts: int = 50, pause: float = 0.02) -> bool:
    """Checkpoint a SQLite database's write-ahead log into its file and truncate the log to zero bytes.

    ``raw`` is a sqlite3 connection outside any transaction. A reader still using old log frames makes SQLite answer
    "busy" without truncating; this tries again for about a second, then returns False (the log is truncated by the
    next checkpoint that succeeds; the data's pages are already overwritten in the file by then).
    """
    for _ in range(attempts):
        busy, _log, _copied = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy == 0:
            return True
        time.sleep(pause)
    return False


def new_subject_key() -> str:
    return "s_" + secrets.token_hex(12)


class PersonalDataErasedError(LookupError):
    """The subject's personal data was erased (or never existed)."""


class PersonalData(BaseModel):
    """What identifies a person. Never logged, never in an event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family_name: str | None = Field(default=None, max_length=120)
    given_names: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = None
    a_number: ANumber | None = None
    citizenship: str | None = Field(default=None, max_length=80)
    sex: str | None = Field(default=None, max_length=20)
    fbi_number: str | None = Field(default=None, max_length=40)
    state_id: str | None = Field(default=None, max_length=40)
    addresses: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def present_fields(self) -> tuple[str, ...]:
        return tuple(sorted(k for k, v in self.model_dump().items() if v not in (None, (), [])))


class PersonalStore:
    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder

    def record_in(
        self,
        conn: Connection,
        data: PersonalData,
        *,
        actor: str,
        authority: Authority,
        now: datetime,
        subject_key: str | None = None,
    ) -> str:
        """Store personal data inside the caller's write transaction; returns the subject key."""
        key, event = self.prepare_in(conn, data, actor=actor, authority=authority, now=now, subject_key=subject_key)
        self.recorder.append_in(conn, [event])
        return key

    def prepare_in(
        self,
        conn: Connection,
        data: PersonalData,
        *,
        actor: str,
        authority: Authority,
        now: datetime,
        subject_key: str | None = None,
    ) -> tuple[str, PendingEvent]:
        """Store the row and return the ``personal_data_recorded`` event for the caller to append in its batch."""
        key, event, row = self.prepare(data, actor=actor, authority=authority, now=now, subject_key=subject_key)
        write_rows(conn, [row])
        return key, event

    def prepare(
        self,
        data: PersonalData,
        *,
        actor: str,
        authority: Authority,
        now: datetime,
        subject_key: str | None = None,
    ) -> tuple[str, PendingEvent, SideRow]:
        """The subject key, the ``personal_data_recorded`` event and the row that stores the data (for the
        caller's write transaction: a command prepared outside the chain lock writes nothing until it holds it)."""
        key = subject_key or new_subject_key()
        row: SideRow = (
            personal_data,
            {"subject_key": key, "data": data.model_dump_json(), "created_at": format_utc(now)},
        )
        event = PendingEvent(
            stream_id=PERSON_PREFIX + key,
            expected_version=0,
            payload=PersonalDataRecorded(fields=data.present_fields()),
            actor=actor,
            authority=authority,
            recorded_at=now,
            subject_key=key,
        )
        return key, event, row

    def record(self, data: PersonalData, *, actor: str, authority: Authority, now: datetime) -> str:
        with write_connection(self.recorder.engine) as conn, conn.begin():
            return self.record_in(conn, data, actor=actor, authority=authority, now=now)

    def read(self, subject_key: str, *, actor: str, role: str, purpose: str, now: datetime) -> PersonalData:
        """Return the data and log the read (event + access-log row) in one transaction."""
        with write_connection(self.recorder.engine) as conn, conn.begin():
            row = conn.execute(select(personal_data.c.data).where(personal_data.c.subject_key == subject_key)).first()
            if row is None:
                raise PersonalDataErasedError(subject_key)
            conn.execute(
                insert(access_log).values(
                    subject_key=subject_key, actor=actor, role=role, purpose=purpose, at=format_utc(now)
                )
            )
            self.recorder.append_in(
                conn,
                [
                    PendingEvent(
                        stream_id=PERSON_PREFIX + subject_key,
                        expected_version=None,
                        payload=PersonalDataRead(purpose=purpose),
                        actor=actor,
                        authority=Authority.API,
                        recorded_at=now,
                        subject_key=subject_key,
                    )
                ],
            )
            return PersonalData.model_validate(json.loads(row.data))

    def exists(self, subject_key: str) -> bool:
        with self.recorder.engine.connect() as conn:
            found = conn.execute(
                select(personal_data.c.subject_key).where(personal_data.c.subject_key == subject_key)
            ).first()
        return found is not None

    def erase(self, subject_key: str, *, actor: str, order_reference: str, reason: str, now: datetime) -> StoredEvent:
        """Delete the personal data and record the erasure; the chain still verifies.

        SQLite: the row's bytes are overwritten as it is deleted (``PRAGMA secure_delete``) and, once committed, the
        write-ahead log is copied into the file and truncated (``wal_checkpoint(TRUNCATE)``), so no copy of the
        erased data stays in ``-wal`` or in the file's free space. See :func:`truncate_wal` for when readers delay it.
        """
        with write_connection(self.recorder.engine) as conn:
            raw = conn.connection.driver_connection if is_sqlite(conn) else None
            secure_before = 0
            if raw is not None:
                secure_before = int(raw.execute("PRAGMA secure_delete").fetchone()[0])
                raw.execute("PRAGMA secure_delete=ON")
            try:
                with conn.begin():
                    gone = conn.execute(delete(personal_data).where(personal_data.c.subject_key == subject_key))
                    if gone.rowcount == 0:
                        raise PersonalDataErasedError(subject_key)
                    (event,) = self.recorder.append_in(
                        conn,
                        [
                            PendingEvent(
                                stream_id=PERSON_PREFIX + subject_key,
                                expected_version=None,
                                payload=PersonalDataErased(order_reference=order_reference, reason=reason),
                                actor=actor,
                                authority=Authority.API,
                                recorded_at=now,
                                subject_key=subject_key,
                            )
                        ],
                    )
            finally:
                if raw is not None:
                    raw.execute(f"PRAGMA secure_delete={secure_before}")
            if raw is not None:
                truncate_wal(raw)
            return event

    def access_log(self, *, subject_key: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, str]]:
        query = select(access_log).order_by(access_log.c.id.desc()).limit(limit).offset(offset)
        if subject_key is not None:
            query = query.where(access_log.c.subject_key == subject_key)
        with self.recorder.engine.connect() as conn:
            return [
                {"subject_key": r.subject_key, "actor": r.actor, "role": r.role, "purpose": r.purpose, "at": r.at}
                for r in conn.execute(query)
            ]
