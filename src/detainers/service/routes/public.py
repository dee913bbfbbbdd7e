"""Open to every role: aggregate counts (small cells and their complements suppressed), who am I, health, offices."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from detainers.desk import GROUPINGS, Desk, InvalidCommand, public_counts
from detainers.service._auth import Principal
from detainers.service._roles import Permission
from detainers.service._schemas import CountCell, CountsOut, WhoAmI
from detainers.service.routes.deps import DeskDep, requires

__all__ = ["counts_table", "health_router", "router"]

router = APIRouter(tags=["public"])
health_router = APIRouter(tags=["public"])  # no token, no input: documented without the error answers


def counts_table(desk: Desk, by: list[str]) -> CountsOut:
    """The table grouped by ``by``, hidden as in every other table a reader can ask for (and the public page)."""
    table = public_counts(desk).table(by)
    cells = [CountCell(group=group, count=n, suppressed=n is None) for group, n in table.cells]
    return CountsOut(by=by, cells=cells, total=table.total, suppression_threshold=table.threshold)


@router.get("/v1/public/counts", response_model=CountsOut, summary="Detainer counts (small cells suppressed)")
def counts(
    desk: DeskDep,
    who: Annotated[Principal, Depends(requires(Permission.COUNTS_READ))],
    by: Annotated[
        list[str],
        Query(
            max_length=4, description="Group by jurisdiction or state, status and/or form (every combination listed)."
        ),
    ] = ["jurisdiction"],  # noqa: B006
) -> CountsOut:
    chosen = list(dict.fromkeys(by))
    unknown = [b for b in chosen if b not in GROUPINGS]
    if unknown or not chosen:
        raise InvalidCommand(f"group by one or more of {', '.join(GROUPINGS)}", field="by")
    if {"jurisdiction", "state"} <= set(chosen):
        raise InvalidCommand("group by jurisdiction or by state, not both (a jurisdiction names its state)", field="by")
    return counts_table(desk, chosen)


@router.get("/v1/me", response_model=WhoAmI, summary="The token's role and office")
def me(who: Annotated[Principal, Depends(requires(Permission.WHOAMI))]) -> WhoAmI:
    return WhoAmI(token_id=who.token_id, role=who.role.value, office=who.office, label=who.label)


@router.get("/v1/offices", response_model=list[dict[str, Any]], summary="ICE offices and how they are notified")
def offices(
    desk: DeskDep, who: Annotated[Principal, Depends(requires(Permission.OFFICES_READ))]
) -> list[dict[str, Any]]:
    return [{"code": o.code, "name": o.name, "webhook_url": o.webhook_url, "email": o.email} for o in desk.offices()]


@health_router.get("/health", summary="Liveness (no token)")
def health() -> dict[str, str]:
    return {"status": "ok"}
