"""Chunks of a population for replay: groups of whole states (so each chunk's plan holds only its states' packs),
and a state larger than the chunk size split by a hash of the booking id.

The cases are first written once to Parquet files partitioned by chunk (a temporary folder, removed at the end);
each chunk is then read into temporary tables (its bookings, detainers, convictions and charges), decided,
reduced and dropped before the next, so memory follows the chunk size, not the population.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from detainers.law.bulk import BulkSource, literal

__all__ = ["Chunk", "Partitioned", "plan_chunks"]

_NAMES = ("bookings", "detainers", "convictions", "charges")
_PREFIX = "_replay_chunk"
_PARTITION_MEMORY = "1GB"  # DuckDB's memory limit while the population is written partitioned by chunk


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


class Partitioned:
    """The population written once, partitioned by chunk, to Parquet files in a temporary folder.

    Copying each chunk straight from the data views scanned every file once per chunk (and built a hash table of
    every case id each time): at 10,000,000 cases in 12 chunks that was the largest single cost. One pass writes
    every row to its chunk's files; each chunk then reads only its own.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, chunks: list[Chunk]) -> None:
        self.con = con
        self.folder = Path(tempfile.mkdtemp(prefix="detainers-replay-"))
        cases = " ".join(
            f"WHEN {c.where() if c.jurisdictions else 'jurisdiction IS NULL'} THEN {i}" for i, c in enumerate(chunks)
        )
        # The pass joins every row with a table of every case id; bound its memory (DuckDB spills the join to
        # this folder) so that it stays below what one chunk's decisions take. Settings restored afterwards.
        saved = con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchall()[0]
        try:
            spill = str(self.folder / "spill").replace("'", "''")
            try:
                con.execute(f"SET temp_directory = '{spill}'")
            except duckdb.Error:  # the connection already spilled somewhere: keep its place
                pass
            con.execute(f"SET memory_limit = '{_PARTITION_MEMORY}'")
            con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {_PREFIX}_of AS
                    SELECT b.booking_id, CASE {cases} END AS _chunk
                    FROM bookings b SEMI JOIN detainers d ON d.booking_id = b.booking_id"""
            )
            for name in _NAMES:
                target = str(self.folder / name).replace("'", "''")
                con.execute(
                    f"""COPY (SELECT t.*, m._chunk FROM {name} t JOIN {_PREFIX}_of m ON m.booking_id = t.booking_id)
                        TO '{target}' (FORMAT parquet, PARTITION_BY (_chunk), COMPRESSION uncompressed)"""
                )
            con.execute(f"DROP TABLE IF EXISTS {_PREFIX}_of")
        finally:
            for setting, value in zip(("memory_limit", "temp_directory"), saved, strict=True):
                try:
                    con.execute(f"SET {setting} = '{str(value).replace(chr(39), chr(39) * 2)}'")
                except duckdb.Error:
                    try:
                        con.execute(f"RESET {setting}")
                    except duckdb.Error:  # a spill folder in use cannot be switched; it is removed with ours
                        pass

    def source(self, index: int) -> BulkSource:
        """Read chunk ``index`` into temporary tables and name them as a bulk source."""
        for name in _NAMES:
            files = self.folder / name / f"_chunk={index}"
            if files.is_dir():
                pattern = str(files / "*.parquet").replace("'", "''")
                select = f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = false)"
            else:  # no row of this table in the chunk
                select = f"SELECT * FROM {name} LIMIT 0"
            self.con.execute(f"CREATE OR REPLACE TEMP TABLE {_PREFIX}_{name} AS {select}")
        return BulkSource(*(f"{_PREFIX}_{n}" for n in _NAMES))

    def drop(self) -> None:
        """Drop the current chunk's tables."""
        for name in _NAMES:
            self.con.execute(f"DROP TABLE IF EXISTS {_PREFIX}_{name}")

    def close(self) -> None:
        self.drop()
        shutil.rmtree(self.folder, ignore_errors=True)
