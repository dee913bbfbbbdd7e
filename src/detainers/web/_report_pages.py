"""Reports, the policy browser, the audit page and its ledger export, the public figures."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from detainers.service import Permission
from detainers.web import _person_notices as person_notices_panel
from detainers.web._charts import bar_chart
from detainers.web._format import EVIDENCE, rule_href
from detainers.web._page_common import (
    MaybeViewer,
    ViewerDep,
    desk_of,
)
from detainers.web._policies import policy_browser
from detainers.web._reports import SUPPRESS_BELOW, against_decision, csv_text, desk_tables, public_tables
from detainers.web._session import (
    PageForbidden,
)
from detainers.web._templates import SECURITY_HEADERS, render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------ reports


@router.get("/reports")
def reports(request: Request, who: ViewerDep) -> Response:
    who.require(Permission.REPORTS_READ, "see reports")
    tables = desk_tables(desk_of(request))
    charts = {t.key: bar_chart(t.rows, title=t.title, denominator=t.denominator) for t in tables}
    return render(request, "reports.html", viewer=who, page="reports", tables=tables, charts=charts)


@router.get("/reports.csv")
def reports_csv(request: Request, who: ViewerDep) -> Response:
    who.require(Permission.REPORTS_READ, "see reports")
    text = csv_text(desk_tables(desk_of(request)))
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": 'attachment; filename="detainer-desk-counts.csv"'},
    )


# ------------------------------------------------------------------ policies, audit, public


@router.get("/policies")
def policies(request: Request, who: MaybeViewer) -> Response:
    digest, packs = policy_browser(desk_of(request).now().date())
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
    desk = desk_of(request)
    report = desk.verify_ledger() if who.can(Permission.AUDIT_VERIFY) else None
    mismatches = desk.audit_views() if report is not None else []
    log = desk.personal.access_log(limit=200) if who.can(Permission.AUDIT_READ) else None
    flagged = against_decision(desk)
    served = person_notices_panel.served_entries(desk)
    return render(
        request,
        "audit.html",
        viewer=who,
        page="audit",
        report=report,
        mismatches=mismatches,
        log=log,
        flagged=flagged,
        served=served,
        now=desk.now(),
    )


@router.get("/audit/ledger.jsonl")
def ledger_export(request: Request, who: ViewerDep) -> Response:
    who.require(Permission.AUDIT_READ, "export the ledger")
    desk = desk_of(request)

    def lines() -> Iterator[bytes]:
        for event in desk.all_events():
            yield (json.dumps(event.model_dump(mode="json"), sort_keys=True, separators=(",", ":")) + "\n").encode()

    stamp = f"{desk.now():%Y%m%dT%H%M%SZ}"
    return StreamingResponse(
        lines(),
        media_type="application/x-ndjson",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="ledger-{stamp}.jsonl"'},
    )


@router.get("/public")
def public(request: Request, who: MaybeViewer) -> Response:
    desk = desk_of(request)
    tables = public_tables(desk)
    as_of: datetime = desk.now()
    return render(
        request, "public.html", viewer=who, page="public", tables=tables, threshold=SUPPRESS_BELOW, as_of=as_of
    )
