"""The HTML pages, one module per area: sign-in, the desk dashboard, intake, the detainer page with its actions,
reports with the policies, audit and public pages. Each page asks the same role table as the API; an ICE liaison
sees only its office's detainers."""

from __future__ import annotations

from fastapi import APIRouter

from detainers.web import _board_pages, _detainer_pages, _intake_pages, _report_pages, _sign_in_pages
from detainers.web._page_common import WebSettings

__all__ = ["WebSettings", "router"]

router = APIRouter(include_in_schema=False)
for _area in (_sign_in_pages, _board_pages, _intake_pages, _detainer_pages, _report_pages):
    router.include_router(_area.router)
