"""What one write transaction has read and folded (its read set, re-checked under the chain lock) and the
process's cache of records as last committed (``StateCache``), through which commands prepared outside the lock read.

Kept apart from the projections (``_projections``: pure ``evolve`` and the view tables): this is the unit of work's
memory, not the state of any record.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection

__all__ = [
    "StateCache",
    "declare_new",
    "first_reads",
    "reading_through",
    "seed",
    "seen_states",
]


_Memo = tuple[Any, dict[tuple[str, str], Any], dict[tuple[str, str], Any], dict[tuple[str, str], bool]]


def _memo(conn: Connection) -> _Memo:
    """Per write transaction: states seen, states as first read, and the records to write (key → is new)."""
    transaction = conn.get_transaction()
    memo = conn.info.get("views_memo")
    if memo is None or memo[0] is not transaction:
        memo = (transaction, {}, {}, {})
        conn.info["views_memo"] = memo
    return memo


def _seen(conn: Connection) -> dict[tuple[str, str], Any]:
    """States read or written in this connection's current transaction (a unit of work: one read per record)."""
    return _memo(conn)[1]


# In a transaction's memory: the record was looked up and does not exist (a new one, e.g. at intake).
_ABSENT = object()


def first_reads(conn: Connection) -> dict[tuple[str, str], Any]:
    """The states as first read from the views in this transaction (before any fold), None where the record did
    not exist: the read set of a command prepared outside the chain lock, checked against the stream versions
    (0 for None) once the lock is held."""
    return {key: None if state is _ABSENT else state for key, state in _memo(conn)[2].items()}


def seed(conn: Connection, states: dict[tuple[str, str], Any]) -> None:
    """Make ``states`` (checked current under the lock) what this transaction reads, without reading the views."""
    _transaction, seen, reads, _dirty = _memo(conn)
    for key, state in states.items():
        seen.setdefault(key, _ABSENT if state is None else state)
        reads.setdefault(key, _ABSENT if state is None else state)


class StateCache:
    """Records as this process last committed them, for commands prepared outside the chain lock.

    Only an optimisation, never a source of truth: a command that read a record from here has that record's
    version checked against the ledger under the lock, and prepares again if it moved (another process wrote it,
    or the entry is stale for any other reason). Bounded; emptied when full.
    """

    def __init__(self, limit: int = 20_000) -> None:
        self.limit = limit
        self._states: dict[tuple[str, str], Any] = {}

    def get(self, key: tuple[str, str]) -> Any:
        return self._states.get(key)

    def publish(self, states: dict[tuple[str, str], Any]) -> None:
        """Record ``states``, which a transaction that just committed read under the lock or wrote."""
        if len(self._states) + len(states) > self.limit:
            self._states.clear()
        self._states.update(states)

    def forget(self, keys: Any) -> None:
        for key in keys:
            self._states.pop(key, None)

    def __len__(self) -> int:
        return len(self._states)


_CACHE_KEY = "detainers_state_cache"


@contextmanager
def reading_through(conn: Connection, cache: StateCache | None) -> Iterator[None]:
    """Within the block, a record this transaction has not read yet is taken from ``cache`` when it is there
    (see :class:`StateCache` for why that is safe for a command whose reads are checked under the lock)."""
    if cache is None:
        yield
        return
    conn.info[_CACHE_KEY] = cache
    try:
        yield
    finally:
        conn.info.pop(_CACHE_KEY, None)


def declare_new(conn: Connection, kind: str, ident: str) -> None:
    """Record that ``kind``/``ident`` does not exist yet (a fresh random id) without asking the views: the
    command's read set then says version 0, which the lock re-checks like any other read."""
    _transaction, seen, reads, _dirty = _memo(conn)
    seen.setdefault((kind, ident), _ABSENT)
    reads.setdefault((kind, ident), _ABSENT)


def seen_states(conn: Connection) -> dict[tuple[str, str], Any]:
    """Every record this transaction read or folded, as it stands now (to publish once the transaction commits)."""
    return {key: state for key, state in _memo(conn)[1].items() if state is not _ABSENT}
