"""The intake form: a detainer as received, with its booking and attachments."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from detainers.desk import (
    AttachmentIn,
    Authority,
    Claim,
    ConcurrencyError,
    Desk,
    DeskError,
    Duplicate,
    IdempotencyStore,
    check_key,
    fingerprint,
    run_once,
)
from detainers.service import Permission, Role
from detainers.service.routes.deps import actor_of
from detainers.web._format import local_input
from detainers.web._intake import ACCEPTED_MEDIA, ZONES, Upload, form_choices, parse_intake
from detainers.web._page_common import (
    ViewerDep,
    default_zone,
    desk_of,
)
from detainers.web._session import (
    Viewer,
    check_csrf,
)
from detainers.web._templates import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------ intake


def _intake_context(request: Request, who: Viewer, desk: Desk) -> dict[str, Any]:
    zone = default_zone(request, desk)
    may_link = who.can(Permission.BOOKING_READ)
    bookings = sorted(desk.active_bookings(), key=lambda b: b.booking_number) if may_link else []
    return {
        "forms": form_choices(),
        "zones": ZONES if zone in ZONES else (zone, *ZONES),
        "offices": desk.offices(),
        "bookings": bookings,
        "may_link": may_link,
        "accepted": ",".join(ACCEPTED_MEDIA),
        "default_zone": zone,
    }


@router.get("/intake")
def intake_page(request: Request, who: ViewerDep) -> Response:
    who.require(Permission.DETAINER_SUBMIT, "enter detainers")
    desk = desk_of(request)
    context = _intake_context(request, who, desk)
    values = {
        "idempotency_key": secrets.token_urlsafe(16),
        "form": "I-247A",
        "zone": context["default_zone"],
        "received_at": local_input(desk.now(), context["default_zone"]),
        "requests": ["notify", "hold"],
        "pc_basis": [],
        "warrant": "I-200",
        "office": who.office or "",
        "box2": False,
        "death_transfer_notify": False,
    }
    return render(request, "intake.html", viewer=who, page="intake", values=values, errors={}, **context)


@router.post("/intake")
async def intake_submit(request: Request, who: ViewerDep) -> Response:
    who.require(Permission.DETAINER_SUBMIT, "enter detainers")
    form = await request.form()
    check_csrf(who, form.get("csrf"))
    upload: Upload | None = None
    sent = form.get("attachment")
    if isinstance(sent, UploadFile) and sent.filename:
        upload = Upload(sent.filename, sent.content_type or "application/octet-stream", await sent.read())
    desk = desk_of(request)
    liaison_office = who.office if who.role is Role.ICE_LIAISON else None

    def work() -> Response:
        intake = parse_intake(
            form,
            desk=desk,
            now=desk.now(),
            office=liaison_office,
            upload=upload,
            may_link=who.can(Permission.BOOKING_READ),
        )
        context = _intake_context(request, who, desk)
        if not intake.ok or intake.body is None:
            return render(
                request,
                "intake.html",
                viewer=who,
                page="intake",
                values=intake.values,
                errors=intake.errors,
                status=422,
                **context,
            )
        actor = actor_of(who.principal, Authority.FORM)
        body = intake.body
        # The form carries a key made when it was shown: sending it twice (a double click, a retry after a
        # timeout) records one detainer and shows it again.
        key = str(form.get("idempotency_key") or "")
        claim = None
        if key:
            digest = hashlib.sha256(upload.content).hexdigest() if upload is not None else None
            claim = Claim(
                who.principal.actor,
                check_key(key),
                fingerprint("POST", "/intake", {"detainer": body.model_dump(mode="json"), "attachment": digest}),
                "POST",
                "/intake",
                "detainer",
                desk.now(),
            )
        try:
            state, replayed = run_once(
                IdempotencyStore(desk.engine),
                claim,
                lambda rows: desk.receive_detainer(body, actor, extra_rows=rows),
                lambda found: found.record_id,
                (Duplicate, ConcurrencyError),
            )
            if replayed:
                return RedirectResponse(f"/detainers/{state}?written=detainer_received", status_code=303)
            if upload is not None:
                desk.add_attachment(
                    state.id,
                    AttachmentIn(
                        kind=intake.body.warrant.value if intake.body.warrant.value != "none" else "detainer",
                        filename=upload.filename[-200:],
                        media_type=upload.media_type,
                        content_base64=base64.b64encode(upload.content).decode(),
                    ),
                    actor,
                )
        except DeskError as error:
            errors = {error.field or "form": error.message}
            values = {**intake.values, "idempotency_key": secrets.token_urlsafe(16)}  # a new try is a new request
            return render(
                request,
                "intake.html",
                viewer=who,
                page="intake",
                values=values,
                errors=errors,
                status=error.status,
                **context,
            )
        return RedirectResponse(f"/detainers/{state.id}?written=detainer_received", status_code=303)

    return await run_in_threadpool(work)
