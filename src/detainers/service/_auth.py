"""API tokens: high-entropy secrets verified with HMAC-SHA256 under a server key, found by a non-secret id.

A token reads ``dtn_<id>_<secret>``: 32 random bits of id (it appears in the ledger as the actor, so it is not
secret) and 192 random bits of secret. The database keeps ``<id>``, the role, the office (ICE liaisons), the
expiry, and ``hmac-sha256$`` + HMAC-SHA256(server key, token): a token that random needs no deliberately slow
password hash, and checking a wrong secret costs microseconds, so a flood of wrong secrets for a real id cannot
starve the service of CPU (the argon2 it replaces took ~100 ms per guess). The key comes from
``DETAINERS_TOKEN_KEY`` (hex, at least 32 bytes) or else from the database (made once by migration 0003); with the
key kept outside the database, its hashes alone do not let anyone test a guess.

Tokens issued before that migration keep their argon2 hash until their first successful use, which re-hashes them
with HMAC (``token list`` shows the scheme). The rows are held in memory and re-read every ``refresh_seconds`` (and
for an id not seen yet, at most once a second), so most checks touch no database; a revocation or rotation in
another process takes effect within ``refresh_seconds``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, insert, select, update

from detainers.desk import format_utc, parse_utc, server_secrets, tokens
from detainers.service._roles import Role

__all__ = ["KEY_ENV", "Principal", "TokenStore", "token_id_of"]

_PREFIX = "dtn_"
_HMAC = "hmac-sha256$"
KEY_ENV = "DETAINERS_TOKEN_KEY"
_KEY_ROW = "token_hmac_key"
MAX_TOKEN_LENGTH = 200


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: Role
    office: str | None
    label: str
    expires_at: datetime | None = None

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.token_id}"


@dataclass(frozen=True)
class _Row:
    token_id: str
    hash: str
    role: str
    office: str | None
    label: str
    revoked: bool
    expires_at: datetime | None


def token_id_of(token: str) -> str | None:
    """The id part of a well-formed token (None for anything else)."""
    if len(token) > MAX_TOKEN_LENGTH or not token.startswith(_PREFIX) or token.count("_") < 2:
        return None
    token_id = token[len(_PREFIX) :].split("_", 1)[0]
    return token_id if 0 < len(token_id) <= 16 else None


def _load_key(engine: Engine) -> bytes:
    configured = os.environ.get(KEY_ENV, "").strip()
    if configured:
        try:
            key = bytes.fromhex(configured)
        except ValueError as error:
            raise ValueError(f"{KEY_ENV} must be hex (e.g. from `openssl rand -hex 32`)") from error
        if len(key) < 32:
            raise ValueError(f"{KEY_ENV} must hold at least 32 bytes (64 hex digits)")
        return key
    with engine.begin() as conn:
        value = conn.execute(select(server_secrets.c.value).where(server_secrets.c.name == _KEY_ROW)).scalar()
        if value is None:  # a database made from the metadata rather than the migrations
            value = secrets.token_hex(32)
            conn.execute(insert(server_secrets).values(name=_KEY_ROW, value=value))
    return bytes.fromhex(value)


class TokenStore:
    def __init__(
        self,
        engine: Engine,
        *,
        hasher: PasswordHasher | None = None,
        cache_seconds: float = 30.0,
        refresh_seconds: float = 30.0,
        clock: Callable[[], datetime] | None = None,
        key: bytes | None = None,
    ) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()  # only to check tokens issued before HMAC (then re-hashed)
        self.cache_seconds = cache_seconds
        self.refresh_seconds = refresh_seconds
        self.clock = clock or (lambda: datetime.now(UTC))
        self._key_given = key  # else read on first use (the schema may not be migrated yet when this is built)
        self._key_loaded: bytes | None = None
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._rows: dict[str, _Row] = {}
        self._rows_read = float("-inf")
        self._lock = threading.Lock()
        self._legacy: dict[str, threading.Lock] = {}  # one argon2 run per legacy token at a time

    # ------------------------------------------------------------------ issuing

    @property
    def _key(self) -> bytes:
        if self._key_given is not None:
            return self._key_given
        if self._key_loaded is None:
            self._key_loaded = _load_key(self.engine)
        return self._key_loaded

    def digest(self, token: str) -> str:
        return _HMAC + hmac.new(self._key, token.encode(), hashlib.sha256).hexdigest()

    def create(
        self,
        role: Role,
        *,
        label: str,
        now: datetime,
        office: str | None = None,
        expires_at: datetime | None = None,
    ) -> tuple[str, Principal]:
        """A new token (returned once, never stored) and its principal."""
        if role is Role.ICE_LIAISON and not office:
            raise ValueError("an ice_liaison token needs the agency office it is scoped to")
        if role is not Role.ICE_LIAISON and office:
            raise ValueError("only ice_liaison tokens are scoped to an office")
        if expires_at is not None and expires_at <= now:
            raise ValueError("a token's expiry must be after now")
        token_id = secrets.token_hex(4)
        token = f"{_PREFIX}{token_id}_{secrets.token_urlsafe(24)}"  # 192 bits of secret
        with self.engine.begin() as conn:
            conn.execute(
                insert(tokens).values(
                    token_id=token_id,
                    hash=self.digest(token),
                    role=role.value,
                    office=office,
                    label=label,
                    created_at=format_utc(now),
                    expires_at=format_utc(expires_at) if expires_at else None,
                )
            )
        self._forget()
        return token, Principal(token_id, role, office, label, expires_at)

    def rotate(self, token_id: str, *, now: datetime, expires_at: datetime | None = None) -> tuple[str, Principal]:
        """A new token with the same role, office and label; the old one is revoked. KeyError: no such token."""
        with self.engine.connect() as conn:
            row = conn.execute(select(tokens).where(tokens.c.token_id == token_id)).first()
        if row is None:
            raise KeyError(token_id)
        if row.revoked_at is not None:
            raise ValueError(f"token {token_id} is revoked; create a new one instead")
        made = self.create(Role(row.role), label=row.label, now=now, office=row.office, expires_at=expires_at)
        self.revoke(token_id, now=now)
        return made

    def revoke(self, token_id: str, *, now: datetime) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(tokens)
                .where(tokens.c.token_id == token_id, tokens.c.revoked_at.is_(None))
                .values(revoked_at=format_utc(now))
            ).rowcount
        self._forget()
        return bool(done)

    def _forget(self) -> None:
        with self._lock:
            self._cache.clear()
            self._rows_read = float("-inf")

    # ------------------------------------------------------------------ checking

    def _expired(self, expires_at: datetime | None) -> bool:
        return expires_at is not None and expires_at <= self.clock()

    def remembered(self, token: str) -> Principal | None:
        """The principal of a token verified within ``cache_seconds``, without any I/O (None: not known now)."""
        hit = self._cache.get(hashlib.sha256(token.encode()).hexdigest())
        if hit is None or hit[1] <= time.monotonic() or self._expired(hit[0].expires_at):
            return None
        return hit[0]

    def is_legacy(self, token: str) -> bool:
        """Whether the token's id holds an argon2 hash from before migration 0003 (as last read)."""
        token_id = token_id_of(token)
        row = self._rows.get(token_id) if token_id else None
        return row is not None and not row.hash.startswith(_HMAC)

    def needs_io(self, token: str) -> bool:
        """Whether checking ``token`` reads the database (else it is a dict lookup and one HMAC: safe on the loop)."""
        token_id = token_id_of(token)
        if token_id is None:
            return False
        age = time.monotonic() - self._rows_read
        row = self._rows.get(token_id)
        if not (age < self.refresh_seconds and (row is not None or age < 1.0)):
            return True
        return row is not None and not row.hash.startswith(_HMAC)  # a legacy argon2 hash: slow, off the loop

    def _refresh(self, token_id: str) -> None:
        age = time.monotonic() - self._rows_read
        if age < self.refresh_seconds and (token_id in self._rows or age < 1.0):
            return
        with self.engine.connect() as conn:
            rows = conn.execute(select(tokens)).all()
        fresh = {
            r.token_id: _Row(
                r.token_id,
                r.hash,
                r.role,
                r.office,
                r.label,
                r.revoked_at is not None,
                parse_utc(r.expires_at) if r.expires_at else None,
            )
            for r in rows
        }
        with self._lock:
            self._rows = fresh
            self._rows_read = time.monotonic()

    def authenticate(self, token: str) -> Principal | None:
        """The token's principal, or None (malformed, unknown, wrong secret, revoked or expired)."""
        token_id = token_id_of(token)
        if token_id is None:
            return None
        known = self.remembered(token)
        if known is not None:
            return known
        self._refresh(token_id)
        row = self._rows.get(token_id)
        if row is None:
            self.digest(token)  # the same work as for a known id: no timing difference
            return None
        if row.hash.startswith(_HMAC):
            if not hmac.compare_digest(self.digest(token), row.hash):
                return None
        elif not self._legacy_verify(row, token):
            return None
        if row.revoked or self._expired(row.expires_at):
            return None
        principal = Principal(row.token_id, Role(row.role), row.office, row.label, row.expires_at)
        with self._lock:
            self._cache[hashlib.sha256(token.encode()).hexdigest()] = (principal, time.monotonic() + self.cache_seconds)
        return principal

    def _legacy_verify(self, row: _Row, token: str) -> bool:
        """An argon2 hash from before migration 0003: verify once, then store the HMAC hash instead."""
        with self._lock:
            gate = self._legacy.setdefault(row.token_id, threading.Lock())
        with gate:
            current = self._rows.get(row.token_id)
            if current is not None and current.hash.startswith(_HMAC):
                return hmac.compare_digest(self.digest(token), current.hash)
            try:
                self.hasher.verify(row.hash, token)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False
            with self.engine.begin() as conn:
                conn.execute(update(tokens).where(tokens.c.token_id == row.token_id).values(hash=self.digest(token)))
            with self._lock:
                self._rows[row.token_id] = _Row(**{**row.__dict__, "hash": self.digest(token)})
            return True

    def principal(self, token_id: str) -> Principal | None:
        """The principal behind a token id while the token is valid (for a web session); None otherwise."""
        self._refresh(token_id)
        row = self._rows.get(token_id)
        if row is None or row.revoked or self._expired(row.expires_at):
            return None
        return Principal(row.token_id, Role(row.role), row.office, row.label, row.expires_at)

    def mac(self, purpose: str, value: str) -> str:
        """HMAC-SHA256 of ``value`` for ``purpose`` under the server key (CSRF values of the web desk)."""
        return hmac.new(self._key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()

    def list(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tokens).order_by(tokens.c.created_at)).all()
        return [
            {
                "token_id": r.token_id,
                "role": r.role,
                "office": r.office,
                "label": r.label,
                "created_at": r.created_at,
                "expires_at": r.expires_at,
                "revoked_at": r.revoked_at,
                "scheme": "hmac-sha256" if r.hash.startswith(_HMAC) else "argon2 (re-hashed on next use)",
            }
            for r in rows
        ]
