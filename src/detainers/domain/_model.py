"""Pure, typed records of the detainer process: people, bookings, charges, convictions, detainers.

No I/O here. Every instant is timezone-aware (validated); dates are calendar dates.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from detainers.domain._forms import DetainerForm, Request, default_requests

__all__ = [
    "ANumber",
    "Agreement",
    "AwareDatetime",
    "Booking",
    "Case",
    "Charge",
    "Conviction",
    "Detainer",
    "EligibilityReason",
    "Level",
    "PCBasis",
    "Person",
    "PersonIds",
    "ReleasedTo",
    "StatusProof",
    "WarrantKind",
    "validate_a_number",
]

_A_NUMBER = re.compile(r"^A\d{8,9}$")


def validate_a_number(value: str) -> str:
    """An alien registration number: ``A`` followed by 8 or 9 digits (dashes and spaces ignored)."""
    compact = re.sub(r"[\s-]", "", value).upper()
    if not _A_NUMBER.match(compact):
        raise ValueError(f"A-number must be 'A' followed by 8 or 9 digits, got {value!r}")
    return compact


def _aware(value: datetime) -> datetime:
    # Stored in UTC: comparing or subtracting two datetimes that share one ZoneInfo uses wall-clock
    # arithmetic in Python, which is an hour off across DST. Shown in the facility's zone on output.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("instant must carry a UTC offset or time zone")
    return value.astimezone(UTC)


ANumber = Annotated[str, AfterValidator(validate_a_number)]
AwareDatetime = Annotated[datetime, AfterValidator(_aware)]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Level(StrEnum):
    FELONY = "felony"
    MISDEMEANOR = "misdemeanor"
    INFRACTION = "infraction"


class StatusProof(StrEnum):
    """Proof of status the person showed the jail (Texas CCP art. 2.251(b))."""

    NONE = "none"
    US_CITIZEN = "us_citizen"
    LAWFUL_STATUS = "lawful_status"


class EligibilityReason(StrEnum):
    """Why the person would otherwise go free (the I-247A's "would otherwise have been released")."""

    BOND_POSTED = "bond_posted"
    OWN_RECOGNIZANCE = "own_recognizance"
    TIME_SERVED = "time_served"
    DISMISSED = "dismissed"
    ACQUITTED = "acquitted"
    DIVERSION = "diversion"
    COURT_ORDER = "court_order"
    OTHER = "other"


class ReleasedTo(StrEnum):
    PUBLIC = "public"
    ICE = "ice"
    OTHER_AGENCY = "other_agency"


class WarrantKind(StrEnum):
    """What accompanies the detainer; only the last two are signed by a judge (8 CFR 236.1(b))."""

    NONE = "none"
    I200 = "I-200"
    I203 = "I-203"
    I205 = "I-205"
    JUDICIAL_WARRANT = "judicial_warrant"
    JUDICIAL_PROBABLE_CAUSE = "judicial_probable_cause"

    @property
    def judicial(self) -> bool:
        return self in (WarrantKind.JUDICIAL_WARRANT, WarrantKind.JUDICIAL_PROBABLE_CAUSE)

    @property
    def administrative(self) -> bool:
        return self in (WarrantKind.I200, WarrantKind.I203, WarrantKind.I205)


class PCBasis(StrEnum):
    """Box 1 of the I-247A: what DHS says its probable cause rests on."""

    FINAL_ORDER = "final_order"
    PENDING_PROCEEDINGS = "pending_proceedings"
    BIOMETRIC_RECORDS = "biometric_records"
    STATEMENTS_EVIDENCE = "statements_evidence"


class PersonIds(_Record):
    """Identifiers a jail or ICE may hold. None is required; none is ever logged."""

    a_number: ANumber | None = None
    fbi_number: str | None = None
    state_id: str | None = None
    booking_person_id: str | None = None


class Conviction(_Record):
    """A prior conviction. ``tags`` add to what the statute tables say (e.g. ``serious``)."""

    statute: str = Field(min_length=1)
    level: Level
    date: date
    jurisdiction: str | None = None
    punishable_by_state_prison: bool | None = None
    sentence_end: dt.date | None = None
    tags: tuple[str, ...] = ()


class Charge(_Record):
    """A current charge on the booking."""

    statute: str = Field(min_length=1)
    level: Level
    magistrate_probable_cause_at: AwareDatetime | None = None
    tags: tuple[str, ...] = ()


class Person(_Record):
    """The person held. ``tags`` record facts no conviction shows (e.g. ``ca_registrant``,
    ``terrorist_screening_match``, ``previously_removed``)."""

    ids: PersonIds = PersonIds()
    status_proof: StatusProof = StatusProof.NONE
    status_proof_at: AwareDatetime | None = None
    convictions: tuple[Conviction, ...] = ()
    tags: tuple[str, ...] = ()


class Agreement(StrEnum):
    """An INA 287(g) agreement of the agency holding the person (8 U.S.C. 1357(g))."""

    JAIL_ENFORCEMENT = "287g_jem"
    WARRANT_SERVICE = "287g_wso"
    TASK_FORCE = "287g_tfm"


class Booking(_Record):
    """One stay in one facility. ``timezone`` is the facility's IANA zone; ``agreements`` the holding
    agency's 287(g) agreements in force at the time."""

    facility: str | None = None
    jurisdiction: str
    timezone: str
    booked_at: AwareDatetime | None = None
    charges: tuple[Charge, ...] = ()
    eligible_for_release_at: AwareDatetime | None = None
    eligibility_reason: EligibilityReason | None = None
    bail_refused_at: AwareDatetime | None = None
    released_at: AwareDatetime | None = None
    released_to: ReleasedTo | None = None
    agreements: frozenset[Agreement] = frozenset()

    @model_validator(mode="after")
    def _ordered(self) -> Booking:
        if self.booked_at and self.released_at and self.released_at < self.booked_at:
            raise ValueError("released_at is before booked_at")
        if self.booked_at and self.eligible_for_release_at and self.eligible_for_release_at < self.booked_at:
            raise ValueError("eligible_for_release_at is before booked_at")
        return self


class Detainer(_Record):
    """One detainer (or notification request) as received by the jail."""

    form: DetainerForm
    received_at: AwareDatetime | None = None
    issued_on: date | None = None
    requests: frozenset[Request] | None = None
    warrant: WarrantKind = WarrantKind.NONE
    pc_basis: frozenset[PCBasis] = frozenset()
    box2_transferred_for_proceeding: bool = False
    served_on_subject_at: AwareDatetime | None = None
    issuing_office: str | None = None
    lifted_at: AwareDatetime | None = None
    lift_reason: str | None = None

    @property
    def effective_requests(self) -> frozenset[Request]:
        """The requests marked on the form, or what the form asks for by default."""
        return self.requests if self.requests is not None else default_requests(self.form)

    @field_validator("lift_reason")
    @classmethod
    def _lift_reason(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None


class Case(_Record):
    """Everything the engine needs for one decision: the person, the booking, the detainers."""

    name: str = "case"
    person: Person = Person()
    booking: Booking
    detainers: tuple[Detainer, ...] = ()
    as_of: AwareDatetime | None = None

    @property
    def jurisdiction(self) -> str:
        return self.booking.jurisdiction

    @model_validator(mode="after")
    def _has_detainer(self) -> Case:
        if not self.detainers:
            raise ValueError("a case needs at least one detainer")
        return self
