"""The HTML pages: sign-in, desk dashboard, intake, detainer page with its actions, reports, policies, audit,
public figures. Each page asks the same role table as the API; an ICE liaison sees only its office's detainers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from detainers.ledger import (
    Authority,
    BookingState,
    ConcurrencyError,
    DetainerState,
    PersonalDataErasedError,
    StoredEvent,
)
from detainers.service import Desk, DeskError, NotFound, Permission, Role, effective_decision
from detainers.service import _need_to_know as ntk
from detainers.service import _person_notices as pn
from detainers.service._against import AgainstDecisionRefused
from detainers.service._errors import TooManyAttempts
from detainers.service._idempotency import Claim, IdempotencyStore, check_key, fingerprint, run_once
from detainers.service._keys import Duplicate
from detainers.service._schemas import ATTACHMENT_TYPES, AttachmentIn
from detainers.service.routes.deps import actor_of, authenticate_token
from detainers.web import _actions
from detainers.web import _person_notices as person_notices_panel
from detainers.web._board import STATUS_FILTERS, build_board, with_people
from detainers.web._charts import bar_chart
from detainers.web._decision import decision_view
from detainers.web._format import EVIDENCE, label, local_input, rule_href
from detainers.web._intake import ACCEPTED_MEDIA, ZONES, Upload, form_choices, parse_intake, parse_local
from detainers.web._policies import policy_browser
from detainers.web._reports import SUPPRESS_BELOW, against_decision, csv_text, desk_tables, public_tables
from detainers.web._session import (
    PageForbidden,
    PageNotFound,
    Viewer,
    check_csrf,
    check_sign_in_form,
    end_session,
    home_for,
    optional_viewer,
    safe_next,
    sign_in_form_token,
    start_session,
    viewer,
)
from detainers.web._templates import SECURITY_HEADERS, render
from detainers.web._timeline import timeline

__all__ = ["WebSettings", "router"]

router = APIRouter(include_in_schema=False)

ViewerDep = Annotated[Viewer, Depends(viewer)]
MaybeViewer = Annotated[Viewer | None, Depends(optional_viewer)]

CONFLICT = (
    "Someone else changed this record after you opened it. Nothing was written (nothing of theirs was overwritten "
    "either): the page below shows the record as it is now — check it and enter your change again."
)

WRITTEN = {
    "detainer_received": "The detainer is recorded and the policy engine has been asked.",
    "notification_sent": "The notification is recorded.",
    "person_released": "The release is recorded.",
    "transferred": "The transfer is recorded.",
    "detainer_lifted": "The lift is recorded.",
    "detainer_served": "Service on the person is recorded.",
    "linked_to_booking": "The detainer is linked to the booking.",
    "corrected": "The correction is recorded, with the old value kept beside it.",
    "person_notice_served": "The notice is recorded as served to the person, with the printed PDF's hash.",
}


@dataclass(frozen=True)
class WebSettings:
    """How the pages behave: dashboard refresh interval, the zone for times typed without a booking."""

    refresh_seconds: int = 30
    zone: str | None = None  # None: the zone most active bookings use (else UTC)


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _settings(request: Request) -> WebSettings:
    found = getattr(request.app.state, "web", None)
    return found if isinstance(found, WebSettings) else WebSettings()


def _default_zone(request: Request, desk: Desk) -> str:
    chosen = _settings(request).zone
    if chosen:
        return chosen
    zones = Counter(b.timezone for b in desk.active_bookings())
    return zones.most_common(1)[0][0] if zones else "UTC"


# ------------------------------------------------------------------ sign-in


@router.get("/")
def home(who: MaybeViewer) -> RedirectResponse:
    return RedirectResponse(home_for(who.role) if who else "/sign-in", status_code=303)


def _sign_in_form(request: Request, who: Viewer | None, wanted: str, error: str | None, status: int = 200) -> Response:
    response = HTMLResponse("")
    form_token = sign_in_form_token(request, response)
    page = render(
        request,
        "sign_in.html",
        viewer=who,
        page="sign-in",
        next=wanted,
        error=error,
        sign_in_csrf=form_token,
        status=status,
    )
    for key, value in response.headers.items():
        if key == "set-cookie":
            page.headers.append(key, value)
    return page


@router.get("/sign-in")
def sign_in_page(request: Request, who: MaybeViewer, next: str = "/desk") -> Response:  # noqa: A002
    return _sign_in_form(request, who, safe_next(next), None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token") or "").strip()
    wanted = safe_next(form.get("next"))
    refused = check_sign_in_form(request, form.get("csrf"))
    if refused is not None:
        return _sign_in_form(request, None, wanted, refused + " Sign in again from this page.", status=403)
    try:
        principal = await authenticate_token(request, token) if token else None
    except HTTPException:
        principal = None
    except TooManyAttempts as error:
        return _sign_in_form(
            request, None, wanted, f"Too many failed sign-ins: wait {error.retry_after} seconds.", status=429
        )
    if principal is None:
        return _sign_in_form(
            request,
            None,
            wanted,
            "That token is not valid (unknown, mistyped, expired or revoked). Paste the whole token, starting dtn_.",
            status=401,
        )
    request.state.principal = principal
    target = wanted if wanted != "/desk" else home_for(principal.role)
    response = RedirectResponse(target, status_code=303)
    await run_in_threadpool(start_session, response, request, principal)
    return response


@router.get("/demo/sign-in/{key}")
async def demo_sign_in(request: Request, key: str) -> Response:
    """One-click sign-in for `detainers demo` only: the demo sets DETAINERS_DEMO_SIGNIN to "key:token".

    Outside a demo the variable is unset and the route answers 404; the token itself never appears in a URL.
    """
    configured = os.environ.get("DETAINERS_DEMO_SIGNIN", "")
    expected, _, token = configured.partition(":")
    if not expected or not token or not hmac.compare_digest(expected, key):
        raise PageNotFound("There is no such page.")
    principal = await run_in_threadpool(request.app.state.tokens.authenticate, token)
    if principal is None:
        raise PageNotFound("There is no such page.")
    response = RedirectResponse("/desk", status_code=303)
    await run_in_threadpool(start_session, response, request, principal)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    await run_in_threadpool(end_session, response, request)
    return response


# ------------------------------------------------------------------ dashboard


def _board_context(request: Request, who: Viewer, status: str, facility: str, state: str) -> dict[str, Any]:
    who.require(Permission.DETAINER_READ, "see the desk")
    desk = _desk(request)
    now = desk.now()
    board = build_board(
        desk,
        now=now,
        audience=_audience(who),
        status=status if status in STATUS_FILTERS else "open",
        facility=facility or None,
        state=state or None,
    )
    return {
        "board": board,
        "now": now,
        "filters": {"status": status or "open", "facility": facility, "state": state},
        "status_filters": STATUS_FILTERS,
        "refresh": _settings(request).refresh_seconds,
        "names_shown": False,
        "zone": _default_zone(request, desk),
    }


@router.get("/desk")
def dashboard(request: Request, who: ViewerDep, status: str = "open", facility: str = "", state: str = "") -> Response:
    context = _board_context(request, who, status, facility, state)
    return render(request, "desk.html", viewer=who, page="desk", **context)


@router.get("/desk/rows")
def dashboard_rows(
    request: Request, who: ViewerDep, status: str = "open", facility: str = "", state: str = ""
) -> Response:
    context = _board_context(request, who, status, facility, state)
    return render(request, "_desk_rows.html", viewer=who, **context)


@router.post("/desk/names")
async def dashboard_names(request: Request, who: ViewerDep) -> Response:
    form = await request.form()
    check_csrf(who, form.get("csrf"))
    who.require(Permission.PERSON_READ, "see personal data")
    purpose = str(form.get("purpose") or "").strip()
    status, facility, state = (str(form.get(k) or "") for k in ("status", "facility", "state"))
    context = await run_in_threadpool(_board_context, request, who, status, facility, state)
    if len(purpose) < 3:
        context["purpose_error"] = "Say why you need the names (at least three characters); the reads are logged."
        return render(request, "desk.html", viewer=who, page="desk", status=422, **context)
    desk = _desk(request)

    def read_names() -> dict[str, str]:
        names: dict[str, str] = {}
        for row in context["board"].rows:
            key = (row.booking.subject_key if row.booking else None) or row.detainer.subject_key
            if key and key not in names:
                try:
                    data = desk.personal.read(
                        key, actor=who.principal.actor, role=who.role.value, purpose=purpose, now=desk.now()
                    )
                except PersonalDataErasedError:
                    names[key] = "(erased)"
                    continue
                names[key] = ", ".join(p for p in (data.family_name, data.given_names) if p) or "(no name recorded)"
        return names

    names = await run_in_threadpool(read_names)
    context["board"].rows = with_people(context["board"].rows, names)
    context["names_shown"] = True
    context["refresh"] = 0
    return render(request, "desk.html", viewer=who, page="desk", **context)


# ------------------------------------------------------------------ intake


def _intake_context(request: Request, who: Viewer, desk: Desk) -> dict[str, Any]:
    zone = _default_zone(request, desk)
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
    desk = _desk(request)
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
    desk = _desk(request)
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


# ------------------------------------------------------------------ detainer page


def _audience(who: Viewer) -> ntk.Audience:
    return ntk.Audience(who.role, who.office)


def _visible(desk: Desk, who: Viewer, detainer_id: str) -> tuple[DetainerState, BookingState | None]:
    who.require(Permission.DETAINER_READ, "see detainers")
    try:
        # another office's detainer: not even its existence is shown (the same page as an unknown id)
        detainer = ntk.visible(desk, _audience(who), detainer_id)
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
    desk = _desk(request)
    detainer, booking = _visible(desk, who, detainer_id)
    audience = _audience(who)
    record = ntk.load(desk, detainer)
    shown, sight, _withheld = ntk.detainer_for(audience, record)
    # Times in the facility's zone, unless the facility is itself withheld from this viewer.
    zone = booking.timezone if booking and sight is not ntk.Sight.REQUEST_ONLY else _default_zone(request, desk)
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
    desk = _desk(request)

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
    desk = _desk(request)

    def work() -> Response:
        detainer, booking = _visible(desk, who, detainer_id)
        can = {p.value: who.can(p) for p in Permission}
        if not who.can(action.permission):
            raise PageForbidden(f"Your role ({who.role.value}) may not {action.title.lower()}.")
        if not _actions.available(action, detainer, booking, can):
            return _detainer_page(
                request, who, detainer_id, status=409, error=f"“{action.title}” no longer applies to this record."
            )
        audience = _audience(who)
        sight = ntk.sight(audience, ntk.load(desk, detainer))
        zone = booking.timezone if booking and sight is not ntk.Sight.REQUEST_ONLY else _default_zone(request, desk)
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
    desk = _desk(request)
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
    desk = _desk(request)

    def work() -> Response:
        detainer, booking = _visible(desk, who, detainer_id)
        zone = booking.timezone if booking else _default_zone(request, desk)
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
    desk = _desk(request)
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


# ------------------------------------------------------------------ reports


@router.get("/reports")
def reports(request: Request, who: ViewerDep) -> Response:
    who.require(Permission.REPORTS_READ, "see reports")
    tables = desk_tables(_desk(request))
    charts = {t.key: bar_chart(t.rows, title=t.title, denominator=t.denominator) for t in tables}
    return render(request, "reports.html", viewer=who, page="reports", tables=tables, charts=charts)


@router.get("/reports.csv")
def reports_csv(request: Request, who: ViewerDep) -> Response:
    who.require(Permission.REPORTS_READ, "see reports")
    text = csv_text(desk_tables(_desk(request)))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="detainer-desk-counts.csv"'},
    )


# ------------------------------------------------------------------ policies, audit, public


@router.get("/policies")
def policies(request: Request, who: MaybeViewer) -> Response:
    digest, packs = policy_browser(_desk(request).now().date())
    levels = Counter(p.level for p in packs)
    return render(
        request,
        "policies.html",
        viewer=who,
        page="policies",
        packs=packs,
        digest=digest,
        levels=levels,
        evidence=EVIDENCE,
        rule_href=rule_href,
    )


@router.get("/audit")
def audit(request: Request, who: ViewerDep) -> Response:
    if not (who.can(Permission.AUDIT_VERIFY) or who.can(Permission.AUDIT_READ)):
        raise PageForbidden(f"Your role ({who.role.value}) may not see the audit page.")
    desk = _desk(request)
    report = desk.recorder.verify() if who.can(Permission.AUDIT_VERIFY) else None
    log = desk.personal.access_log(limit=200) if who.can(Permission.AUDIT_READ) else None
    flagged = against_decision(desk)
    served = person_notices_panel.served_entries(desk)
    return render(
        request,
        "audit.html",
        viewer=who,
        page="audit",
        report=report,
        log=log,
        flagged=flagged,
        served=served,
        now=desk.now(),
    )


@router.get("/audit/ledger.jsonl")
def ledger_export(request: Request, who: ViewerDep) -> Response:
    who.require(Permission.AUDIT_READ, "export the ledger")
    desk = _desk(request)

    def lines() -> Iterator[bytes]:
        for event in desk.recorder.iter_all():
            yield (json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":")) + "\n").encode()

    stamp = f"{desk.now():%Y%m%dT%H%M%SZ}"
    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="ledger-{stamp}.jsonl"'},
    )


@router.get("/public")
def public(request: Request, who: MaybeViewer) -> Response:
    desk = _desk(request)
    tables = public_tables(desk)
    as_of: datetime = desk.now()
    return render(
        request, "public.html", viewer=who, page="public", tables=tables, threshold=SUPPRESS_BELOW, as_of=as_of
    )
