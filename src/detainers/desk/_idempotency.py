"""``Idempotency-Key`` on every create (detainers, bookings, attachments, notices served on the person; the web
desk's intake form too).

The key is stored in the same transaction as the record it created, with a fingerprint of the request (method,
path and body); the response is stored right after. A retry with the same key and the same request gets the same
answer and writes nothing; the same key with a different request is refused (422). Keys are scoped to the caller
(the token), so two clients can never collide.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Engine, select, update

from detainers.desk._errors import DeskError, InvalidCommand
from detainers.ledger import SideRow, format_utc, idempotency, write_connection

__all__ = ["HEADER", "Claim", "IdempotencyStore", "KeyReused", "Stored", "check_key", "fingerprint", "run_once"]

HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces: what a UUID or ULID looks like


class KeyReused(DeskError):
    """The same key came with a different request."""

    status = 422


@dataclass(frozen=True)
class Stored:
    fingerprint: str
    method: str
    path: str
    record_kind: str
    record_id: str
    status: int | None
    response: str | None
    created_at: str


@dataclass(frozen=True)
class Claim:
    """A key about to be used by a create: ``rows`` writes it with the new record (given the record's id)."""

    scope: str
    key: str
    fingerprint: str
    method: str
    path: str
    kind: str
    now: datetime

    def rows(self, record_id: str) -> Sequence[SideRow]:
        return [
            (
                idempotency,
                {
                    "scope": self.scope,
                    "key": self.key,
                    "fingerprint": self.fingerprint,
                    "method": self.method,
                    "path": self.path[:300],
                    "record_kind": self.kind,
                    "record_id": record_id,
                    "status": None,
                    "response": None,
                    "created_at": format_utc(self.now),
                },
            )
        ]

    def refuse(self, stored: Stored) -> KeyReused:
        return KeyReused(
            f"{HEADER} {self.key!r} was already used for a different request ({stored.method} {stored.path} at "
            f"{stored.created_at}, which made {stored.record_kind} {stored.record_id}); send a new key for a new "
            "request",
            field=HEADER,
        )


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise InvalidCommand(f"{HEADER} must be 1 to 200 printable characters without spaces", field=HEADER)
    return key


def fingerprint(method: str, path: str, body: BaseModel | dict[str, Any]) -> str:
    """The request as the desk understood it (so JSON key order or spacing does not matter)."""
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    text = json.dumps([method.upper(), path, data], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class IdempotencyStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def find(self, scope: str, key: str) -> Stored | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(idempotency).where(idempotency.c.scope == scope, idempotency.c.key == key)
            ).first()
        if row is None:
            return None
        return Stored(
            row.fingerprint,
            row.method,
            row.path,
            row.record_kind,
            row.record_id,
            row.status,
            row.response,
            row.created_at,
        )

    def remember(self, scope: str, key: str, status: int, response: bytes | str) -> None:
        """Store the answer given (after the record's transaction committed; until then a retry rebuilds it)."""
        text = response.decode() if isinstance(response, bytes) else response
        with write_connection(self.engine) as conn, conn.begin():
            conn.execute(
                update(idempotency)
                .where(idempotency.c.scope == scope, idempotency.c.key == key)
                .values(status=status, response=text)
            )


def run_once(
    store: IdempotencyStore,
    claim: Claim | None,
    run: Callable[[Callable[[str], Sequence[SideRow]] | None], Any],
    replay: Callable[[Stored], Any],
    retry_errors: tuple[type[BaseException], ...],
) -> tuple[Any, bool]:
    """Run a create once per key: (result, replayed). ``replay`` answers from what is stored for the key."""
    if claim is None:
        return run(None), False
    found = store.find(claim.scope, claim.key)
    if found is not None:
        if found.fingerprint != claim.fingerprint:
            raise claim.refuse(found)
        return replay(found), True
    try:
        return run(claim.rows), False
    except retry_errors:
        # Another request with this key committed first (or the record's natural key is now held): answer as it.
        found = store.find(claim.scope, claim.key)
        if found is None:
            raise
        if found.fingerprint != claim.fingerprint:
            raise claim.refuse(found) from None
        return replay(found), True
