"""Time zones: naming, localizing wall-clock times, and expressing instants in a facility's zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "AmbiguousLocalTime",
    "NonexistentLocalTime",
    "Zone",
    "as_zone",
    "format_instant",
    "local_date",
    "localize",
    "require_aware",
    "start_of_local_day",
    "to_zone",
    "zone_of",
]

Zone = str | ZoneInfo


class NonexistentLocalTime(ValueError):
    """A wall-clock time skipped by a DST transition (e.g. 02:30 on a spring-forward day)."""

    def __init__(self, wall: datetime, zone: ZoneInfo) -> None:
        self.wall = wall
        self.zone = zone
        super().__init__(f"local time {wall.isoformat()} does not exist in {zone.key} (skipped by a DST transition)")


class AmbiguousLocalTime(ValueError):
    """A wall-clock time that occurs twice because of a DST transition (e.g. 01:30 on a fall-back day)."""

    def __init__(self, wall: datetime, zone: ZoneInfo) -> None:
        self.wall = wall
        self.zone = zone
        super().__init__(f"local time {wall.isoformat()} is ambiguous in {zone.key} (occurs twice at a DST transition)")


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ``ValueError`` naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:  # ValueError: malformed keys such as absolute paths
        raise ValueError(f"unknown time zone {name!r}") from exc


def as_zone(zone: Zone) -> ZoneInfo:
    if isinstance(zone, ZoneInfo):
        return zone
    if isinstance(zone, str):
        return zone_of(zone)
    raise TypeError(f"zone must be an IANA name or ZoneInfo, got {type(zone).__name__}")


def require_aware(value: datetime, what: str = "instant") -> datetime:
    """Reject naive datetimes: an instant without an offset is a guess, and guesses move deadlines by hours."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {value.isoformat()}")
    return value


def localize(value: datetime, zone: Zone, *, strict: bool = False) -> datetime:
    """Attach ``zone`` to a wall-clock time, or convert an aware instant to ``zone``.

    A naive time in a DST gap raises ``NonexistentLocalTime``. A naive time in a DST fold resolves to its first
    occurrence (the earlier instant), or raises ``AmbiguousLocalTime`` when ``strict``.
    """
    tz = as_zone(zone)
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(tz)
    wall = value.replace(tzinfo=None, fold=0)
    first = wall.replace(tzinfo=tz, fold=0)
    second = wall.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    # zoneinfo never raises for gaps: it applies the pre-transition offset, so a gap shows up as a failed round trip.
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        raise NonexistentLocalTime(wall, tz)
    if strict:
        raise AmbiguousLocalTime(wall, tz)
    return first


def to_zone(instant: datetime, zone: Zone) -> datetime:
    """The same instant expressed in ``zone``."""
    return require_aware(instant).astimezone(as_zone(zone))


def local_date(instant: datetime, zone: Zone) -> date:
    """The calendar date of ``instant`` on the wall clocks of ``zone``."""
    return to_zone(instant, zone).date()


def format_instant(instant: datetime, zone: Zone | None = None) -> str:
    """``YYYY-MM-DDTHH:MM:SS±HH:MM``, in ``zone`` when given, else in the instant's own offset."""
    require_aware(instant)
    if zone is not None:
        instant = instant.astimezone(as_zone(zone))
    return instant.isoformat(timespec="seconds")


def start_of_local_day(d: date, zone: Zone) -> datetime:
    """The first instant whose local date in ``zone`` is ``d``: midnight, or the transition when that skips midnight."""
    if isinstance(d, datetime):
        raise TypeError("start_of_local_day takes a date, not a datetime")
    tz = as_zone(zone)
    midnight = datetime.combine(d, time())
    try:
        return localize(midnight, tz)
    except NonexistentLocalTime:
        pass
    # Midnight is skipped (e.g. America/Havana, Asia/Beirut): the day begins at the transition, which lies between the
    # readings of midnight under the post- and pre-transition offsets. Bisect to the second.
    lo = midnight.replace(tzinfo=tz, fold=1).astimezone(UTC)
    hi = midnight.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if lo > hi:
        lo, hi = hi, lo
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(tz).date() >= d:
            hi = mid
        else:
            lo = mid
    return hi.astimezone(tz)
