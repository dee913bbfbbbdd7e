"""Holiday calendars for the 8 CFR 287.7(d) hold clock, and calendar-date helpers."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from datetime import date, datetime
from typing import Protocol, runtime_checkable

import holidays

__all__ = [
    "FederalHolidayCalendar",
    "FixedHolidayCalendar",
    "HolidayCalendar",
    "NoHolidays",
    "calendar_by_name",
    "years_before",
]


@runtime_checkable
class HolidayCalendar(Protocol):
    """Which local calendar dates are holidays for a jurisdiction's hold clock."""

    @property
    def name(self) -> str: ...

    def is_holiday(self, d: date, /) -> bool: ...


@functools.cache
def _us_subdivisions() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries()["US"])


def _plain_date(d: date) -> date:
    # A datetime is a date subclass but never equals a date, so a lookup with one would silently answer False.
    if isinstance(d, datetime):
        raise TypeError("holiday lookups take a date, not a datetime")
    return d


class FederalHolidayCalendar:
    """U.S. federal holidays (5 USC 6103) with their observed weekday dates, optionally plus one state's holidays.

    Built from the ``holidays`` package's U.S. public calendar (Juneteenth from 2021), cached per year.
    """

    def __init__(self, *, state: str | None = None) -> None:
        if state is not None:
            state = state.strip().upper()
            if state not in _us_subdivisions():
                raise ValueError(f"unknown U.S. state or territory code {state!r} for a holiday calendar")
        self._state = state
        self._years: dict[int, frozenset[date]] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "us-federal" if self._state is None else f"us-federal+{self._state}"

    @property
    def state(self) -> str | None:
        return self._state

    def _year(self, year: int) -> frozenset[date]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        days = set(holidays.country_holidays("US", years=year).keys())
        if self._state is not None:
            # A state calendar may drop a federal day (California omits Columbus Day), so take the union.
            days |= set(holidays.country_holidays("US", years=year, subdiv=self._state).keys())
        frozen = frozenset(d for d in days if d.year == year)
        with self._lock:
            self._years[year] = frozen
        return frozen

    def is_holiday(self, d: date, /) -> bool:
        d = _plain_date(d)
        return d in self._year(d.year)

    def holidays_in(self, year: int) -> frozenset[date]:
        """Every holiday date (actual and observed) in ``year``."""
        return self._year(year)

    def __repr__(self) -> str:
        return f"FederalHolidayCalendar(state={self._state!r})" if self._state else "FederalHolidayCalendar()"


class FixedHolidayCalendar:
    """An explicit list of holiday dates, for a jurisdiction that replaces the federal calendar."""

    __slots__ = ("_dates", "_name")

    def __init__(self, name: str, dates: Iterable[date]) -> None:
        self._name = name
        self._dates = frozenset(_plain_date(d) for d in dates)

    @property
    def name(self) -> str:
        return self._name

    @property
    def dates(self) -> frozenset[date]:
        return self._dates

    def is_holiday(self, d: date, /) -> bool:
        return _plain_date(d) in self._dates

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FixedHolidayCalendar):
            return NotImplemented
        return (self._name, self._dates) == (other._name, other._dates)

    def __hash__(self) -> int:
        return hash((self._name, self._dates))

    def __repr__(self) -> str:
        return f"FixedHolidayCalendar({self._name!r}, {len(self._dates)} dates)"


class NoHolidays:
    """No holidays: only Saturdays and Sundays are excluded from a business-hours clock."""

    __slots__ = ()

    @property
    def name(self) -> str:
        return "none"

    def is_holiday(self, d: date, /) -> bool:
        _plain_date(d)
        return False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoHolidays)

    def __hash__(self) -> int:
        return hash(NoHolidays)

    def __repr__(self) -> str:
        return "NoHolidays()"


def calendar_by_name(name: str) -> HolidayCalendar:
    """``"us-federal"``, ``"none"`` or ``"us-federal+XX"`` (federal plus state XX's holidays)."""
    key = name.strip()
    if key == "us-federal":
        return FederalHolidayCalendar()
    if key == "none":
        return NoHolidays()
    prefix = "us-federal+"
    if key.startswith(prefix):
        try:
            return FederalHolidayCalendar(state=key[len(prefix) :])
        except ValueError as exc:
            raise ValueError(f"unknown holiday calendar {name!r}: {exc}") from exc
    raise ValueError(f"unknown holiday calendar {name!r} (expected 'us-federal', 'none' or 'us-federal+<state code>')")


def years_before(d: date, years: int) -> date:
    """The same calendar date ``years`` earlier; Feb 29 becomes Feb 28 when the target year is not a leap year."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        # Only Feb 29 can fail; Feb 28 keeps a "within the past N years" window from reaching into March.
        return d.replace(year=d.year - years, day=28)
