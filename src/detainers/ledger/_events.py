"""Typed ledger events: what happened, to which stream, who did it, when, by what authority, under which rules.

An event is written once and never changed. Its payload is a pydantic model chosen by its type, so a payload that
does not fit its type never reaches the ledger. Payloads never carry names, dates of birth, A-numbers or addresses:
those live in the personal-data store and events refer to them by ``subject_key``.
"""

from __future__ import annotations

import datetime as dt
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from detainers.domain import (
    AwareDatetime,
    DetainerForm,
    EligibilityReason,
    Level,
    PCBasis,
    ReleasedTo,
    Request,
    StatusProof,
    WarrantKind,
)

__all__ = [
    "AgainstDecision",
    "AttachmentAdded",
    "Authority",
    "BookingOpened",
    "ChargeIn",
    "ConvictionIn",
    "Corrected",
    "DeadlineWarning",
    "DecisionMade",
    "DetainerLifted",
    "DetainerReceived",
    "DetainerServed",
    "EligibilityRecorded",
    "EventType",
    "LinkedToBooking",
    "NotificationCancelled",
    "NotificationFailed",
    "NotificationQueued",
    "NotificationSent",
    "OverLimitMarked",
    "PAYLOADS",
    "Payload",
    "PendingEvent",
    "PersonNoticeOverdue",
    "PersonNoticeServed",
    "PersonReleased",
    "PersonalDataErased",
    "PersonalDataRead",
    "PersonalDataRecorded",
    "PolicyOverridden",
    "StatusProofRecorded",
    "StoredEvent",
    "Transferred",
    "TranslationFile",
    "format_utc",
    "parse_utc",
    "payload_model",
]


def format_utc(instant: datetime) -> str:
    """The one text form of an instant in the ledger: UTC, microseconds, ``Z``."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("ledger instants must be timezone-aware")
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    """Read an ISO 8601 instant (``Z`` or an offset); naive text is an error."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"instant {text!r} has no UTC offset")
    return value


class Authority(StrEnum):
    """By what channel an entry came in (specify7 #4971: the source of an action belongs in the audit log)."""

    FORM = "form"  # a clerk keying a paper or faxed form
    API = "api"  # a system or the ICE liaison through the API
    IMPORT = "import"  # bulk import
    WORKER = "worker"  # the deadline worker acting on its own


class EventType(StrEnum):
    DETAINER_RECEIVED = "detainer_received"
    DETAINER_SERVED = "detainer_served"
    ATTACHMENT_ADDED = "attachment_added"
    LINKED_TO_BOOKING = "linked_to_booking"
    DETAINER_LIFTED = "detainer_lifted"
    BOOKING_OPENED = "booking_opened"
    ELIGIBILITY_RECORDED = "eligibility_recorded"
    STATUS_PROOF_RECORDED = "status_proof_recorded"
    PERSON_RELEASED = "person_released"
    TRANSFERRED = "transferred"
    DECISION_MADE = "decision_made"
    POLICY_OVERRIDDEN = "policy_overridden"
    NOTIFICATION_QUEUED = "notification_queued"
    NOTIFICATION_SENT = "notification_sent"
    NOTIFICATION_FAILED = "notification_failed"
    NOTIFICATION_CANCELLED = "notification_cancelled"
    DEADLINE_WARNING = "deadline_warning"
    OVER_LIMIT_MARKED = "over_limit_marked"
    CORRECTED = "corrected"
    PERSONAL_DATA_RECORDED = "personal_data_recorded"
    PERSONAL_DATA_READ = "personal_data_read"
    PERSONAL_DATA_ERASED = "personal_data_erased"
    PERSON_NOTICE_SERVED = "person_notice_served"
    PERSON_NOTICE_OVERDUE = "person_notice_overdue"


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DetainerReceived(Payload):
    """The jail received a detainer (I-247 family) from an ICE office. Personal fields live elsewhere."""

    office: str = Field(min_length=1, max_length=64)
    form: DetainerForm
    requests: tuple[Request, ...] | None = None
    warrant: WarrantKind = WarrantKind.NONE
    pc_basis: tuple[PCBasis, ...] = ()
    box2_transferred_for_proceeding: bool = False
    issued_on: date | None = None
    received_at: AwareDatetime
    ice_subject_id: str | None = Field(default=None, max_length=64)
    ice_event_no: str | None = Field(default=None, max_length=64)
    addressed_to: str | None = Field(default=None, max_length=200)
    notify_phone: str | None = Field(default=None, max_length=40)
    death_transfer_notify: bool = False
    cancels_detainer_id: str | None = None
    subject_key: str | None = None


class DetainerServed(Payload):
    served_at: AwareDatetime
    manner: str = Field(default="in_person", max_length=40)


class AttachmentAdded(Payload):
    attachment_id: str
    kind: str = Field(max_length=40)
    filename: str = Field(max_length=200)
    media_type: str = Field(max_length=100)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: int = Field(ge=0)


class LinkedToBooking(Payload):
    booking_id: str


class DetainerLifted(Payload):
    lifted_at: AwareDatetime
    reason: str = Field(min_length=1, max_length=200)


class ChargeIn(Payload):
    statute: str = Field(min_length=1, max_length=80)
    level: Level
    magistrate_probable_cause_at: AwareDatetime | None = None
    tags: tuple[str, ...] = ()


class ConvictionIn(Payload):
    statute: str = Field(min_length=1, max_length=80)
    level: Level
    date: dt.date
    jurisdiction: str | None = None
    punishable_by_state_prison: bool | None = None
    sentence_end: dt.date | None = None
    tags: tuple[str, ...] = ()


class BookingOpened(Payload):
    booking_number: str = Field(min_length=1, max_length=64)
    facility: str | None = Field(default=None, max_length=120)
    jurisdiction: str = Field(min_length=2, max_length=120)
    timezone: str = Field(min_length=1, max_length=64)
    booked_at: AwareDatetime | None = None
    charges: tuple[ChargeIn, ...] = ()
    convictions: tuple[ConvictionIn, ...] = ()
    subject_key: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except Exception as error:  # noqa: BLE001 - any lookup failure is the same user error
            raise ValueError(f"unknown IANA time zone {value!r}") from error
        return value


class EligibilityRecorded(Payload):
    """The moment the person would otherwise have gone free (the I-247A's "would otherwise have been released")."""

    eligible_at: AwareDatetime
    reason: EligibilityReason
    bail_refused_at: AwareDatetime | None = None


class StatusProofRecorded(Payload):
    proof: StatusProof
    shown_at: AwareDatetime


class AgainstDecision(Payload):
    """A fact recorded although the decision in force said the jail may not do it (a transfer the law forbids, a
    notice to ICE the law forbids). The person recording it confirmed so, naming the rules; reports count these."""

    dimension: str = Field(pattern=r"^(transfer|notify|hold)$")
    decision: str = Field(max_length=200)  # what the decision said, in words
    rules: tuple[str, ...] = ()  # the rules that decided it ("override" when a supervisor's override did)
    decision_seq: int | None = None  # the decision_made event it contradicts


class PersonReleased(Payload):
    released_at: AwareDatetime
    released_to: ReleasedTo
    against_decision: AgainstDecision | None = None


class Transferred(Payload):
    transferred_at: AwareDatetime
    to_agency: str = Field(min_length=1, max_length=120)
    basis: str | None = Field(default=None, max_length=200)
    against_decision: AgainstDecision | None = None


class DecisionMade(Payload):
    """What the policy engine answered for the booking, with the detainers it considered."""

    detainer_ids: tuple[str, ...]
    decision: dict[str, Any]
    engine_version: str
    trigger: str = Field(max_length=60)


class PolicyOverridden(Payload):
    """A supervisor sets aside part of the engine's answer; the reason is mandatory."""

    notify: bool | None = None
    hold_until: AwareDatetime | None = None
    clear_hold: bool = False
    reason: str = Field(min_length=3, max_length=1000)


class NotificationQueued(Payload):
    detainer_id: str
    office: str
    channel: str
    idempotency_key: str
    due_at: AwareDatetime
    # The release timing the notice tells ICE; a later change queues an update under a new key.
    release_at: AwareDatetime | None = None
    hold_until: AwareDatetime | None = None
    supersedes: str | None = None  # the key of the notice this one updates


class NotificationSent(Payload):
    detainer_id: str | None = None
    office: str | None = None
    channel: str = Field(max_length=40)
    idempotency_key: str | None = None
    sent_at: AwareDatetime
    attempts: int = 1
    manual: bool = False
    recipient: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=500)
    against_decision: AgainstDecision | None = None


class NotificationFailed(Payload):
    detainer_id: str
    channel: str
    idempotency_key: str
    attempts: int
    error: str = Field(max_length=500)


class NotificationCancelled(Payload):
    """A queued notice the outbox did not send, because what it says is no longer allowed or needed."""

    detainer_id: str
    channel: str
    idempotency_key: str
    reason: str = Field(pattern=r"^(lifted|released|transferred|not_allowed|superseded|not_requested|unlinked)$")
    detail: str = Field(max_length=500)


class DeadlineWarning(Payload):
    hold_until: AwareDatetime
    lead_minutes: int


class OverLimitMarked(Payload):
    """Custody ran past the lawful hold limit; ``at`` is the instant it did."""

    at: AwareDatetime
    hold_until: AwareDatetime


class Corrected(Payload):
    target: str = Field(pattern=r"^(detainer|booking)$")
    field: str = Field(min_length=1, max_length=60)
    old: Any = None
    new: Any = None
    reason: str = Field(min_length=3, max_length=1000)


class PersonalDataRecorded(Payload):
    """Names only the fields stored, never their values."""

    fields: tuple[str, ...]


class PersonalDataRead(Payload):
    purpose: str = Field(min_length=3, max_length=300)


class PersonalDataErased(Payload):
    order_reference: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=3, max_length=1000)


_NOTICE_KIND = r"^[a-z0-9_]{1,60}$"
_PERSON_RECIPIENT = r"^(subject|attorney_or_designee)$"


class TranslationFile(Payload):
    """A translation file a served notice was rendered from: where it came from (shipped with detainers or the
    county's own certified file, which takes precedence), its sha256 and its review status."""

    path: str = Field(min_length=1, max_length=200)
    source: str = Field(pattern=r"^(shipped|county)$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    status: str = Field(pattern=r"^(drafted|reviewed)$")
    reviewed_by: str | None = Field(default=None, max_length=200)
    reviewed_on: date | None = None


class PersonNoticeServed(Payload):
    """A notice or consent form given to the person or their attorney or designee (TRUTH Act, Texas SB 4, ...).

    Who served it is the event's actor; ``served_at`` is when it was handed over or sent. The PDF is identified by
    its sha256 (the same inputs render the same bytes), the translation files by theirs. A consent form carries the
    person's answer. No name, booking number or A-number: the PDF that held them is not stored, only its hash.
    """

    kind: str = Field(pattern=_NOTICE_KIND)
    recipient: str = Field(pattern=_PERSON_RECIPIENT)
    rule: str = Field(min_length=1, max_length=120)  # the rule that made the notice owed
    template: str = Field(min_length=1, max_length=120)
    form: str = Field(pattern=r"^(notice|consent)$")
    deadline: str | None = Field(default=None, max_length=40)  # on_receipt, before_interview, ...
    language: str = Field(min_length=2, max_length=20)
    pdf_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    translations: tuple[TranslationFile, ...] = Field(min_length=1)
    served_at: AwareDatetime
    delivered: str = Field(pattern=r"^(in_person|mail|email|fax|attorney_visit)$")
    answer: str | None = Field(default=None, pattern=r"^(consented|declined|asked_for_counsel)$")

    @model_validator(mode="after")
    def _answer_fits_the_form(self) -> PersonNoticeServed:
        if self.form == "consent" and self.answer is None:
            raise ValueError("a consent form is recorded with the answer: consented, declined or asked_for_counsel")
        if self.form == "notice" and self.answer is not None:
            raise ValueError("only a consent form records an answer")
        return self


class PersonNoticeOverdue(Payload):
    """The worker's warning: a notice owed to the person is past its deadline and not recorded as served."""

    kind: str = Field(pattern=_NOTICE_KIND)
    recipient: str = Field(pattern=_PERSON_RECIPIENT)
    rule: str = Field(min_length=1, max_length=120)
    deadline: str = Field(max_length=40)
    due_at: AwareDatetime


PAYLOADS: dict[EventType, type[Payload]] = {
    EventType.DETAINER_RECEIVED: DetainerReceived,
    EventType.DETAINER_SERVED: DetainerServed,
    EventType.ATTACHMENT_ADDED: AttachmentAdded,
    EventType.LINKED_TO_BOOKING: LinkedToBooking,
    EventType.DETAINER_LIFTED: DetainerLifted,
    EventType.BOOKING_OPENED: BookingOpened,
    EventType.ELIGIBILITY_RECORDED: EligibilityRecorded,
    EventType.STATUS_PROOF_RECORDED: StatusProofRecorded,
    EventType.PERSON_RELEASED: PersonReleased,
    EventType.TRANSFERRED: Transferred,
    EventType.DECISION_MADE: DecisionMade,
    EventType.POLICY_OVERRIDDEN: PolicyOverridden,
    EventType.NOTIFICATION_QUEUED: NotificationQueued,
    EventType.NOTIFICATION_SENT: NotificationSent,
    EventType.NOTIFICATION_FAILED: NotificationFailed,
    EventType.NOTIFICATION_CANCELLED: NotificationCancelled,
    EventType.DEADLINE_WARNING: DeadlineWarning,
    EventType.OVER_LIMIT_MARKED: OverLimitMarked,
    EventType.CORRECTED: Corrected,
    EventType.PERSONAL_DATA_RECORDED: PersonalDataRecorded,
    EventType.PERSONAL_DATA_READ: PersonalDataRead,
    EventType.PERSONAL_DATA_ERASED: PersonalDataErased,
    EventType.PERSON_NOTICE_SERVED: PersonNoticeServed,
    EventType.PERSON_NOTICE_OVERDUE: PersonNoticeOverdue,
}

_TYPE_OF: dict[type[Payload], EventType] = {model: kind for kind, model in PAYLOADS.items()}


def payload_model(kind: EventType) -> type[Payload]:
    return PAYLOADS[kind]


class PendingEvent(BaseModel):
    """An event on its way into the ledger.

    ``expected_version`` is the stream's version the writer last saw (0 for a new stream); ``None`` appends at the
    end without a check (for streams that only grow, such as personal-data reads).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    stream_id: str = Field(min_length=3, max_length=80)
    expected_version: int | None
    payload: Payload
    actor: str = Field(min_length=1, max_length=80)
    authority: Authority
    recorded_at: AwareDatetime
    subject_key: str | None = None
    rules: tuple[dict[str, Any], ...] = ()

    @property
    def type(self) -> EventType:
        return _TYPE_OF[type(self.payload)]

    def payload_json(self) -> dict[str, Any]:
        data: dict[str, Any] = self.payload.model_dump(mode="json")
        return data


class StoredEvent(BaseModel):
    """An event as the ledger holds it, with its place in the global chain."""

    model_config = ConfigDict(frozen=True)

    seq: int
    stream_id: str
    version: int
    type: str
    recorded_at: str
    actor: str
    authority: str
    subject_key: str | None
    payload: dict[str, Any]
    rules: tuple[dict[str, Any], ...]
    prev_hash: str
    hash: str

    @property
    def kind(self) -> EventType:
        return EventType(self.type)

    @property
    def when(self) -> datetime:
        return parse_utc(self.recorded_at)

    def typed(self) -> Payload:
        return PAYLOADS[self.kind].model_validate(self.payload)
