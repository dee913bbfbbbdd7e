"""Errors the desk raises; the app turns each into a JSON body with a message and, where known, the field."""

from __future__ import annotations

__all__ = ["DeskError", "Forbidden", "InvalidCommand", "NotFound", "PolicyUnavailable"]


class DeskError(Exception):
    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DeskError):
    status = 404


class InvalidCommand(DeskError):
    status = 422


class Forbidden(DeskError):
    status = 403


class PolicyUnavailable(DeskError):
    status = 503
