"""Reports: named here so roles and the OpenAPI document cover them; later issues fill them in (501 until then)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from detainers.desk import NotFound
from detainers.service._auth import Principal
from detainers.service._error_model import ErrorOut
from detainers.service._roles import Permission
from detainers.service.routes.deps import requires

__all__ = ["REPORTS", "router"]

router = APIRouter(tags=["reports"])

REPORTS = {
    "illinois-ag": "5 ILCS 805/25 annual report to the Illinois Attorney General (five fields per detainer)",
    "truth-act": "California TRUTH Act forum figures (Gov. Code 7283.1(d))",
    "over-detention": "Custody past the lawful hold limit, per booking (8 CFR 287.7(d) and the form's limit)",
    "declined": "Detainers the jail declined, apart from ICE lifts and early releases",
}


@router.get(
    "/v1/reports/{name}",
    summary="A named report (stub until its issue lands)",
    responses={501: {"model": ErrorOut, "description": "The report is named but not implemented yet."}},
)
def report(name: str, who: Annotated[Principal, Depends(requires(Permission.REPORTS_READ))]) -> JSONResponse:
    if name not in REPORTS:
        raise NotFound(f"no report {name!r}; known: {', '.join(sorted(REPORTS))}", field="name")
    return JSONResponse(
        status_code=501,
        content={"error": f"report {name!r} is not implemented yet: {REPORTS[name]}", "field": None},
    )
