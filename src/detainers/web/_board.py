"""The desk dashboard's rows: open detainers, what the policy allows, the next deadline, sorted by urgency."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from detainers.desk import BookingState, Desk, DetainerState, effective_decision
from detainers.service import need_to_know as ntk
from detainers.web._decision import holds_past_release
from detainers.web._format import as_instant

__all__ = ["STATUS_FILTERS", "Board", "BoardRow", "Deadline", "build_board", "next_deadline", "state_of", "with_people"]

STATUS_FILTERS = {
    "open": "All open detainers",
    "overdue": "Overdue only",
    "active": "In custody",
    "received": "Not yet linked to a booking",
}


@dataclass(frozen=True)
class Deadline:
    what: str
    at: datetime
    overdue: bool


@dataclass(frozen=True)
class BoardRow:
    detainer: DetainerState
    booking: BookingState | None
    decision: dict[str, Any] | None
    deadline: Deadline | None
    person: str | None = None

    @property
    def zone(self) -> str:
        return self.booking.timezone if self.booking else "UTC"

    @property
    def overdue(self) -> bool:
        return self.deadline is not None and self.deadline.overdue

    @property
    def facility(self) -> str:
        if self.booking is None:
            return "—"
        return self.booking.facility or self.booking.jurisdiction

    @property
    def holds(self) -> bool:
        return (
            self.decision is not None
            and self.booking is not None
            and holds_past_release(self.decision, self.booking.eligible_at)
        )

    @property
    def state(self) -> str:
        return state_of(self.detainer.jurisdiction)

    def sort_key(self) -> tuple[int, float]:
        if self.deadline is None:
            received = as_instant(self.detainer.received_at)
            return (2, -(received.timestamp() if received else 0.0))
        return (0 if self.deadline.overdue else 1, self.deadline.at.timestamp())


@dataclass
class Board:
    rows: list[BoardRow]
    total_open: int
    overdue: int
    facilities: list[str] = field(default_factory=list)
    states: list[str] = field(default_factory=list)


def state_of(jurisdiction: str | None) -> str:
    parts = (jurisdiction or "").split("/")
    return parts[1].upper() if len(parts) > 1 and parts[0] == "us" else ""


def _notice_sent(detainer: DetainerState) -> bool:
    return any(n.get("status") == "sent" for n in detainer.notices)


def next_deadline(
    detainer: DetainerState, booking: BookingState | None, decision: dict[str, Any] | None, now: datetime
) -> Deadline | None:
    """The deadline the desk must watch next for one detainer (overdue ones win, most overdue first)."""
    if booking is None or booking.status != "in_custody" or detainer.lifted_at:
        return None
    found: list[Deadline] = []
    decision = decision or {}
    hold_until = as_instant(decision.get("hold_until"))
    eligible = as_instant(booking.eligible_at)
    over_limit = as_instant(booking.over_limit_at)
    holds = holds_past_release(decision, booking.eligible_at)
    if over_limit is not None:
        # Marked when custody ran past its lawful end: the hold limit where a hold is allowed, else release.
        what = "Past the lawful hold limit" if holds else "Release was due (no hold allowed)"
        found.append(Deadline(what, over_limit, True))
    elif hold_until is not None and holds:
        past = hold_until <= now
        found.append(Deadline("Past the lawful hold limit" if past else "Hold ends", hold_until, past))
    else:
        release = hold_until or eligible  # without a hold, custody ends at release eligibility
        if release is not None:
            past = release <= now
            found.append(Deadline("Release was due (no hold allowed)" if past else "Release due", release, past))
    target = as_instant(decision.get("notify_target"))
    if decision.get("notify") and target is not None and not _notice_sent(detainer):
        late = target <= now
        found.append(Deadline("Notice to ICE is late" if late else "Notify ICE", target, late))
    if not found:
        return None
    overdue = [d for d in found if d.overdue]
    if overdue:
        return min(overdue, key=lambda d: d.at)
    return min(found, key=lambda d: d.at)


def build_board(
    desk: Desk,
    *,
    now: datetime,
    audience: ntk.Audience,
    status: str = "open",
    facility: str | None = None,
    state: str | None = None,
    limit: int = 5000,
) -> Board:
    """Every open detainer the viewer may see, as the viewer may see it (``_need_to_know``), filtered and sorted by
    urgency. An ICE liaison's rows whose release information is not shared have no booking, decision or deadline:
    they sort, filter and count as detainers not yet linked, whatever the person's custody."""
    bookings = {b.id: b for b in desk.active_bookings()}
    rows: list[BoardRow] = []
    if audience.liaison:
        found, _ = desk.list_detainers(office=audience.office, limit=1_000_000)
        for record in ntk.records_for(desk, found):
            shown, sight, _withheld = ntk.detainer_for(audience, record)
            if shown.status not in ("active", "received"):
                continue
            if sight is ntk.Sight.REQUEST_ONLY or record.booking is None:
                rows.append(BoardRow(shown, None, None, None))
                continue
            effective = ntk.decision_for(audience, record)["effective"]
            deadline = next_deadline(shown, record.booking, effective, now)
            rows.append(BoardRow(shown, record.booking, effective, deadline))
    else:
        detainers: list[DetainerState] = []
        for wanted in ("active", "received"):
            found, _ = desk.list_detainers(status=wanted, limit=limit)
            detainers.extend(found)
        for detainer in detainers:
            booking = bookings.get(detainer.booking_id or "")
            decision = effective_decision(booking) if booking is not None and booking.decision else None
            rows.append(BoardRow(detainer, booking, decision, next_deadline(detainer, booking, decision, now)))
    facilities = sorted({r.facility for r in rows if r.booking is not None})
    states = sorted({r.state for r in rows if r.state})
    total, overdue = len(rows), sum(r.overdue for r in rows)
    chosen = [
        r
        for r in rows
        if (status in ("open", "") or (status == "overdue" and r.overdue) or r.detainer.status == status)
        and (not facility or r.facility == facility)
        and (not state or r.state == state)
    ]
    chosen.sort(key=BoardRow.sort_key)
    return Board(chosen, total, overdue, facilities, states)


def with_people(rows: Sequence[BoardRow], names: dict[str, str]) -> list[BoardRow]:
    out = []
    for row in rows:
        key = (row.booking.subject_key if row.booking else None) or row.detainer.subject_key
        out.append(BoardRow(row.detainer, row.booking, row.decision, row.deadline, names.get(key or "")))
    return out
