"""The one-line description of each kind of failure the CLI handler turns into an exit status."""

from __future__ import annotations

import sqlite3

import pytest
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError

from detainers.cli._errors import CliError, describe


class _Model(BaseModel):
    count: int


def _validation_error() -> Exception:
    try:
        _Model.model_validate({"count": "many"})
    except Exception as error:  # noqa: BLE001 - the error itself is the test input
        return error
    raise AssertionError("expected a validation error")


@pytest.mark.parametrize(
    ("error", "expected", "code"),
    [
        (CliError("no port", code=1), "no port", 1),
        (CliError("bad file", code=2), "bad file", 2),
        (FileNotFoundError(2, "No such file or directory", "in.csv"), "in.csv: no such file or directory", 2),
        (IsADirectoryError(21, "Is a directory", "store"), "store: is a directory, not a file", 2),
        (PermissionError(13, "Permission denied", "/root/x"), "/root/x: permission denied", 2),
        (ValueError("first line\nsecond line"), "first line", 2),
        (
            OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: ledger_head")),
            "the database has no detainers schema (no such table: ledger_head): run `detainers db upgrade",
            1,
        ),
        (RuntimeError("boom"), "unexpected RuntimeError: boom", 1),
    ],
)
def test_describe(error: Exception, expected: str, code: int) -> None:
    message, status = describe(error)
    assert message.startswith(expected), message
    assert status == code
    assert "\n" not in message


def test_describe_undecodable_text_and_validation_errors() -> None:
    try:
        b"caf\xe9 au lait".decode("utf-8")
    except UnicodeDecodeError as error:
        assert describe(error) == ("input is not utf-8 text (invalid continuation byte at byte offset 3)", 2)
    message, status = describe(_validation_error())
    assert message.startswith("_Model: count: ") and status == 2
