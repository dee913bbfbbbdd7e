"""Sign-in and sign-out pages (the demo's one-click link too)."""

from __future__ import annotations

import hmac
import os

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from detainers.web._page_common import (
    MaybeViewer,
)
from detainers.web._session import (
    PageNotFound,
    clear_cookie,
    home_for,
    safe_next,
    set_cookie,
)
from detainers.web._templates import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


# ------------------------------------------------------------------ sign-in


@router.get("/")
def home(who: MaybeViewer) -> RedirectResponse:
    return RedirectResponse(home_for(who.role) if who else "/sign-in", status_code=303)


@router.get("/sign-in")
def sign_in_page(request: Request, who: MaybeViewer, next: str = "/desk") -> HTMLResponse:  # noqa: A002
    return render(request, "sign_in.html", viewer=who, page="sign-in", next=safe_next(next), error=None)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await request.form()
    token = str(form.get("token") or "").strip()
    wanted = safe_next(form.get("next"))
    principal = await run_in_threadpool(request.app.state.tokens.authenticate, token) if token else None
    if principal is None:
        return render(
            request,
            "sign_in.html",
            viewer=None,
            page="sign-in",
            next=wanted,
            error="That token is not valid (unknown, mistyped or revoked). Paste the whole token, starting dtn_.",
            status=401,
        )
    request.state.principal = principal
    target = wanted if wanted != "/desk" else home_for(principal.role)
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, request, token)
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
    response = RedirectResponse("/desk", status_code=303)
    set_cookie(response, request, token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    response = RedirectResponse("/sign-in", status_code=303)
    clear_cookie(response)
    return response
