"""Chunks of a population for replay: groups of whole states (so each chunk's plan holds only its states' packs),
and a state larger than the chunk size split by a hash of the booking id.

Each chunk is copied from the data views into temporary tables (its bookings, detainers, convictions and charges),
decided, reduced and dropped before the next, so memory follows the chunk size, not the population.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from detainers.law.bulk import BulkSource
from detainers.law.bulk._compile import literal

__all__ = ["Chunk", "chunk_source", "drop_chunk", "plan_chunks"]

_NAMES = ("bookings", "detainers", "convictions", "charges")
_PREFIX = "_replay_chunk"


@dataclass(frozen=True)
class Chunk:
    """Bookings whose jurisdiction is one of ``jurisdictions`` and, when ``parts`` > 1, whose booking id hashes
    to ``part`` modulo ``parts``."""

    jurisdictions: tuple[str, ...]
    parts: int = 1
    part: int = 0
    cases: int = 0  # about how many cases (bookings with a detainer) the chunk holds

    def where(self) -> str:
        listed = ", ".join(literal(j) for j in self.jurisdictions)
        cond = f"jurisdiction IN ({listed})"
        if self.parts > 1:
            cond += f" AND hash(booking_id) % {int(self.parts)} = {int(self.part)}"
        return cond


def _state(path: str) -> str:
    parts = path.split("/")
    return parts[1] if len(parts) > 1 else path


def plan_chunks(con: duckdb.DuckDBPyConnection, size: int) -> list[Chunk]:
    """Chunks of at most about ``size`` cases each, whole states together where they fit."""
    if size < 1:
        raise ValueError("the chunk size must be at least 1 booking")
    # Cases (bookings with a detainer) per jurisdiction: they are what the chunk's decisions cost.
    counts = con.execute(
        """SELECT b.jurisdiction, count(*) FROM bookings b SEMI JOIN detainers d ON d.booking_id = b.booking_id
           WHERE b.jurisdiction IS NOT NULL GROUP BY 1 ORDER BY 1"""
    ).fetchall()
    by_state: dict[str, list[tuple[str, int]]] = {}
    for path, n in counts:
        by_state.setdefault(_state(str(path)), []).append((str(path), int(n)))
    chunks: list[Chunk] = []
    current: list[str] = []
    filled = 0
    for state in sorted(by_state):
        paths = [p for p, _ in by_state[state]]
        n = sum(c for _, c in by_state[state])
        if n > size:  # a state bigger than a chunk: split it by booking id
            parts = -(-n // size)
            chunks += [Chunk(tuple(paths), parts, k, n // parts) for k in range(parts)]
            continue
        if current and filled + n > size:
            chunks.append(Chunk(tuple(current), cases=filled))
            current, filled = [], 0
        current += paths
        filled += n
    if current:
        chunks.append(Chunk(tuple(current), cases=filled))
    # Bookings without a jurisdiction are refused by the evaluator; they still belong to a chunk.
    ((missing,),) = con.execute("SELECT count(*) FROM bookings WHERE jurisdiction IS NULL").fetchall()
    if missing:
        chunks.append(Chunk((), cases=int(missing)))
    return chunks


def chunk_source(con: duckdb.DuckDBPyConnection, chunk: Chunk) -> BulkSource:
    """Copy one chunk's cases (bookings with a detainer, and their rows) into temporary tables; name them."""
    where = chunk.where() if chunk.jurisdictions else "jurisdiction IS NULL"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {_PREFIX}_bookings AS SELECT * FROM bookings b WHERE {where} "
        "AND b.booking_id IN (SELECT booking_id FROM detainers)"
    )
    for name in _NAMES[1:]:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_PREFIX}_{name} AS SELECT t.* FROM {name} t "
            f"SEMI JOIN {_PREFIX}_bookings b ON b.booking_id = t.booking_id"
        )
    return BulkSource(*(f"{_PREFIX}_{n}" for n in _NAMES))


def drop_chunk(con: duckdb.DuckDBPyConnection) -> None:
    for name in _NAMES:
        con.execute(f"DROP TABLE IF EXISTS {_PREFIX}_{name}")
