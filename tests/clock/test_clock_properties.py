"""Property tests over instants in 2000–2035, weighted towards DST transitions and federal holidays."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from detainers.clock import (
    AmbiguousLocalTime,
    FederalHolidayCalendar,
    HoldClockKind,
    HolidayCalendar,
    NoHolidays,
    business_deadline,
    elapsed_deadline,
    hold_deadline,
    localize,
    to_zone,
)

ZONES = [
    ZoneInfo(name)
    for name in (
        "America/Los_Angeles",
        "America/Chicago",
        "America/New_York",
        "America/Denver",
        "America/Phoenix",
        "Pacific/Honolulu",
    )
]
FED = FederalHolidayCalendar()
CALENDARS: list[HolidayCalendar] = [FED, NoHolidays(), FederalHolidayCalendar(state="CA")]
YEARS = range(2000, 2036)
HOUR = timedelta(hours=1)


def _transitions() -> list[datetime]:
    # U.S. DST changes happen in March/April and October/November; find them hour by hour in New York.
    ny = ZoneInfo("America/New_York")
    found = []
    for year in YEARS:
        for start in (datetime(year, 3, 1, tzinfo=UTC), datetime(year, 10, 20, tzinfo=UTC)):
            t = start
            for _ in range(45 * 24):
                if t.astimezone(ny).utcoffset() != (t + HOUR).astimezone(ny).utcoffset():
                    found.append(t + HOUR)
                t += HOUR
    return found


TRANSITIONS = _transitions()
HOLIDAY_NOONS = [datetime.combine(d, datetime.min.time(), UTC) + 12 * HOUR for y in YEARS for d in FED.holidays_in(y)]
assert len(TRANSITIONS) == 2 * len(YEARS)

_jitter = st.integers(min_value=-4 * 24 * 3600, max_value=4 * 24 * 3600).map(lambda s: timedelta(seconds=s))
_micro = st.one_of(st.just(timedelta(0)), st.integers(0, 999_999).map(lambda us: timedelta(microseconds=us)))
instants = st.one_of(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)),
    st.builds(lambda t, j, u: t + j + u, st.sampled_from(TRANSITIONS), _jitter, _micro),
    st.builds(lambda t, j, u: t + j + u, st.sampled_from(HOLIDAY_NOONS), _jitter, _micro),
)
zones = st.sampled_from(ZONES)
calendars = st.sampled_from(CALENDARS)
hours_st = st.one_of(
    st.just(48.0),
    st.sampled_from([0.0, 0.5, 1.0, 24.0, 72.0, 120.0]),
    st.floats(min_value=0, max_value=150, allow_nan=False, allow_infinity=False),
)


def reference_business_time(start: datetime, end: datetime, zone: ZoneInfo, calendar: HolidayCalendar) -> timedelta:
    """Slow, independent count: walk in UTC pieces cut at whole UTC hours and classify each by its local date.

    Valid for the zones above, whose offsets are whole hours, so a local midnight is always a whole UTC hour.
    """
    total = timedelta(0)
    t = start.astimezone(UTC)
    end = end.astimezone(UTC)
    while t < end:
        piece_end = min(t.replace(minute=0, second=0, microsecond=0) + HOUR, end)
        day: date = t.astimezone(zone).date()
        if day.weekday() < 5 and not calendar.is_holiday(day):
            total += piece_end - t
        t = piece_end
    return total


FAST = settings(deadline=None, max_examples=250)


@FAST
@given(instants, zones, calendars, hours_st, st.sampled_from(list(HoldClockKind)))
def test_deadline_never_precedes_start(
    start: datetime, zone: ZoneInfo, calendar: HolidayCalendar, hours: float, kind: HoldClockKind
) -> None:
    local_start = start.astimezone(zone)
    deadline = hold_deadline(kind, local_start, hours=hours, zone=zone, calendar=calendar)
    if kind is HoldClockKind.NONE:
        assert deadline is None
    else:
        assert deadline is not None
        assert deadline.tzinfo is zone
        assert deadline.astimezone(UTC) >= start


@FAST
@given(instants, zones)
def test_elapsed_is_exactly_48_real_hours(start: datetime, zone: ZoneInfo) -> None:
    local_start = start.astimezone(zone)
    deadline = elapsed_deadline(local_start, 48)
    assert deadline.tzinfo is zone
    assert deadline.astimezone(UTC) - start == timedelta(hours=48)


@FAST
@given(
    instants,
    st.integers(min_value=0, max_value=6 * 24 * 3600).map(lambda s: timedelta(seconds=s)),
    zones,
    calendars,
    hours_st,
)
def test_business_deadline_is_monotone(
    start: datetime, delta: timedelta, zone: ZoneInfo, calendar: HolidayCalendar, hours: float
) -> None:
    earlier = business_deadline(start, hours, zone, calendar)
    later = business_deadline(start + delta, hours, zone, calendar)
    assert earlier.astimezone(UTC) <= later.astimezone(UTC)


@FAST
@given(instants, zones, calendars)
def test_business_deadline_is_at_least_48_real_hours(
    start: datetime, zone: ZoneInfo, calendar: HolidayCalendar
) -> None:
    deadline = business_deadline(start.astimezone(zone), 48, zone, calendar)
    assert deadline.astimezone(UTC) - start >= timedelta(hours=48)


@FAST
@given(instants, zones, calendars, hours_st)
def test_business_time_counted_matches_reference(
    start: datetime, zone: ZoneInfo, calendar: HolidayCalendar, hours: float
) -> None:
    deadline = business_deadline(start, hours, zone, calendar).astimezone(UTC)
    wanted = timedelta(hours=hours)
    assert reference_business_time(start, deadline, zone, calendar) == wanted
    if deadline > start:
        # the first such instant: one microsecond earlier the count is short
        assert reference_business_time(start, deadline - timedelta(microseconds=1), zone, calendar) < wanted


@FAST
@given(instants, zones)
def test_localize_round_trips_aware_input(instant: datetime, zone: ZoneInfo) -> None:
    # Compare in UTC: per PEP 495, == between zones is False whenever one side is in a DST fold.
    local = to_zone(instant, zone)
    assert local.astimezone(UTC) == instant
    again = localize(local, zone)
    assert again.astimezone(UTC) == instant
    assert again.utcoffset() == local.utcoffset()
    # As a naive wall time it comes back unchanged unless it was the second occurrence of an ambiguous time.
    wall = local.replace(tzinfo=None)
    resolved = localize(wall, zone)
    assert resolved.replace(tzinfo=None) == wall
    if resolved.astimezone(UTC) != instant:
        assert resolved.astimezone(UTC) < instant
        try:
            localize(wall, zone, strict=True)
        except AmbiguousLocalTime:
            pass
        else:
            raise AssertionError(f"{wall} resolved to another instant but is not ambiguous")
