"""The commands' input bodies: what a clerk, a liaison or the API gives the desk (validated before anything is
written). Personal fields appear only in ``SubjectIn``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from detainers.domain import (
    AwareDatetime,
    DetainerForm,
    EligibilityReason,
    FormLabelError,
    PCBasis,
    ReleasedTo,
    Request,
    StatusProof,
    WarrantKind,
    parse_form,
)
from detainers.ledger import Authority, ChargeIn, ConvictionIn, PersonalData

__all__ = [
    "AttachmentIn",
    "BookingIn",
    "CorrectionIn",
    "DetainerIn",
    "EligibilityIn",
    "LiftIn",
    "LinkIn",
    "ManualNotificationIn",
    "OverrideIn",
    "ReleaseIn",
    "ServedIn",
    "StatusProofIn",
    "SubjectIn",
    "TransferIn",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Versioned(_In):
    expected_version: int | None = Field(
        default=None, ge=0, description="The version you last read; a stale one is refused with 409."
    )


class SubjectIn(PersonalData):
    """Personal data of the subject (stored apart from the ledger; every read is logged)."""


class DetainerIn(_In):
    """A detainer as received: the I-247A fields (DHS Form I-247A, 02/17). Personal fields go in ``subject``."""

    form: DetainerForm = Field(description="Form version, e.g. 'I-247A', or an ICE data label.")
    office: str | None = Field(
        default=None, max_length=64, description="Issuing ICE office code (an ICE liaison's own office is implied)."
    )
    received_at: AwareDatetime
    issued_on: dt.date | None = None
    requests: list[Request] | None = Field(default=None, description="Boxes ticked; default: what the form asks.")
    warrant: WarrantKind = WarrantKind.NONE
    pc_basis: list[PCBasis] = Field(default_factory=list, description="Box 1: basis of probable cause.")
    box2_transferred_for_proceeding: bool = Field(default=False, description="Box 2 (then Box 1 stays empty).")
    ice_subject_id: str | None = Field(default=None, max_length=64)
    ice_event_no: str | None = Field(default=None, max_length=64)
    addressed_to: str | None = Field(default=None, max_length=200)
    notify_phone: str | None = Field(default=None, max_length=40)
    death_transfer_notify: bool = False
    cancels_detainer_id: str | None = None
    served_at: AwareDatetime | None = None
    booking_id: str | None = Field(default=None, description="Link to this booking at intake.")
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
        return self


class BookingIn(_In):
    booking_number: str = Field(min_length=1, max_length=64)
    facility: str | None = Field(default=None, max_length=120)
    jurisdiction: str = Field(min_length=2, max_length=120, description="e.g. us/ca/los-angeles/lasd")
    timezone: str | None = Field(
        default=None, description="The facility's IANA zone, e.g. America/Los_Angeles (default: the state's zone)."
    )
    booked_at: AwareDatetime | None = None
    charges: list[ChargeIn] = Field(default_factory=list)
    convictions: list[ConvictionIn] = Field(default_factory=list)
    subject: SubjectIn | None = None
    subject_key: str | None = None
    source: Authority = Authority.API

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
        return self


class ServedIn(_Versioned):
    served_at: AwareDatetime
    manner: str = Field(default="in_person", max_length=40)


class LinkIn(_Versioned):
    booking_id: str = Field(min_length=1)


class LiftIn(_Versioned):
    lifted_at: AwareDatetime
    reason: str = Field(min_length=1, max_length=200)


class CorrectionIn(_Versioned):
    field: str = Field(min_length=1, max_length=60)
    value: Any = None
    reason: str = Field(min_length=3, max_length=1000)

    @model_validator(mode="after")
    def _real_place(self) -> CorrectionIn:
        if self.field == "jurisdiction":  # only bookings carry one: checked like a new booking's
            from detainers.law import check_jurisdiction

            self.value = check_jurisdiction(str(self.value or ""))
        return self


class AttachmentIn(_In):
    kind: str = Field(description="e.g. I-200, I-205, judicial_warrant", max_length=40)
    filename: str = Field(min_length=1, max_length=200)
    media_type: str = Field(default="application/pdf", max_length=100)
    content_base64: str = Field(min_length=1, max_length=7_000_000)


class EligibilityIn(_Versioned):
    eligible_at: AwareDatetime
    reason: EligibilityReason
    bail_refused_at: AwareDatetime | None = None


class StatusProofIn(_Versioned):
    proof: StatusProof
    shown_at: AwareDatetime


class ReleaseIn(_Versioned):
    released_at: AwareDatetime
    released_to: ReleasedTo = ReleasedTo.PUBLIC
    against_decision_confirmed: list[str] | None = Field(
        default=None,
        description="Only where the decision in force does not allow this: the rules it goes against (as the 409 "
        "names them), confirming that it happened anyway; the event is then flagged against the decision.",
    )


class TransferIn(_Versioned):
    transferred_at: AwareDatetime
    to_agency: str = Field(min_length=1, max_length=120)
    basis: str | None = Field(default=None, max_length=200)
    against_decision_confirmed: list[str] | None = Field(
        default=None,
        description="Only where the decision in force does not allow this: the rules it goes against (as the 409 "
        "names them), confirming that it happened anyway; the event is then flagged against the decision.",
    )


class ManualNotificationIn(_Versioned):
    detainer_id: str
    channel: str = Field(description="phone, fax, email, webhook, in_person, mail", max_length=40)
    sent_at: AwareDatetime
    recipient: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=500)
    against_decision_confirmed: list[str] | None = Field(
        default=None,
        description="Only where the decision in force does not allow this: the rules it goes against (as the 409 "
        "names them), confirming that it happened anyway; the event is then flagged against the decision.",
    )


class OverrideIn(_Versioned):
    notify: bool | None = None
    hold_until: AwareDatetime | None = None
    clear_hold: bool = False
    reason: str = Field(min_length=3, max_length=1000)
