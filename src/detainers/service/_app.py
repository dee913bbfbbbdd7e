"""The FastAPI application: settings, wiring (desk, tokens, worker), error bodies, JSON request logs."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from detainers.clock import Clock, SystemClock
from detainers.desk import (
    ConcurrencyError,
    Decider,
    Desk,
    DeskError,
    TooManyAttempts,
    database_url,
    make_engine,
    upgrade,
)
from detainers.service import routes
from detainers.service._auth import TokenStore
from detainers.service._docs_ui import add_api_docs
from detainers.service._error_model import ERROR_RESPONSES
from detainers.service._logging import log_event
from detainers.service._notifiers import Notifier, SmtpNotifier, WebhookNotifier
from detainers.service._outbox import Outbox
from detainers.service._ratelimit import FailureLimiter
from detainers.service._sessions import SessionStore
from detainers.service._worker import Worker

__all__ = ["Services", "Settings", "build_services", "create_app"]

_log = logging.getLogger("detainers.http")

API_DESCRIPTION = """\
The detainer desk: receive immigration detainers, link them to bookings, record what happens, and get the
lawful answer (notify? hold until when? transfer?) from the policy engine with its rule citations. Every change
is an event in a SHA-256 hash chain (`GET /v1/audit/verify`). Authenticate with `Authorization: Bearer <token>`;
the token's role (clerk, supervisor, ice_liaison, auditor, public) decides what you may see and do.
Errors are JSON: `{"error": "...", "field": "..."}`.
"""


@dataclass
class Settings:
    database_url: str | None = None
    migrate: bool = True
    worker: bool = True
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_sender: str = "detainer-desk@localhost"
    warn_lead: timedelta = timedelta(hours=4)
    worker_max_sleep: float = 15.0


@dataclass
class Services:
    desk: Desk
    tokens: TokenStore
    outbox: Outbox
    worker: Worker
    limiter: FailureLimiter = field(default_factory=FailureLimiter)
    sessions: SessionStore | None = None  # the web desk's (made from the desk's engine when not given)
    run_worker: bool = True
    worker_max_sleep: float = 15.0
    threads: int = 8
    # Server processes only (``app_from_env``): collect rarely, and never walk what start-up loaded (see lifespan).
    tune_gc: bool = False
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in self.closers:
            close()


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    decider: Decider | None = None,
    notifiers: dict[str, Notifier] | None = None,
) -> Services:
    """Engine (migrated), desk, tokens, outbox and worker for ``settings``."""
    engine = make_engine(database_url(settings.database_url))
    if settings.migrate:
        upgrade(engine)
    desk = Desk(engine, clock=clock or SystemClock(), decider=decider)
    closers: list[Callable[[], None]] = [engine.dispose]
    if notifiers is None:
        webhook = WebhookNotifier()
        closers.append(webhook.close)
        notifiers = {"webhook": webhook}
        if settings.smtp_host:
            notifiers["email"] = SmtpNotifier(settings.smtp_host, settings.smtp_port, sender=settings.smtp_sender)
    outbox = Outbox(desk, notifiers)
    closers.insert(0, outbox.close)
    return Services(
        desk=desk,
        tokens=TokenStore(engine, clock=desk.now),
        outbox=outbox,
        worker=Worker(desk, outbox, warn_lead=settings.warn_lead),
        run_worker=settings.worker,
        worker_max_sleep=settings.worker_max_sleep,
        closers=closers,
    )


class _AccessLog:
    """One JSON log line per request (pure ASGI: cheaper than ``@app.middleware``). Ids and timings only.

    It also sets ``X-Content-Type-Options: nosniff`` on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                # nosniff on every response: a browser never second-guesses a declared type (an attachment, a JSON
                # body) into HTML or script on the desk's origin.
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                    (b"x-content-type-options", b"nosniff"),
                ]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            if _log.isEnabledFor(logging.INFO):
                principal = scope.get("state", {}).get("principal")
                log_event(
                    _log,
                    "request",
                    request_id=request_id,
                    method=scope["method"],
                    route=getattr(scope.get("route"), "path", None),
                    status=status,
                    ms=round((time.perf_counter() - started) * 1000, 2),
                    role=principal.role.value if principal else None,
                    token_id=principal.token_id if principal else None,
                )


MAX_BODY = 8_000_000  # bytes: the largest attachment (5 MB, about 6.7 MB in base64) and its fields


class _BodyLimit:
    """413 for a body over ``MAX_BODY`` bytes, declared (Content-Length) or streamed, before anything reads it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            await _error(413, f"the body is larger than {MAX_BODY} bytes").__call__(scope, receive, send)
            return
        seen = 0

        async def counting() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > MAX_BODY:  # FastAPI passes an HTTPException from reading the body on as it is
                    raise StarletteHTTPException(413, f"the body is larger than {MAX_BODY} bytes")
            return message

        await self.app(scope, counting, send)


class _TurnAway:
    """On the API (``/v1/…``), a client address over its failed sign-in limit gets 429 before FastAPI parses
    anything (after the failure delay) unless it sends a token already verified: the cheapest answer to a flood of
    wrong guesses."""

    def __init__(self, app: ASGIApp, *, tokens: TokenStore, limiter: FailureLimiter) -> None:
        self.app = app
        self.tokens = tokens
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/v1/"):
            client = scope.get("client")
            wait = self.limiter.retry_after("client", client[0] if client else "unknown")
            if wait:
                header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
                token = header[7:].strip() if header[:7].lower() == "bearer " else ""
                if not token or self.tokens.remembered(token) is None:
                    await asyncio.sleep(self.limiter.failure_delay)
                    response = _error(
                        429, f"too many failed sign-ins from this client; retry in {wait} s", retry_after=wait
                    )
                    response.headers["Retry-After"] = str(wait)
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _error(status: int, message: str, field: str | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": message, "field": field, **extra})


def create_app(services: Services) -> FastAPI:
    """The API over ``services``; the worker thread (if enabled) runs for the app's lifetime."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A few threads do the blocking work; dozens would only convoy on the GIL while the chain lock is held.
        anyio.to_thread.current_default_thread_limiter().total_tokens = services.threads
        await anyio.to_thread.run_sync(services.desk.warm_up)
        if services.tune_gc:
            # The rule packs, offense tables and modules loaded at start-up are hundreds of thousands of objects
            # that live as long as the process; every full collection walked them, pausing all requests (the
            # tail of the latency in docs/performance.md). Freeze them out of the collector, and collect the young
            # generation every 20,000 allocations rather than every 700.
            gc.collect()
            gc.freeze()
            gc.set_threshold(20_000, 50, 100)
        stop = threading.Event()
        thread = None
        if services.run_worker:
            thread = threading.Thread(
                target=services.worker.run_forever,
                args=(stop,),
                kwargs={"max_sleep": services.worker_max_sleep},
                name="detainers-worker",
                daemon=True,
            )
            thread.start()
        try:
            yield
        finally:
            stop.set()
            if thread is not None:
                thread.join(timeout=10)

    app = FastAPI(
        title="Detainer desk",
        version="1",
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served below from assets shipped with the package (no CDN; works offline)
        redoc_url=None,
    )
    add_api_docs(app)
    app.state.desk = services.desk
    app.state.tokens = services.tokens
    app.state.limiter = services.limiter
    app.state.sessions = services.sessions or SessionStore(services.desk.engine)
    app.state.outbox = services.outbox
    app.state.services = services
    for module in (
        routes.detainers,
        routes.person_notices,
        routes.bookings,
        routes.people,
        routes.audit,
        routes.public,
        routes.reports,
    ):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    app.include_router(routes.public.health_router)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for error in exc.errors():
            loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path")]
            named = (error.get("ctx") or {}).get("field")  # a check across fields names the one it refuses
            if isinstance(named, str):
                loc = [*loc, named]
            details.append({"field": ".".join(loc) or None, "message": str(error.get("msg", "invalid"))})
        first = details[0] if details else {"field": None, "message": "invalid input"}
        return _error(422, f"invalid input: {first['message']}", first["field"], details=details)

    @app.exception_handler(DeskError)
    async def desk_error(_request: Request, exc: DeskError) -> JSONResponse:
        response = _error(exc.status, exc.message, exc.field, **exc.extra)
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(ConcurrencyError)
    async def conflict(_request: Request, exc: ConcurrencyError) -> JSONResponse:
        return _error(409, str(exc), "expected_version", current_version=exc.actual)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _error(exc.status_code, str(exc.detail))
        for key, value in (exc.headers or {}).items():
            response.headers[key] = value
        return response

    app.add_middleware(_BodyLimit)
    app.add_middleware(_TurnAway, tokens=services.tokens, limiter=services.limiter)
    app.add_middleware(_AccessLog)
    return app
