"""Errors the desk raises; the REST adapter turns each into one JSON body (service ``ErrorOut``)."""

from __future__ import annotations

from typing import Any

__all__ = [
    "DeskError",
    "Forbidden",
    "InvalidCommand",
    "NotFound",
    "PolicyUnavailable",
    "TooManyAttempts",
]


class DeskError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra: dict[str, Any] = {}  # more keys for the error body (e.g. the rules a write goes against)


class NotFound(DeskError):
    status = 404


class InvalidCommand(DeskError):
    status = 422


class Forbidden(DeskError):
    status = 403


class PolicyUnavailable(DeskError):
    status = 503


class TooManyAttempts(DeskError):
    """429: too many failed sign-ins from this client or for this token id; ``retry_after`` seconds to wait."""

    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.extra = {"retry_after": retry_after}
