"""Audit: verify the chain, page through the ledger, the personal-data access log, deadline alerts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from detainers.desk import MAX_INT
from detainers.service._auth import Principal
from detainers.service._roles import Permission
from detainers.service._schemas import EventOut, VerifyOut, ViewMismatchOut
from detainers.service.routes.deps import DeskDep, Paging, requires

__all__ = ["router"]

router = APIRouter(tags=["audit"])


@router.get("/v1/audit/verify", response_model=VerifyOut, summary="Recompute the hash chain and check the served views")
def verify(desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.AUDIT_VERIFY))]) -> VerifyOut:
    report = desk.verify_ledger()
    mismatches = desk.audit_views()
    brk = report.first_break
    return VerifyOut(
        ok=report.ok and not mismatches,
        views_ok=not mismatches,
        view_mismatches=[
            ViewMismatchOut(table=m.table, key=m.key, column=m.column, description=m.describe())
            for m in mismatches[:100]
        ],
        checked=report.checked,
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        first_break=None
        if brk is None
        else {
            "seq": brk.seq,
            "stream_id": brk.stream_id,
            "version": brk.version,
            "type": brk.type,
            "reason": brk.reason,
        },
    )


@router.get("/v1/audit/events", response_model=list[EventOut], summary="The ledger, in chain order")
def events(
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.AUDIT_READ))],
    after_seq: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EventOut]:
    return [EventOut.model_validate(e.model_dump()) for e in desk.events(after_seq=after_seq, limit=limit)]


@router.get("/v1/audit/access-log", response_model=list[dict[str, str]], summary="Reads of personal data")
def access_log(
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.AUDIT_READ))],
    paging: Annotated[Paging, Depends()],
    subject_key: Annotated[str | None, Query(max_length=64)] = None,
) -> list[dict[str, str]]:
    return desk.personal.access_log(subject_key=subject_key, limit=paging.limit, offset=paging.offset)


@router.get("/v1/alerts", response_model=list[dict[str, Any]], summary="Hold deadlines warned or passed")
def alerts(desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.ALERTS_READ))]) -> list[dict[str, Any]]:
    out = []
    for booking in desk.active_bookings():
        if booking.warned_hold_until or booking.over_limit_at:
            out.append(
                {
                    "booking_id": booking.id,
                    "booking_number": booking.booking_number,
                    "jurisdiction": booking.jurisdiction,
                    "hold_until": (booking.decision or {}).get("hold_until"),
                    "warned_hold_until": booking.warned_hold_until,
                    "over_limit_at": booking.over_limit_at,
                }
            )
    return sorted(out, key=lambda a: (a["over_limit_at"] is None, a["hold_until"] or ""))
