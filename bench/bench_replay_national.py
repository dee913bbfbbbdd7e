"""National replay: N generated cases over every state and DC, each under its own law, in chunks.

``BENCH_REPLAY_NATIONAL=N python -m bench national`` generates N national bookings, each with a detainer
(``detainers synth --national --detainer-share 1.0``, 2023, untimed; ``BENCH_REPLAY_NATIONAL_DATA=DIR`` keeps and
reuses the folder), then times, each in a fresh child process so its peak RSS is its own:

- **baseline**: plain DuckDB reading the same four Parquet files, choosing each case's operative detainer and
  aggregating its prior convictions and charges, grouped by state and year — the read / join / group floor that
  any replay of these files pays;
- **national replay**: ``compare(actual, us/tx, by="state", chunk=C)`` — what ``detainers replay --policy actual
  --vs us/tx --by state --chunk C`` runs: every case decided twice (under its own jurisdiction's packs on its own
  date, and under Texas), chunk by chunk, reduced to per-state rows.

It prints wall time, CPU time and peak RSS of each, and where the replay's time goes (SQL statements grouped by the
stage they build, and Python between them). ``BENCH_REPLAY_NATIONAL_CHUNK`` sets C (default 1,000,000).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
import resource
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.bench_replay import _machine

TARGET_SECONDS = 60.0
TARGET_RSS_GIB = 4.0

BASELINE = """
WITH r AS (SELECT booking_id, max(received_at) AS last_received FROM detainers GROUP BY 1),
i AS (SELECT b.booking_id, upper(split_part(b.jurisdiction, '/', 2)) AS state,
             COALESCE(b.as_of, b.eligible_at, r.last_received) AS instant, b.timezone
      FROM bookings b JOIN r USING (booking_id)),
d AS (SELECT d.booking_id, d.form, d.warrant FROM detainers d JOIN i USING (booking_id)
      WHERE d.received_at IS NULL OR d.received_at <= i.instant
      QUALIFY row_number() OVER (PARTITION BY d.booking_id ORDER BY d.received_at DESC NULLS LAST, d.seq DESC) = 1),
cv AS (SELECT booking_id, count(*) AS priors, count(*) FILTER (WHERE level = 'felony') AS felonies
       FROM convictions GROUP BY 1),
ch AS (SELECT booking_id, count(*) AS charges, count(*) FILTER (WHERE level = 'felony') AS felony_charges
       FROM charges GROUP BY 1)
SELECT i.state, year(CAST(timezone(i.timezone, i.instant) AS DATE)) AS year, count(*) AS cases,
       count(*) FILTER (WHERE d.warrant IN ('judicial_warrant', 'judicial_probable_cause')) AS judicial,
       sum(COALESCE(cv.priors, 0)) AS priors, sum(COALESCE(cv.felonies, 0)) AS felonies,
       sum(COALESCE(ch.charges, 0)) AS charges, sum(COALESCE(ch.felony_charges, 0)) AS felony_charges
FROM i JOIN d USING (booking_id) LEFT JOIN cv USING (booking_id) LEFT JOIN ch USING (booking_id)
GROUP BY ALL
"""

_CREATED = re.compile(r"CREATE OR REPLACE TEMP (?:TABLE|VIEW) (\w+)")


def _stage_of(sql: str) -> str:
    if sql.lstrip().startswith("COPY"):
        return "write cases partitioned by chunk (one pass)"
    found = _CREATED.search(sql)
    if found is None:
        head = " ".join(sql.split())[:40]
        if "FROM replay_a a JOIN replay_b" in sql or "FROM replay_" in sql:
            return "reduce to per-state rows"
        if head.startswith("SELECT DISTINCT statute"):
            return "distinct statute keys"
        if "DROP" in head:
            return "drop"
        return "other SQL"
    name = found.group(1)
    if name == "_replay_chunk_of":
        return "write cases partitioned by chunk (one pass)"
    if name.startswith("_replay_chunk"):
        return "read chunk"
    name = re.sub(r"^_bulk_replay_[ab]_", "", name)
    return {
        "facts": "facts (operative detainer, instant)",
        "stage": "conditions, layers, composition",
        "hold": "hold deadline",
        "rfacts": "receipt duties: facts",
        "rstage": "receipt duties: rules",
        "receipt": "receipt duties: reduce",
        "cev": "hold-window cuts: events",
        "e_facts": "hold-window cuts: facts at events",
        "e_stage": "hold-window cuts: rules at events",
        "replay_a": "final answers",
        "replay_b": "final answers",
    }.get(name, f"other ({name})")


class _Timed:
    """A DuckDB connection that times each statement by the stage it builds."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.seconds: dict[str, float] = {}

    def execute(self, sql: str, *args: Any) -> Any:
        began = time.perf_counter()
        out = self._con.execute(sql, *args)
        stage = _stage_of(sql)
        self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - began
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _replay(folder: str, chunk: int, out: Any) -> None:
    from detainers.law import default_packs
    from detainers.replay import compare, open_data, parse_policy

    packs = default_packs()
    a, b = parse_policy("actual", packs), parse_policy("us/tx", packs)
    began, cpu = time.perf_counter(), _cpu()
    con = _Timed(open_data(Path(folder)))
    con.execute("SET enable_progress_bar = false")
    result = compare(con, a, b, packs=packs, by="state", chunk=chunk)  # type: ignore[arg-type]
    seconds = time.perf_counter() - began
    out.put(
        {
            "seconds": seconds,
            "cpu": _cpu() - cpu,
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024,
            "stages": con.seconds,
            "cases": result.cases,
            "chunks": result.chunks,
            "states": len({r["state"] for r in result.rows}),
            "notify_a": result.totals["notify_a"],
            "notify_b": result.totals["notify_b"],
            "errors": sum(result.errors.values()),
        }
    )


def _baseline(folder: str, out: Any) -> None:
    from detainers.replay import open_data

    began, cpu = time.perf_counter(), _cpu()
    con = open_data(Path(folder))
    con.execute("SET enable_progress_bar = false")
    rows = con.execute(BASELINE).fetchall()
    out.put(
        {
            "seconds": time.perf_counter() - began,
            "cpu": _cpu() - cpu,
            "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024,
            "cases": sum(int(r[2]) for r in rows),
            "states": len({r[0] for r in rows}),
        }
    )


def _child(target: Any, *args: Any) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result: dict[str, Any] = queue.get()
    proc.join()
    return result


def _generate(folder: Path, n: int) -> None:
    from detainers.synth import SynthConfig, write_population

    config = SynthConfig(
        scale=n, seed=2023, start=date(2023, 1, 1), end=date(2023, 12, 31), detainer_share=1.0, national=True
    )
    write_population(folder, config)


def main() -> None:
    n = int(os.environ.get("BENCH_REPLAY_NATIONAL", "0"))
    if n <= 0:
        print("national replay: skipped (set BENCH_REPLAY_NATIONAL=N, e.g. 10000000, to run it)")
        return
    chunk = int(os.environ.get("BENCH_REPLAY_NATIONAL_CHUNK", "1000000"))
    kept = os.environ.get("BENCH_REPLAY_NATIONAL_DATA")
    folder = Path(kept) if kept else Path(tempfile.mkdtemp(prefix="bench-national-"))
    try:
        marker = folder / f".bench-{n}"
        if not marker.exists():
            t0 = time.perf_counter()
            _generate(folder, n)
            marker.write_text("generated by bench_replay_national\n")
            print(f"generated {n:,} national bookings, each with a detainer, in {time.perf_counter() - t0:.1f} s")
        else:
            print(f"reusing {folder} ({n:,} bookings)")
        print(f"machine: {_machine()}; load average before: {os.getloadavg()}")
        base = _child(_baseline, str(folder))
        print(f"load average before the replay: {os.getloadavg()}")
        run = _child(_replay, str(folder), chunk)
    finally:
        if not kept:
            shutil.rmtree(folder, ignore_errors=True)
    print(
        f"baseline (plain DuckDB: read, operative detainer, priors and charges, group by state and year): "
        f"{base['seconds']:.1f} s wall, {base['cpu']:.1f} s CPU, peak RSS {base['rss']:.2f} GiB, "
        f"{base['cases']:,} cases in {base['states']} states"
    )
    print(
        f"national replay (actual vs us/tx, by state, chunk {chunk:,}: {run['chunks']} chunks): "
        f"{run['seconds']:.1f} s wall, {run['cpu']:.1f} s CPU, peak RSS {run['rss']:.2f} GiB, "
        f"{run['cases']:,} cases in {run['states']} states; not decided: {run['errors']:,}"
    )
    print(f"ratio replay / baseline: {run['seconds'] / base['seconds']:.1f}x")
    sql = sum(run["stages"].values())
    for stage, seconds in sorted(run["stages"].items(), key=lambda kv: -kv[1]):
        print(f"  {seconds:7.1f} s  {100 * seconds / run['seconds']:5.1f}%  {stage}")
    rest = run["seconds"] - sql
    print(f"  {rest:7.1f} s  {100 * rest / run['seconds']:5.1f}%  Python between statements")
    seconds_ok = run["seconds"] <= TARGET_SECONDS
    rss_ok = run["rss"] <= TARGET_RSS_GIB
    print(
        f"targets: <= {TARGET_SECONDS:.0f} s {'met' if seconds_ok else 'NOT met'}; "
        f"<= {TARGET_RSS_GIB:.0f} GiB peak RSS {'met' if rss_ok else 'NOT met'}"
    )
    assert run["cases"] == base["cases"], (run["cases"], base["cases"])
