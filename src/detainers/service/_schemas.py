"""Request and response bodies of the API. Personal fields appear only in ``SubjectIn``/``SubjectOut``."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, computed_field

from detainers.desk import (
    ATTACHMENT_TYPES,
    AttachmentIn,
    BookingIn,
    BookingState,
    CorrectionIn,
    DetainerIn,
    DetainerState,
    EligibilityIn,
    LiftIn,
    LinkIn,
    ManualNotificationIn,
    NotificationChannel,
    OverrideIn,
    ReleaseIn,
    ServedIn,
    StatusProofIn,
    SubjectIn,
    TransferIn,
)

__all__ = [
    "ATTACHMENT_TYPES",
    "AttachmentIn",
    "BookingIn",
    "BookingOut",
    "CorrectionIn",
    "CountCell",
    "CountsOut",
    "DecisionOut",
    "DetainerIn",
    "DetainerOut",
    "EligibilityIn",
    "ErasureIn",
    "EventOut",
    "LiftIn",
    "LinkIn",
    "ManualNotificationIn",
    "NotificationChannel",
    "OverrideIn",
    "Page",
    "ReleaseIn",
    "ServedIn",
    "StatusProofIn",
    "SubjectIn",
    "TransferIn",
    "VerifyOut",
    "WhoAmI",
]

T = TypeVar("T")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErasureIn(_In):
    order_reference: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=3, max_length=1000)


BookingOut = BookingState

_SIGHT = (
    "What the caller may see of it: full (staff); shared (an ICE liaison, where the decision allows notice to "
    "ICE); request_only (an ICE liaison, where it does not or nothing is decided yet). See docs/security.md."
)


class DetainerOut(DetainerState):
    """A detainer as the caller may see it: fields withheld from the caller are empty and named in ``withheld``."""

    version: int | None = Field(default=0, description="None when withheld (request_only).")  # type: ignore[assignment]
    sight: str = Field(default="full", description=_SIGHT)
    withheld: list[str] = Field(default_factory=list, description="Fields withheld from this caller (shown empty).")
    shown_status: str | None = Field(default=None, exclude=True)  # the status as the caller may see it

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> str:
        """received, active, lifted, released or transferred (for a request_only caller: received or lifted)."""
        return self.shown_status or super().status


class DecisionOut(BaseModel):
    booking_id: str | None
    decision: dict[str, Any] | None
    decision_seq: int | None
    override: dict[str, Any] | None
    effective: dict[str, Any]
    sight: str = Field(default="full", description=_SIGHT)
    withheld: list[str] = Field(default_factory=list, description="Parts withheld from this caller.")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class EventOut(BaseModel):
    seq: int
    stream_id: str
    version: int | None = Field(description="None when withheld from the caller (see docs/security.md).")
    type: str
    recorded_at: str
    actor: str
    authority: str
    subject_key: str | None
    payload: dict[str, Any]
    rules: list[dict[str, Any]]
    prev_hash: str
    hash: str


class ViewMismatchOut(BaseModel):
    table: str
    key: str
    column: str
    description: str


class VerifyOut(BaseModel):
    ok: bool = Field(description="The chain verifies and every view row is what the events make of it.")
    checked: int
    head_seq: int
    head_hash: str
    first_break: dict[str, Any] | None
    views_ok: bool = Field(description="The view tables the API serves match the events folded again.")
    view_mismatches: list[ViewMismatchOut] = Field(description="Each differing view cell (at most 100 listed).")


class CountCell(BaseModel):
    group: dict[str, str]
    count: int | None = Field(description="None when suppressed (fewer than 11).")
    suppressed: bool


class CountsOut(BaseModel):
    by: list[str]
    cells: list[CountCell]
    total: int | None
    suppression_threshold: int


class WhoAmI(BaseModel):
    token_id: str
    role: str
    office: str | None
    label: str
