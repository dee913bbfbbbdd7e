"""Open to every role: aggregate counts (cells under 11 suppressed), who am I, health, the office list."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from detainers.service._auth import Principal
from detainers.service._desk import Desk
from detainers.service._errors import InvalidCommand
from detainers.service._roles import Permission
from detainers.service._schemas import CountCell, CountsOut, WhoAmI
from detainers.service.routes.deps import DeskDep, requires

__all__ = ["SUPPRESS_BELOW", "counts_table", "router"]

router = APIRouter(tags=["public"])

SUPPRESS_BELOW = 11
_GROUPS = ("jurisdiction", "status", "form")


def counts_table(desk: Desk, by: list[str]) -> CountsOut:
    cells = [
        CountCell(group=group, count=None if n < SUPPRESS_BELOW else n, suppressed=n < SUPPRESS_BELOW)
        for group, n in desk.counts(by)
    ]
    total = sum(n for _, n in desk.counts(by))
    return CountsOut(
        by=by, cells=cells, total=total if total >= SUPPRESS_BELOW else None, suppression_threshold=SUPPRESS_BELOW
    )


@router.get("/v1/public/counts", response_model=CountsOut, summary="Detainer counts (small cells suppressed)")
def counts(
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.COUNTS_READ))],
    by: Annotated[list[str], Query(description="Group by jurisdiction, status and/or form.")] = ["jurisdiction"],  # noqa: B006
) -> CountsOut:
    unknown = [b for b in by if b not in _GROUPS]
    if unknown or not by:
        raise InvalidCommand(f"group by one or more of {', '.join(_GROUPS)}", field="by")
    return counts_table(desk, list(dict.fromkeys(by)))


@router.get("/v1/me", response_model=WhoAmI, summary="The token's role and office")
def me(who: Annotated[Principal, Depends(requires(Permission.WHOAMI))]) -> WhoAmI:
    return WhoAmI(token_id=who.token_id, role=who.role.value, office=who.office, label=who.label)


@router.get("/v1/offices", response_model=list[dict[str, Any]], summary="ICE offices and how they are notified")
def offices(
    desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.OFFICES_READ))]
) -> list[dict[str, Any]]:
    return [{"code": o.code, "name": o.name, "webhook_url": o.webhook_url, "email": o.email} for o in desk.offices()]


@router.get("/health", summary="Liveness (no token)")
def health() -> dict[str, str]:
    return {"status": "ok"}
