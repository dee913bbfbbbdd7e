"""The national population: every state and DC, in proportion to the cited per-state detainer shares."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from detainers.cli import app
from detainers.law import default_packs
from detainers.law._volume_coverage import VolumeTableError, read_volumes
from detainers.synth import SynthConfig, generate, write_population
from detainers.synth._national import COUNTY_SHARE, STATE_SHARES, national_facilities, state_weights

# Tolerance of the calibration test, in percentage points of national cases: the draw is random (seeded), and
# with 40,000 cases one standard error of a 48.6% share is 0.25 points, so 1.5 points is six of them.
TOLERANCE = 1.5


def _cases_by_state(config: SynthConfig) -> tuple[Counter[str], Counter[str]]:
    """Cases (bookings with a detainer) per state, and per jurisdiction path."""
    states: Counter[str] = Counter()
    paths: Counter[str] = Counter()
    for chunk in generate(config):
        with_detainer = set(chunk["detainers"].column("booking_id").to_pylist())
        for booking, path in zip(
            chunk["bookings"].column("booking_id").to_pylist(),
            chunk["bookings"].column("jurisdiction").to_pylist(),
            strict=True,
        ):
            if booking in with_detainer:
                states[path.split("/")[1].upper()] += 1
                paths[path] += 1
    return states, paths


def test_state_shares_of_cases_follow_the_cited_table() -> None:
    config = SynthConfig(scale=40_000, seed=8, start=date(2023, 1, 1), end=date(2023, 12, 31), detainer_share=1.0,
                         national=True)  # fmt: skip
    states, paths = _cases_by_state(config)
    total = sum(states.values())
    assert total >= 40_000 * 0.99
    rows = read_volumes(STATE_SHARES)
    listed = {s for r in rows for s in r.states if s != "*"}
    everyone = set(state_weights().shares)
    assert len(everyone) == 51 and set(states) == everyone  # every state and DC has cases
    for row in rows:
        members = (everyone - listed) if row.states == ("*",) else set(row.states)
        got = 100 * sum(states[s] for s in members) / total
        assert abs(got - row.share) < TOLERANCE, (row.states, got, row.share)
        # inside a group the table gives no split: equal shares [I]
        for state in members:
            assert abs(100 * states[state] / total - row.share / len(members)) < TOLERANCE, state
    # half of a state's cases in counties with their own pack [I], where the state has any
    ca = sum(n for p, n in paths.items() if p.startswith("us/ca/"))
    ca_rest = paths["us/ca/synthetic-county"]
    assert abs((ca - ca_rest) / ca - COUNTY_SHARE) < 0.03
    assert paths["us/wy/synthetic-county"] == states["WY"]  # no county pack in Wyoming: all under the state


def test_national_is_deterministic_and_says_where_its_weights_come_from(tmp_path: Path) -> None:
    config = SynthConfig(scale=2_000, seed=3, national=True, detainer_share=0.5)
    a, b = tmp_path / "a", tmp_path / "b"
    write_population(a, config)
    write_population(b, config)
    assert pq.read_table(a / "bookings.parquet").equals(pq.read_table(b / "bookings.parquet"))
    meta = pq.read_schema(a / "bookings.parquet").metadata
    assert b"state_shares.csv" in meta[b"detainers.volumes"] and b"[I]" in meta[b"detainers.volumes"]
    assert json.loads(meta[b"detainers.config"])["national"] is True
    readme = (a / "README.md").read_text()
    assert "--national" in readme and "FY2021-FY2024Q1" in readme and "SYNTHETIC" in readme
    names = pq.read_table(a / "facilities.parquet").column("name").to_pylist()
    assert all(n.startswith("Synthetic") for n in names)


def test_facility_weights_add_up_to_each_states_share() -> None:
    weights = state_weights()
    facilities = national_facilities(default_packs(), weights)
    per_state: Counter[str] = Counter()
    for f in facilities:
        per_state[f.jurisdiction.split("/")[1].upper()] += f.weight  # type: ignore[assignment]
        assert f.detainer_rate == 1.0
    for code, share in weights.shares.items():
        assert per_state[code] == pytest.approx(share), code
    assert len({f.facility_id for f in facilities}) == len(facilities)


def test_cli_national_and_bad_volume_tables(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "us"
    done = runner.invoke(app, ["synth", "--national", "--scale", "1500", "--seed", "2", "--out", str(out)])
    assert done.exit_code == 0, done.output
    assert "state_shares.csv" in done.output and "[I]" in done.output
    bad = tmp_path / "bad.csv"
    bad.write_text("states,share_percent,period,source\nca,50,FY,x\nzz,50,FY,y\n")
    refused = runner.invoke(app, ["synth", "--national", "--volumes", str(bad), "--out", str(tmp_path / "x")])
    assert refused.exit_code == 2 and "ZZ is not a state or DC" in refused.output and str(bad) in refused.output
    assert "Traceback" not in refused.output
    alone = runner.invoke(app, ["synth", "--volumes", str(bad), "--out", str(tmp_path / "y")])
    assert alone.exit_code == 2 and "--volumes needs --national" in alone.output
    short = tmp_path / "short.csv"
    short.write_text("states,share_percent,period,source\nca,100,FY,x\n")
    with pytest.raises(VolumeTableError, match="no row gives a share"):
        state_weights(short)


def test_the_shipped_state_table_is_the_cited_real_data_file() -> None:
    # the package carries its own copy so an installed `synth --national` works; it must not drift from the source
    real = Path(__file__).parents[1] / "data/real/trac_detainers_by_state_fy2021_2024q1/state_shares.csv"
    assert STATE_SHARES.read_bytes() == real.read_bytes()
