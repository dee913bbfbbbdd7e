"""Hold and notification deadlines (8 CFR 287.7(d); the I-247A's "48 hours beyond the time ... otherwise ... released").

Two readings of "48 hours": the I-247A's elapsed 48 h, and 8 CFR 287.7(d)'s 48 h "excluding Saturdays, Sundays, and
holidays", which we count as real time falling on local business days (midnight to midnight in the facility's zone).
A third clock is a state's own cap: custody only until 11:59 p.m. of the local day the person became eligible for
release (New Jersey's Immigrant Trust Directive).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from detainers.clock._calendar import HolidayCalendar
from detainers.clock._zones import Zone, as_zone, local_date, require_aware, start_of_local_day

__all__ = [
    "HoldClockKind",
    "business_deadline",
    "elapsed_deadline",
    "hold_deadline",
    "notify_late",
    "same_day_deadline",
    "notify_target",
]

_SATURDAY = 5


class HoldClockKind(StrEnum):
    ELAPSED = "elapsed"  # 48 h of real elapsed time (I-247A, 2017-)
    BUSINESS = "business"  # excluding Saturdays, Sundays and holidays (8 CFR 287.7(d), pre-2015 I-247)
    NONE = "none"  # no hold requested (notification-only forms)
    SAME_DAY = "same_day"  # until 11:59 p.m. of the local day of release eligibility (a state cap, e.g. New Jersey)


def _duration(hours: float) -> timedelta:
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not math.isfinite(hours):
        raise ValueError(f"hours must be a finite number, got {hours!r}")
    if hours < 0:
        raise ValueError(f"hours must not be negative, got {hours!r}")
    return timedelta(hours=hours)


def elapsed_deadline(start: datetime, hours: float = 48) -> datetime:
    """``start`` plus ``hours`` of real time, in the same tzinfo as ``start``.

    Aware ``datetime + timedelta`` is wall-clock arithmetic and would be an hour off across DST; go through UTC.
    """
    require_aware(start, "start")
    assert start.tzinfo is not None
    return (start.astimezone(UTC) + _duration(hours)).astimezone(start.tzinfo)


def business_deadline(start: datetime, hours: float, zone: Zone, calendar: HolidayCalendar) -> datetime:
    """The first instant by which ``hours`` of real time falling on local business days have passed since ``start``.

    A business day is a local calendar day in ``zone`` that is Monday–Friday and not a holiday in ``calendar``. DST
    days count their real length (23 h or 25 h). The result is expressed in ``zone``.
    """
    require_aware(start, "start")
    remaining = _duration(hours)
    tz = as_zone(zone)
    cursor = start.astimezone(UTC)
    if not remaining:
        return cursor.astimezone(tz)
    day = local_date(cursor, tz)
    while True:
        next_day = day + timedelta(days=1)
        day_end = start_of_local_day(next_day, tz).astimezone(UTC)
        if day.weekday() < _SATURDAY and not calendar.is_holiday(day):
            available = day_end - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(tz)
            remaining -= available
        cursor = day_end
        day = next_day


def same_day_deadline(start: datetime, zone: Zone) -> datetime:
    """11:59 p.m. of ``start``'s local day in ``zone`` (one minute before the next local day begins), never before
    ``start``. Counting back from the next day's first instant keeps DST days and skipped midnights right.
    """
    require_aware(start, "start")
    tz = as_zone(zone)
    next_day = local_date(start, tz) + timedelta(days=1)
    end = start_of_local_day(next_day, tz).astimezone(UTC) - timedelta(minutes=1)
    return max(end, start.astimezone(UTC)).astimezone(tz)


def hold_deadline(
    kind: HoldClockKind,
    start: datetime,
    *,
    hours: float = 48,
    zone: Zone,
    calendar: HolidayCalendar,
) -> datetime | None:
    """Latest lawful custody instant on the detainer, in ``zone``; ``None`` when the form requests no hold."""
    kind = HoldClockKind(kind)
    require_aware(start, "start")
    if kind is HoldClockKind.NONE:
        return None
    if kind is HoldClockKind.ELAPSED:
        return elapsed_deadline(start, hours).astimezone(as_zone(zone))
    if kind is HoldClockKind.SAME_DAY:
        return same_day_deadline(start, zone)
    return business_deadline(start, hours, zone, calendar)


def notify_target(
    projected_release: datetime,
    *,
    lead: timedelta = timedelta(hours=48),
    now: datetime | None = None,
) -> datetime:
    """When to notify DHS: ``lead`` before the projected release, but not in the past ("as early as practicable").

    Expressed in the tzinfo of ``projected_release``.
    """
    require_aware(projected_release, "projected_release")
    assert projected_release.tzinfo is not None
    target = projected_release.astimezone(UTC) - lead
    if now is not None:
        target = max(target, require_aware(now, "now").astimezone(UTC))
    return target.astimezone(projected_release.tzinfo)


def notify_late(sent_at: datetime, released_at: datetime, lead: timedelta = timedelta(hours=48)) -> bool:
    """True when the notification reached DHS less than ``lead`` before the actual release."""
    # Subtracting two datetimes that share a ZoneInfo gives the wall-clock difference, so go through UTC.
    released = require_aware(released_at, "released_at").astimezone(UTC)
    return released - require_aware(sent_at, "sent_at").astimezone(UTC) < lead
