"""The buttons on a detainer page: what each records, who may press it, and the two steps (review, then write).

``prepare`` reads the submitted form into the service's request body and a plain-words summary of the event that
will be written; nothing is written until the person confirms, and then ``execute`` calls the desk.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ValidationError

from detainers.desk import (
    CORRECTABLE,
    Actor,
    BookingState,
    Breach,
    CorrectionIn,
    Desk,
    DetainerState,
    LiftIn,
    LinkIn,
    ManualNotificationIn,
    ReleaseIn,
    ServedIn,
    StoredEvent,
    TransferIn,
    notify_breach,
    release_breach,
    to_immigration,
    transfer_breach,
)
from detainers.domain import ReleasedTo
from detainers.service import Permission
from detainers.web._format import label, local_input, local_time
from detainers.web._intake import parse_local

__all__ = [
    "ACTIONS",
    "CONFIRM_FIELD",
    "VERSION_FIELDS",
    "Action",
    "Field",
    "Prepared",
    "available",
    "breach_of",
    "execute",
    "prepare",
    "stale",
]

_DATETIME_FIELDS = {
    "received_at",
    "served_at",
    "lifted_at",
    "booked_at",
    "eligible_at",
    "bail_refused_at",
    "released_at",
}
_LIST_FIELDS = {"requests", "pc_basis"}
_BOOL_FIELDS = {"box2_transferred_for_proceeding"}
_JSON_FIELDS = {"charges", "convictions"}


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"  # text | datetime | select | textarea
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True
    hint: str = ""
    default: str = ""


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    permission: Permission
    event: str
    stream: str  # detainer | booking
    explain: str
    fields: tuple[Field, ...]


@dataclass
class Prepared:
    action: Action
    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    body: BaseModel | None = None
    summary: list[tuple[str, str]] = field(default_factory=list)
    target: str = ""  # for corrections: detainer | booking
    # The record versions the page showed (carried by the form); "" where the viewer may not see them.
    versions: dict[str, str] = field(default_factory=dict)
    breach: Breach | None = None  # what the decision in force says against this act, if anything
    confirmed: bool = False  # the person ticked the confirmation naming the rules it goes against


VERSION_FIELDS = ("detainer_version", "booking_version")
CONFIRM_FIELD = "against_decision_confirmed"


def breach_of(action: Action, booking: BookingState | None, values: Mapping[str, str], now: datetime) -> Breach | None:
    """What the decision in force says against ``action`` with these values (or its defaults), if anything."""
    if booking is None:
        return None
    if action.name == "transfer":
        return transfer_breach(booking) if to_immigration(values.get("to_agency") or "ICE") else None
    if action.name == "notify":
        return notify_breach(booking)
    if action.name == "release":
        return release_breach(booking, now, values.get("released_to") or "public")
    return None


def _version(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


_CORRECTION_CHOICES = tuple(
    (f"{target}:{name}", f"{'Detainer' if target == 'detainer' else 'Booking'} — {label(name)}")
    for target, names in CORRECTABLE.items()
    for name in names
)

ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action(
            "notify",
            "Record notification",
            Permission.NOTIFICATION_RECORD,
            "notification_sent",
            "detainer",
            "Records that the desk told ICE of the release date by hand (phone, fax, email …).",
            (
                Field(
                    "channel",
                    "How ICE was told",
                    "select",
                    tuple((c, c.replace("_", " ")) for c in ("phone", "fax", "email", "in_person", "mail", "webhook")),
                ),
                Field("sent_at", "When", "datetime"),
                Field("recipient", "Who at ICE (name or desk)", required=False),
                Field("note", "Note", "textarea", required=False),
            ),
        ),
        Action(
            "release",
            "Record release",
            Permission.BOOKING_WRITE,
            "person_released",
            "booking",
            "Records that the person left the jail's custody. The policy engine is asked again afterwards.",
            (
                Field("released_at", "Released at", "datetime"),
                Field("released_to", "Released", "select", tuple((r.value, label(r.value)) for r in ReleasedTo)),
            ),
        ),
        Action(
            "transfer",
            "Record transfer",
            Permission.BOOKING_WRITE,
            "transferred",
            "booking",
            "Records that custody passed to another agency (ICE or another jurisdiction).",
            (
                Field("transferred_at", "Transferred at", "datetime"),
                Field("to_agency", "To agency", default="ICE ERO"),
                Field("basis", "Authority for the transfer", required=False, hint="e.g. the judicial warrant"),
            ),
        ),
        Action(
            "lift",
            "Record lift",
            Permission.DETAINER_LIFT,
            "detainer_lifted",
            "detainer",
            "Records that ICE withdrew (lifted) the detainer; it then asks nothing of the jail.",
            (
                Field("lifted_at", "Lifted at", "datetime"),
                Field("reason", "Reason ICE gave", hint="e.g. Prosecutorial Discretion"),
            ),
        ),
        Action(
            "serve",
            "Record service",
            Permission.DETAINER_RECORD,
            "detainer_served",
            "detainer",
            "Records that the person was given a copy of the detainer.",
            (
                Field("served_at", "Served at", "datetime"),
                Field("manner", "How", "select", (("in_person", "in person"), ("mail", "by mail"))),
            ),
        ),
        Action(
            "link",
            "Link to booking",
            Permission.DETAINER_RECORD,
            "linked_to_booking",
            "detainer",
            "Links the detainer to the person's booking, so the policy engine can decide what the jail may do.",
            (Field("booking_number", "Booking number"),),
        ),
        Action(
            "correct",
            "Correct a field",
            Permission.CORRECT,
            "corrected",
            "detainer",
            "Writes a correction event: the old value stays in the ledger beside the new one and your reason.",
            (
                Field("field", "Field", "select", _CORRECTION_CHOICES),
                Field(
                    "value",
                    "Correct value",
                    hint="Times as 2024-03-08T09:30 (facility time); lists comma-separated; yes/no for boxes.",
                ),
                Field("reason", "Reason for the correction", "textarea"),
            ),
        ),
    )
}


def available(action: Action, detainer: DetainerState, booking: BookingState | None, can: Mapping[str, bool]) -> bool:
    """Whether the button shows: the role holds the permission and the record is in a state it applies to."""
    if not can.get(action.permission.value, False):
        return False
    in_custody = booking is not None and booking.status == "in_custody"
    match action.name:
        case "notify":
            return booking is not None and detainer.lifted_at is None
        case "release" | "transfer":
            return in_custody
        case "lift":
            return detainer.lifted_at is None
        case "serve":
            return detainer.served_at is None and detainer.lifted_at is None
        case "link":
            return detainer.booking_id is None
        case _:
            return True


def defaults(action: Action, now: datetime, zone: str) -> dict[str, str]:
    values = {f.name: f.default for f in action.fields}
    for f in action.fields:
        if f.kind == "datetime":
            values[f.name] = local_input(now, zone)
        elif f.kind == "select" and not f.default and f.choices:
            values[f.name] = f.choices[0][0]
    return values


def _correction_value(name: str, text: str, zone: str) -> Any:
    if text == "":
        return None
    if name in _DATETIME_FIELDS:
        return parse_local(text, zone).isoformat()
    if name in _LIST_FIELDS:
        return [part.strip() for part in text.split(",") if part.strip()]
    if name in _BOOL_FIELDS:
        if text.lower() not in ("yes", "no", "true", "false"):
            raise ValueError("answer yes or no")
        return text.lower() in ("yes", "true")
    if name in _JSON_FIELDS:
        return json.loads(text)
    return text


def prepare(
    action: Action,
    form: Mapping[str, Any],
    *,
    desk: Desk,
    detainer: DetainerState,
    booking: BookingState | None,
    zone: str,
    now: datetime,
) -> Prepared:
    values = {f.name: str(form.get(f.name) or "").strip() for f in action.fields}
    out = Prepared(action, values, versions={k: str(form.get(k) or "") for k in VERSION_FIELDS})
    out.confirmed = bool(form.get(CONFIRM_FIELD))
    errors = out.errors
    for f in action.fields:
        if f.required and not values[f.name]:
            errors[f.name] = f"Enter {f.label.lower()}."
        elif f.kind == "select" and values[f.name] and values[f.name] not in {c[0] for c in f.choices}:
            errors[f.name] = "Choose one of the listed values."
    when: dict[str, datetime] = {}
    for f in action.fields:
        if f.kind == "datetime" and values[f.name] and f.name not in errors:
            try:
                when[f.name] = parse_local(values[f.name], zone)
            except ValueError:
                errors[f.name] = "Enter a date and time such as 2024-03-08 09:30."
            else:
                if when[f.name] > now + timedelta(minutes=5):
                    errors[f.name] = "This cannot be in the future."
    if errors:
        return out
    # The versions the page showed: a write on a record changed since then is refused (409), never merged.
    detainer_version = _version(out.versions.get("detainer_version"))
    booking_version = _version(out.versions.get("booking_version"))
    out.breach = breach_of(action, booking, values, when.get("released_at", now))
    confirmed = list(out.breach.rules) if out.breach is not None and out.confirmed else None
    try:
        if action.name == "notify":
            out.body = ManualNotificationIn(
                detainer_id=detainer.id,
                channel=values["channel"],
                sent_at=when["sent_at"],
                recipient=values["recipient"] or None,
                note=values["note"] or None,
                expected_version=detainer_version,
                against_decision_confirmed=confirmed,
            )
        elif action.name == "release":
            out.body = ReleaseIn(
                released_at=when["released_at"],
                released_to=ReleasedTo(values["released_to"]),
                expected_version=booking_version,
                against_decision_confirmed=confirmed,
            )
        elif action.name == "transfer":
            out.body = TransferIn(
                transferred_at=when["transferred_at"],
                to_agency=values["to_agency"],
                basis=values["basis"] or None,
                expected_version=booking_version,
                against_decision_confirmed=confirmed,
            )
        elif action.name == "lift":
            out.body = LiftIn(lifted_at=when["lifted_at"], reason=values["reason"], expected_version=detainer_version)
        elif action.name == "serve":
            out.body = ServedIn(served_at=when["served_at"], manner=values["manner"], expected_version=detainer_version)
        elif action.name == "link":
            found, _ = desk.list_bookings(booking_number=values["booking_number"], limit=1)
            if not found:
                errors["booking_number"] = "No booking has that number."
                return out
            out.body = LinkIn(booking_id=found[0].id, expected_version=detainer_version)
            out.summary.append(
                ("Booking", f"{found[0].booking_number} at {found[0].facility or found[0].jurisdiction}")
            )
        elif action.name == "correct":
            target, _, name = values["field"].partition(":")
            if target == "booking" and booking is None:
                errors["field"] = "This detainer is not linked to a booking."
                return out
            try:
                value = _correction_value(name, values["value"], zone)
            except (ValueError, json.JSONDecodeError) as error:
                errors["value"] = f"Not a valid value for {label(name)}: {error}."
                return out
            out.target = target
            out.body = CorrectionIn(
                field=name,
                value=value,
                reason=values["reason"],
                expected_version=booking_version if target == "booking" else detainer_version,
            )
            old = (booking if target == "booking" else detainer).model_dump(mode="json").get(name)  # type: ignore[union-attr]
            out.summary += [
                ("Field", f"{target} · {label(name)}"),
                ("Old value", _plain(old)),
                ("New value", _plain(value)),
            ]
    except ValidationError as error:
        for problem in error.errors():
            loc = [str(p) for p in problem.get("loc", ())]
            name = loc[0] if loc else action.fields[0].name
            errors.setdefault(name if name in values else action.fields[0].name, str(problem.get("msg")))
        return out
    if action.name != "correct":
        for f in action.fields:
            if action.name == "link":
                break
            shown = local_time(when[f.name], zone) if f.name in when else label(values[f.name]) or "—"
            out.summary.append((f.label, shown))
    return out


def stale(prepared: Prepared, detainer: DetainerState, booking: BookingState | None) -> bool:
    """Whether a record changed after the page the form came from was shown."""
    shown_detainer = _version(prepared.versions.get("detainer_version"))
    shown_booking = _version(prepared.versions.get("booking_version"))
    return (shown_detainer is not None and shown_detainer != detainer.version) or (
        shown_booking is not None and booking is not None and shown_booking != booking.version
    )


def _plain(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def execute(
    prepared: Prepared, *, desk: Desk, actor: Actor, detainer: DetainerState, booking: BookingState | None
) -> None:
    body, name = prepared.body, prepared.action.name
    if isinstance(body, ManualNotificationIn) and booking is not None:
        desk.record_notification(booking.id, body, actor)
    elif isinstance(body, ReleaseIn) and booking is not None:
        desk.release(booking.id, body, actor)
    elif isinstance(body, TransferIn) and booking is not None:
        desk.transfer(booking.id, body, actor)
    elif isinstance(body, LiftIn):
        desk.lift(detainer.id, body, actor)
    elif isinstance(body, ServedIn):
        desk.serve(detainer.id, body, actor)
    elif isinstance(body, LinkIn):
        desk.link(detainer.id, body, actor)
    elif isinstance(body, CorrectionIn):
        ident = booking.id if prepared.target == "booking" and booking is not None else detainer.id
        desk.correct(prepared.target or "detainer", ident, body, actor)
    else:  # pragma: no cover - prepare() never returns such a pair
        raise ValueError(f"cannot execute {name}")


def stream_events(
    desk: Desk, detainer: DetainerState, booking: BookingState | None, *, bookings: bool
) -> list[StoredEvent]:
    events = desk.events_of("detainer", detainer.id)
    if bookings and booking is not None:
        events += desk.events_of("booking", booking.id)
    return events
