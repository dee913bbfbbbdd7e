"""Detainers: intake (I-247A fields), service on the subject, link, lift, attachments, corrections, notices."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, cast
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response

from detainers.desk import Desk, DetainerState, QueryInstant
from detainers.service import _need_to_know as ntk
from detainers.service._auth import Principal
from detainers.service._roles import Permission, Role
from detainers.service._schemas import (
    ATTACHMENT_TYPES,
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
from detainers.service.routes.deps import (
    DeskDep,
    IdempotencyKey,
    Paging,
    actor_of,
    audience_of,
    create_once,
    detainer_json,
    detainer_out,
    requires,
    visible_detainer,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/detainers", tags=["detainers"])


def download_disposition(filename: object) -> str:
    """``attachment`` with the stored name: ASCII fallback and the UTF-8 name (RFC 6266), no quotes or controls."""
    name = str(filename or "attachment")
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in name) or "attachment"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


class DetainerStatus(StrEnum):
    RECEIVED = "received"
    ACTIVE = "active"
    LIFTED = "lifted"
    RELEASED = "released"
    TRANSFERRED = "transferred"


@router.post("", status_code=201, response_model=DetainerOut, summary="Receive a detainer")
def receive(
    body: DetainerIn,
    request: Request,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_SUBMIT))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Record a detainer as received. An ICE liaison submits for its own office and may not link bookings.
    One detainer per office and ICE event number: a second is refused (409) naming the first (``existing_id``)."""
    if who.role is Role.ICE_LIAISON and body.booking_id is not None:
        body = body.model_copy(update={"booking_id": None})
    return create_once(
        desk,
        who,
        idempotency_key,
        request,
        body,
        "detainer",
        lambda rows: desk.receive_detainer(body, actor_of(who), extra_rows=rows),
        lambda state: detainer_json(desk, who, state, 201),
        desk.detainer,
    )


@router.get("", response_model=Page[DetainerOut], summary="Search and list detainers")
def search(
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_READ))],
    paging: Annotated[Paging, Depends()],
    status: Annotated[
        DetainerStatus | None, Query(description="received, active, lifted, released, transferred.")
    ] = None,
    office: Annotated[str | None, Query(max_length=64)] = None,
    jurisdiction: Annotated[str | None, Query(max_length=120, description="Prefix, e.g. us/ca")] = None,
    form: Annotated[str | None, Query(max_length=40, description="Form value, e.g. I-247A")] = None,
    booking_id: Annotated[str | None, Query(max_length=64)] = None,
    received_from: Annotated[QueryInstant | None, Query(description="From this instant (with its UTC offset).")] = None,
    received_to: Annotated[QueryInstant | None, Query(description="Before this instant (with its UTC offset).")] = None,
) -> Page[DetainerOut]:
    if who.role is Role.ICE_LIAISON:
        return _liaison_search(
            desk,
            who,
            paging,
            status=status,
            jurisdiction=jurisdiction,
            form=form,
            booking_id=booking_id,
            received_from=received_from,
            received_to=received_to,
        )
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
    audience = audience_of(who)
    return Page[DetainerOut](
        items=[detainer_out(audience, ntk.Record(d, None)) for d in items],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
        next_offset=paging.next_offset(total),
    )


def _liaison_search(
    desk: Desk,
    who: Principal,
    paging: Paging,
    *,
    status: str | None,
    jurisdiction: str | None,
    form: str | None,
    booking_id: str | None,
    received_from: datetime | None,
    received_to: datetime | None,
) -> Page[DetainerOut]:
    """A liaison's search filters what it may see, not the stored record: a detainer whose release information is
    not shared reads ``received`` and has no jurisdiction or booking, so a filter on those cannot reveal custody."""
    audience = audience_of(who)
    found, _ = desk.list_detainers(
        office=who.office, form=form, received_from=received_from, received_to=received_to, limit=1_000_000
    )
    shown = [detainer_out(audience, record) for record in ntk.records_for(desk, found)]
    chosen = [
        d
        for d in shown
        if (status is None or d.status == status)
        and (jurisdiction is None or (d.jurisdiction or "").startswith(jurisdiction) and d.jurisdiction)
        and (booking_id is None or d.booking_id == booking_id)
    ]
    total = len(chosen)
    return Page[DetainerOut](
        items=chosen[paging.offset : paging.offset + paging.limit],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
        next_offset=paging.next_offset(total),
    )


@router.get("/{detainer_id}", response_model=DetainerOut, summary="One detainer")
def read(
    detainer_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.DETAINER_READ))]
) -> Response:
    return detainer_json(desk, who, visible_detainer(desk, who, detainer_id))


@router.get("/{detainer_id}/events", response_model=list[EventOut], summary="The detainer's ledger entries")
def history(
    detainer_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.DETAINER_READ))]
) -> list[EventOut]:
    state = visible_detainer(desk, who, detainer_id)
    events = desk.events_of("detainer", detainer_id)
    shown = ntk.events_for(audience_of(who), ntk.load(desk, state), events)
    return [EventOut.model_validate(e) for e in shown]


@router.get("/{detainer_id}/decision", response_model=DecisionOut, summary="The policy decision for its booking")
def decision(
    detainer_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.DECISION_READ))]
) -> DecisionOut:
    """The decision for the detainer's booking. An ICE liaison sees what the decision lets the jail tell ICE:
    nothing but ``notify: false`` where notice is not allowed (or nothing is decided yet), and no other office's
    detainers, criminal history or facts behind the decision anywhere (docs/security.md)."""
    state = visible_detainer(desk, who, detainer_id)
    return DecisionOut.model_validate(ntk.decision_for(audience_of(who), ntk.load(desk, state)))


@router.get("/{detainer_id}/notices", response_model=list[dict[str, Any]], summary="Notices owed on this detainer")
def notices(
    detainer_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.DETAINER_READ))]
) -> list[dict[str, Any]]:
    state = visible_detainer(desk, who, detainer_id)
    return ntk.notices_for(audience_of(who), ntk.load(desk, state))


@router.post("/{detainer_id}/service", response_model=DetainerOut, summary="Record service on the subject")
def served(
    detainer_id: str,
    body: ServedIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_RECORD))],
) -> Response:
    return detainer_json(desk, who, desk.serve(detainer_id, body, actor_of(who)))


@router.post("/{detainer_id}/link", response_model=DetainerOut, summary="Link to a booking")
def link(
    detainer_id: str,
    body: LinkIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_RECORD))],
) -> Response:
    return detainer_json(desk, who, desk.link(detainer_id, body, actor_of(who)))


@router.post("/{detainer_id}/lift", response_model=DetainerOut, summary="Record that ICE lifted the detainer")
def lift(
    detainer_id: str,
    body: LiftIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_LIFT))],
) -> Response:
    state = visible_detainer(desk, who, detainer_id)
    if who.role is Role.ICE_LIAISON and ntk.sight(audience_of(who), ntk.load(desk, state)) is ntk.Sight.REQUEST_ONLY:
        # The version is withheld from this caller (a 409 would tell it); "already lifted" still guards the write.
        body = body.model_copy(update={"expected_version": None})
    return detainer_json(desk, who, desk.lift(detainer_id, body, actor_of(who)))


@router.post(
    "/{detainer_id}/attachments", status_code=201, response_model=DetainerOut, summary="Attach a warrant or document"
)
def attach(
    detainer_id: str,
    body: AttachmentIn,
    request: Request,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.ATTACHMENT_ADD))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    visible_detainer(desk, who, detainer_id)
    return create_once(
        desk,
        who,
        idempotency_key,
        request,
        body,
        "detainer",
        lambda rows: desk.add_attachment(detainer_id, body, actor_of(who), extra_rows=rows),
        lambda state: detainer_json(desk, who, state, 201),
        desk.detainer,
    )


@router.get("/{detainer_id}/attachments/{attachment_id}", summary="Download an attachment")
def attachment(
    detainer_id: str,
    attachment_id: str,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_READ))],
) -> Response:
    state = visible_detainer(desk, who, detainer_id)
    content, digest = desk.attachment(detainer_id, attachment_id)
    found = next((a for a in state.attachments if a["attachment_id"] == attachment_id), {})
    media = found.get("media_type")
    # Always a download, never rendered on the desk's origin; a type outside the allowlist (stored before it
    # existed) goes out as bytes.
    if media not in ATTACHMENT_TYPES:
        media = "application/octet-stream"
    return Response(
        content,
        media_type=media,
        headers={"Digest": f"sha-256={digest}", "Content-Disposition": download_disposition(found.get("filename"))},
    )


@router.post("/{detainer_id}/corrections", response_model=DetainerOut, summary="Correct a field (with reason)")
def correct(
    detainer_id: str,
    body: CorrectionIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.CORRECT))],
) -> Response:
    result = desk.correct("detainer", detainer_id, body, actor_of(who))
    return detainer_json(desk, who, cast(DetainerState, result))
