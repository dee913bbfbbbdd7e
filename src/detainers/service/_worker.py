"""The deadline worker: sends release notices when the policy allows or requires it and the time comes, warns the
desk before a hold deadline, and marks custody over its limit at the instant the deadline passes. Each action is a
ledger event. Runs in-process with ``detainers serve`` or alone as ``detainers worker``; the clock is injectable.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from detainers.ledger import (
    BOOKING_PREFIX,
    DETAINER_PREFIX,
    Authority,
    BookingState,
    ConcurrencyError,
    DeadlineWarning,
    DetainerState,
    NotificationQueued,
    OverLimitMarked,
    PendingEvent,
    PersonNoticeOverdue,
    format_utc,
    write_connection,
)
from detainers.service._desk import Desk, effective_decision
from detainers.service._logging import log_event
from detainers.service._outbox import Outbox, OutboxItem, same_timing, timing_of
from detainers.service._person_notices import person_notices

__all__ = ["Worker", "WorkerReport", "instant"]

_log = logging.getLogger("detainers.worker")
ACTOR = "worker:deadlines"


def instant(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class WorkerReport:
    queued: int = 0
    warned: int = 0
    over_limit: int = 0
    sent: int = 0
    person_notices_overdue: int = 0
    conflicts: int = 0
    errors: list[str] = field(default_factory=list)


class Worker:
    def __init__(self, desk: Desk, outbox: Outbox, *, warn_lead: timedelta = timedelta(hours=4)) -> None:
        self.desk = desk
        self.outbox = outbox
        self.warn_lead = warn_lead

    # ---------------------------------------------------------------- one pass

    def run_once(self, *, wait: bool = True) -> WorkerReport:
        """One pass: queue the notices now owed, warn and mark deadlines, then start the deliveries due (and with
        ``wait``, wait for them; the loop does not, so a slow endpoint never holds up the next deadline)."""
        report = WorkerReport()
        now = self.desk.now()
        for booking in self.desk.active_bookings():
            if booking.decision is None:
                continue
            decision = effective_decision(booking)
            try:
                self._notify(booking, decision, now, report)
                self._deadline(booking, decision, now, report)
                self._person_notices(booking, now, report)
            except ConcurrencyError:
                report.conflicts += 1  # somebody wrote meanwhile; the next pass sees the new state
        report.sent = self.outbox.deliver_due(wait=wait)
        if report.queued or report.warned or report.over_limit or report.sent or report.person_notices_overdue:
            log_event(
                _log,
                "worker pass",
                queued=report.queued,
                warned=report.warned,
                over_limit=report.over_limit,
                sent=report.sent,
                person_notices_overdue=report.person_notices_overdue,
            )
        return report

    def _notify_due(self, booking: BookingState, decision: dict[str, Any]) -> datetime | None:
        if not decision.get("notify"):
            return None
        return instant(decision.get("notify_target")) or instant(booking.eligible_at)

    def _pending_notices(self, booking: BookingState, decision: dict[str, Any], now: datetime) -> list[_Owed]:
        """Notices to queue now for the booking's detainers that ask for notice: a first one when its time has
        come, and an update (under its own key) wherever the last one queued tells ICE a release time that has
        since changed — at once if ICE already has the old time, else when notice is due."""
        due = self._notify_due(booking, decision)
        if due is None:
            return []
        timing = timing_of(booking, decision)
        queued = self.outbox.rows(booking_id=booking.id)
        todo = []
        for detainer in self.desk.detainers_of(booking):
            if detainer.lifted_at is not None or not self.desk.requests_notify(detainer):
                continue
            office = self.desk.office(detainer.office)
            if office is None:
                continue
            for channel, target in (("webhook", office.webhook_url), ("email", office.email)):
                if not target:
                    continue
                earlier = [r for r in queued if r["detainer_id"] == detainer.id and r["channel"] == channel]
                live = [r for r in earlier if r["status"] != "cancelled"]
                last = live[-1] if live else None
                if last is not None and same_timing(json.loads(last["body"]), timing):
                    continue  # ICE has (or is getting) these times
                told = [r for r in earlier if r["status"] == "sent"]
                when = now if told and not same_timing(json.loads(told[-1]["body"]), timing) else due
                if now < when:
                    continue
                revision = len(earlier) + 1
                key = _key(booking.id, detainer.id, channel, revision)
                supersedes = told[-1]["idempotency_key"] if told else None
                todo.append(_Owed(detainer, channel, target, key, revision, supersedes, when))
        return todo

    def _notify(self, booking: BookingState, decision: dict[str, Any], now: datetime, report: WorkerReport) -> None:
        rules = tuple(decision.get("rules", ()))
        timing = timing_of(booking, decision)
        for owed in self._pending_notices(booking, decision, now):
            detainer, key = owed.detainer, owed.key
            body = {
                "kind": "release_notification_update" if owed.supersedes else "release_notification",
                "subject": ("Updated release notification" if owed.supersedes else "Release notification")
                + f": booking {booking.booking_number}",
                "idempotency_key": key,
                "supersedes": owed.supersedes,
                "revision": owed.revision,
                "detainer_id": detainer.id,
                "ice_subject_id": detainer.ice_subject_id,
                "ice_event_no": detainer.ice_event_no,
                "booking_number": booking.booking_number,
                "facility": booking.facility,
                "jurisdiction": booking.jurisdiction,
                **timing,
                "rules": [dict(r) for r in rules],
            }
            item = OutboxItem(key, booking.id, detainer.id, detainer.office, owed.channel, owed.target, body)
            try:
                with write_connection(self.desk.engine) as conn, conn.begin():
                    if not self.outbox.enqueue_in(conn, item, due=now):
                        continue
                    self.desk.recorder.append_in(
                        conn,
                        [
                            PendingEvent(
                                stream_id=DETAINER_PREFIX + detainer.id,
                                expected_version=None,
                                payload=NotificationQueued(
                                    detainer_id=detainer.id,
                                    office=detainer.office,
                                    channel=owed.channel,
                                    idempotency_key=key,
                                    due_at=owed.due,
                                    release_at=instant(timing["release_eligible_at"]),
                                    hold_until=instant(timing["hold_until"]),
                                    supersedes=owed.supersedes,
                                ),
                                actor=ACTOR,
                                authority=Authority.WORKER,
                                recorded_at=now,
                                rules=rules,
                            )
                        ],
                    )
            except IntegrityError:
                continue  # another worker queued it first
            self.desk.latest.forget([("detainer", detainer.id)])  # written beside the desk's commands
            report.queued += 1

    def _deadline(self, booking: BookingState, decision: dict[str, Any], now: datetime, report: WorkerReport) -> None:
        hold_until = instant(decision.get("hold_until"))
        if hold_until is None or booking.over_limit_at is not None:
            return
        rules = tuple(decision.get("rules", ()))
        if now >= hold_until:
            payload: OverLimitMarked | DeadlineWarning = OverLimitMarked(at=hold_until, hold_until=hold_until)
            report.over_limit += 1
        elif now >= hold_until - self.warn_lead and instant(booking.warned_hold_until) != hold_until:
            payload = DeadlineWarning(hold_until=hold_until, lead_minutes=int(self.warn_lead.total_seconds() // 60))
            report.warned += 1
        else:
            return
        self.desk.recorder.append(
            [
                PendingEvent(
                    stream_id=BOOKING_PREFIX + booking.id,
                    expected_version=booking.version,
                    payload=payload,
                    actor=ACTOR,
                    authority=Authority.WORKER,
                    recorded_at=now,
                    subject_key=booking.subject_key,
                    rules=rules,
                )
            ]
        )
        self.desk.latest.forget([("booking", booking.id)])
        log_event(_log, payload.__class__.__name__, booking_id=booking.id, hold_until=format_utc(hold_until))

    def _person_notices(self, booking: BookingState, now: datetime, report: WorkerReport) -> None:
        """Warn once per notice owed to the person that is past its moment (on receipt; when ICE was told the
        release date) and not recorded as served: a ``person_notice_overdue`` event on the detainer's stream and a
        log line with ids and the notice's kind only. Notices whose moment the desk cannot see (before an ICE
        interview, while held) are shown on the detainer page but not warned about."""
        for detainer in self.desk.detainers_of(booking):
            if detainer.lifted_at:
                continue
            for notice in person_notices(detainer, booking, now):
                if notice.status != "due" or notice.due_at is None or notice.due_at > now:
                    continue
                if notice.key in detainer.person_notices_overdue:
                    continue
                payload = PersonNoticeOverdue(
                    kind=notice.kind,
                    recipient=notice.recipient,
                    rule=notice.owed.rule.id,
                    deadline=notice.deadline or "",
                    due_at=notice.due_at,
                )
                self.desk.recorder.append(
                    [
                        PendingEvent(
                            stream_id=DETAINER_PREFIX + detainer.id,
                            expected_version=detainer.version,
                            payload=payload,
                            actor=ACTOR,
                            authority=Authority.WORKER,
                            recorded_at=now,
                        )
                    ]
                )
                self.desk.latest.forget([("detainer", detainer.id)])
                detainer = self.desk.detainer(detainer.id)
                report.person_notices_overdue += 1
                log_event(
                    _log,
                    "person notice overdue",
                    detainer_id=detainer.id,
                    kind=notice.kind,
                    recipient=notice.recipient,
                    due_at=format_utc(notice.due_at),
                )

    # ---------------------------------------------------------------- scheduling

    def next_wake(self) -> datetime | None:
        """The next instant something is due (a notice, a warning, a deadline, a retry)."""
        candidates: list[datetime] = []
        for booking in self.desk.active_bookings():
            if booking.decision is None:
                continue
            decision = effective_decision(booking)
            due = self._notify_due(booking, decision)
            if due is not None:
                owed = self._pending_notices(booking, decision, max(due, self.desk.now()))
                candidates += [o.due for o in owed]
            hold_until = instant(decision.get("hold_until"))
            if hold_until is not None and booking.over_limit_at is None:
                candidates.append(hold_until)
                if instant(booking.warned_hold_until) != hold_until:
                    candidates.append(hold_until - self.warn_lead)
        retry = self.outbox.next_due()
        if retry is not None:
            candidates.append(retry)
        return min(candidates) if candidates else None

    def run_forever(self, stop: threading.Event, *, max_sleep: float = 15.0, min_sleep: float = 0.05) -> None:
        """Pass, then sleep until the next due instant (at most ``max_sleep``: new work arrives via the API)."""
        while not stop.is_set():
            try:
                self.run_once(wait=False)
                wake = self.next_wake()
            except Exception:  # noqa: BLE001 - a worker must keep going; the error is logged
                _log.exception("worker pass failed")
                wake = None
            delay = max_sleep
            if wake is not None:
                delay = min(max_sleep, max(min_sleep, (wake - self.desk.now()).total_seconds()))
            stop.wait(delay)


@dataclass(frozen=True)
class _Owed:
    """A notice to queue: to whom, by which channel, under which key, and which earlier notice it updates."""

    detainer: DetainerState
    channel: str
    target: str
    key: str
    revision: int
    supersedes: str | None
    due: datetime


def _key(booking_id: str, detainer_id: str, channel: str, revision: int = 1) -> str:
    """The first notice's key; later notices for the same detainer and channel (an update) add their number."""
    base = f"release:{booking_id}:{detainer_id}:{channel}"
    return base if revision == 1 else f"{base}:{revision}"
