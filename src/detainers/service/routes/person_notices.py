"""The person's notices (TRUTH Act copies and consent forms, Texas notices, ...): list, PDF, record as served.

Named apart from ``/v1/detainers/{id}/notices``, which is the outbox's notices to ICE.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel

from detainers.service import _need_to_know as ntk
from detainers.service import _person_notices as pn
from detainers.service._auth import Principal
from detainers.service._roles import Permission, Role
from detainers.service.routes.deps import (
    DeskDep,
    IdempotencyKey,
    actor_of,
    as_json,
    audience_of,
    create_once,
    requires,
    visible_detainer,
)

__all__ = ["router"]

router = APIRouter(prefix="/v1/detainers", tags=["person notices"])

Recipient = Literal["subject", "attorney_or_designee"]


class ServedOut(BaseModel):
    seq: int | None
    by: str | None
    served_at: str
    recorded_at: str
    language: str | None
    delivered: str
    answer: str | None
    pdf_sha256: str | None
    translations: list[dict[str, Any]]


class PersonNoticeOut(BaseModel):
    """A notice the decision owes the person (or their attorney or designee) and what became of it.

    ``status``: ``served``; ``due`` (its moment has come: on receipt, or ICE was told the release date);
    ``owed`` (the law sets no clock the desk can see: before any ICE interview, while held); ``pending`` (a
    release notice before ICE is told the date; ``expected_at`` is when the notice to ICE is due).
    ``seconds_to_due`` is negative once ``due_at`` has passed (unrounded)."""

    kind: str
    recipient: str
    form: str
    template: str
    rule: str
    citation: str
    text: str
    deadline: str | None
    status: str
    due_at: str | None
    expected_at: str | None
    seconds_to_due: float | None
    languages: list[str]
    required_languages: list[str]
    pdf: str | None
    served: list[ServedOut]
    withheld: list[str]


@router.get(
    "/{detainer_id}/person-notices",
    response_model=list[PersonNoticeOut],
    summary="Notices and consent forms owed to the person (not the notices to ICE)",
)
def list_notices(
    detainer_id: str, desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.DETAINER_READ))]
) -> list[dict[str, Any]]:
    """Every notice the booking's decision owes the person or their attorney or designee, with its deadline and
    each time it was served. An ICE liaison sees its own office's detainers only, and only where the decision lets
    the jail share release information with ICE (otherwise an empty list): status, when served and a consent
    form's answer, never the PDF, who served it, the language or the hashes (docs/security.md)."""
    state = visible_detainer(desk, who, detainer_id)
    record = ntk.load(desk, state)
    now = desk.now()
    if who.role is Role.ICE_LIAISON:
        if ntk.sight(audience_of(who), record) is not ntk.Sight.SHARED:
            return []
        return [pn.liaison_view(n, now) for n in pn.person_notices(state, record.booking, now)]
    return [pn.staff_view(n, detainer_id, now) for n in pn.person_notices(state, record.booking, now)]


@router.get(
    "/{detainer_id}/person-notices/{kind}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="A notice to the person as PDF, in a language (reads the person's name: logged)",
)
def pdf(
    detainer_id: str,
    kind: str,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.PERSON_READ))],
    language: Annotated[str, Query(min_length=2, max_length=20, description="e.g. en, es, zh-Hans, vi")] = "en",
    recipient: Annotated[Recipient, Query(description="subject or attorney_or_designee")] = "subject",
) -> Response:
    """The form as decided for this detainer's booking, with the person's name and booking number filled in (a
    logged personal-data read). The same facts render the same bytes: ``X-Notice-SHA256`` is the hash to give
    back when recording it served."""
    state = visible_detainer(desk, who, detainer_id)
    booking = desk.booking(state.booking_id) if state.booking_id else None
    notice = pn.find_notice(pn.person_notices(state, booking, desk.now()), kind, recipient)
    rendered = pn.render_person_notice(
        desk, state, notice, language, actor_of(who), purpose=f"print notice {kind} ({language})"
    )
    name = f"{kind}-{recipient}-{rendered.language}.pdf"
    return Response(
        rendered.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{name}"',
            "X-Notice-SHA256": rendered.sha256,
            "Digest": f"sha-256={rendered.sha256}",
        },
    )


@router.post(
    "/{detainer_id}/person-notices/{kind}/served",
    status_code=201,
    response_model=PersonNoticeOut,
    summary="Record a notice or consent form as served on the person",
)
def served(
    detainer_id: str,
    kind: str,
    body: pn.PersonNoticeServedIn,
    request: Request,
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.DETAINER_RECORD))],
    idempotency_key: IdempotencyKey = None,
) -> Response:
    """Records a ``person_notice_served`` event: who (the caller), when, the language, how it was delivered, the
    PDF's sha256 and the translation files' hashes (a county's certified file among them when it was used), and
    for a consent form the person's answer. Give ``pdf_sha256`` from the PDF printed: a notice that renders
    differently now is refused (409). Each call records one service (a copy served again counts again): send an
    ``Idempotency-Key`` so that a retried request records nothing more."""
    visible_detainer(desk, who, detainer_id)

    def answer(result: tuple[Any, ...]) -> Response:
        """The notice (last of ``result``) through the documented model, as FastAPI's response_model would."""
        return as_json(PersonNoticeOut.model_validate(pn.staff_view(result[-1], detainer_id, desk.now())), 201)

    return create_once(
        desk,
        who,
        idempotency_key,
        request,
        body,
        "detainer",
        lambda rows: pn.serve_person_notice(desk, detainer_id, kind, body, actor_of(who), extra_rows=rows),
        answer,
        lambda record_id: pn.current_notice(desk, record_id, kind, body.recipient),
    )
