"""Sign-in and sign-out pages (the demo's one-click link too)."""

from __future__ import annotations

import hmac
import os

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from detainers.desk import TooManyAttempts
from detainers.service.routes.deps import authenticate_token
from detainers.web._page_common import MaybeViewer
from detainers.web._session import (
    PageNotFound,
    Viewer,
    check_sign_in_form,
    end_session,
    home_for,
    safe_next,
    sign_in_form_token,
    start_session,
)
from detainers.web._templates import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


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
