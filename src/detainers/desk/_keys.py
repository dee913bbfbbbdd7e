"""Natural keys: one detainer per ICE office and event number, one booking per jurisdiction and booking number.

A retry after a timeout must not count a detainer or a booking twice. The key rows live in ``natural_keys`` (unique)
and are written in the transaction that creates the record, or that corrects a field of its key; a second record
with the same key is refused with a 409 naming the one that holds it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, select

from detainers.desk._errors import DeskError
from detainers.ledger import SideRow, natural_keys

__all__ = ["Duplicate", "Writes", "booking_key", "claim", "detainer_key", "holder", "move"]

_SEP = "\x1f"  # between the parts of a key (never in an office code, event or booking number as typed)


class Writes(list[SideRow]):
    """Rows a command writes beside the ledger (personal data, attachments, keys), under the chain lock; and rows
    it deletes first (the key a correction moves away from)."""

    def __init__(self) -> None:
        super().__init__()
        self.deletes: list[tuple[Table, dict[str, Any]]] = []


class Duplicate(DeskError):
    """409: the natural key is already held by another record (named in the message and as ``existing_id``)."""

    status = 409

    def __init__(self, message: str, *, field: str, existing_id: str) -> None:
        super().__init__(message, field=field)
        self.existing_id = existing_id
        self.extra = {"existing_id": existing_id}


def detainer_key(office: str, ice_event_no: str | None, cancels: str | None = None) -> str | None:
    """A detainer's key; None without an event number. A detainer that cancels another (an I-247X, or a new one
    replacing it) may carry the same event number, so its key names the one it cancels."""
    if not ice_event_no or not office:
        return None
    key = f"{office}{_SEP}{ice_event_no.strip()}"
    return f"{key}{_SEP}cancels:{cancels}" if cancels else key


def booking_key(jurisdiction: str, booking_number: str) -> str:
    return f"{jurisdiction}{_SEP}{booking_number.strip()}"


def holder(conn: Connection, kind: str, key: str) -> str | None:
    """The id of the record holding ``key``, if any."""
    row = conn.execute(
        select(natural_keys.c.record_id).where(natural_keys.c.kind == kind, natural_keys.c.natural_key == key)
    ).first()
    return str(row.record_id) if row else None


def _describe(kind: str, key: str) -> tuple[str, str]:
    parts = key.split(_SEP)
    if kind == "detainer":
        return f"a detainer from {parts[0]} with ICE event number {parts[1]}", "ice_event_no"
    return f"a booking in {parts[0]} numbered {parts[1]}", "booking_number"


def claim(conn: Connection, writes: Writes, kind: str, key: str | None, record_id: str) -> None:
    """Write ``key`` for ``record_id`` with the command, or refuse: another record holds it."""
    if key is None:
        return
    found = holder(conn, kind, key)
    if found is not None and found != record_id:
        what, field = _describe(kind, key)
        raise Duplicate(f"{what} is already recorded: {kind} {found}", field=field, existing_id=found)
    if found is None:
        writes.append((natural_keys, {"kind": kind, "natural_key": key, "record_id": record_id}))


def move(conn: Connection, writes: Writes, kind: str, old: str | None, new: str | None, record_id: str) -> None:
    """A correction changed a field of the key: claim the new one and let the old one go."""
    if old == new:
        return
    claim(conn, writes, kind, new, record_id)
    if old is not None and holder(conn, kind, old) == record_id:
        writes.deletes.append((natural_keys, {"kind": kind, "natural_key": old}))
