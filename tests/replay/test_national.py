"""National replay: every case under its own law (`--policy actual`), results by state, chunked or not."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from detainers.cli import app
from detainers.law import Transfer, decide, default_packs
from detainers.law.bulk import cases_from_rows
from detainers.replay import Policy, compare, open_data, parse_policy, plan_chunks, to_json_dict
from detainers.synth import SynthConfig, write_population


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("national")
    config = SynthConfig(
        scale=3_000, seed=14, start=date(2023, 1, 1), end=date(2024, 12, 31), detainer_share=0.6, national=True
    )
    write_population(out, config)
    return out


def _cases(folder: Path) -> list[object]:
    tables = {
        n: pq.read_table(folder / f"{n}.parquet").to_pylist()
        for n in ("bookings", "detainers", "convictions", "charges")
    }
    with_detainer = {r["booking_id"] for r in tables["detainers"]}
    return list(
        cases_from_rows(
            [r for r in tables["bookings"] if r["booking_id"] in with_detainer],
            tables["detainers"],
            tables["convictions"],
            tables["charges"],
        )
    )


def test_actual_is_recorded() -> None:
    packs = default_packs()
    actual = parse_policy("actual", packs)
    assert actual.jurisdiction is None and actual.versions_on is None and actual.label == "actual"
    assert parse_policy("actual@2021-01-01", packs) == Policy(None, date(2021, 1, 1), "actual")
    assert parse_policy("recorded", packs).label == "recorded"


def test_per_state_rows_equal_the_engines_decisions(national: Path) -> None:
    """Per-state counts under each case's own law (A) and under Texas (B) equal decide() for a sample of states."""
    packs = default_packs()
    a, b = parse_policy("actual", packs), parse_policy("us/tx", packs)
    result = compare(open_data(national), a, b, packs=packs, by="state", chunk=400)
    assert result.chunks > 3
    rows: dict[str, dict[str, float]] = {}
    for row in result.rows:
        into = rows.setdefault(row["state"], Counter())
        for key, value in row.items():
            if key not in ("state", "year"):
                into[key] += value
    assert len(rows) == 51  # every state and DC has cases
    sample = {"CA", "FL", "NY", "IL", "WA", "GA", "AZ", "OR", "NJ", "MT"}
    by_state: dict[str, list[object]] = {}
    for case in _cases(national):
        state = case.booking.jurisdiction.split("/")[1].upper()  # type: ignore[attr-defined]
        if state in sample:
            by_state.setdefault(state, []).append(case)
    for state in sorted(sample):
        cases = by_state[state]
        assert rows[state]["cases"] == len(cases) > 0, state
        for side, policy in (("a", a), ("b", b)):
            decisions = [decide(c, packs=packs, jurisdiction=policy.jurisdiction) for c in cases]  # type: ignore[arg-type]
            assert rows[state][f"notify_{side}"] == sum(d.notify for d in decisions), (state, side)
            assert rows[state][f"transfer_{side}"] == sum(d.transfer is not Transfer.NOT_ALLOWED for d in decisions), (
                state,
                side,
            )
            assert rows[state][f"hold_required_{side}"] == sum(d.hold_required for d in decisions), (state, side)
            held = 0
            hours = 0.0
            for c, d in zip(cases, decisions, strict=True):
                eligible = c.booking.eligible_for_release_at  # type: ignore[attr-defined]
                if d.hold_until is not None and eligible is not None:
                    hours += (d.hold_until.astimezone(UTC) - eligible).total_seconds() / 3600
                    held += d.hold_until.astimezone(UTC) > eligible
            assert rows[state][f"hold_{side}"] == held, (state, side)
            assert rows[state][f"hours_{side}"] == pytest.approx(hours, abs=0.01), (state, side)


@pytest.mark.parametrize("chunk", [250, 900])
def test_chunked_and_unchunked_replay_are_identical(national: Path, chunk: int) -> None:
    packs = default_packs()
    a, b = parse_policy("actual", packs), parse_policy("us/ca/los-angeles/lasd@2021-01-01", packs)
    whole = compare(open_data(national), a, b, packs=packs, by="state", sample=3)
    parts = compare(open_data(national), a, b, packs=packs, by="state", sample=3, chunk=chunk)
    assert whole.chunks == 1 and parts.chunks > 1
    one, many = to_json_dict(whole), to_json_dict(parts)
    assert one.pop("chunks") == 1 and many.pop("chunks") == parts.chunks
    assert one == many  # every count, the unrounded hours, certainty, coverage and the sample
    facilities = compare(open_data(national), a, b, packs=packs, chunk=chunk)
    assert facilities.totals == whole.totals and len(facilities.rows) > len(whole.rows)


def test_chunks_keep_states_whole_and_split_big_ones(national: Path) -> None:
    con = open_data(national)
    chunks = plan_chunks(con, 300)
    ((cases,),) = con.execute("SELECT count(DISTINCT booking_id) FROM detainers").fetchall()
    assert sum(c.cases for c in chunks) == pytest.approx(cases, abs=len(chunks))
    split = [c for c in chunks if c.parts > 1]
    assert {c.jurisdictions[0].split("/")[1] for c in split} >= {"ca", "tx"}  # ~24% of cases each
    whole_states = [c for c in chunks if c.parts == 1]
    seen = [j.split("/")[1] for c in whole_states for j in c.jurisdictions]
    assert len(seen) == len(set(seen)) or all(len(c.jurisdictions) >= 1 for c in whole_states)
    states_per_chunk = [{j.split("/")[1] for j in c.jurisdictions} for c in whole_states]
    for i, left in enumerate(states_per_chunk):
        for right in states_per_chunk[i + 1 :]:
            assert not left & right  # a state is never divided between two whole-state chunks
    with pytest.raises(ValueError, match="at least 1"):
        plan_chunks(con, 0)


def test_cli_actual_by_state_json_and_csv(national: Path) -> None:
    runner = CliRunner()
    args = ["replay", "--policy", "actual", "--vs", "us/tx", "--by", "state", str(national), "--json"]
    out = runner.invoke(app, args)
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["policy_a"]["label"] == "actual" and doc["by"] == "state"
    assert {r["state"] for r in doc["rows"]} >= {"CA", "TX", "FL", "DC"}
    assert isinstance(doc["totals"]["hours_a"], float)  # unrounded
    recorded = runner.invoke(app, ["replay", "--vs", "us/tx", "--by", "state", str(national), "--json", "--chunk", "0"])
    again = json.loads(recorded.stdout)
    assert again["rows"] == doc["rows"] and again["totals"] == doc["totals"]
    csv_out = runner.invoke(app, ["replay", "--policy", "actual", "--by", "state", str(national), "--csv"])
    assert csv_out.stdout.splitlines()[0].split(",")[:4] == ["policy_a", "policy_b", "state", "year"]
    shown = runner.invoke(app, ["replay", "--policy", "actual", "--vs", "us/fl", "--by", "state", str(national)])
    assert shown.exit_code == 0 and "per state and year" in shown.output
    bad = runner.invoke(app, ["replay", "--policy", "actual", "--by", "county", str(national)])
    assert bad.exit_code == 2 and "--by 'county'" in bad.output


def test_sampled_cases_are_explained_with_their_own_law(national: Path) -> None:
    packs = default_packs()
    result = compare(
        open_data(national), parse_policy("actual", packs), parse_policy("us/tx", packs), packs=packs, sample=2
    )
    assert len(result.sample) == 2
    for s in result.sample:
        assert s.explanation_a and s.explanation_b and s.differences


def test_by_state_uses_the_cases_own_state_when_both_policies_are_packs(national: Path) -> None:
    packs = default_packs()
    a, b = parse_policy("us/ca@2021-01-01", packs), parse_policy("us/tx", packs)
    result = compare(open_data(national), a, b, packs=packs, by="state")
    con = open_data(national)
    expected = dict(
        con.execute(
            """SELECT upper(split_part(jurisdiction, '/', 2)), count(*) FROM bookings
               WHERE booking_id IN (SELECT booking_id FROM detainers) GROUP BY 1"""
        ).fetchall()
    )
    got: Counter[str] = Counter()
    for row in result.rows:
        got[row["state"]] += row["cases"]
    assert dict(got) == expected and len(expected) == 51  # not all "CA" nor all "TX"
