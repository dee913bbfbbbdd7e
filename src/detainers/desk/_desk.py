"""The desk: the application layer the REST API, the web pages, the deadline worker and the outbox share."""

from __future__ import annotations

from detainers.desk._commands import Commands
from detainers.desk._notices import NoticeCommands

__all__ = ["Desk"]


class Desk(Commands, NoticeCommands):
    """Commands (:mod:`._commands`), the worker's and the outbox's writes (:mod:`._notices`), queries
    (:mod:`._queries`) and offices (:mod:`._offices`), over one unit of work (:mod:`._unit_of_work`)."""
