"""Bookings: open one, record eligibility, status proof, release and transfer; the decision; overrides."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from detainers.desk import BookingState, effective_decision
from detainers.service._auth import Principal
from detainers.service._roles import Permission
from detainers.service._schemas import (
    BookingIn,
    BookingOut,
    CorrectionIn,
    DecisionOut,
    DetainerOut,
    EligibilityIn,
    EventOut,
    ManualNotificationIn,
    OverrideIn,
    Page,
    ReleaseIn,
    StatusProofIn,
    TransferIn,
)
from detainers.service.routes.deps import (
    DeskDep,
    IdempotencyKey,
    Paging,
    actor_of,
    as_json,
    create_once,
    detainer_json,
    requires,
)

__all__ = ["decision_out", "router"]

router = APIRouter(prefix="/v1/bookings", tags=["bookings"])


class BookingStatus(StrEnum):
    IN_CUSTODY = "in_custody"
    RELEASED = "released"
    TRANSFERRED = "transferred"


def decision_out(booking: BookingState) -> DecisionOut:
    return DecisionOut(
        booking_id=booking.id,
        decision=booking.decision,
        decision_seq=booking.decision_seq,
        override=booking.override,
        effective=effective_decision(booking),
    )


@router.post("", status_code=201, response_model=BookingOut, summary="Open a booking")
def open_booking(
    body: BookingIn,
    request: Request,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.BOOKING_WRITE))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """One booking per jurisdiction and booking number: a second is refused (409) naming the first
    (``existing_id``)."""
    return create_once(
        desk,
        who,
        idempotency_key,
        request,
        body,
        "booking",
        lambda rows: desk.open_booking(body, actor_of(who), extra_rows=rows),
        lambda state: as_json(state, 201),
        desk.booking,
    )


@router.get("", response_model=Page[BookingOut], summary="Search and list bookings")
def search(
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.BOOKING_READ))],
    paging: Annotated[Paging, Depends()],
    status: Annotated[BookingStatus | None, Query(description="in_custody, released, transferred")] = None,
    jurisdiction: Annotated[str | None, Query(max_length=120)] = None,
    booking_number: Annotated[str | None, Query(max_length=64)] = None,
) -> Page[BookingOut]:
    items, total = desk.list_bookings(
        status=status,
        jurisdiction=jurisdiction,
        booking_number=booking_number,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page[BookingOut](
        items=items,
        total=total,
        limit=paging.limit,
        offset=paging.offset,
        next_offset=paging.next_offset(total),
    )


@router.get("/{booking_id}", response_model=BookingOut, summary="One booking")
def read(
    booking_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.BOOKING_READ))]
) -> Response:
    return as_json(desk.booking(booking_id))


@router.get("/{booking_id}/events", response_model=list[EventOut], summary="The booking's ledger entries")
def history(
    booking_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.BOOKING_READ))]
) -> list[EventOut]:
    desk.booking(booking_id)
    return [EventOut.model_validate(e.model_dump()) for e in desk.events_of("booking", booking_id)]


@router.get("/{booking_id}/decision", response_model=DecisionOut, summary="The decision with its explanation")
def decision(
    booking_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.BOOKING_READ))]
) -> DecisionOut:
    return decision_out(desk.booking(booking_id))


@router.post("/{booking_id}/decision", response_model=DecisionOut, summary="Ask the policy engine again")
def redecide(
    booking_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.BOOKING_WRITE))]
) -> DecisionOut:
    return decision_out(desk.redecide(booking_id, actor_of(who)))


@router.post("/{booking_id}/eligibility", response_model=BookingOut, summary="Record release eligibility")
def eligibility(
    booking_id: str,
    body: EligibilityIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.BOOKING_WRITE))],
) -> Response:
    return as_json(desk.record_eligibility(booking_id, body, actor_of(who)))


@router.post("/{booking_id}/status-proof", response_model=BookingOut, summary="Record proof of status shown")
def status_proof(
    booking_id: str,
    body: StatusProofIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.BOOKING_WRITE))],
) -> Response:
    return as_json(desk.record_status_proof(booking_id, body, actor_of(who)))


@router.post("/{booking_id}/release", response_model=BookingOut, summary="Record the person's release")
def release(
    booking_id: str,
    body: ReleaseIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.BOOKING_WRITE))],
) -> Response:
    return as_json(desk.release(booking_id, body, actor_of(who)))


@router.post("/{booking_id}/transfer", response_model=BookingOut, summary="Record a transfer of custody")
def transfer(
    booking_id: str,
    body: TransferIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.BOOKING_WRITE))],
) -> Response:
    return as_json(desk.transfer(booking_id, body, actor_of(who)))


@router.post("/{booking_id}/notifications", response_model=DetainerOut, summary="Record a notice given by hand")
def notification(
    booking_id: str,
    body: ManualNotificationIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.NOTIFICATION_RECORD))],
) -> Response:
    return detainer_json(desk, who, desk.record_notification(booking_id, body, actor_of(who)))


@router.post("/{booking_id}/override", response_model=DecisionOut, summary="Override the policy (with reason)")
def override(
    booking_id: str,
    body: OverrideIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.OVERRIDE))],
) -> DecisionOut:
    return decision_out(desk.override(booking_id, body, actor_of(who)))


@router.post("/{booking_id}/corrections", response_model=BookingOut, summary="Correct a field (with reason)")
def correct(
    booking_id: str,
    body: CorrectionIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.CORRECT))],
) -> Response:
    result = desk.correct("booking", booking_id, body, actor_of(who))
    return as_json(result)
