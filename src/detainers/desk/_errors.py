"""Errors the desk raises; the app turns each into a JSON body with a message and, where known, the field."""

from __future__ import annotations

from typing import Any

__all__ = ["DeskError", "Forbidden", "InvalidCommand", "NotFound", "PolicyUnavailable"]


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
