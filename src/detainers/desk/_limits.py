"""What the API accepts: strict instants and dates within plausibility windows, bounded integers and strings.

JSON has no date type, so an instant is a string with a UTC offset (``2024-03-08T03:00:00-08:00`` or ``…Z``); a
number, a boolean or a string without an offset is refused, never read as seconds since 1970 or as some zone's
local time. (The web desk's forms take local times and apply the facility's zone before building these models; a
model built in Python may be given an aware ``datetime``.) Every limit here is named in docs/security.md
("Input limits").
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, Strict
from pydantic_core import PydanticCustomError

__all__ = [
    "BIRTH_FLOOR",
    "EVENT_FLOOR",
    "MAX_INT",
    "MAX_LIST",
    "PlannedInstant",
    "QueryInstant",
    "BirthDate",
    "EventInstant",
    "ExpectedVersion",
    "LegalDate",
    "ShortText",
    "check_event_instant",
    "latest_plausible",
    "out_of_order",
]

EVENT_FLOOR = datetime(1990, 1, 1, tzinfo=UTC)  # nothing the desk records happened before this
BIRTH_FLOOR = date(1900, 1, 1)
LEGAL_FLOOR = date(1900, 1, 1)  # convictions, sentences, issue dates
LEGAL_CEILING = date(2100, 12, 31)
QUERY_FLOOR = datetime(1900, 1, 1, tzinfo=UTC)  # a search may name any instant in this range
QUERY_CEILING = datetime(2100, 12, 31, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)  # a clock a little ahead, a form dated in another zone
MAX_INT = 2_147_483_647  # every integer parameter (offsets, sequence numbers, versions) fits 32 bits
MAX_LIST = 50  # items in any list a request carries, unless a field says otherwise

_INSTANT_HINT = "give a date-time string with a UTC offset, e.g. 2024-03-08T03:00:00-08:00"


def out_of_order(field: str, message: str) -> PydanticCustomError:
    """A model-level error that names its field (the API's 422 carries ``field`` from the error's context)."""
    return PydanticCustomError("out_of_order", message, {"field": field})


def latest_plausible() -> datetime:
    """The latest instant an event may carry: now (the machine's clock) plus a day."""
    return datetime.now(UTC) + FUTURE_SLACK


def check_event_instant(value: datetime) -> datetime:
    """``value`` in UTC, or ValueError when it is outside 1990-01-01 .. now + 1 day."""
    if value < EVENT_FLOOR:
        raise ValueError(f"{value.isoformat()} is before {EVENT_FLOOR.date().isoformat()}: not a plausible date")
    if value > latest_plausible():
        raise ValueError(f"{value.isoformat()} is more than a day in the future: not a plausible date")
    return value


def _parse_instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        if len(value) > 40:
            raise ValueError(_INSTANT_HINT)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as error:
            raise ValueError(f"not a date-time: {_INSTANT_HINT}") from error
    else:
        raise ValueError(f"{type(value).__name__} is not a date-time: {_INSTANT_HINT}")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"the date-time has no UTC offset: {_INSTANT_HINT}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError as error:
        raise ValueError(f"the date-time is out of range: {_INSTANT_HINT}") from error


def _instant(value: Any) -> datetime:
    return check_event_instant(_parse_instant(value))


def _planned_instant(value: Any) -> datetime:
    parsed = _parse_instant(value)
    if parsed < EVENT_FLOOR or parsed > QUERY_CEILING:
        raise ValueError(f"{parsed.isoformat()} is outside 1990..2100: not a plausible date")
    return parsed


def _query_instant(value: Any) -> datetime:
    parsed = _parse_instant(value)
    if not QUERY_FLOOR <= parsed <= QUERY_CEILING:
        raise ValueError(f"{parsed.isoformat()} is outside 1900..2100")
    return parsed


def _date_between(floor: date, ceiling: Any) -> Any:
    def check(value: Any) -> date:
        if isinstance(value, datetime):
            raise ValueError("give a date (YYYY-MM-DD), not a date-time")
        if isinstance(value, date):
            parsed = value
        elif isinstance(value, str) and len(value) == 10:
            try:
                parsed = date.fromisoformat(value)
            except ValueError as error:
                raise ValueError("not a date: give YYYY-MM-DD") from error
        else:
            raise ValueError("not a date: give a string YYYY-MM-DD")
        top = ceiling() if callable(ceiling) else ceiling
        if not floor <= parsed <= top:
            raise ValueError(f"{parsed.isoformat()} is outside {floor.isoformat()}..{top.isoformat()}")
        return parsed

    return check


def _today_plus_slack() -> date:
    return latest_plausible().date()


EventInstant = Annotated[
    dt.datetime,
    BeforeValidator(_instant),
    Field(
        description="An instant with its UTC offset (RFC 3339), between 1990-01-01 and one day after now.",
        json_schema_extra={"format": "date-time"},
    ),
]
PlannedInstant = Annotated[
    dt.datetime,
    BeforeValidator(_planned_instant),
    Field(
        description="An instant with its UTC offset (RFC 3339), between 1990 and 2100 (it may lie in the future).",
        json_schema_extra={"format": "date-time"},
    ),
]
QueryInstant = Annotated[
    dt.datetime,
    BeforeValidator(_query_instant),
    Field(description="An instant with its UTC offset (RFC 3339), between 1900 and 2100."),
]
BirthDate = Annotated[
    dt.date,
    BeforeValidator(_date_between(BIRTH_FLOOR, _today_plus_slack)),
    Field(description="YYYY-MM-DD, from 1900-01-01 to today (and before the booking or receipt)."),
]
LegalDate = Annotated[
    dt.date,
    BeforeValidator(_date_between(LEGAL_FLOOR, LEGAL_CEILING)),
    Field(description="YYYY-MM-DD, from 1900-01-01 to 2100-12-31."),
]
ExpectedVersion = Annotated[int, Strict(), Field(ge=0, le=MAX_INT)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
