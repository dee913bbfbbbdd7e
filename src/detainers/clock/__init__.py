"""The legal clock: hold and notification deadlines, holiday calendars, time zones, over-detention.

Layer 2: imports ``detainers.domain`` at most. Every datetime is timezone-aware; naive input is an error except in
``localize``, which reads it as a wall-clock time in a zone.
"""

from detainers.clock._calendar import (
    FederalHolidayCalendar,
    FixedHolidayCalendar,
    HolidayCalendar,
    NoHolidays,
    calendar_by_name,
    years_before,
)
from detainers.clock._clock import Clock, FrozenClock, SystemClock
from detainers.clock._deadlines import (
    HoldClockKind,
    business_deadline,
    elapsed_deadline,
    hold_deadline,
    notify_late,
    notify_target,
    same_day_deadline,
)
from detainers.clock._overdetention import OverDetention, OverDetentionFlag, over_detention
from detainers.clock._zones import (
    AmbiguousLocalTime,
    NonexistentLocalTime,
    Zone,
    format_instant,
    local_date,
    localize,
    start_of_local_day,
    to_zone,
    zone_of,
)

__all__ = [
    "AmbiguousLocalTime",
    "Clock",
    "FederalHolidayCalendar",
    "FixedHolidayCalendar",
    "FrozenClock",
    "HoldClockKind",
    "HolidayCalendar",
    "NoHolidays",
    "NonexistentLocalTime",
    "OverDetention",
    "OverDetentionFlag",
    "SystemClock",
    "Zone",
    "business_deadline",
    "calendar_by_name",
    "elapsed_deadline",
    "format_instant",
    "hold_deadline",
    "local_date",
    "localize",
    "notify_late",
    "notify_target",
    "over_detention",
    "same_day_deadline",
    "start_of_local_day",
    "to_zone",
    "years_before",
    "zone_of",
]
