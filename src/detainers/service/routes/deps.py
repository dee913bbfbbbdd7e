"""Dependencies shared by the routes: the desk, the caller's principal, permission checks, paging."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from detainers.desk import (
    HEADER,
    MAX_INT,
    Actor,
    Authority,
    Claim,
    ConcurrencyError,
    Desk,
    DetainerState,
    Duplicate,
    ExtraRows,
    IdempotencyStore,
    Stored,
    TooManyAttempts,
    check_key,
    fingerprint,
    run_once,
)
from detainers.service import _need_to_know as ntk
from detainers.service._auth import Principal, TokenStore, token_id_of
from detainers.service._ratelimit import FailureLimiter
from detainers.service._roles import Permission, Role, allowed
from detainers.service._schemas import DetainerOut

__all__ = [
    "DeskDep",
    "IdempotencyKey",
    "Paging",
    "actor_of",
    "as_json",
    "audience_of",
    "authenticate_token",
    "client_address",
    "create_once",
    "detainer_json",
    "detainer_out",
    "requires",
    "visible_detainer",
]

_bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer dtn_…`")


def as_json(model: BaseModel, status: int = 200) -> Response:
    """Serialise a model once (the route's ``response_model`` still documents it, without a second validation)."""
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


# The dependencies are coroutines that do no blocking I/O: FastAPI runs a plain ``def`` dependency in the thread
# pool, and three extra thread hops per request cost more CPU than the work itself.


async def get_desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


DeskDep = Annotated[Desk, Depends(get_desk)]


async def current_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    principal = await authenticate_token(request, credentials.credentials)
    request.state.principal = principal
    return principal


def client_address(request: Request) -> str:
    """The peer address (behind a proxy: what the server was told to trust, e.g. uvicorn --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"


async def authenticate_token(request: Request, token: str) -> Principal:
    """The token's principal; 401 if it is not valid, 429 once this client or token id failed too often."""
    store: TokenStore = request.app.state.tokens
    limiter: FailureLimiter = request.app.state.limiter
    # A token verified in the last minutes is known in memory: no limit applies to it (see _ratelimit).
    principal = store.remembered(token)
    if principal is not None:
        return principal
    client = client_address(request)
    wait = limiter.retry_after("client", client)
    if wait:
        await asyncio.sleep(limiter.failure_delay)
        raise TooManyAttempts(f"too many failed sign-ins from this client; retry in {wait} s", retry_after=wait)
    token_id = token_id_of(token)
    if token_id is not None and store.is_legacy(token):
        # An argon2 hash costs ~100 ms a check: past its id's limit, no more checks (rotating the token ends this).
        wait = limiter.retry_after("token", token_id)
        if wait:
            await asyncio.sleep(limiter.failure_delay)
            raise TooManyAttempts(f"too many failed sign-ins; retry in {wait} s", retry_after=wait)
    # Usually a dict lookup and one HMAC, done here; a database read (or a legacy argon2 hash) goes off the loop.
    if store.needs_io(token):
        principal = await run_in_threadpool(store.authenticate, token)
    else:
        principal = store.authenticate(token)
    if principal is not None:
        return principal
    limiter.fail("client", client)
    if token_id is not None:
        limiter.fail("token", token_id)
    wait = max(limiter.retry_after("client", client), limiter.retry_after("token", token_id or ""))
    await asyncio.sleep(limiter.failure_delay)  # a failed guess is answered slowly, at no cost to the server
    if wait:
        raise TooManyAttempts(f"too many failed sign-ins; retry in {wait} s", retry_after=wait)
    raise HTTPException(401, "unknown, expired or revoked token", headers={"WWW-Authenticate": "Bearer"})


def requires(permission: Permission) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets the call through only for roles holding ``permission``."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not allowed(principal.role, permission):
            raise HTTPException(403, f"role {principal.role.value} may not {permission.value}")
        return principal

    check.__name__ = f"requires_{permission.name.lower()}"
    return check


def actor_of(principal: Principal, channel: Authority = Authority.API) -> Actor:
    """The acting principal; ``channel`` is how its commands came in (the API here, ``form`` from the web desk)."""
    return Actor(principal.actor, principal.role.value, principal.office, channel)


def audience_of(principal: Principal) -> ntk.Audience:
    return ntk.Audience(principal.role, principal.office)


def visible_detainer(desk: Desk, principal: Principal, detainer_id: str) -> DetainerState:
    """The detainer, or the very 404 an unknown id gets when it belongs to another office (for an ICE liaison)."""
    return ntk.visible(desk, audience_of(principal), detainer_id)


def detainer_out(audience: ntk.Audience, record: ntk.Record) -> DetainerOut:
    """The detainer as ``audience`` may see it (see ``_need_to_know``)."""
    shown, sight, withheld = ntk.detainer_for(audience, record)
    fields = dict(shown.__dict__)
    for name in withheld:
        fields[name] = [] if isinstance(fields.get(name), list) else None
    return DetainerOut.model_construct(**fields, shown_status=shown.status, sight=sight.value, withheld=list(withheld))


def detainer_json(desk: Desk, principal: Principal, state: DetainerState, status: int = 200) -> Response:
    """A detainer answer: the whole record for staff, what the decision lets an ICE liaison see otherwise."""
    audience = audience_of(principal)
    record = ntk.load(desk, state) if audience.liaison else ntk.Record(state, None)
    return as_json(detainer_out(audience, record), status)


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="Makes the create safe to retry: the same key with the same request returns the first answer "
        "(header Idempotent-Replayed: true) and writes nothing; with a different request it is refused (422).",
    ),
]


def create_once(
    desk: Desk,
    principal: Principal,
    key: str | None,
    request: Request,
    body: BaseModel,
    kind: str,
    run: Callable[[ExtraRows], Any],
    answer: Callable[[Any], Response],
    reload: Callable[[str], Any],
) -> Response:
    """A create (``run`` given the rows that store the key with the record) done once per ``Idempotency-Key``.

    A replay returns the stored answer; an ICE liaison's is rendered afresh from the record (through the same
    need-to-know redaction), since a stored answer may show what the decision no longer lets it see.
    """
    claim = None
    if key is not None:
        claim = Claim(
            principal.actor,
            check_key(key),
            fingerprint(request.method, request.url.path, body),
            request.method,
            request.url.path,
            kind,
            desk.now(),
        )
    store = IdempotencyStore(desk.engine)

    def replay(found: Stored) -> Response:
        if found.response is not None and principal.role is not Role.ICE_LIAISON:
            response = Response(found.response, status_code=found.status or 201, media_type="application/json")
        else:
            response = answer(reload(found.record_id))
        response.headers["Idempotent-Replayed"] = "true"
        return response

    result, replayed = run_once(store, claim, run, replay, (Duplicate, ConcurrencyError))
    if replayed:
        return result  # type: ignore[no-any-return]
    response = answer(result)
    if claim is not None:
        store.remember(claim.scope, claim.key, response.status_code, bytes(response.body))
    return response


class Paging:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
        offset: Annotated[int, Query(ge=0, le=MAX_INT, description="Items to skip.")] = 0,
    ) -> None:
        self.limit = limit
        self.offset = offset

    def next_offset(self, total: int) -> int | None:
        following = self.offset + self.limit
        return following if following < total else None
