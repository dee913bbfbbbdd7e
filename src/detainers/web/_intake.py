"""The intake form: the I-247A's sections (and the older I-247 printings and the I-247G) read into ``DetainerIn``.

Every problem is reported against the input it belongs to, so the page can show it next to that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from detainers.desk import Authority, BookingState, Desk, DetainerIn, SubjectIn
from detainers.domain import DetainerForm, PCBasis, Request, WarrantKind, default_requests
from detainers.web._format import label

__all__ = [
    "ACCEPTED_MEDIA",
    "FORM_NOTES",
    "MAX_ATTACHMENT",
    "Intake",
    "Upload",
    "ZONES",
    "form_choices",
    "parse_intake",
    "parse_local",
]

MAX_ATTACHMENT = 5_000_000
ACCEPTED_MEDIA = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/tiff": ".tif",
}
ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "UTC",
)
FORM_NOTES = {
    DetainerForm.I247A_2017.value: "Immigration Detainer – Notice of Action (2017 printing): Box 1 or Box 2, "
    "requests, and an I-200 or I-205 signed by an immigration officer.",
    DetainerForm.I247A_2025.value: "The May 2025 printing of the I-247A.",
    DetainerForm.I247G_2025.value: "Request for Advance Notification of Release: asks only for notice, never a hold.",
    DetainerForm.I247_PRE2012.value: "Immigration Detainer – Notice of Action, printed before December 2012 "
    "(pre-2015 form: tick the requests the form shows).",
    DetainerForm.I247_DEC2012.value: "The December 2012 revision of the I-247 (pre-2015 form).",
    DetainerForm.I247D_2015.value: "I-247D Immigration Detainer – Request for Voluntary Action (2015–2017).",
    DetainerForm.I247N_2015.value: "I-247N Request for Voluntary Notification of Release (2015–2017).",
    DetainerForm.I247X_2015.value: "I-247X Request for Voluntary Transfer (2015–2017).",
}
_FUTURE_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class Upload:
    filename: str
    media_type: str
    content: bytes


@dataclass
class Intake:
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    body: DetainerIn | None = None
    booking: BookingState | None = None
    upload: Upload | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.body is not None


def form_choices() -> list[dict[str, str]]:
    """The form printings in the order a clerk meets them, with the requests each asks by default."""
    order = [
        DetainerForm.I247A_2017,
        DetainerForm.I247A_2025,
        DetainerForm.I247G_2025,
        DetainerForm.I247D_2015,
        DetainerForm.I247N_2015,
        DetainerForm.I247X_2015,
        DetainerForm.I247_DEC2012,
        DetainerForm.I247_PRE2012,
    ]
    return [
        {
            "value": f.value,
            "requests": " ".join(sorted(r.value for r in default_requests(f))),
            "note": FORM_NOTES.get(f.value, ""),
        }
        for f in order
    ]


def parse_local(text: str, zone: str) -> datetime:
    """``2024-03-08T09:30`` (an ``<input type=datetime-local>``) as an aware instant in ``zone``."""
    naive = datetime.fromisoformat(text.strip())
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=ZoneInfo(zone))


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else ""


def _many(form: Any, key: str) -> list[str]:
    getter = getattr(form, "getlist", None)
    values = getter(key) if getter is not None else form.get(key, [])
    return [v for v in values if isinstance(v, str) and v]


def _field_of(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc]
    if not parts:
        return "form"
    if parts[0] == "subject" and len(parts) > 1:
        return parts[1]
    if parts[0] == "box2_transferred_for_proceeding":
        return "box2"
    return parts[0]


def parse_intake(
    form: Any,
    *,
    desk: Desk,
    now: datetime,
    office: str | None,
    upload: Upload | None,
    may_link: bool,
) -> Intake:
    """Read the submitted form. ``office`` is the ICE liaison's own office (None for jail staff)."""
    values: dict[str, Any] = {
        k: _text(form, k)
        for k in (
            "idempotency_key",  # made when the form was shown; kept while it is corrected and sent again
            "form",
            "issued_on",
            "received_at",
            "zone",
            "office",
            "ice_event_no",
            "ice_subject_id",
            "addressed_to",
            "notify_phone",
            "family_name",
            "given_names",
            "date_of_birth",
            "a_number",
            "citizenship",
            "sex",
            "booking_number",
            "warrant",
            "served_at",
        )
    }
    values["pc_basis"] = _many(form, "pc_basis")
    values["requests"] = _many(form, "requests")
    values["box2"] = bool(_text(form, "box2"))
    values["death_transfer_notify"] = bool(_text(form, "death_transfer_notify"))
    out = Intake(values=values, upload=upload)
    errors = out.errors

    forms = {f.value for f in DetainerForm}
    if values["form"] not in forms:
        errors["form"] = "Choose the form printed at the top of the detainer."
    zone = values["zone"] or "UTC"
    try:
        ZoneInfo(zone)
    except Exception:  # noqa: BLE001 - any unknown name is the same user error
        errors["zone"] = "Choose a time zone from the list."
        zone = "UTC"

    received: datetime | None = None
    if not values["received_at"]:
        errors["received_at"] = "Enter the date and time the jail received the detainer."
    else:
        try:
            received = parse_local(values["received_at"], zone)
        except ValueError:
            errors["received_at"] = "Enter a date and time such as 2024-03-08 09:30."
        else:
            if received > now + _FUTURE_SLACK:
                errors["received_at"] = "The time received cannot be in the future."
    issued: date | None = None
    if values["issued_on"]:
        try:
            issued = date.fromisoformat(values["issued_on"])
        except ValueError:
            errors["issued_on"] = "Enter the date the form was signed, such as 2024-03-07."
        else:
            if received is not None and issued > received.astimezone(ZoneInfo(zone)).date():
                errors["issued_on"] = "The form cannot be signed after the jail received it."
    served: datetime | None = None
    if values["served_at"]:
        try:
            served = parse_local(values["served_at"], zone)
        except ValueError:
            errors["served_at"] = "Enter a date and time such as 2024-03-08 10:15."
        else:
            if received is not None and served < received:
                errors["served_at"] = "The person cannot be served before the jail received the detainer."
            elif served > now + _FUTURE_SLACK:
                errors["served_at"] = "The time served cannot be in the future."
    dob: date | None = None
    if values["date_of_birth"]:
        try:
            dob = date.fromisoformat(values["date_of_birth"])
        except ValueError:
            errors["date_of_birth"] = "Enter the date of birth such as 1990-05-17."
        else:
            if dob > now.date():
                errors["date_of_birth"] = "The date of birth cannot be in the future."

    if office is None:
        if not values["office"]:
            errors["office"] = "Choose the ICE office that issued the detainer."
        elif desk.office(values["office"]) is None:
            errors["office"] = "That office is not registered with this desk."
    if not values["requests"]:
        errors["requests"] = "Tick at least one request box, as on the form."
    elif any(r not in {q.value for q in Request} for r in values["requests"]):
        errors["requests"] = "Unknown request."
    if any(b not in {p.value for p in PCBasis} for b in values["pc_basis"]):
        errors["pc_basis"] = "Unknown probable-cause box."
    if values["pc_basis"] and values["box2"]:
        errors["box2"] = "The form has Box 1 or Box 2 completed, not both: untick one."
    warrant = values["warrant"] or WarrantKind.NONE.value
    if warrant not in {w.value for w in WarrantKind}:
        errors["warrant"] = "Choose the kind of warrant attached."
    if upload is not None:
        if upload.media_type not in ACCEPTED_MEDIA:
            errors["attachment"] = "Attach a PDF, PNG, JPEG or TIFF scan."
        elif len(upload.content) > MAX_ATTACHMENT:
            errors["attachment"] = "Attachments are limited to 5 MB."
        elif not upload.content:
            errors["attachment"] = "The attached file is empty."

    booking: BookingState | None = None
    if values["booking_number"] and may_link:
        found, _ = desk.list_bookings(booking_number=values["booking_number"], limit=2)
        if not found:
            errors["booking_number"] = "No booking has that number; check it against the booking sheet."
        elif found[0].status != "in_custody":
            errors["booking_number"] = f"That booking is closed (the person was {found[0].status})."
        else:
            booking = found[0]
    out.booking = booking

    subject_fields = ("family_name", "given_names", "date_of_birth", "a_number", "citizenship", "sex")
    subject: dict[str, Any] | None = None
    if any(values[k] for k in subject_fields):
        subject = {k: values[k] or None for k in subject_fields if k != "date_of_birth"}
        subject["date_of_birth"] = dob
        try:
            SubjectIn.model_validate(subject)
        except ValidationError as error:
            _collect(error, errors, prefix=("subject",))
    if errors:
        return out
    try:
        out.body = DetainerIn(
            form=DetainerForm(values["form"]),
            office=None if office is not None else values["office"],
            received_at=received,
            issued_on=issued,
            requests=[Request(r) for r in values["requests"]],
            warrant=WarrantKind(warrant),
            pc_basis=[PCBasis(b) for b in values["pc_basis"]],
            box2_transferred_for_proceeding=values["box2"],
            ice_subject_id=values["ice_subject_id"] or None,
            ice_event_no=values["ice_event_no"] or None,
            addressed_to=values["addressed_to"] or None,
            notify_phone=values["notify_phone"] or None,
            death_transfer_notify=values["death_transfer_notify"],
            served_at=served,
            booking_id=booking.id if booking is not None else None,
            subject=subject,
            source=Authority.FORM,
        )
    except ValidationError as error:
        _collect(error, errors)
    return out


def _collect(error: ValidationError, errors: dict[str, str], prefix: tuple[str, ...] = ()) -> None:
    for problem in error.errors():
        name = _field_of((*prefix, *problem.get("loc", ())))
        message = str(problem.get("msg", "invalid")).removeprefix("Value error, ")
        if name == "a_number":
            message = "Enter the A-number as on the form: A followed by 8 or 9 digits."
        errors.setdefault(name, message[:1].upper() + message[1:])


def describe_requests(values: list[str]) -> str:
    return "; ".join(label(v) for v in values)
