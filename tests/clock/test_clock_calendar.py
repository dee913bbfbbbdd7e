from datetime import date, datetime

import pytest

from detainers.clock import FederalHolidayCalendar, FixedHolidayCalendar, HolidayCalendar, NoHolidays, calendar_by_name

FED = FederalHolidayCalendar()


@pytest.mark.parametrize(
    "day",
    [
        date(2024, 1, 1),  # New Year's Day
        date(2024, 1, 15),  # MLK
        date(2024, 2, 19),  # Washington's Birthday
        date(2024, 5, 27),  # Memorial Day
        date(2024, 6, 19),  # Juneteenth
        date(2024, 7, 4),
        date(2024, 9, 2),  # Labor Day
        date(2024, 10, 14),  # Columbus Day
        date(2024, 11, 11),  # Veterans Day
        date(2024, 11, 28),  # Thanksgiving
        date(2024, 12, 25),
        date(2020, 7, 3),  # Independence Day observed on a Friday
        date(2021, 7, 5),  # ... and on a Monday
        date(2021, 12, 31),  # New Year's Day 2022 observed in the previous year
        date(2021, 6, 18),  # first Juneteenth, observed Friday
    ],
)
def test_federal_holidays(day: date) -> None:
    assert FED.is_holiday(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2020, 6, 19),  # Juneteenth only from 2021
        date(2019, 6, 19),
        date(2024, 3, 8),
        date(2024, 12, 24),  # Christmas Eve closures are by executive order, not 5 USC 6103
        date(2024, 11, 29),  # day after Thanksgiving is a state holiday in some states only
        date(2021, 1, 20),  # Inauguration Day is a DC-area holiday only
    ],
)
def test_federal_non_holidays(day: date) -> None:
    assert not FED.is_holiday(day)


def test_federal_calendar_is_cached_per_year() -> None:
    cal = FederalHolidayCalendar()
    first = cal.holidays_in(2024)
    assert cal.holidays_in(2024) is first
    assert len(first) == 11
    assert all(d.year == 2024 for d in first)


def test_calendar_rejects_datetime() -> None:
    with pytest.raises(TypeError):
        FED.is_holiday(datetime(2024, 7, 4, 12))


def test_fixed_calendar_replaces_federal() -> None:
    cal = FixedHolidayCalendar("county-2024", [date(2024, 3, 11), date(2024, 3, 11)])
    assert cal.name == "county-2024"
    assert cal.is_holiday(date(2024, 3, 11))
    assert not cal.is_holiday(date(2024, 5, 27))
    assert cal.dates == frozenset({date(2024, 3, 11)})
    assert cal == FixedHolidayCalendar("county-2024", iter([date(2024, 3, 11)]))
    assert isinstance(cal, HolidayCalendar)


def test_no_holidays() -> None:
    cal = NoHolidays()
    assert cal.name == "none"
    assert not cal.is_holiday(date(2024, 12, 25))
    assert isinstance(cal, HolidayCalendar)


def test_calendar_by_name() -> None:
    assert calendar_by_name("us-federal").name == "us-federal"
    assert isinstance(calendar_by_name("us-federal"), FederalHolidayCalendar)
    assert isinstance(calendar_by_name("none"), NoHolidays)
    ca = calendar_by_name("us-federal+CA")
    assert ca.name == "us-federal+CA"
    assert ca.is_holiday(date(2021, 3, 31))  # Cesar Chavez Day (state)
    assert ca.is_holiday(date(2021, 10, 11))  # Columbus Day: federal, although California dropped it
    assert ca.is_holiday(date(2021, 11, 26))  # day after Thanksgiving (state)
    assert not FED.is_holiday(date(2021, 3, 31))
    assert calendar_by_name("us-federal+tx").name == "us-federal+TX"


@pytest.mark.parametrize("name", ["us-federal+ZZ", "federal", "us-federal+", "", "NONE!"])
def test_calendar_by_name_unknown(name: str) -> None:
    with pytest.raises(ValueError, match="unknown holiday calendar") as info:
        calendar_by_name(name)
    assert repr(name) in str(info.value)
