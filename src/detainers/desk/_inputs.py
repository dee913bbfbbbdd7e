"""The commands' input bodies: what a clerk, a liaison or the API gives the desk, validated before anything is
written (types, bounds, plausibility windows and order; see ``_limits``). Personal fields appear only in
``SubjectIn``."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from detainers.desk._limits import (
    MAX_LIST,
    BirthDate,
    EventInstant,
    ExpectedVersion,
    LegalDate,
    PlannedInstant,
    ShortText,
    out_of_order,
)
from detainers.domain import (
    DetainerForm,
    EligibilityReason,
    FormLabelError,
    Level,
    PCBasis,
    ReleasedTo,
    Request,
    StatusProof,
    WarrantKind,
    parse_form,
)
from detainers.ledger import Authority, ChargeIn, ConvictionIn, PersonalData

__all__ = [
    "ATTACHMENT_TYPES",
    "AttachmentIn",
    "AttachmentMediaType",
    "BookingIn",
    "CorrectionIn",
    "DetainerIn",
    "EligibilityIn",
    "LiftIn",
    "LinkIn",
    "ManualNotificationIn",
    "NotificationChannel",
    "OverrideIn",
    "ReleaseIn",
    "ServedIn",
    "ServedManner",
    "StatusProofIn",
    "SubjectIn",
    "TransferIn",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Versioned(_In):
    expected_version: ExpectedVersion | None = Field(
        default=None,
        description="The version you last read (an integer, not a string or boolean); a stale one is refused with 409.",
    )


Id = Annotated[str, Field(min_length=1, max_length=64)]
Tag = Annotated[str, Field(min_length=1, max_length=60)]
RuleId = Annotated[str, Field(min_length=1, max_length=200)]
Confirmed = Annotated[list[RuleId] | None, Field(max_length=MAX_LIST)]


class SubjectIn(PersonalData):
    """Personal data of the subject (stored apart from the ledger; every read is logged)."""

    date_of_birth: BirthDate | None = None
    addresses: tuple[ShortText, ...] = Field(default=(), max_length=10)
    aliases: tuple[ShortText, ...] = Field(default=(), max_length=20)


class ChargeApiIn(ChargeIn):
    """A charge on the booking."""

    statute: str = Field(min_length=1, max_length=80)
    level: Level
    magistrate_probable_cause_at: EventInstant | None = None
    tags: tuple[Tag, ...] = Field(default=(), max_length=20)


class ConvictionApiIn(ConvictionIn):
    """A prior conviction."""

    statute: str = Field(min_length=1, max_length=80)
    level: Level
    date: LegalDate
    jurisdiction: str | None = Field(default=None, max_length=120)
    punishable_by_state_prison: bool | None = None
    sentence_end: LegalDate | None = None
    tags: tuple[Tag, ...] = Field(default=(), max_length=20)


def _birth_before(subject: SubjectIn | None, instant: dt.datetime | None, what: str) -> None:
    if subject is not None and subject.date_of_birth is not None and instant is not None:
        # the latest calendar date anywhere at that instant (UTC+14): a birth "today" in any zone is allowed
        if subject.date_of_birth > (instant + dt.timedelta(hours=14)).date():
            raise out_of_order("subject.date_of_birth", f"subject.date_of_birth is after {what}")


class DetainerIn(_In):
    """A detainer as received: the I-247A fields (DHS Form I-247A, 02/17). Personal fields go in ``subject``."""

    form: DetainerForm = Field(description="Form version, e.g. 'I-247A', or an ICE data label.")
    office: str | None = Field(
        default=None, max_length=64, description="Issuing ICE office code (an ICE liaison's own office is implied)."
    )
    received_at: EventInstant
    issued_on: LegalDate | None = Field(default=None, description="The date on the form; not after receipt.")
    requests: list[Request] | None = Field(
        default=None, max_length=10, description="Boxes ticked; default: what the form asks."
    )
    warrant: WarrantKind = WarrantKind.NONE
    pc_basis: list[PCBasis] = Field(default_factory=list, max_length=10, description="Box 1: basis of probable cause.")
    box2_transferred_for_proceeding: bool = Field(default=False, description="Box 2 (then Box 1 stays empty).")
    ice_subject_id: str | None = Field(default=None, max_length=64)
    ice_event_no: str | None = Field(default=None, max_length=64)
    addressed_to: str | None = Field(default=None, max_length=200)
    notify_phone: str | None = Field(default=None, max_length=40)
    death_transfer_notify: bool = False
    cancels_detainer_id: Id | None = None
    served_at: EventInstant | None = Field(default=None, description="Not before received_at.")
    booking_id: Id | None = Field(default=None, description="Link to this booking at intake.")
    subject: SubjectIn | None = None
    source: Authority = Field(default=Authority.API, description="form, api or import (never worker).")

    @field_validator("form", mode="before")
    @classmethod
    def _form(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_form(value)
            except FormLabelError as error:
                raise ValueError(str(error)) from error
        return value

    @model_validator(mode="after")
    def _boxes(self) -> DetainerIn:
        if self.box2_transferred_for_proceeding and self.pc_basis:
            raise ValueError("complete Box 1 (pc_basis) or Box 2 (box2_transferred_for_proceeding), not both")
        if self.source is Authority.WORKER:
            raise ValueError("source 'worker' is reserved for the deadline worker")
        if self.issued_on is not None and self.issued_on > (self.received_at + dt.timedelta(hours=14)).date():
            raise out_of_order(
                "issued_on", "issued_on is after received_at: a detainer is issued before it is received"
            )
        if self.served_at is not None and self.served_at < self.received_at:
            raise out_of_order(
                "served_at", "served_at is before received_at: a detainer is served after it is received"
            )
        _birth_before(self.subject, self.received_at, "received_at")
        return self


class BookingIn(_In):
    booking_number: str = Field(min_length=1, max_length=64)
    facility: str | None = Field(default=None, max_length=120)
    jurisdiction: str = Field(min_length=2, max_length=120, description="e.g. us/ca/los-angeles/lasd")
    timezone: str | None = Field(
        default=None,
        max_length=64,
        description="The facility's IANA zone, e.g. America/Los_Angeles (default: the state's zone).",
    )
    booked_at: EventInstant | None = None
    charges: list[ChargeApiIn] = Field(default_factory=list, max_length=100)
    convictions: list[ConvictionApiIn] = Field(default_factory=list, max_length=100)
    subject: SubjectIn | None = None
    subject_key: Id | None = None
    source: Authority = Authority.API

    @field_validator("charges", "convictions", mode="before")
    @classmethod
    def _from_ledger(cls, value: Any) -> Any:
        # Python callers (the demo, imports) may pass the ledger's own models: checked like JSON.
        if isinstance(value, list | tuple):
            return [v.model_dump() if isinstance(v, ChargeIn | ConvictionIn) else v for v in value]
        return value

    @field_validator("jurisdiction")
    @classmethod
    def _real_place(cls, value: str) -> str:
        from detainers.law import check_jurisdiction

        return check_jurisdiction(value)  # a real jurisdiction id, or 422 with "did you mean …"

    @model_validator(mode="after")
    def _zone(self) -> BookingIn:
        if self.timezone is None:
            from detainers.law import default_zone

            try:
                zone = default_zone(self.jurisdiction)
            except ValueError as error:
                raise ValueError(str(error)) from error
            if zone is None:
                raise ValueError(f"give timezone: no default zone for jurisdiction {self.jurisdiction!r}")
            self.timezone = zone
        else:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(self.timezone)
            except (ZoneInfoNotFoundError, ValueError) as error:
                raise ValueError(f"timezone {self.timezone!r} is not an IANA zone (e.g. America/Chicago)") from error
        _birth_before(self.subject, self.booked_at, "booked_at")
        return self


class ServedManner(StrEnum):
    IN_PERSON = "in_person"
    MAIL = "mail"


class ServedIn(_Versioned):
    served_at: EventInstant = Field(description="Not before the detainer was received.")
    manner: ServedManner = ServedManner.IN_PERSON


class LinkIn(_Versioned):
    booking_id: Id


class LiftIn(_Versioned):
    lifted_at: EventInstant = Field(description="Not before the detainer was received.")
    reason: str = Field(min_length=1, max_length=200)


class CorrectionIn(_Versioned):
    field: str = Field(min_length=1, max_length=60)
    value: Any = None
    reason: str = Field(min_length=3, max_length=1000)

    @field_validator("value")
    @classmethod
    def _small(cls, value: Any) -> Any:
        if len(json.dumps(value, default=str)) > 10_000:
            raise ValueError("a corrected value is at most 10,000 characters of JSON")
        return value

    @model_validator(mode="after")
    def _real_place(self) -> CorrectionIn:
        if self.field == "jurisdiction":  # only bookings carry one: checked like a new booking's
            from detainers.law import check_jurisdiction

            self.value = check_jurisdiction(str(self.value or ""))
        return self


# What a jail scans or types: served back as a download (Content-Disposition: attachment, nosniff), never inline.
ATTACHMENT_TYPES = ("application/pdf", "image/png", "image/jpeg", "image/tiff", "text/plain")


class AttachmentMediaType(StrEnum):
    PDF = "application/pdf"
    PNG = "image/png"
    JPEG = "image/jpeg"
    TIFF = "image/tiff"
    TEXT = "text/plain"


class AttachmentIn(_In):
    kind: str = Field(
        description="e.g. I-200, I-205, judicial_warrant", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_. -]+$"
    )
    filename: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[^/\\\x00-\x1f\x7f\"]+$",
        description="A file name without a directory, quotes or control characters.",
    )
    media_type: AttachmentMediaType = Field(
        default=AttachmentMediaType.PDF, description="One of " + ", ".join(ATTACHMENT_TYPES) + "."
    )
    content_base64: str = Field(min_length=1, max_length=7_000_000)


class EligibilityIn(_Versioned):
    eligible_at: PlannedInstant = Field(description="When the person would otherwise go free (may be ahead).")
    reason: EligibilityReason
    bail_refused_at: EventInstant | None = None


class StatusProofIn(_Versioned):
    proof: StatusProof
    shown_at: EventInstant


class ReleaseIn(_Versioned):
    released_at: EventInstant
    released_to: ReleasedTo = ReleasedTo.PUBLIC
    against_decision_confirmed: Confirmed = Field(
        default=None,
        description="Only where the decision in force does not allow this: the rules it goes against (as the 409 "
        "names them), confirming that it happened anyway; the event is then flagged against the decision.",
    )


class TransferIn(_Versioned):
    transferred_at: EventInstant
    to_agency: str = Field(min_length=1, max_length=120)
    basis: str | None = Field(default=None, max_length=200)
    against_decision_confirmed: Confirmed = Field(
        default=None,
        description="Only where the decision in force does not allow this: the rules it goes against (as the 409 "
        "names them), confirming that it happened anyway; the event is then flagged against the decision.",
    )


class NotificationChannel(StrEnum):
    PHONE = "phone"
    FAX = "fax"
    EMAIL = "email"
    WEBHOOK = "webhook"
    IN_PERSON = "in_person"
    MAIL = "mail"


class ManualNotificationIn(_Versioned):
    detainer_id: Id
    channel: NotificationChannel = Field(description="phone, fax, email, webhook, in_person, mail")
    sent_at: EventInstant
    recipient: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=500)
    against_decision_confirmed: Confirmed = Field(
        default=None,
        description="Only where the decision in force does not allow this: the rules it goes against (as the 409 "
        "names them), confirming that it happened anyway; the event is then flagged against the decision.",
    )


class OverrideIn(_Versioned):
    notify: bool | None = None
    hold_until: PlannedInstant | None = None
    clear_hold: bool = False
    reason: str = Field(min_length=3, max_length=1000)
