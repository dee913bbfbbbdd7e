"""API tokens: stored only as argon2 hashes, found by a short non-secret id printed in the token itself.

A token reads ``dtn_<id>_<secret>``. The database keeps ``<id>``, the role, the office (ICE liaisons) and the
argon2 hash of the whole token. A verified token is remembered in memory for a few minutes under its SHA-256 so
that argon2 (deliberately slow) runs once per token, not once per request; revocation takes effect within that time.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, insert, select, update

from detainers.desk import format_utc, tokens
from detainers.service._roles import Role

__all__ = ["Principal", "TokenStore"]

_PREFIX = "dtn_"


@dataclass(frozen=True)
class Principal:
    token_id: str
    role: Role
    office: str | None
    label: str

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.token_id}"


class TokenStore:
    def __init__(self, engine: Engine, *, hasher: PasswordHasher | None = None, cache_seconds: float = 300.0) -> None:
        self.engine = engine
        self.hasher = hasher or PasswordHasher()
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()
        self._verifying: dict[str, threading.Lock] = {}  # one argon2 run per token at a time (single flight)

    def create(self, role: Role, *, label: str, now: datetime, office: str | None = None) -> tuple[str, Principal]:
        """A new token (returned once, never stored) and its principal."""
        if role is Role.ICE_LIAISON and not office:
            raise ValueError("an ice_liaison token needs the agency office it is scoped to")
        if role is not Role.ICE_LIAISON and office:
            raise ValueError("only ice_liaison tokens are scoped to an office")
        token_id = secrets.token_hex(4)
        token = f"{_PREFIX}{token_id}_{secrets.token_urlsafe(24)}"
        with self.engine.begin() as conn:
            conn.execute(
                insert(tokens).values(
                    token_id=token_id,
                    hash=self.hasher.hash(token),
                    role=role.value,
                    office=office,
                    label=label,
                    created_at=format_utc(now),
                )
            )
        return token, Principal(token_id, role, office, label)

    def revoke(self, token_id: str, *, now: datetime) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(tokens).where(tokens.c.token_id == token_id).values(revoked_at=format_utc(now))
            ).rowcount
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if v[0].token_id != token_id}
        return bool(done)

    def remembered(self, token: str) -> Principal | None:
        """The principal of a token verified within ``cache_seconds``, without any I/O (None: not known now)."""
        hit = self._cache.get(hashlib.sha256(token.encode()).hexdigest())
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    def authenticate(self, token: str) -> Principal | None:
        if not token.startswith(_PREFIX) or token.count("_") < 2:
            return None
        fingerprint = hashlib.sha256(token.encode()).hexdigest()
        clock = time.monotonic()
        with self._lock:
            hit = self._cache.get(fingerprint)
        if hit is not None and hit[1] > clock:
            return hit[0]
        with self._lock:
            gate = self._verifying.setdefault(fingerprint, threading.Lock())
        with gate:
            with self._lock:
                hit = self._cache.get(fingerprint)
            if hit is not None and hit[1] > time.monotonic():
                return hit[0]
            return self._verify(token, fingerprint)

    def _verify(self, token: str, fingerprint: str) -> Principal | None:
        token_id = token[len(_PREFIX) :].split("_", 1)[0]
        with self.engine.connect() as conn:
            row = conn.execute(select(tokens).where(tokens.c.token_id == token_id)).first()
        if row is None or row.revoked_at is not None:
            return None
        try:
            self.hasher.verify(row.hash, token)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        principal = Principal(row.token_id, Role(row.role), row.office, row.label)
        with self._lock:
            self._cache[fingerprint] = (principal, time.monotonic() + self.cache_seconds)
            self._verifying.pop(fingerprint, None)
        return principal

    def list(self) -> list[dict[str, str | None]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(tokens).order_by(tokens.c.created_at)).all()
        return [
            {
                "token_id": r.token_id,
                "role": r.role,
                "office": r.office,
                "label": r.label,
                "created_at": r.created_at,
                "revoked_at": r.revoked_at,
            }
            for r in rows
        ]
