"""Personal data: every read needs a stated purpose and is logged; erasure follows a court order."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from detainers.desk import NotFound, PersonalData, PersonalDataErasedError
from detainers.service._auth import Principal
from detainers.service._roles import Permission
from detainers.service._schemas import ErasureIn, EventOut
from detainers.service.routes.deps import DeskDep, requires

__all__ = ["router"]

router = APIRouter(prefix="/v1/people", tags=["personal data"])


@router.get("/{subject_key}", response_model=PersonalData, summary="Read personal data (logged)")
def read(
    subject_key: str,
    purpose: Annotated[str, Query(min_length=3, max_length=300, description="Why you need it; goes in the log.")],
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.PERSON_READ))],
) -> PersonalData:
    try:
        return desk.personal.read(subject_key, actor=who.actor, role=who.role.value, purpose=purpose, now=desk.now())
    except PersonalDataErasedError as error:
        raise NotFound(f"no personal data for {subject_key} (never recorded or erased)", field="subject_key") from error


@router.delete("/{subject_key}", response_model=EventOut, summary="Erase personal data (court order)")
def erase(
    subject_key: str,
    body: ErasureIn,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.PERSON_ERASE))],
) -> EventOut:
    try:
        event = desk.personal.erase(
            subject_key, actor=who.actor, order_reference=body.order_reference, reason=body.reason, now=desk.now()
        )
    except PersonalDataErasedError as error:
        raise NotFound(f"no personal data for {subject_key} (never recorded or erased)", field="subject_key") from error
    return EventOut.model_validate(event.model_dump())
