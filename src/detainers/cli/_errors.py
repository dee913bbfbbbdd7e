"""One error handler for the whole command line: a known failure is one red line and an exit status, never a
traceback.

Exit status 2 is for input the user can fix (a file that is missing, unreadable, not in its encoding, a malformed
mapping or checkpoint), 1 for a state of the world (no database yet, a busy port, a chain that does not verify).
An unexpected error is also one line, naming its type; ``DETAINERS_DEBUG=1`` shows the traceback for a bug report.
"""

from __future__ import annotations

import os
from typing import Any

import typer
from typer import _click
from typer.core import TyperGroup

__all__ = ["CliError", "HandlingGroup", "describe", "missing_schema_message"]

INPUT = 2
STATE = 1


class CliError(Exception):
    """A failure the command explains in one line (``code`` 2: fix the input; 1: the state of things)."""

    def __init__(self, message: str, *, code: int = STATE) -> None:
        super().__init__(message)
        self.code = code


def missing_schema_message(url: str) -> str:
    return f"no detainers database at {url}: create it with `detainers db upgrade --db {url}`"


def _first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else ""


def describe(error: BaseException) -> tuple[str, int]:
    """The one line (and exit status) for ``error``."""
    from pydantic import ValidationError
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, CliError):
        return str(error), error.code
    if isinstance(error, UnicodeDecodeError):
        return f"input is not {error.encoding} text ({error.reason} at byte offset {error.start})", INPUT
    if isinstance(error, FileNotFoundError):
        return f"{error.filename}: no such file or directory", INPUT
    if isinstance(error, IsADirectoryError):
        return f"{error.filename}: is a directory, not a file", INPUT
    if isinstance(error, PermissionError):
        return f"{error.filename}: permission denied", INPUT
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or error.title
        return f"{error.title}: {where}: {first['msg']}", INPUT
    if isinstance(error, DBAPIError):
        text = _first_line(error.orig)
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            return f"the database has no detainers schema ({text}): run `detainers db upgrade --db URL` first", STATE
        return f"database error: {text}", STATE
    if isinstance(error, ValueError | OSError):
        return _first_line(error) or type(error).__name__, INPUT if isinstance(error, ValueError) else STATE
    return f"unexpected {type(error).__name__}: {_first_line(error)} (DETAINERS_DEBUG=1 shows the traceback)", STATE


class HandlingGroup(TyperGroup):
    """The root command group: every subcommand runs inside :meth:`invoke`, so one handler sees every failure."""

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException, KeyboardInterrupt):
            raise
        except Exception as error:
            if os.environ.get("DETAINERS_DEBUG"):
                raise
            message, code = describe(error)
            typer.secho(f"error: {message}", fg="red", err=True)
            raise typer.Exit(code) from None
