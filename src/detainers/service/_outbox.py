"""The outbox: notices written in the same transaction as their ``notification_queued`` event, then delivered
with retries (exponential back-off) and the same idempotency key every time. A delivered notice becomes a
``notification_sent`` event; one that keeps failing becomes ``notification_failed`` after ``max_attempts``.

Two workers never send the same row at once: each claims a row by moving its ``next_attempt_at`` forward with a
conditional UPDATE before sending.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from detainers.ledger import (
    DETAINER_PREFIX,
    Authority,
    NotificationFailed,
    NotificationSent,
    PendingEvent,
    format_utc,
    parse_utc,
    write_connection,
)
from detainers.ledger._schema import outbox
from detainers.service._desk import Desk
from detainers.service._logging import log_event
from detainers.service._notifiers import DeliveryError, Notice, Notifier

__all__ = ["Outbox", "OutboxItem"]

_log = logging.getLogger("detainers.outbox")


@dataclass(frozen=True)
class OutboxItem:
    idempotency_key: str
    booking_id: str
    detainer_id: str
    office: str
    channel: str
    target: str
    body: dict[str, Any]


class Outbox:
    def __init__(
        self,
        desk: Desk,
        notifiers: Mapping[str, Notifier],
        *,
        max_attempts: int = 8,
        first_retry: timedelta = timedelta(seconds=30),
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self.desk = desk
        self.notifiers = dict(notifiers)
        self.max_attempts = max_attempts
        self.first_retry = first_retry
        self.lease = lease

    def enqueue_in(self, conn: Connection, item: OutboxItem, *, due: datetime) -> bool:
        """Add a notice unless its idempotency key is already there (then nothing happens)."""
        exists = conn.execute(select(outbox.c.id).where(outbox.c.idempotency_key == item.idempotency_key)).first()
        if exists:
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
                created_at=format_utc(self.desk.now()),
            )
        )
        return True

    def next_due(self) -> datetime | None:
        with self.desk.engine.connect() as conn:
            found = conn.execute(
                select(func.min(outbox.c.next_attempt_at)).where(outbox.c.status == "pending")
            ).scalar()
        return parse_utc(found) if found else None

    def rows(self, *, office: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        query = select(outbox).order_by(outbox.c.id)
        if office is not None:
            query = query.where(outbox.c.office == office)
        if status is not None:
            query = query.where(outbox.c.status == status)
        with self.desk.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def deliver_due(self, *, limit: int = 100) -> int:
        """Send every pending notice whose time has come; returns how many got through."""
        now = self.desk.now()
        stamp = format_utc(now)
        with self.desk.engine.connect() as conn:
            due = conn.execute(
                select(outbox)
                .where(outbox.c.status == "pending", outbox.c.next_attempt_at <= stamp)
                .order_by(outbox.c.next_attempt_at, outbox.c.id)
                .limit(limit)
            ).all()
        sent = 0
        for row in due:
            if not self._claim(row.id, row.next_attempt_at, now):
                continue
            notifier = self.notifiers.get(row.channel)
            attempts = row.attempts + 1
            try:
                if notifier is None:
                    raise DeliveryError(f"no notifier for channel {row.channel!r}")
                notifier.deliver(Notice(row.idempotency_key, row.channel, row.target, json.loads(row.body)))
            except DeliveryError as error:
                self._failed(row, attempts, str(error))
                continue
            self._sent(row, attempts)
            sent += 1
        return sent

    def _claim(self, row_id: int, seen: str, now: datetime) -> bool:
        with write_connection(self.desk.engine) as conn, conn.begin():
            done = conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id, outbox.c.status == "pending", outbox.c.next_attempt_at == seen)
                .values(next_attempt_at=format_utc(now + self.lease))
            ).rowcount
        return bool(done)

    def _sent(self, row: Any, attempts: int) -> None:
        now = self.desk.now()
        with write_connection(self.desk.engine) as conn, conn.begin():
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row.id)
                .values(status="sent", attempts=attempts, sent_at=format_utc(now), last_error=None)
            )
            body = json.loads(row.body)
            self.desk.recorder.append_in(
                conn,
                [
                    PendingEvent(
                        stream_id=DETAINER_PREFIX + row.detainer_id,
                        expected_version=None,
                        payload=NotificationSent(
                            detainer_id=row.detainer_id,
                            office=row.office,
                            channel=row.channel,
                            idempotency_key=row.idempotency_key,
                            sent_at=now,
                            attempts=attempts,
                            recipient=row.office,
                        ),
                        actor="worker:outbox",
                        authority=Authority.WORKER,
                        recorded_at=now,
                        rules=tuple(body.get("rules", ())),
                    )
                ],
            )
        self.desk.latest.forget([("detainer", row.detainer_id)])  # written beside the desk's commands
        log_event(_log, "notice sent", key=row.idempotency_key, channel=row.channel, attempts=attempts)

    def _failed(self, row: Any, attempts: int, error: str) -> None:
        now = self.desk.now()
        give_up = attempts >= self.max_attempts
        retry_at = now + self.first_retry * (2 ** (attempts - 1))
        with write_connection(self.desk.engine) as conn, conn.begin():
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row.id)
                .values(
                    status="failed" if give_up else "pending",
                    attempts=attempts,
                    next_attempt_at=format_utc(retry_at),
                    last_error=error[:500],
                )
            )
            if give_up:
                self.desk.recorder.append_in(
                    conn,
                    [
                        PendingEvent(
                            stream_id=DETAINER_PREFIX + row.detainer_id,
                            expected_version=None,
                            payload=NotificationFailed(
                                detainer_id=row.detainer_id,
                                channel=row.channel,
                                idempotency_key=row.idempotency_key,
                                attempts=attempts,
                                error=error[:500],
                            ),
                            actor="worker:outbox",
                            authority=Authority.WORKER,
                            recorded_at=now,
                        )
                    ],
                )
        self.desk.latest.forget([("detainer", row.detainer_id)])
        log_event(
            _log,
            "notice delivery failed",
            key=row.idempotency_key,
            channel=row.channel,
            attempts=attempts,
            error=error,
            gave_up=give_up,
        )
