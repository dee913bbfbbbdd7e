"""The web desk's sessions: a random id in the browser's cookie, its SHA-256 and its token id in the database.

Signing in with an API token makes a session; the cookie carries only the session's id (256 random bits), so the
token itself never sits in a browser. A session ends at its expiry (one shift), when it is signed out (revoked
here, so a copied cookie stops working at once) or when its token is revoked or expires.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, insert, select, update

from detainers.desk import format_utc, parse_utc, web_sessions

__all__ = ["SESSION_LIFETIME", "SessionStore"]

SESSION_LIFETIME = timedelta(hours=12)  # one long shift; sign in again after


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, token_id: str, *, now: datetime, lifetime: timedelta = SESSION_LIFETIME) -> str:
        """A new session for ``token_id``; the id is returned once (for the cookie) and stored only hashed."""
        session_id = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                insert(web_sessions).values(
                    id_hash=_hash(session_id),
                    token_id=token_id,
                    created_at=format_utc(now),
                    expires_at=format_utc(now + lifetime),
                )
            )
        return session_id

    def token_id(self, session_id: str, *, now: datetime) -> str | None:
        """The token id of a live session (None: unknown, signed out or expired)."""
        if not session_id or len(session_id) > 100:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(select(web_sessions).where(web_sessions.c.id_hash == _hash(session_id))).first()
        if row is None or row.revoked_at is not None or parse_utc(row.expires_at) <= now:
            return None
        return str(row.token_id)

    def revoke(self, session_id: str, *, now: datetime) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(web_sessions)
                .where(web_sessions.c.id_hash == _hash(session_id), web_sessions.c.revoked_at.is_(None))
                .values(revoked_at=format_utc(now))
            ).rowcount
        return bool(done)
