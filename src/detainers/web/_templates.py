"""Jinja2 templates (autoescaped) and the response helpers every page uses, with its security headers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from detainers.service import Permission
from detainers.web._format import countdown, label, local_time, rule_href
from detainers.web._session import Viewer

__all__ = ["SECURITY_HEADERS", "NavItem", "environment", "nav_for", "render"]

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


@dataclass(frozen=True)
class NavItem:
    href: str
    text: str
    key: str


def nav_for(viewer: Viewer | None) -> list[NavItem]:
    items: list[NavItem] = []
    if viewer is not None:
        if viewer.can(Permission.DETAINER_READ):
            items.append(NavItem("/desk", "Desk", "desk"))
        if viewer.can(Permission.DETAINER_SUBMIT):
            items.append(NavItem("/intake", "Intake", "intake"))
        if viewer.can(Permission.REPORTS_READ):
            items.append(NavItem("/reports", "Reports", "reports"))
        if viewer.can(Permission.AUDIT_VERIFY) or viewer.can(Permission.AUDIT_READ):
            items.append(NavItem("/audit", "Audit", "audit"))
    items += [NavItem("/policies", "Policies", "policies"), NavItem("/law-map", "Law map", "law-map")]
    items.append(NavItem("/public", "Public figures", "public"))
    return items


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("detainers.web", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(local=local_time, label=label, countdown=countdown, rule_href=rule_href)
    return env


environment = _environment()


def render(
    request: Request,
    name: str,
    *,
    viewer: Viewer | None,
    page: str = "",
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    template = environment.get_template(name)
    html = template.render(
        request=request,
        viewer=viewer,
        csrf=viewer.csrf if viewer else "",
        nav=nav_for(viewer),
        page=page,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
