from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from detainers.clock import (
    FederalHolidayCalendar,
    FixedHolidayCalendar,
    HoldClockKind,
    NoHolidays,
    business_deadline,
    elapsed_deadline,
    format_instant,
    hold_deadline,
    notify_late,
    notify_target,
)

NY = ZoneInfo("America/New_York")
CHI = ZoneInfo("America/Chicago")
FED = FederalHolidayCalendar()


def at(zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=zone)


def test_hold_clock_kind_values() -> None:
    assert [k.value for k in HoldClockKind] == ["elapsed", "business", "none", "same_day"]
    assert HoldClockKind("business") is HoldClockKind.BUSINESS


def test_g1_elapsed_across_spring_dst() -> None:
    start = at(NY, 2024, 3, 8, 14)
    deadline = hold_deadline(HoldClockKind.ELAPSED, start, zone=NY, calendar=FED)
    assert deadline is not None
    assert format_instant(deadline) == "2024-03-10T15:00:00-04:00"
    assert deadline == datetime(2024, 3, 10, 19, tzinfo=UTC)


def test_g12_elapsed_across_autumn_dst() -> None:
    start = at(CHI, 2018, 11, 3, 10)
    deadline = hold_deadline("elapsed", start, zone="America/Chicago", calendar=FED)  # type: ignore[arg-type]
    assert deadline is not None
    assert format_instant(deadline) == "2018-11-05T09:00:00-06:00"


def test_elapsed_deadline_keeps_the_start_tzinfo() -> None:
    fixed = timezone(timedelta(hours=-5))
    result = elapsed_deadline(datetime(2024, 3, 8, 14, tzinfo=fixed), 48)
    assert result.tzinfo is fixed
    assert result.isoformat() == "2024-03-10T14:00:00-05:00"
    assert elapsed_deadline(at(NY, 2024, 3, 8, 14), 48).isoformat() == "2024-03-10T15:00:00-04:00"
    assert elapsed_deadline(at(NY, 2024, 3, 8, 14), 1.5).isoformat() == "2024-03-08T15:30:00-05:00"


def test_hold_deadline_in_zone_even_for_utc_start() -> None:
    deadline = hold_deadline(HoldClockKind.ELAPSED, datetime(2024, 3, 8, 19, tzinfo=UTC), zone=NY, calendar=FED)
    assert deadline is not None
    assert format_instant(deadline) == "2024-03-10T15:00:00-04:00"


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (at(NY, 2019, 3, 15, 14), "2019-03-15T23:59:00-04:00"),  # New Jersey cap: 11:59 p.m. the same local day
        (at(NY, 2019, 11, 3, 0, 30), "2019-11-03T23:59:00-05:00"),  # autumn DST day: still the same local evening
        (at(NY, 2019, 3, 10, 1), "2019-03-10T23:59:00-04:00"),  # spring DST day
        (at(NY, 2019, 3, 15, 23, 59, 30), "2019-03-15T23:59:30-04:00"),  # after 11:59 p.m.: no time left, not before
        (datetime(2019, 3, 16, 2, tzinfo=UTC), "2019-03-15T23:59:00-04:00"),  # UTC start read in the local zone
    ],
)
def test_same_day_clock_ends_at_1159_pm_local(start: datetime, expected: str) -> None:
    deadline = hold_deadline(HoldClockKind.SAME_DAY, start, zone=NY, calendar=FED)
    assert deadline is not None
    assert format_instant(deadline) == expected
    assert deadline >= start


def test_none_kind_has_no_deadline() -> None:
    assert hold_deadline(HoldClockKind.NONE, at(NY, 2024, 3, 8, 14), zone=NY, calendar=FED) is None


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Friday 14:00 -> Tuesday 14:00 (and the Sunday DST change is not counted)
        (at(NY, 2024, 3, 8, 14), "2024-03-12T14:00:00-04:00"),
        # Memorial Day Monday: Friday -> Wednesday
        (at(NY, 2024, 5, 24, 14), "2024-05-29T14:00:00-04:00"),
        # Thanksgiving Thursday: Wednesday -> Monday
        (at(NY, 2024, 11, 27, 14), "2024-12-02T14:00:00-05:00"),
        # Independence Day observed on Friday 2020-07-03: Thursday -> Tuesday
        (at(NY, 2020, 7, 2, 14), "2020-07-07T14:00:00-04:00"),
        # Independence Day observed on Monday 2021-07-05: Friday -> Wednesday
        (at(NY, 2021, 7, 2, 14), "2021-07-07T14:00:00-04:00"),
        # Saturday: counting starts Monday midnight
        (at(NY, 2024, 3, 9, 10), "2024-03-13T00:00:00-04:00"),
        # Sunday on a DST day, same
        (at(CHI, 2018, 11, 4, 1, 30), "2018-11-07T00:00:00-06:00"),
        # Holiday start: Christmas 2024 (Wednesday) -> counting from Thursday midnight
        (at(NY, 2024, 12, 25, 9), "2024-12-28T00:00:00-05:00"),
        # Monday 00:00 exactly: two whole business days
        (at(NY, 2024, 3, 11, 0), "2024-03-13T00:00:00-04:00"),
    ],
)
def test_business_deadline_examples(start: datetime, expected: str) -> None:
    zone = start.tzinfo
    assert isinstance(zone, ZoneInfo)
    deadline = hold_deadline(HoldClockKind.BUSINESS, start, zone=zone, calendar=FED)
    assert deadline is not None
    assert format_instant(deadline) == expected


def test_business_deadline_ending_at_friday_midnight() -> None:
    # Thursday 00:00 + 48 h ends exactly at the start of Saturday: the first instant the count reaches 48 h.
    assert format_instant(business_deadline(at(NY, 2024, 3, 7, 0), 48, NY, FED)) == "2024-03-09T00:00:00-05:00"


def test_juneteenth_counts_only_from_2021() -> None:
    assert format_instant(business_deadline(at(NY, 2020, 6, 18, 14), 48, NY, FED)) == "2020-06-22T14:00:00-04:00"
    assert format_instant(business_deadline(at(NY, 2024, 6, 18, 14), 48, NY, FED)) == "2024-06-21T14:00:00-04:00"


def test_fixed_calendar_replaces_federal_calendar() -> None:
    county = FixedHolidayCalendar("county", [date(2024, 3, 11)])
    assert format_instant(business_deadline(at(NY, 2024, 3, 8, 14), 48, NY, county)) == "2024-03-13T14:00:00-04:00"
    # Memorial Day is not a holiday on the replacement calendar
    assert format_instant(business_deadline(at(NY, 2024, 5, 24, 14), 48, NY, county)) == "2024-05-28T14:00:00-04:00"
    assert format_instant(business_deadline(at(NY, 2024, 5, 24, 14), 48, NY, NoHolidays())) == (
        "2024-05-28T14:00:00-04:00"
    )


def test_business_day_of_23_hours_counts_real_time() -> None:
    # Asia/Jerusalem springs forward on a Friday: that business day has 23 real hours.
    zone = ZoneInfo("Asia/Jerusalem")
    deadline = business_deadline(at(zone, 2024, 3, 28, 0), 48, zone, NoHolidays())
    assert format_instant(deadline) == "2024-04-01T01:00:00+03:00"


def test_business_day_whose_midnight_is_skipped() -> None:
    # Asia/Tehran 2021-03-22 (Monday) began at 01:00; the day is 23 h long.
    deadline = business_deadline(
        datetime(2021, 3, 21, 10, tzinfo=ZoneInfo("Asia/Tehran")), 48, "Asia/Tehran", NoHolidays()
    )
    assert format_instant(deadline) == "2021-03-24T01:00:00+04:30"


def test_business_deadline_zone_decides_the_local_day() -> None:
    # 2024-03-09T03:00Z is Friday evening in Los Angeles but Saturday in UTC.
    start = datetime(2024, 3, 9, 3, tzinfo=UTC)
    la = business_deadline(start, 1, "America/Los_Angeles", FED)
    assert format_instant(la) == "2024-03-08T20:00:00-08:00"
    assert format_instant(business_deadline(start, 1, "UTC", FED)) == "2024-03-11T01:00:00+00:00"


def test_zero_hours_is_the_start() -> None:
    start = at(NY, 2024, 3, 9, 10)
    assert business_deadline(start, 0, NY, FED) == start
    assert elapsed_deadline(start, 0) == start


@pytest.mark.parametrize("hours", [-1, float("nan"), float("inf")])
def test_bad_hours(hours: float) -> None:
    with pytest.raises(ValueError, match="hours"):
        business_deadline(at(NY, 2024, 3, 8), hours, NY, FED)
    with pytest.raises(ValueError, match="hours"):
        elapsed_deadline(at(NY, 2024, 3, 8), hours)


def test_naive_start_is_an_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        hold_deadline(HoldClockKind.ELAPSED, datetime(2024, 3, 8, 14), zone=NY, calendar=FED)
    with pytest.raises(ValueError, match="timezone-aware"):
        hold_deadline(HoldClockKind.NONE, datetime(2024, 3, 8, 14), zone=NY, calendar=FED)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_deadline(datetime(2024, 3, 8, 14), 48, NY, FED)


def test_unknown_zone_is_an_error() -> None:
    with pytest.raises(ValueError, match="Nowhere/Land"):
        hold_deadline(HoldClockKind.BUSINESS, at(NY, 2024, 3, 8), zone="Nowhere/Land", calendar=FED)


def test_notify_target() -> None:
    release = at(NY, 2024, 3, 10, 15)
    assert notify_target(release) == at(NY, 2024, 3, 8, 14)  # 48 real hours, across DST
    assert format_instant(notify_target(release)) == "2024-03-08T14:00:00-05:00"
    assert notify_target(release, lead=timedelta(days=7)).isoformat() == "2024-03-03T14:00:00-05:00"
    early_now = at(NY, 2024, 3, 1, 9)
    assert notify_target(release, now=early_now) == at(NY, 2024, 3, 8, 14)
    late_now = datetime(2024, 3, 9, 12, tzinfo=UTC)
    target = notify_target(release, now=late_now)
    assert target == late_now
    assert target.tzinfo is NY
    with pytest.raises(ValueError, match="timezone-aware"):
        notify_target(datetime(2024, 3, 10, 15))
    with pytest.raises(ValueError, match="timezone-aware"):
        notify_target(release, now=datetime(2024, 3, 10, 15))


def test_notify_late() -> None:
    release = at(NY, 2024, 3, 10, 15)
    assert not notify_late(at(NY, 2024, 3, 8, 14), release)  # exactly 48 h
    assert notify_late(at(NY, 2024, 3, 8, 14, 0, 1), release)
    assert not notify_late(at(NY, 2024, 3, 8, 15), release, lead=timedelta(hours=24))
    assert notify_late(at(NY, 2024, 3, 11), release)  # after release
    with pytest.raises(ValueError, match="timezone-aware"):
        notify_late(datetime(2024, 3, 8), release)
