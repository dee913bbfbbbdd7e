"""Import a generated 2,000,000-row NPR-layout CSV with our importer and with DuckDB's own ``read_csv``, same run.

Ours does more than DuckDB's load: it hashes the file, keeps a row number and an md5 row hash per row, nulls
redaction markers, parses dates, classifies detainer-type labels, validates rows and writes Parquet atomically
plus a catalogue commit. The target is to stay within 1.5x of DuckDB's ``CREATE TABLE AS SELECT * FROM read_csv``.
Each round also prints the CPU seconds both sides spent (all threads of this process: DuckDB, Polars and pyarrow
run in it), which a shared machine disturbs far less than the wall times.

Beside it (``BENCH_IMPORT_MAPPING=0`` skips it): a jail export of the same size through a version 2 mapping — 2,000,000
pipe-separated charge lines with the booking's columns repeated (the Washington layout of docs/importing.md),
booking fields with the agreement check, a charge crosswalk, three charge filters and a booking filter on the most
serious charge — against DuckDB's ``read_csv`` of the same file, paired rounds too.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from detainers.ingest import Store

ROWS = 2_000_000
SEED = 20151001

_LIFT = [
    "Booked into Detention", "", "Lifted", "Case Closed", "Transferred", "Detainer Declined by LEA", "Early Release",
    "Prosecutorial Discretion", "Alien Not Subject to Deportation", "United States Citizen Interviewed", "Died",
]  # fmt: skip
_LIFT_P = [0.42, 0.35, 0.08, 0.06, 0.03, 0.02, 0.01, 0.01, 0.01, 0.005, 0.005]
_TYPES = [
    "", "I247 - Immigration Detainer - Notice of Action (as of March 2013)", "I247D - Immigration Detainer - Request "
    "for Action", "I247N - Immigration Advisal - Request for Notification",
]  # fmt: skip


def generate(path: Path, rows: int = ROWS, seed: int = SEED) -> Path:
    """A synthetic NPR six-column file (seeded): dates FY2008-2015, 2,000 facilities, lift reasons, form labels."""
    rng = np.random.default_rng(seed)
    days = rng.integers(0, 2860, rows)
    facility = rng.integers(0, 2000, rows)
    states = np.array(["TEXAS", "CALIFORNIA", "PENNSYLVANIA", "ARIZONA", "NEW YORK", "FLORIDA", "ILLINOIS", "GEORGIA"])
    base = np.datetime64("2007-10-01")
    dates = (base + days.astype("timedelta64[D]")).astype(str)
    frame = pl.DataFrame(
        {
            "date": np.char.add(dates, " 00:00:00"),
            "lift_reason": rng.choice(_LIFT, rows, p=_LIFT_P),
            "det_facility": np.char.add("SYNTHETIC FACILITY ", facility.astype(str)),
            "city": np.char.add("CITY ", (facility % 500).astype(str)),
            "state": states[facility % len(states)],
            "detainer_type": rng.choice(_TYPES, rows, p=[0.9, 0.08, 0.015, 0.005]),
        }
    )
    frame.write_csv(path)
    return path


#: CPU seconds (all threads of this process: DuckDB, Polars and pyarrow all run in it) of the last timed step.
_cpu: list[float] = [0.0]


def _duckdb_load(path: Path, db: Path) -> float:
    started, cpu = time.perf_counter(), time.process_time()
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE detainers AS SELECT * FROM read_csv('{path}', header = true)")
        con.execute("CHECKPOINT")
    _cpu[0] = time.process_time() - cpu
    return time.perf_counter() - started


def _ours(path: Path, store: Path) -> float:
    started, cpu = time.perf_counter(), time.process_time()
    report = Store(store).import_detainers(path, fmt="npr")
    elapsed = time.perf_counter() - started
    _cpu[0] = time.process_time() - cpu
    if report.rows_loaded != ROWS or report.rejects:
        raise SystemExit(f"importer loaded {report.rows_loaded} rows with {len(report.rejects)} rejects")
    return elapsed


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    versions = f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, Polars {pl.__version__}"
    return f"{os.cpu_count()} CPUs (nproc), {model}, {ram} RAM, {versions}"


_WA = Path(__file__).resolve().parents[1] / "tests" / "data" / "synthetic" / "wa_charge_lines"
_TEXTS = [
    "ASLT 2", "ASLT 3", "ASLT 4", "ASLT 4 /DV", "BURGLARY 2", "CRIM TRESP 2", "THEFT 2", "THEFT 3", "DUI", "DWLS 3",
    "VUCSA POSS", "ROBBERY 1", "MAL MISCH 3, DV", "VIO NO CONTACT ORDER", "OBSTRUCTING", "FTA WARRANT",
    "COMM CUSTODY JAIL", "ALT ID MARKS", "LITTERING 2", "HOLD IMMIGRAT", "ENTRY ERROR",
]  # fmt: skip
_TEXT_P = [0.04, 0.05, 0.1, 0.06, 0.04, 0.06, 0.05, 0.08, 0.12, 0.1, 0.07, 0.02, 0.03, 0.04, 0.03, 0.04, 0.03, 0.005,
           0.005, 0.01, 0.01]  # fmt: skip


def generate_charge_lines(path: Path, rows: int = ROWS, seed: int = SEED) -> Path:
    """2,000,000 synthetic charge lines, pipe-separated, the booking's columns repeated (seeded; made-up data)."""
    rng = np.random.default_rng(seed)
    per = rng.integers(1, 4, rows)  # 1-3 lines per booking; more bookings than needed, cut at ``rows`` lines
    booking = np.repeat(np.arange(per.size), per)[:rows]
    booked = np.datetime64("2016-10-01T00:00:00") + (rng.integers(0, 640 * 86400, per.size)).astype("timedelta64[s]")
    stay = rng.integers(3600, 90 * 86400, per.size).astype("timedelta64[s]")
    line_end = booked[booking] + (rng.random(rows) * stay[booking].astype(np.int64)).astype("timedelta64[s]")
    p = np.array(_TEXT_P) / sum(_TEXT_P)

    def stamp(values: np.ndarray) -> np.ndarray:
        return np.char.replace(np.datetime_as_string(values, unit="s"), "T", " ")

    frame = pl.DataFrame(
        {
            "booking_id": np.char.add("SYN-", booking.astype(str)),
            "booking_dt": stamp(booked[booking]),
            "release_dt": stamp(booked[booking] + stay[booking]),
            "cause_num": np.char.add("C-", np.arange(rows).astype(str)),
            "booking_charge_desc": rng.choice(_TEXTS, rows, p=p),
            "charge_release_dt": stamp(line_end),
            "release_disposition_desc": rng.choice(["Bail", "PR", "Time Served", "Dismissed", "Immigration"], rows),
            "race_desc": rng.choice(["white", "black", "hispanic", "unknown"], rows),
            "gender_desc": rng.choice(["male", "female"], rows),
        }
    )
    frame.write_csv(path, separator="|")
    return path


def _mapping_import(path: Path, store: Path) -> float:
    from detainers.ingest import load_mapping

    mapping = load_mapping(_WA / "mapping.yaml")
    started = time.perf_counter()
    report = Store(store).import_jail(mapping, charges=path)
    elapsed = time.perf_counter() - started
    if report.rejects or not report.rows_loaded:
        raise SystemExit(f"mapping import loaded {report.rows_loaded} rows with {len(report.rejects)} rejects")
    return elapsed


def _duckdb_pipe(path: Path, db: Path) -> float:
    started = time.perf_counter()
    with duckdb.connect(str(db)) as con:
        con.execute(f"CREATE TABLE lines AS SELECT * FROM read_csv('{path}', header = true, delim = '|')")
        con.execute("CHECKPOINT")
    return time.perf_counter() - started


def _paired(name: str, baseline: list[float], ours: list[float], target: str) -> None:
    ratios = sorted(o / d for d, o in zip(baseline, ours, strict=True))
    print(
        f"{name}: median paired ratio {ratios[len(ratios) // 2]:.2f}x; best times duckdb {min(baseline):.2f}s, "
        f"ours {min(ours):.2f}s ({min(ours) / min(baseline):.2f}x){target}"
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        path = generate(root / "npr_2m.csv")
        size = path.stat().st_size / 1e6
        print(f"generated {ROWS:,} rows ({size:.0f} MB) in {time.perf_counter() - started:.1f}s; seed {SEED}")
        runs = []
        cpus = []
        for attempt in range(5):
            duck = _duckdb_load(path, root / f"duck{attempt}.duckdb")
            duck_cpu = _cpu[0]
            ours = _ours(path, root / f"store{attempt}")
            runs.append((duck, ours))
            cpus.append(_cpu[0] / duck_cpu)
            print(
                f"run {attempt + 1}: duckdb read_csv -> table {duck:.2f}s; detainers import {ours:.2f}s; "
                f"ratio {ours / duck:.2f}x (CPU {duck_cpu:.2f}s vs {_cpu[0]:.2f}s, {_cpu[0] / duck_cpu:.2f}x)"
            )
        ratios = sorted(o / d for d, o in runs)
        duck = min(r[0] for r in runs)
        ours = min(r[1] for r in runs)
        print(
            f"median paired ratio {ratios[len(ratios) // 2]:.2f}x; best times duckdb {duck:.2f}s, ours {ours:.2f}s "
            f"({ours / duck:.2f}x); target <= 1.5x; median CPU ratio {sorted(cpus)[len(cpus) // 2]:.2f}x"
        )
        if os.environ.get("BENCH_IMPORT_MAPPING", "1") != "0":
            lines = generate_charge_lines(root / "charge_lines_2m.csv")
            print(f"generated {ROWS:,} charge lines ({lines.stat().st_size / 1e6:.0f} MB), pipe-separated")
            base, mine = [], []
            for attempt in range(5):
                base.append(_duckdb_pipe(lines, root / f"lines{attempt}.duckdb"))
                mine.append(_mapping_import(lines, root / f"jail{attempt}"))
                print(
                    f"run {attempt + 1}: duckdb read_csv -> table {base[-1]:.2f}s; mapping import (booking fields, "
                    f"crosswalk, 4 filters) {mine[-1]:.2f}s; ratio {mine[-1] / base[-1]:.2f}x"
                )
            _paired("mapping import", base, mine, " (measured, no target)")
        try:
            print(f"load average during run: {Path('/proc/loadavg').read_text().split()[:3]}")
        except OSError:
            pass
        print(f"machine: {machine()}")


if __name__ == "__main__":
    main()
