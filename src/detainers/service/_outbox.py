"""The outbox: notices written in the same transaction as their ``notification_queued`` event, then delivered with
retries (exponential back-off) and the same idempotency key every time. A delivered notice becomes a
``notification_sent`` event; one that keeps failing becomes ``notification_failed`` after ``max_attempts``.

A notice follows the law at the moment it is sent, not when it was queued: just before each attempt the outbox
reads the detainer, the person's custody and the decision in force again, and cancels the notice (a
``notification_cancelled`` event naming why) when ICE lifted the detainer, the person left custody, the decision
(or a supervisor's override) no longer allows notice, the detainer no longer asks for it, or the release time it
tells has changed (the worker then queues an updated notice under its own key).

Deliveries run concurrently, each with its own deadline, so one endpoint that hangs delays no other notice. A
worker takes a lease on a row just before it sends it (a conditional UPDATE moving ``next_attempt_at`` past the
call's deadline), so two workers never send the same row at once. Delivery is at least once: a crash after the
receiver accepted a notice and before the outbox recorded it sends it again, with the same key (docs/api.md).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as CallTimeout
from datetime import datetime, timedelta
from typing import Any

from detainers.desk import (
    BookingState,
    Desk,
    DeskDecision,
    DetainerState,
    NotFound,
    OutboxItem,
    decision_of,
    parse_utc,
    requests_notify,
)
from detainers.service._logging import log_event
from detainers.service._notifiers import DeliveryError, Notice, Notifier

__all__ = ["Outbox", "OutboxItem", "same_timing", "timing_of"]

_log = logging.getLogger("detainers.outbox")


def _instant(text: Any) -> datetime | None:
    return parse_utc(str(text).replace("Z", "+00:00")) if text else None


def timing_of(booking: BookingState, decision: DeskDecision) -> dict[str, str | None]:
    """The release timing a notice tells ICE: when the person would go free, and the hold deadline (as written)."""
    return {"release_eligible_at": booking.eligible_at, "hold_until": decision.written.get("hold_until")}


def same_timing(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two notices tell the same times (compared as instants, whatever their written offsets)."""
    return all(_instant(a.get(k)) == _instant(b.get(k)) for k in ("release_eligible_at", "hold_until"))


class Outbox:
    def __init__(
        self,
        desk: Desk,
        notifiers: Mapping[str, Notifier],
        *,
        max_attempts: int = 8,
        first_retry: timedelta = timedelta(seconds=30),
        call_deadline: timedelta = timedelta(seconds=20),
        lease: timedelta | None = None,
        workers: int = 8,
    ) -> None:
        self.desk = desk
        self.notifiers = dict(notifiers)
        self.max_attempts = max_attempts
        self.first_retry = first_retry
        self.call_deadline = call_deadline
        # A row's lease outlasts its call's deadline, so no other worker takes it while it may still be in flight.
        self.lease = lease if lease is not None else call_deadline * 3
        if self.lease <= call_deadline:
            raise ValueError("the lease on a row must outlast the call's deadline")
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None  # deliveries, one row each
        self._calls: ThreadPoolExecutor | None = None  # the notifier calls themselves (so a deadline can cut one)
        self._guard = threading.Lock()
        self._inflight: set[int] = set()

    # ---------------------------------------------------------------- queueing

    def next_due(self) -> datetime | None:
        return self.desk.next_notice_due()

    def rows(
        self, *, office: str | None = None, status: str | None = None, booking_id: str | None = None
    ) -> list[dict[str, Any]]:
        return self.desk.notice_rows(office=office, status=status, booking_id=booking_id)

    # ---------------------------------------------------------------- delivering

    def _executors(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        with self._guard:
            if self._pool is None or self._calls is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="outbox")
                self._calls = ThreadPoolExecutor(self.workers * 2, thread_name_prefix="outbox-call")
            return self._pool, self._calls

    def close(self) -> None:
        with self._guard:
            pool, calls, self._pool, self._calls = self._pool, self._calls, None, None
        for executor in (pool, calls):
            if executor is not None:
                executor.shutdown(wait=False, cancel_futures=True)

    def deliver_due(self, *, limit: int = 100, wait: bool = True) -> int:
        """Start delivering every pending notice whose time has come, each in its own task with its own deadline.

        With ``wait`` (a worker pass in tests and ``detainers worker --once``), return how many got through once all
        have finished or hit their deadline; without it, return at once (the worker's loop goes on with deadlines
        while notices travel)."""
        due = self.desk.due_notices(self.desk.now(), limit)
        pool, _calls = self._executors()
        futures: list[Future[bool]] = []
        with self._guard:
            for row_id in due:
                if row_id in self._inflight:
                    continue
                self._inflight.add(row_id)
                futures.append(pool.submit(self._deliver_one, row_id))
        if not wait:
            return 0
        return sum(1 for f in futures if f.result())

    def _deliver_one(self, row_id: int) -> bool:
        """Claim one row, check it is still lawful and needed, send it within the deadline; True if it got there."""
        try:
            row = self._claim(row_id)
            if row is None:
                return False
            stop = self._why_not(row)
            if stop is not None:
                self._cancel(row, *stop)
                return False
            notifier = self.notifiers.get(row.channel)
            attempts = row.attempts + 1
            try:
                if notifier is None:
                    raise DeliveryError(f"no notifier for channel {row.channel!r}")
                self._call(notifier, Notice(row.idempotency_key, row.channel, row.target, json.loads(row.body)))
            except DeliveryError as error:
                self._failed(row, attempts, str(error))
                return False
            self._sent(row, attempts)
            return True
        except Exception:  # noqa: BLE001 - one notice's trouble must not stop the others; it is logged
            _log.exception("outbox delivery failed", extra={"row": row_id})
            return False
        finally:
            with self._guard:
                self._inflight.discard(row_id)

    def _call(self, notifier: Notifier, notice: Notice) -> None:
        """The notifier's call, cut off at the deadline (the call's own socket timeouts end it soon after)."""
        _pool, calls = self._executors()
        future = calls.submit(notifier.deliver, notice)
        try:
            future.result(timeout=self.call_deadline.total_seconds())
        except CallTimeout as error:
            raise DeliveryError(f"no answer within {self.call_deadline.total_seconds():g} s") from error

    def _claim(self, row_id: int) -> Any:
        """Take the lease on one due row (None if another worker has it, or it is no longer due)."""
        now = self.desk.now()
        return self.desk.claim_notice(row_id, now, now + self.lease)

    def _why_not(self, row: Any) -> tuple[str, str] | None:
        """Why the notice must not (or need not) go now, as (reason, detail); None if it still should."""
        try:
            detainer: DetainerState = self.desk.detainer(row.detainer_id)
            booking: BookingState = self.desk.booking(row.booking_id)
        except NotFound:
            return "unlinked", "the detainer or the booking is no longer on the desk"
        if detainer.lifted_at is not None:
            return "lifted", f"ICE lifted the detainer at {detainer.lifted_at} ({detainer.lift_reason})"
        if detainer.booking_id != row.booking_id:
            return "unlinked", "the detainer is no longer linked to this booking"
        if detainer.office != row.office:
            return "superseded", f"the detainer's office is now {detainer.office}: the notice goes there instead"
        if not requests_notify(detainer):
            return "not_requested", "the detainer (as corrected) does not ask for notice of release"
        if booking.status == "released":
            return "released", f"the person was released at {booking.released_at}: no release notice is needed"
        if booking.status == "transferred":
            return "transferred", f"custody passed to {booking.to_agency} at {booking.transferred_at}"
        decision = decision_of(booking)
        if decision is None:
            return "not_allowed", "no decision in force allows notice to ICE"
        if not decision.notify:
            if decision.override_notify is False:
                return "not_allowed", f"a supervisor's override forbids notice to ICE: {decision.override_reason}"
            rules = ", ".join(str(r.get("id")) for r in decision.rules) or "no rule allows it"
            return "not_allowed", f"the decision in force does not allow notice to ICE (rules: {rules})"
        body = json.loads(row.body)
        now = timing_of(booking, decision)
        if not same_timing(body, now):
            return (
                "superseded",
                f"the release timing changed (release {now['release_eligible_at']}, hold until {now['hold_until']}):"
                " an updated notice goes under its own key",
            )
        return None

    def _cancel(self, row: Any, reason: str, detail: str) -> None:
        self.desk.notice_cancelled(row, reason, detail)
        log_event(_log, "notice cancelled", key=row.idempotency_key, channel=row.channel, reason=reason)

    def _sent(self, row: Any, attempts: int) -> None:
        self.desk.notice_sent(row, attempts)
        log_event(_log, "notice sent", key=row.idempotency_key, channel=row.channel, attempts=attempts)

    def _failed(self, row: Any, attempts: int, error: str) -> None:
        give_up = attempts >= self.max_attempts
        retry_at = self.desk.now() + self.first_retry * (2 ** (attempts - 1))
        self.desk.notice_failed(row, attempts, error, give_up=give_up, retry_at=retry_at)
        log_event(
            _log,
            "notice delivery failed",
            key=row.idempotency_key,
            channel=row.channel,
            attempts=attempts,
            error=error,
            gave_up=give_up,
        )
