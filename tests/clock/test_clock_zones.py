from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from detainers.clock import (
    AmbiguousLocalTime,
    NonexistentLocalTime,
    format_instant,
    local_date,
    localize,
    start_of_local_day,
    to_zone,
    years_before,
    zone_of,
)

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")


def test_zone_of_known_and_unknown() -> None:
    assert zone_of("America/Chicago") == ZoneInfo("America/Chicago")
    with pytest.raises(ValueError, match="Mars/Olympus_Mons"):
        zone_of("Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="unknown time zone"):
        zone_of("/etc/passwd")


@pytest.mark.parametrize(
    ("wall", "zone"),
    [(datetime(2024, 3, 10, 2, 30), "America/Los_Angeles"), (datetime(2018, 3, 11, 2, 0), "America/New_York")],
)
def test_localize_gap_raises(wall: datetime, zone: str) -> None:
    with pytest.raises(NonexistentLocalTime, match=zone) as info:
        localize(wall, zone)
    assert wall.isoformat() in str(info.value)
    assert isinstance(info.value, ValueError)


def test_localize_edges_of_the_gap_exist() -> None:
    assert localize(datetime(2024, 3, 10, 1, 59, 59), LA).utcoffset() == timedelta(hours=-8)
    assert localize(datetime(2024, 3, 10, 3, 0), LA).utcoffset() == timedelta(hours=-7)


@pytest.mark.parametrize(
    ("wall", "zone", "first_offset"),
    [
        (datetime(2024, 11, 3, 1, 30), LA, timedelta(hours=-7)),
        (datetime(2024, 11, 3, 1, 30), NY, timedelta(hours=-4)),
        (datetime(2018, 11, 4, 1, 0), NY, timedelta(hours=-4)),
    ],
)
def test_localize_fold_resolves_to_first_occurrence(wall: datetime, zone: ZoneInfo, first_offset: timedelta) -> None:
    result = localize(wall, zone)
    assert result.utcoffset() == first_offset
    assert result.replace(tzinfo=None) == wall
    # the first occurrence is the earlier instant
    assert result < wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    with pytest.raises(AmbiguousLocalTime, match=zone.key):
        localize(wall, zone, strict=True)


def test_localize_second_fold_flag_is_ignored_for_naive_input() -> None:
    wall = datetime(2024, 11, 3, 1, 30, fold=1)
    assert localize(wall, NY).utcoffset() == timedelta(hours=-4)


def test_localize_aware_input_is_converted() -> None:
    instant = datetime(2024, 7, 1, 12, tzinfo=UTC)
    result = localize(instant, "America/Chicago")
    assert result == instant
    assert result.utcoffset() == timedelta(hours=-5)


def test_localize_plain_time_and_strict_plain_time() -> None:
    assert localize(datetime(2024, 1, 15, 9, 0), NY) == datetime(2024, 1, 15, 14, 0, tzinfo=UTC)
    assert localize(datetime(2024, 1, 15, 9, 0), NY, strict=True).utcoffset() == timedelta(hours=-5)


def test_to_zone_and_local_date() -> None:
    instant = datetime(2024, 3, 10, 4, 30, tzinfo=UTC)
    assert to_zone(instant, "America/Denver").isoformat() == "2024-03-09T21:30:00-07:00"
    assert local_date(instant, "America/Denver") == date(2024, 3, 9)
    assert local_date(instant, "UTC") == date(2024, 3, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        to_zone(datetime(2024, 1, 1), NY)
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2024, 1, 1), NY)


def test_format_instant() -> None:
    instant = datetime(2024, 3, 10, 19, 0, 0, 123456, tzinfo=UTC)
    assert format_instant(instant) == "2024-03-10T19:00:00+00:00"
    assert format_instant(instant, "America/New_York") == "2024-03-10T15:00:00-04:00"
    assert format_instant(instant, NY) == "2024-03-10T15:00:00-04:00"
    assert format_instant(datetime(2022, 4, 4, 13, 20, tzinfo=timezone(timedelta(hours=-5)))) == (
        "2022-04-04T13:20:00-05:00"
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        format_instant(datetime(2024, 1, 1))


def test_start_of_local_day_plain_and_dst_days() -> None:
    assert start_of_local_day(date(2024, 3, 10), NY).isoformat() == "2024-03-10T00:00:00-05:00"
    assert start_of_local_day(date(2024, 3, 11), NY).isoformat() == "2024-03-11T00:00:00-04:00"
    assert start_of_local_day(date(2024, 11, 3), "America/Chicago").isoformat() == "2024-11-03T00:00:00-05:00"


@pytest.mark.parametrize(
    ("day", "zone", "expected"),
    [
        (date(2021, 3, 22), "Asia/Tehran", "2021-03-22T01:00:00+04:30"),
        (date(2023, 3, 12), "America/Havana", "2023-03-12T01:00:00-04:00"),
    ],
)
def test_start_of_local_day_when_midnight_is_skipped(day: date, zone: str, expected: str) -> None:
    start = start_of_local_day(day, zone)
    assert start.isoformat() == expected
    # step back in UTC: aware arithmetic within one tzinfo is wall-clock arithmetic
    assert local_date(start.astimezone(UTC) - timedelta(microseconds=1), zone) == day - timedelta(days=1)


def test_start_of_local_day_rejects_datetime() -> None:
    with pytest.raises(TypeError):
        start_of_local_day(datetime(2024, 1, 1), NY)


@pytest.mark.parametrize(
    ("day", "years", "expected"),
    [
        (date(2024, 2, 29), 5, date(2019, 2, 28)),
        (date(2024, 2, 29), 4, date(2020, 2, 29)),
        (date(2024, 2, 29), 1, date(2023, 2, 28)),
        (date(2019, 6, 15), 5, date(2014, 6, 15)),
        (date(2024, 3, 1), 5, date(2019, 3, 1)),
        (date(2024, 5, 1), 15, date(2009, 5, 1)),
    ],
)
def test_years_before(day: date, years: int, expected: date) -> None:
    assert years_before(day, years) == expected
