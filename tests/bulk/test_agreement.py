"""Done-when of issue 3: the bulk (SQL) and per-case (Python) paths give the same answers.

Cases come from the synthetic generator in both profiles (calibrated, and "coverage", which makes rare facts
common), spread over every jurisdiction path that has a pack plus one that has none, from 2009 to 2025 so
every pack version is in force for some of them. Nothing here is hard-coded: both answers are computed.
"""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pytest

from detainers.law import default_packs
from detainers.synth import SynthConfig, generate

from ._compare import disagreements

NO_PACK = "us/nv/washoe"  # Nevada and Washoe County have no pack: only the federal layer decides


def _population(scale: int, seed: int, profile: str) -> dict[str, pa.Table]:
    config = SynthConfig(
        scale=scale,
        seed=seed,
        start=date(2009, 1, 1),
        end=date(2025, 12, 31),
        detainer_share=1.0,
        profile=profile,  # type: ignore[arg-type]
        chunk=scale,
    )
    (chunk,) = generate(config)
    return chunk


def _spread(tables: dict[str, pa.Table], paths: list[str]) -> dict[str, pa.Table]:
    """Put the cases round-robin in every path (zones kept: the facility's own)."""
    bookings = tables["bookings"]
    column = pa.array([paths[i % len(paths)] for i in range(bookings.num_rows)], pa.string())
    index = bookings.schema.get_field_index("jurisdiction")
    return {**tables, "bookings": bookings.set_column(index, "jurisdiction", column)}


def _paths() -> list[str]:
    return [p.pack for p in default_packs() if "/" in p.pack] + [NO_PACK]


@pytest.mark.slow
def test_bulk_agrees_with_decide_on_generated_cases() -> None:
    coverage = _spread(_population(6_000, 11, "coverage"), _paths())
    calibrated = _population(5_000, 12, "calibrated")
    total = 0
    varied: dict[str, set[object]] = {}
    for tables in (coverage, calibrated):
        n, problems, seen = disagreements(tables)
        total += n
        for name, values in seen.items():
            varied.setdefault(name, set()).update(values)
        assert not problems, f"{len(problems)} disagreements, first: " + "\n".join(problems[:10])
    # The populations are varied enough for agreement to mean something: every answer takes several values.
    assert all(len(values) >= 2 for values in varied.values()), varied
    assert total >= 10_000
    # Every pack was reached by some case.
    seen = set(coverage["bookings"].column("jurisdiction").to_pylist())
    assert all(p in seen for p in _paths())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("jurisdiction", "pinned"),
    [("us/ca/los-angeles/lasd", date(2021, 1, 1)), ("us/tx/travis", date(2017, 3, 1)), ("us/ca", None)],
)
def test_bulk_agrees_on_what_if(jurisdiction: str, pinned: date | None) -> None:
    n, problems, _ = disagreements(_population(800, 21, "coverage"), jurisdiction=jurisdiction, versions_on=pinned)
    assert n > 700
    assert not problems, "\n".join(problems[:10])
