"""Replay of 1,000,000 generated cases under one pack (us/ca, SB 54) against a hand-written DuckDB query.

Both read the same Parquet files in the same run and must give identical notify / hold / transfer answers for
every case. The hand-written query knows only this one pack version; it is given the statute tags table ready
made (untimed), while the bulk path's time includes classifying every distinct statute itself.
Run: ``python -m bench replay`` (``BENCH_REPLAY_CASES`` to change the size).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb

from detainers.law import default_packs
from detainers.law.bulk import BulkSource, bulk_decide, plan
from detainers.law.bulk._tags import SEPARATOR, classification_table
from detainers.replay import open_data
from detainers.synth import SynthConfig, write_population

PACK = "us/ca"
TAGS = {
    "ca_serious": "serious",
    "ca_violent": "violent",
    "ca_7282_5_a3": "a3",
    "ca_wobbler": "wobbler",
    "ca_prop47": "prop47",
    "ca_registrant": "registrant",
    "federal_aggravated_felony": "aggravated",
    "ca_state_prison": "state_prison_tag",
}
_KEY = f"array_to_string(list_sort(COALESCE(c.tags, [])), '{SEPARATOR}')"
_JOIN = f"""JOIN tags k ON k.statute = c.statute AND k.level = c.level AND k.tags_key = {_KEY}
       AND f.day >= k.day_from AND f.day < k.day_to"""

# California Values Act (SB 54) on top of the federal baseline, written by hand for this one version.
HAND_WRITTEN = f"""
CREATE OR REPLACE TEMP TABLE hand AS
WITH r AS (SELECT booking_id, max(received_at) AS last_received FROM detainers GROUP BY 1),
i0 AS (
  SELECT b.booking_id, b.timezone, b.as_of, b.released_at, COALESCE(b.as_of, b.eligible_at, r.last_received) AS instant0
  FROM bookings b JOIN r USING (booking_id)
),
-- a request not yet received is not a fact; with none by eligibility the jail decides at the first receipt
rb AS (
  SELECT d.booking_id, bool_or(d.received_at IS NULL OR d.received_at <= i0.instant0) AS has_by,
         min(d.received_at) AS first_received
  FROM detainers d JOIN i0 USING (booking_id) GROUP BY 1
),
i AS (
  SELECT i0.*, CASE WHEN rb.has_by OR i0.as_of IS NOT NULL THEN i0.instant0 ELSE rb.first_received END AS instant
  FROM i0 JOIN rb USING (booking_id)
),
d AS (
  SELECT d.booking_id, d.warrant IN ('judicial_warrant', 'judicial_probable_cause') AS judicial,
         (d.lifted_at IS NOT NULL AND d.lifted_at <= i.instant) AS lifted,
         COALESCE(i.released_at IS NOT NULL AND d.received_at > i.released_at, FALSE) AS after_release
  FROM detainers d JOIN i USING (booking_id)
  WHERE d.received_at IS NULL OR d.received_at <= i.instant
  QUALIFY row_number() OVER (PARTITION BY d.booking_id
    ORDER BY (d.lifted_at IS NULL OR d.lifted_at > i.instant) DESC, d.received_at DESC NULLS LAST, d.seq DESC) = 1
),
f AS (SELECT i.booking_id, i.instant, CAST(timezone(i.timezone, i.instant) AS DATE) AS day, d.judicial,
             d.lifted OR d.after_release AS lifted  -- a request that came after release finds no custody
      FROM i JOIN d USING (booking_id)),
-- Gov. Code 7282.5(a), three-valued: 2 qualifies, 1 may qualify (unknown statute or fact), 0 does not
a AS (
  SELECT c.booking_id, max(GREATEST(
    LEAST(CASE WHEN c.level = 'felony' THEN 2 ELSE 0 END, GREATEST(k.serious, k.violent)),
    LEAST(CASE WHEN c.level = 'felony' THEN 2 ELSE 0 END,
          CASE WHEN c.state_prison IS NULL THEN 1 WHEN c.state_prison THEN 2 ELSE 0 END),
    LEAST(CASE WHEN c.level = 'misdemeanor' THEN 2 ELSE 0 END, k.a3, k.wobbler, 2 - k.prop47,
          CASE WHEN c.date >= CAST(f.day - INTERVAL 5 YEAR AS DATE) THEN 2 ELSE 0 END),
    LEAST(CASE WHEN c.level = 'felony' THEN 2 ELSE 0 END, k.a3,
          CASE WHEN c.date >= CAST(f.day - INTERVAL 15 YEAR AS DATE) THEN 2 ELSE 0 END),
    GREATEST(k.registrant, k.aggravated))) AS a
  FROM convictions c JOIN f USING (booking_id) {_JOIN}
  WHERE c.date IS NULL OR c.date <= f.day  -- a conviction dated after the decision date does not count
  GROUP BY 1
),
-- 7282.5(b): a magistrate's probable-cause finding on a serious, violent or state-prison felony charge
b AS (
  SELECT c.booking_id, max(CASE WHEN c.level = 'felony' AND c.magistrate_pc_at <= f.instant  -- made by then
                                THEN GREATEST(k.serious, k.violent, k.state_prison_tag) ELSE 0 END) AS b
  FROM charges c JOIN f USING (booking_id) {_JOIN}
  GROUP BY 1
)
SELECT f.booking_id,
       NOT f.lifted AND (COALESCE(a.a, 0) = 2 OR COALESCE(b.b, 0) = 2 OR f.judicial) AS notify,
       FALSE AS hold,
       NOT f.lifted AND (f.judicial OR COALESCE(a.a, 0) = 2) AS transfer
FROM f LEFT JOIN a USING (booking_id) LEFT JOIN b USING (booking_id)
"""


def _machine() -> str:
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = next(int(x.split()[1]) for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal"))
    return f"{os.cpu_count()} CPUs ({model}), {mem_kb / 1024 / 1024:.1f} GiB RAM, duckdb {duckdb.__version__}"


def main() -> None:
    n = int(os.environ.get("BENCH_REPLAY_CASES", "1000000"))
    packs = default_packs()
    with tempfile.TemporaryDirectory(prefix="bench-replay-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        config = SynthConfig(scale=n, seed=2021, start=date(2021, 1, 1), end=date(2021, 12, 31), detainer_share=1.0)
        write_population(folder, config, packs)
        print(f"generated {n:,} bookings with a detainer each in {time.perf_counter() - t0:.1f} s (untimed)")
        con = open_data(folder)
        compiled = plan(packs)  # compile once per pack set (cached by the replay command too)

        t1 = time.perf_counter()
        bulk_decide(con, BulkSource(), jurisdiction=PACK, into="bulk", compiled=compiled)
        bulk_s = time.perf_counter() - t1

        keys = con.execute(
            f"""SELECT DISTINCT c.statute, c.level, {_KEY}, 'CA' FROM
                (SELECT statute, level, tags FROM convictions UNION ALL SELECT statute, level, tags FROM charges) c"""
        ).fetchall()
        con.register("tags_arrow", classification_table(keys, TAGS))
        con.execute("CREATE TEMP TABLE tags AS SELECT * FROM tags_arrow")  # given to the hand-written query

        t2 = time.perf_counter()
        con.execute(HAND_WRITTEN)
        hand_s = time.perf_counter() - t2

        cases, differ = con.execute(
            """SELECT count(*), count(*) FILTER (WHERE h.notify IS DISTINCT FROM b.notify
                   OR h.hold IS DISTINCT FROM (COALESCE(b.hold_hours, 0) > 0)
                   OR h.transfer IS DISTINCT FROM (b.transfer <> 'not_allowed'))
               FROM bulk b FULL JOIN hand h USING (booking_id)"""
        ).fetchall()[0]
        notify, transfer = con.execute(
            "SELECT count(*) FILTER (WHERE notify), count(*) FILTER (WHERE transfer) FROM hand"
        ).fetchall()[0]
    print(f"machine: {_machine()}")
    print(f"cases: {cases:,} under {PACK} (each case's own date); notify {notify:,}, transfer {transfer:,}")
    print(f"bulk replay (compiled packs): {bulk_s:.2f} s")
    print(f"hand-written query:           {hand_s:.2f} s")
    print(f"ratio bulk / hand-written:    {bulk_s / hand_s:.2f}x")
    assert differ == 0, f"{differ} cases answered differently"
    assert cases >= n, cases
    print("answers identical: yes")
