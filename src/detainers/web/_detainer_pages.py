"""The detainer page: the answer in plain words, the person, the actions the role allows, attachments."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from detainers.desk import (
    ATTACHMENT_TYPES,
    AgainstDecisionRefused,
    Authority,
    BookingState,
    ConcurrencyError,
    Desk,
    DeskError,
    DetainerState,
    NotFound,
    PersonalDataErasedError,
    StoredEvent,
    effective_decision,
)
from detainers.service import Permission
from detainers.service import need_to_know as ntk
from detainers.service import person_notices as pn
from detainers.service.routes.deps import actor_of
from detainers.web import _actions
from detainers.web import _person_notices as person_notices_panel
from detainers.web._decision import decision_view
from detainers.web._format import EVIDENCE, label
from detainers.web._intake import parse_local
from detainers.web._page_common import (
    CONFLICT,
    WRITTEN,
    ViewerDep,
    audience_of,
    default_zone,
    desk_of,
)
from detainers.web._session import (
    PageForbidden,
    PageNotFound,
    Viewer,
    check_csrf,
)
from detainers.web._templates import SECURITY_HEADERS, render
from detainers.web._timeline import timeline

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------ detainer page


def _visible(desk: Desk, who: Viewer, detainer_id: str) -> tuple[DetainerState, BookingState | None]:
    who.require(Permission.DETAINER_READ, "see detainers")
    try:
        # another office's detainer: not even its existence is shown (the same page as an unknown id)
        detainer = ntk.visible(desk, audience_of(who), detainer_id)
    except NotFound as error:
        raise PageNotFound("There is no such detainer.") from error
    booking = desk.booking(detainer.booking_id) if detainer.booking_id else None
    return detainer, booking


def _detainer_page(
    request: Request,
    who: Viewer,
    detainer_id: str,
    *,
    status: int = 200,
    open_action: str | None = None,
    prepared: _actions.Prepared | None = None,
    error: str | None = None,
    person: Any = None,
    purpose_error: str | None = None,
    notice_error: dict[str, str] | None = None,
) -> Response:
    desk = desk_of(request)
    detainer, booking = _visible(desk, who, detainer_id)
    audience = audience_of(who)
    record = ntk.load(desk, detainer)
    shown, sight, _withheld = ntk.detainer_for(audience, record)
    # Times in the facility's zone, unless the facility is itself withheld from this viewer.
    zone = booking.timezone if booking and sight is not ntk.Sight.REQUEST_ONLY else default_zone(request, desk)
    decision = None
    if booking is not None and booking.decision and who.can(Permission.DECISION_READ):
        if sight is ntk.Sight.FULL:
            decision = decision_view(effective_decision(booking), booking.override, zone, booking.eligible_at)
        elif sight is ntk.Sight.SHARED:
            effective = ntk.decision_for(audience, record)["effective"]
            decision = decision_view(effective, None, zone, booking.eligible_at)
    events = _actions.stream_events(desk, detainer, booking, bookings=who.sees_bookings)
    if sight is not ntk.Sight.FULL:
        events = [StoredEvent.model_construct(**e) for e in ntk.events_for(audience, record, events)]
    can = {p.value: who.can(p) for p in Permission}
    now = desk.now()
    actions = []
    # The versions this page shows travel with every form on it (a change made meanwhile is then refused, not
    # overwritten); none where they are withheld from the viewer.
    versions = {
        "detainer_version": "" if sight is ntk.Sight.REQUEST_ONLY else str(detainer.version),
        "booking_version": str(booking.version) if booking is not None and sight is ntk.Sight.FULL else "",
    }
    for action in _actions.ACTIONS.values():
        if not _actions.available(action, detainer, booking, can):
            continue
        if prepared is not None and prepared.action.name == action.name:
            values, errors = prepared.values, prepared.errors
        else:
            values, errors = _actions.defaults(action, now, zone), {}
        actions.append(
            {
                "action": action,
                "current": values,
                "problems": errors,
                "open": open_action == action.name,
                "breach": _actions.breach_of(action, booking, values, now),
                "versions": versions,
            }
        )
    written = request.query_params.get("written")
    notices = person_notices_panel.panel(who, detainer, booking, now, zone)
    return render(
        request,
        "detainer.html",
        person_notices=notices,
        notice_ui=person_notices_panel.context(who, now, zone),
        notice_error=notice_error,
        viewer=who,
        page="desk",
        status=status,
        detainer=shown,
        sight=sight.value,
        booking=booking if who.sees_bookings else None,
        custody=booking.status if booking and sight is not ntk.Sight.REQUEST_ONLY else None,
        zone=zone,
        decision=decision,
        timeline=timeline(events, zone),
        actions=actions,
        written=WRITTEN.get(written or ""),
        error=error,
        person=person,
        purpose_error=purpose_error,
        evidence=EVIDENCE,
        now=now,
    )


@router.get("/detainers/{detainer_id}")
def detainer_page(request: Request, who: ViewerDep, detainer_id: str) -> Response:
    return _detainer_page(request, who, detainer_id)


@router.post("/detainers/{detainer_id}/person")
async def detainer_person(request: Request, who: ViewerDep, detainer_id: str) -> Response:
    form = await request.form()
    check_csrf(who, form.get("csrf"))
    who.require(Permission.PERSON_READ, "see personal data")
    purpose = str(form.get("purpose") or "").strip()
    desk = desk_of(request)

    def work() -> Response:
        detainer, booking = _visible(desk, who, detainer_id)
        if len(purpose) < 3:
            return _detainer_page(
                request, who, detainer_id, status=422, purpose_error="Say why you need it (at least 3 characters)."
            )
        key = (booking.subject_key if booking else None) or detainer.subject_key
        person: Any = None
        if key:
            try:
                person = desk.personal.read(
                    key, actor=who.principal.actor, role=who.role.value, purpose=purpose, now=desk.now()
                )
            except PersonalDataErasedError:
                person = "erased"
        else:
            person = "none"
        return _detainer_page(request, who, detainer_id, person=person)

    return await run_in_threadpool(work)


@router.post("/detainers/{detainer_id}/actions/{name}")
async def detainer_action(request: Request, who: ViewerDep, detainer_id: str, name: str) -> Response:
    form = await request.form()
    check_csrf(who, form.get("csrf"))
    action = _actions.ACTIONS.get(name)
    if action is None:
        raise PageNotFound("There is no such action.")
    desk = desk_of(request)

    def work() -> Response:
        detainer, booking = _visible(desk, who, detainer_id)
        can = {p.value: who.can(p) for p in Permission}
        if not who.can(action.permission):
            raise PageForbidden(f"Your role ({who.role.value}) may not {action.title.lower()}.")
        if not _actions.available(action, detainer, booking, can):
            return _detainer_page(
                request, who, detainer_id, status=409, error=f"“{action.title}” no longer applies to this record."
            )
        audience = audience_of(who)
        sight = ntk.sight(audience, ntk.load(desk, detainer))
        zone = booking.timezone if booking and sight is not ntk.Sight.REQUEST_ONLY else default_zone(request, desk)
        prepared = _actions.prepare(
            action, form, desk=desk, detainer=detainer, booking=booking, zone=zone, now=desk.now()
        )
        if prepared.errors or prepared.body is None:
            return _detainer_page(request, who, detainer_id, status=422, open_action=name, prepared=prepared)
        if _actions.stale(prepared, detainer, booking):
            return _detainer_page(request, who, detainer_id, status=409, error=CONFLICT)

        body_json = json.dumps(prepared.body.model_dump(mode="json"), indent=2, sort_keys=True)

        def review(status: int = 200, problem: str | None = None) -> Response:
            stream = "booking" if action.stream == "booking" or prepared.target == "booking" else "detainer"
            version = (booking.version if booking else 0) if stream == "booking" else detainer.version
            return render(
                request,
                "confirm.html",
                viewer=who,
                page="desk",
                status=status,
                action=action,
                prepared=prepared,
                detainer=detainer,
                booking=booking if who.sees_bookings else None,
                stream=stream,
                version=version if sight is ntk.Sight.FULL else None,
                actor=who.principal.actor,
                problem=problem,
                confirm_field=_actions.CONFIRM_FIELD,
                body_json=body_json,
            )

        if form.get("confirm") != "write":
            return review()
        if prepared.breach is not None and not prepared.confirmed:
            return review(422, "Nothing was written: tick the box to confirm, or cancel.")
        try:
            actor = actor_of(who.principal, Authority.FORM)
            _actions.execute(prepared, desk=desk, actor=actor, detainer=detainer, booking=booking)
        except ConcurrencyError:
            return _detainer_page(request, who, detainer_id, status=409, error=CONFLICT)
        except AgainstDecisionRefused as refused:  # the decision changed between the review and the write
            prepared.breach, prepared.confirmed = refused.breach, False
            return review(409, "The decision changed since the review: nothing was written. Read it and confirm.")
        except DeskError as error:
            prepared.errors[error.field if error.field in prepared.values else action.fields[0].name] = error.message
            return _detainer_page(
                request, who, detainer_id, status=error.status, open_action=name, prepared=prepared, error=error.message
            )
        return RedirectResponse(f"/detainers/{detainer_id}?written={action.event}#timeline", status_code=303)

    return await run_in_threadpool(work)


@router.get("/detainers/{detainer_id}/person-notices/{kind}.pdf")
def person_notice_pdf(
    request: Request, who: ViewerDep, detainer_id: str, kind: str, language: str = "en", recipient: str = "subject"
) -> Response:
    """Print a notice to the person: the PDF with the name filled in (a logged personal-data read)."""
    who.require(Permission.PERSON_READ, "print notices (they carry the person's name)")
    desk = desk_of(request)
    detainer, booking = _visible(desk, who, detainer_id)
    try:
        notice = pn.find_notice(pn.person_notices(detainer, booking, desk.now()), kind, recipient)
        rendered = pn.render_person_notice(
            desk,
            detainer,
            notice,
            language,
            actor_of(who.principal, Authority.FORM),
            purpose=f"print notice {kind} ({language})",
        )
    except NotFound as error:
        raise PageNotFound(error.message) from error
    except DeskError as error:
        return _detainer_page(request, who, detainer_id, status=error.status, error=error.message)
    name = f"{kind}-{recipient}-{rendered.language}.pdf"
    return Response(
        rendered.pdf,
        media_type="application/pdf",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'inline; filename="{name}"',
            "X-Notice-SHA256": rendered.sha256,
        },
    )


@router.post("/detainers/{detainer_id}/person-notices/{kind}/served")
async def person_notice_served(request: Request, who: ViewerDep, detainer_id: str, kind: str) -> Response:
    """Mark a notice served: who (the signed-in user), when, language, delivery and a consent form's answer."""
    form = await request.form()
    check_csrf(who, form.get("csrf"))
    who.require(Permission.DETAINER_RECORD, "record notices served")
    desk = desk_of(request)

    def work() -> Response:
        detainer, booking = _visible(desk, who, detainer_id)
        zone = booking.timezone if booking else default_zone(request, desk)
        names = ("recipient", "language", "delivered", "served_at", "answer")
        values = {k: str(form.get(k) or "").strip() for k in names}
        problem: dict[str, str] | None = None
        try:
            served_at = parse_local(values["served_at"], zone) if values["served_at"] else None
            body = pn.PersonNoticeServedIn.model_validate(
                {
                    "recipient": values["recipient"] or "subject",
                    "language": values["language"],
                    "delivered": values["delivered"],
                    "served_at": served_at,
                    "answer": values["answer"] or None,
                    "expected_version": _int_or_none(str(form.get("detainer_version") or "")),
                }
            )
            pn.serve_person_notice(desk, detainer_id, kind, body, actor_of(who.principal, Authority.FORM))
        except ValidationError as error:
            first = error.errors()[0]
            field = str(first["loc"][0]) if first.get("loc") else "language"
            message = f"{label(field)}: {first['msg']}"
            problem = {"key": f"{kind}:{values['recipient'] or 'subject'}", "field": field, "message": message}
        except ValueError:  # the served-at time could not be read
            message = "Served at: give a date and time (YYYY-MM-DDTHH:MM)"
            problem = {"key": f"{kind}:{values['recipient'] or 'subject'}", "field": "served_at", "message": message}
        except ConcurrencyError:
            return _detainer_page(request, who, detainer_id, status=409, error=CONFLICT)
        except DeskError as error:
            problem = {
                "key": f"{kind}:{values['recipient'] or 'subject'}",
                "field": error.field or "",
                "message": error.message,
            }
            if isinstance(error, NotFound):
                return _detainer_page(request, who, detainer_id, status=404, error=error.message)
        if problem is not None:
            return _detainer_page(request, who, detainer_id, status=422, error=problem["message"], notice_error=problem)
        done = f"/detainers/{detainer_id}?written=person_notice_served#person-notices"
        return RedirectResponse(done, status_code=303)

    return await run_in_threadpool(work)


def _int_or_none(text: str) -> int | None:
    return int(text) if text.strip().isdigit() else None


@router.get("/detainers/{detainer_id}/attachments/{attachment_id}")
def attachment(request: Request, who: ViewerDep, detainer_id: str, attachment_id: str) -> Response:
    desk = desk_of(request)
    detainer, _ = _visible(desk, who, detainer_id)
    meta = next((a for a in detainer.attachments if a.get("attachment_id") == attachment_id), None)
    if meta is None:
        raise PageNotFound("There is no such attachment.")
    content, digest = desk.attachment(detainer_id, attachment_id)
    filename = "".join(c for c in str(meta.get("filename", "attachment")) if c.isalnum() or c in "._-") or "file"
    return Response(
        content,
        # a type outside the allowlist (stored before it existed) goes out as bytes
        media_type=str(meta.get("media_type"))
        if meta.get("media_type") in ATTACHMENT_TYPES
        else "application/octet-stream",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Digest": f"sha-256={digest}",
        },
    )
