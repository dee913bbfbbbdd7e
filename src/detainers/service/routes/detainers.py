"""Detainers: intake (I-247A fields), service on the subject, link, lift, attachments, corrections, notices."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from detainers.service._auth import Principal
from detainers.service._roles import Permission, Role
from detainers.service._schemas import (
    AttachmentIn,
    CorrectionIn,
    DecisionOut,
    DetainerIn,
    DetainerOut,
    EventOut,
    LiftIn,
    LinkIn,
    Page,
    ServedIn,
)
from detainers.service.routes.bookings import decision_out
from detainers.service.routes.deps import DeskDep, Paging, actor_of, as_json, requires, visible_detainer

__all__ = ["router"]

router = APIRouter(prefix="/v1/detainers", tags=["detainers"])


@router.post("", status_code=201, response_model=DetainerOut, summary="Receive a detainer")
def receive(
    body: DetainerIn, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.DETAINER_SUBMIT))]
) -> Response:
    """Record a detainer as received. An ICE liaison submits for its own office and may not link bookings."""
    if who.role is Role.ICE_LIAISON and body.booking_id is not None:
        body = body.model_copy(update={"booking_id": None})
    return as_json(desk.receive_detainer(body, actor_of(who)), 201)


@router.get("", response_model=Page[DetainerOut], summary="Search and list detainers")
def search(
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_READ))],
    paging: Annotated[Paging, Depends()],
    status: Annotated[str | None, Query(description="received, active, lifted, released, transferred")] = None,
    office: str | None = None,
    jurisdiction: Annotated[str | None, Query(description="Prefix, e.g. us/ca")] = None,
    form: Annotated[str | None, Query(description="Form value, e.g. I-247A")] = None,
    booking_id: str | None = None,
    received_from: datetime | None = None,
    received_to: datetime | None = None,
) -> Page[DetainerOut]:
    if who.role is Role.ICE_LIAISON:
        office = who.office
    items, total = desk.list_detainers(
        office=office,
        status=status,
        jurisdiction=jurisdiction,
        form=form,
        booking_id=booking_id,
        received_from=received_from,
        received_to=received_to,
        limit=paging.limit,
        offset=paging.offset,
    )
    return Page[DetainerOut](
        items=items,
        total=total,
        limit=paging.limit,
        offset=paging.offset,
        next_offset=paging.next_offset(total),
    )


@router.get("/{detainer_id}", response_model=DetainerOut, summary="One detainer")
def read(
    detainer_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.DETAINER_READ))]
) -> Response:
    return as_json(visible_detainer(desk, who, detainer_id))


@router.get("/{detainer_id}/events", response_model=list[EventOut], summary="The detainer's ledger entries")
def history(
    detainer_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.DETAINER_READ))]
) -> list[EventOut]:
    visible_detainer(desk, who, detainer_id)
    return [EventOut.model_validate(e.model_dump()) for e in desk.recorder.stream("detainer-" + detainer_id)]


@router.get("/{detainer_id}/decision", response_model=DecisionOut, summary="The policy decision for its booking")
def decision(
    detainer_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.DECISION_READ))]
) -> DecisionOut:
    state = visible_detainer(desk, who, detainer_id)
    if state.booking_id is None:
        from detainers.service._errors import NotFound

        raise NotFound("the detainer is not linked to a booking yet, so there is no decision", field="booking_id")
    out = decision_out(desk.booking(state.booking_id))
    if who.role is Role.ICE_LIAISON and out.decision is not None:
        # other offices' detainers on the same booking are none of this liaison's business
        own = [d for d in out.decision.get("detainer_ids", []) if d == detainer_id]
        out.decision = {**out.decision, "detainer_ids": own}
    return out


@router.get("/{detainer_id}/notices", response_model=list[dict[str, Any]], summary="Notices owed on this detainer")
def notices(
    detainer_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.DETAINER_READ))]
) -> list[dict[str, Any]]:
    return visible_detainer(desk, who, detainer_id).notices


@router.post("/{detainer_id}/service", response_model=DetainerOut, summary="Record service on the subject")
def served(
    detainer_id: str,
    body: ServedIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_RECORD))],
) -> Response:
    return as_json(desk.serve(detainer_id, body, actor_of(who)))


@router.post("/{detainer_id}/link", response_model=DetainerOut, summary="Link to a booking")
def link(
    detainer_id: str,
    body: LinkIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_RECORD))],
) -> Response:
    return as_json(desk.link(detainer_id, body, actor_of(who)))


@router.post("/{detainer_id}/lift", response_model=DetainerOut, summary="Record that ICE lifted the detainer")
def lift(
    detainer_id: str,
    body: LiftIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_LIFT))],
) -> Response:
    visible_detainer(desk, who, detainer_id)
    return as_json(desk.lift(detainer_id, body, actor_of(who)))


@router.post(
    "/{detainer_id}/attachments", status_code=201, response_model=DetainerOut, summary="Attach a warrant or document"
)
def attach(
    detainer_id: str,
    body: AttachmentIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.ATTACHMENT_ADD))],
) -> Response:
    visible_detainer(desk, who, detainer_id)
    return as_json(desk.add_attachment(detainer_id, body, actor_of(who)), 201)


@router.get("/{detainer_id}/attachments/{attachment_id}", summary="Download an attachment")
def attachment(
    detainer_id: str,
    attachment_id: str,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_READ))],
) -> Response:
    state = visible_detainer(desk, who, detainer_id)
    content, digest = desk.attachment(detainer_id, attachment_id)
    media = next((a["media_type"] for a in state.attachments if a["attachment_id"] == attachment_id), None)
    return Response(content, media_type=media or "application/octet-stream", headers={"Digest": f"sha-256={digest}"})


@router.post("/{detainer_id}/corrections", response_model=DetainerOut, summary="Correct a field (with reason)")
def correct(
    detainer_id: str,
    body: CorrectionIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.CORRECT))],
) -> Response:
    result = desk.correct("detainer", detainer_id, body, actor_of(who))
    return as_json(result)
