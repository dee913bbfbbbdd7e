"""Notices to ICE as the desk records them: the outbox table (a notice is queued in the same transaction as its
``notification_queued`` event) and the commands the deadline worker and the outbox write through.

The worker and the outbox (``detainers.service``) decide *when* to queue, send, retry or cancel; every row they
change and every event they append goes through these commands, in the desk's unit of work, so the records the desk
prepares its commands from stay current without anyone invalidating anything by hand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from detainers.desk._queries import Queries
from detainers.desk._unit_of_work import pending_event
from detainers.ledger import (
    BOOKING_PREFIX,
    DETAINER_PREFIX,
    Authority,
    BookingState,
    DeadlineWarning,
    DetainerState,
    NotificationCancelled,
    NotificationFailed,
    NotificationQueued,
    NotificationSent,
    OverLimitMarked,
    PersonNoticeOverdue,
    StoredEvent,
    format_utc,
    outbox,
    parse_utc,
    write_connection,
    writer_lock,
)

__all__ = ["NoticeCommands", "OutboxItem"]

WORKER = "worker:deadlines"
OUTBOX = "worker:outbox"


@dataclass(frozen=True)
class OutboxItem:
    idempotency_key: str
    booking_id: str
    detainer_id: str
    office: str
    channel: str
    target: str
    body: dict[str, Any]


class NoticeCommands(Queries):
    """The outbox table and the worker's and the outbox's writes."""

    # ---------------------------------------------------------------- the deadline worker

    def queue_notice(self, item: OutboxItem, queued: NotificationQueued, *, due: datetime) -> bool:
        """Queue a notice and record its ``notification_queued`` event in one transaction; False (nothing written)
        when a notice under the same idempotency key is already queued."""
        now = self.now()

        def work(conn: Connection) -> bool:
            exists = conn.execute(select(outbox.c.id).where(outbox.c.idempotency_key == item.idempotency_key))
            if exists.first():
                return False
            conn.execute(
                insert(outbox).values(
                    idempotency_key=item.idempotency_key,
                    booking_id=item.booking_id,
                    detainer_id=item.detainer_id,
                    office=item.office,
                    channel=item.channel,
                    target=item.target,
                    body=json.dumps(item.body, sort_keys=True),
                    status="pending",
                    attempts=0,
                    next_attempt_at=format_utc(due),
                    created_at=format_utc(now),
                )
            )
            rules = item.body.get("rules", ())
            self.recorder.append_in(
                conn,
                [
                    pending_event(
                        DETAINER_PREFIX + item.detainer_id, None, queued, WORKER, Authority.WORKER, now, rules=rules
                    )
                ],
            )
            return True

        return self._write(work)

    def mark_deadline(
        self, booking: BookingState, payload: OverLimitMarked | DeadlineWarning, rules: Sequence[dict[str, Any]]
    ) -> list[StoredEvent]:
        """Record a hold deadline's warning or its passing on the booking (refused with a conflict when the
        booking moved since ``booking`` was read)."""
        stream = BOOKING_PREFIX + booking.id
        event = pending_event(
            stream,
            booking.version,
            payload,
            WORKER,
            Authority.WORKER,
            self.now(),
            subject_key=booking.subject_key,
            rules=rules,
        )
        return self._write(lambda conn: self.recorder.append_in(conn, [event]))

    def mark_person_notice_overdue(self, detainer: DetainerState, payload: PersonNoticeOverdue) -> DetainerState:
        """Record that a notice owed to the person is past its moment and not served (refused with a conflict when
        the detainer moved since ``detainer`` was read); answers the detainer as it now stands."""
        event = pending_event(
            DETAINER_PREFIX + detainer.id, detainer.version, payload, WORKER, Authority.WORKER, self.now()
        )
        self._write(lambda conn: self.recorder.append_in(conn, [event]))
        return self.detainer(detainer.id)

    # ---------------------------------------------------------------- the outbox

    def notice_rows(
        self, *, office: str | None = None, status: str | None = None, booking_id: str | None = None
    ) -> list[dict[str, Any]]:
        query = select(outbox).order_by(outbox.c.id)
        if office is not None:
            query = query.where(outbox.c.office == office)
        if status is not None:
            query = query.where(outbox.c.status == status)
        if booking_id is not None:
            query = query.where(outbox.c.booking_id == booking_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def next_notice_due(self) -> datetime | None:
        with self.engine.connect() as conn:
            found = conn.execute(
                select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status == "pending")
            ).scalar()
        return parse_utc(found) if found else None

    def due_notices(self, now: datetime, limit: int) -> list[int]:
        """The ids of pending notices whose time has come, soonest first."""
        with self.engine.connect() as conn:
            due = conn.execute(
                select(outbox.c.id)
                .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= format_utc(now))
                .order_by(outbox.c.next_attempt_at, outbox.c.id)
                .limit(limit)
            ).all()
        return [row.id for row in due]

    def claim_notice(self, row_id: int, now: datetime, lease_until: datetime) -> Any:
        """Take the lease on one due row (None if another worker has it, or it is no longer due)."""
        stamp = format_utc(now)
        with writer_lock(self.engine), write_connection(self.engine) as conn, conn.begin():
            row = conn.execute(select(outbox).where(outbox.c.id == row_id)).first()
            if row is None or row.status != "pending" or row.next_attempt_at > stamp:
                return None
            done = conn.execute(
                update(outbox)
                .where(
                    outbox.c.id == row_id, outbox.c.status == "pending", outbox.c.next_attempt_at == row.next_attempt_at
                )
                .values(next_attempt_at=format_utc(lease_until))
            ).rowcount
        return row if done else None

    def notice_cancelled(self, row: Any, reason: str, detail: str) -> None:
        payload = NotificationCancelled(
            detainer_id=row.detainer_id,
            channel=row.channel,
            idempotency_key=row.idempotency_key,
            reason=reason,
            detail=detail[:500],
        )
        self._close_notice(row, {"status": "cancelled", "last_error": detail[:500]}, payload)

    def notice_sent(self, row: Any, attempts: int) -> None:
        now = self.now()
        payload = NotificationSent(
            detainer_id=row.detainer_id,
            office=row.office,
            channel=row.channel,
            idempotency_key=row.idempotency_key,
            sent_at=now,
            attempts=attempts,
            recipient=row.office,
        )
        values = {"status": "sent", "attempts": attempts, "sent_at": format_utc(now), "last_error": None}
        self._close_notice(row, values, payload, rules=json.loads(row.body).get("rules", ()))

    def notice_failed(self, row: Any, attempts: int, error: str, *, give_up: bool, retry_at: datetime) -> None:
        values = {
            "status": "failed" if give_up else "pending",
            "attempts": attempts,
            "next_attempt_at": format_utc(retry_at),
            "last_error": error[:500],
        }
        payload = None
        if give_up:
            payload = NotificationFailed(
                detainer_id=row.detainer_id,
                channel=row.channel,
                idempotency_key=row.idempotency_key,
                attempts=attempts,
                error=error[:500],
            )
        self._close_notice(row, values, payload)

    def _close_notice(
        self,
        row: Any,
        values: dict[str, Any],
        payload: NotificationCancelled | NotificationSent | NotificationFailed | None,
        *,
        rules: Sequence[dict[str, Any]] = (),
    ) -> None:
        now = self.now()

        def work(conn: Connection) -> None:
            conn.execute(update(outbox).where(outbox.c.id == row.id).values(**values))
            if payload is not None:
                event = pending_event(
                    DETAINER_PREFIX + row.detainer_id, None, payload, OUTBOX, Authority.WORKER, now, rules=rules
                )
                self.recorder.append_in(conn, [event])

        self._write(work)
