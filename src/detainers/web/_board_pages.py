"""The desk dashboard: active detainers by urgency, its live rows, names shown on request."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from detainers.desk import (
    PersonalDataErasedError,
)
from detainers.service import Permission
from detainers.web._board import STATUS_FILTERS, build_board, with_people
from detainers.web._page_common import (
    ViewerDep,
    audience_of,
    default_zone,
    desk_of,
    settings_of,
)
from detainers.web._session import (
    Viewer,
    check_csrf,
)
from detainers.web._templates import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------ dashboard


def _board_context(request: Request, who: Viewer, status: str, facility: str, state: str) -> dict[str, Any]:
    who.require(Permission.DETAINER_READ, "see the desk")
    desk = desk_of(request)
    now = desk.now()
    board = build_board(
        desk,
        now=now,
        audience=audience_of(who),
        status=status if status in STATUS_FILTERS else "open",
        facility=facility or None,
        state=state or None,
    )
    return {
        "board": board,
        "now": now,
        "filters": {"status": status or "open", "facility": facility, "state": state},
        "status_filters": STATUS_FILTERS,
        "refresh": settings_of(request).refresh_seconds,
        "names_shown": False,
        "zone": default_zone(request, desk),
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
    desk = desk_of(request)

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
