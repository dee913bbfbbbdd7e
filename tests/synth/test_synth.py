"""The generator: deterministic, calibrated within loose bounds, and loud about being synthetic."""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from detainers.cli import app
from detainers.law import default_packs
from detainers.law.bulk import SCHEMAS
from detainers.synth import SynthConfig, detainer_share, facilities_for, generate, write_population


def _all(config: SynthConfig) -> dict[str, pa.Table]:
    chunks = list(generate(config))
    return {name: pa.concat_tables([c[name] for c in chunks]) for name in chunks[0]}


def test_same_seed_and_chunk_same_data_another_seed_other_data() -> None:
    """The seed and the chunk size together name the population (each chunk draws from its own stream, seeded by
    (seed, chunk index)): the same pair gives the same tables, chunk by chunk; another seed gives other people."""
    a = list(generate(SynthConfig(scale=3_000, seed=5, chunk=1_000)))
    b = list(generate(SynthConfig(scale=3_000, seed=5, chunk=1_000)))
    c = _all(SynthConfig(scale=3_000, seed=6, chunk=1_000))
    assert [chunk["bookings"].num_rows for chunk in a] == [1_000, 1_000, 1_000]
    for left, right in zip(a, b, strict=True):
        for name in left:
            assert left[name].equals(right[name]), name
    bookings = pa.concat_tables([chunk["bookings"] for chunk in a])
    ids = bookings.column("booking_id").to_pylist()
    assert len(set(ids)) == len(ids) == 3_000  # chunks number their rows on from the previous one, never again
    assert not bookings.equals(c["bookings"])


def test_tables_have_the_bulk_schema_and_synthetic_ids() -> None:
    tables = _all(SynthConfig(scale=2_000, seed=1, detainer_share=0.5))
    for name, schema in SCHEMAS.items():
        for field in schema:
            assert tables[name].schema.field(field.name).type == field.type, (name, field.name)
    ids = tables["bookings"].column("person_id").to_pylist()
    assert all(i.startswith("SYN-") for i in ids) and len(set(ids)) == len(ids)
    assert not any("name" in c for c in tables["bookings"].column_names if c != "facility_id")


def test_calibrated_shares_are_near_the_sources() -> None:
    tables = _all(SynthConfig(scale=60_000, seed=3, start=date(2018, 10, 1), end=date(2019, 9, 30)))
    bookings = tables["bookings"]
    n_det = len(set(tables["detainers"].column("booking_id").to_pylist()))
    share = n_det / bookings.num_rows
    # FY2019: 166,800 detainers / 10.3 M admissions ~ 1.6%, scaled by facility multipliers (all >= 0.6, <= 2.5)
    assert 0.6 * detainer_share(2019) < share < 2.5 * detainer_share(2019)
    con = duckdb.connect()
    con.register("b", bookings)
    con.register("c", tables["convictions"])
    con.register("d", tables["detainers"])
    none = con.execute(
        "SELECT avg(CASE WHEN booking_id IN (SELECT booking_id FROM c) THEN 0 ELSE 1 END) FROM b"
    ).fetchall()[0]
    assert none is not None and abs(none[0] - 0.477) < 0.02  # TRAC 330: 47.7% without a conviction
    median_days = con.execute(
        "SELECT median(epoch(eligible_at) - epoch(booked_at)) / 86400 FROM b "
        "WHERE eligible_at IS NOT NULL AND booking_id NOT IN (SELECT booking_id FROM d)"
    ).fetchall()[0]
    assert median_days is not None and 2.5 < median_days[0] < 3.8  # Pierce County no-hold median 3.15 days
    forms = Counter(tables["detainers"].column("form").to_pylist())
    assert set(forms) <= {"I247A_2017"}  # FY2019: only the I-247A


def test_form_eras() -> None:
    tables = _all(SynthConfig(scale=4_000, seed=2, detainer_share=1.0, start=date(2011, 1, 1), end=date(2025, 9, 30)))
    rows = tables["detainers"].select(["form", "received_at"]).to_pylist()
    for r in rows:
        if r["received_at"] is None:
            continue
        day = r["received_at"].date()
        if r["form"] == "I247_PRE2012":
            assert day < date(2012, 12, 21)
        if r["form"].startswith("I247A"):
            assert day >= date(2017, 4, 1)
        if r["form"] == "I247G_2025":
            assert day >= date(2025, 3, 3)
    assert {"I247_PRE2012", "I247_DEC2012", "I247D_2015", "I247N_2015", "I247A_2017"} <= {r["form"] for r in rows}


def test_every_pack_path_has_a_facility() -> None:
    facilities = facilities_for(default_packs())
    paths = {f.jurisdiction for f in facilities}
    for pack in default_packs():
        if "/" in pack.pack:
            assert any(p == pack.pack or p.startswith(pack.pack + "/") for p in paths), pack.pack
    assert any(not p.startswith(("us/ca", "us/tx")) and default_packs().get(p) is None for p in paths)


def test_cli_writes_files_that_say_synthetic(tmp_path: Path) -> None:
    out = tmp_path / "syn"
    result = CliRunner().invoke(app, ["synth", "--scale", "1500", "--seed", "4", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" in (out / "README.md").read_text()
    for path in out.glob("*.parquet"):
        meta = pq.read_schema(path).metadata
        assert meta[b"detainers.synthetic"] == b"true", path
        assert b"SYNTHETIC" in meta[b"detainers.notice"]
    again = tmp_path / "again"
    write_population(again, SynthConfig(scale=1500, seed=4))
    assert pq.read_table(out / "bookings.parquet").equals(pq.read_table(again / "bookings.parquet"))
