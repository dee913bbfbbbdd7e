"""Mount the web desk on the service's FastAPI app: pages, static files, and HTML error pages for them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from detainers.service import Services, Settings, build_services
from detainers.service import create_app as create_api
from detainers.web._law_map import law_map_router
from detainers.web._pages import WebSettings, router
from detainers.web._session import PageForbidden, PageNotFound, SignInRequired, optional_viewer
from detainers.web._templates import render

__all__ = ["app_from_env", "create_app", "mount_web"]

STATIC = Path(__file__).parent / "static"


def mount_web(app: FastAPI, web: WebSettings | None = None) -> FastAPI:
    """Add the pages to ``app`` (the service's API app, which keeps its own routes and error bodies)."""
    app.state.web = web or WebSettings()
    app.include_router(router)
    app.include_router(law_map_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.exception_handler(SignInRequired)
    async def sign_in_required(_request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(f"/sign-in?next={quote(exc.next_path, safe='/')}", status_code=303)

    @app.exception_handler(PageForbidden)
    async def forbidden(request: Request, exc: PageForbidden) -> Response:
        return render(
            request, "error.html", viewer=optional_viewer(request), status=403, title="Not allowed", message=exc.message
        )

    @app.exception_handler(PageNotFound)
    async def not_found(request: Request, exc: PageNotFound) -> Response:
        return render(
            request, "error.html", viewer=optional_viewer(request), status=404, title="Not found", message=exc.message
        )

    return app


def create_app(
    api: FastAPI | None = None,
    *,
    services: Services | None = None,
    settings: Settings | None = None,
    web: WebSettings | None = None,
) -> FastAPI:
    """The desk's API with its web pages. Pass the service's app, or its services, or settings to build both."""
    if api is None:
        api = create_api(services if services is not None else build_services(settings or Settings()))
    return mount_web(api, web)


def app_from_env() -> FastAPI:
    """``uvicorn --factory detainers.web:app_from_env``: the service's own env-driven app, with the pages."""
    from detainers.service import app_from_env as api_from_env

    return mount_web(api_from_env())
