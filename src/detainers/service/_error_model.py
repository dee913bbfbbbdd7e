"""The one error body every route answers with, documented in the OpenAPI document for every status it can have."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ERROR_RESPONSES", "ErrorDetail", "ErrorOut"]


class ErrorDetail(BaseModel):
    field: str | None = Field(description="The field refused (dotted path), or null.")
    message: str


class ErrorOut(BaseModel):
    """Every error answer: a one-line message and, where one field is at fault, its name."""

    model_config = ConfigDict(extra="allow")

    error: str = Field(description="What went wrong, in one line.")
    field: str | None = Field(default=None, description="The field (or parameter) at fault, where there is one.")
    details: list[ErrorDetail] | None = Field(default=None, description="422: every field refused.")
    current_version: int | None = Field(default=None, description="409 on a stale expected_version: the version now.")
    existing_id: str | None = Field(default=None, description="409 on a duplicate: the record that holds the key.")
    retry_after: int | None = Field(default=None, description="429: seconds to wait (also the Retry-After header).")


_WHEN = {
    400: "The request cannot be carried out as sent (e.g. an unreadable body).",
    401: "No token, or an unknown, expired or revoked one (header WWW-Authenticate: Bearer).",
    403: "The token's role may not do this.",
    404: "No such record (or one the caller may not see).",
    409: "A stale expected_version (current_version says the version now), a duplicate (existing_id), or a write "
    "against the decision in force that was not confirmed.",
    413: "The body is larger than the service accepts (8 MB).",
    422: "Invalid input: the field and every problem (details).",
    429: "Too many failed attempts from this client or for this token id: wait Retry-After seconds.",
    503: "The policy engine cannot decide now.",
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text} for status, text in _WHEN.items()
}
