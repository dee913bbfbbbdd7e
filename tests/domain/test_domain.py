"""Pure types: form labels, A-numbers, aware instants."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from pydantic import ValidationError

from detainers.domain import Booking, DetainerForm, FormLabelError, PersonIds, Request, default_requests, parse_form


@pytest.mark.parametrize(
    ("label", "kwargs", "expected"),
    [
        ("I247 - Immigration Detainer - Notice of Action (prior to March 2013)", {}, DetainerForm.I247_PRE2012),
        ("I247 - Immigration Detainer - Notice of Action (as of March 2013)", {}, DetainerForm.I247_DEC2012),
        ("I247D - Immigration Detainer - Request for Action", {}, DetainerForm.I247D_2015),
        ("I247N - Immigration Advisal - Request for Notification", {}, DetainerForm.I247N_2015),
        ("I247A - Immigration Detainer - Immigration Detainer - Notice of Action", {}, DetainerForm.I247A_2017),
        ("I247A - Immigration Detainer - Notice of Action (as of May 2025)", {}, DetainerForm.I247A_2025),
        ("I-247X", {}, DetainerForm.I247X_2015),
        ("i-247g", {}, DetainerForm.I247G_2025),
        ("I-247", {"version_date": date(2012, 12, 21)}, DetainerForm.I247_DEC2012),
        ("I-247", {"version_date": date(2012, 12, 20)}, DetainerForm.I247_PRE2012),
        ("I-247", {"received_on": date(2014, 2, 9)}, DetainerForm.I247_DEC2012),
        ("I-247A", {"received_on": date(2025, 6, 1)}, DetainerForm.I247A_2017),
        ("I-247A", {"version_date": date(2025, 5, 1)}, DetainerForm.I247A_2025),
        ("I247A_2017", {}, DetainerForm.I247A_2017),
        ("I-247A (May 2025)", {}, DetainerForm.I247A_2025),
    ],
)
def test_parse_form(label: str, kwargs: dict[str, date], expected: DetainerForm) -> None:
    assert parse_form(label, **kwargs) is expected


@pytest.mark.parametrize("label", ["", "I-999", "Form 247A", "detainer"])
def test_parse_form_rejects(label: str) -> None:
    with pytest.raises(FormLabelError):
        parse_form(label)


def test_notification_only_forms_request_no_hold() -> None:
    assert default_requests(DetainerForm.I247N_2015) == {Request.NOTIFY}
    assert default_requests(DetainerForm.I247G_2025) == {Request.NOTIFY}
    assert Request.HOLD in default_requests(DetainerForm.I247A_2017)


@pytest.mark.parametrize("value", ["A12345678", "A123456789", "a-123-456-789", "A 012 345 678"])
def test_a_number_accepted(value: str) -> None:
    ids = PersonIds(a_number=value)
    assert ids.a_number is not None and ids.a_number.startswith("A") and ids.a_number[1:].isdigit()


@pytest.mark.parametrize("value", ["A1234567", "A1234567890", "12345678", "B12345678", "A12345678X"])
def test_a_number_rejected(value: str) -> None:
    with pytest.raises(ValidationError):
        PersonIds(a_number=value)


def test_instants_must_be_aware_and_are_stored_in_utc() -> None:
    with pytest.raises(ValidationError):
        Booking(jurisdiction="us", timezone="UTC", booked_at=datetime(2020, 1, 1, 12))
    b = Booking(jurisdiction="us", timezone="UTC", booked_at=datetime.fromisoformat("2020-01-01T12:00-05:00"))
    assert b.booked_at is not None and b.booked_at.isoformat() == "2020-01-01T17:00:00+00:00"


def test_release_before_booking_is_refused() -> None:
    with pytest.raises(ValidationError, match="released_at is before booked_at"):
        Booking(
            jurisdiction="us",
            timezone="UTC",
            booked_at=datetime.fromisoformat("2020-01-02T00:00+00:00"),
            released_at=datetime.fromisoformat("2020-01-01T00:00+00:00"),
        )
