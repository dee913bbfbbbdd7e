"""Replay: totals equal what decide() says case by case; outputs in every format; bad input refused."""

from __future__ import annotations

import json
from datetime import UTC, date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from detainers.cli import app
from detainers.law import Transfer, decide, default_packs
from detainers.law.bulk import cases_from_rows
from detainers.replay import Policy, PolicyError, compare, open_data, parse_policy, to_csv, to_json_dict
from detainers.synth import SynthConfig, write_population

LASD = "us/ca/los-angeles/lasd@2021-01-01"
TRAVIS = "us/tx/travis@2021-01-01"


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("syn")
    write_population(
        out, SynthConfig(scale=1_200, seed=9, start=date(2021, 1, 1), end=date(2021, 12, 31), detainer_share=0.4)
    )
    return out


def test_parse_policy() -> None:
    packs = default_packs()
    assert parse_policy(LASD, packs) == Policy("us/ca/los-angeles/lasd", date(2021, 1, 1))
    assert parse_policy("us/tx", packs) == Policy("us/tx", None)
    assert parse_policy("recorded", packs) == Policy(None, None)
    with pytest.raises(PolicyError, match="no US state, DC or territory 'zz'"):
        parse_policy("us/zz/nowhere", packs)
    with pytest.raises(PolicyError, match="no pack"):  # a real county, but nothing encoded for it
        parse_policy("us/nv/washoe", packs)
    with pytest.raises(PolicyError, match="did you mean us/ca/los-angeles/lasd"):
        parse_policy("us/ca/los-angles/lasd@2021-01-01", packs)
    with pytest.raises(PolicyError, match="date"):
        parse_policy("us/tx@yesterday", packs)


def test_totals_equal_per_case_decisions(data: Path) -> None:
    packs = default_packs()
    a, b = parse_policy(LASD, packs), parse_policy(TRAVIS, packs)
    result = compare(open_data(data), a, b, packs=packs)
    tables = {
        n: pq.read_table(data / f"{n}.parquet").to_pylist() for n in ("bookings", "detainers", "convictions", "charges")
    }
    with_detainer = {r["booking_id"] for r in tables["detainers"]}
    cases = cases_from_rows(
        [r for r in tables["bookings"] if r["booking_id"] in with_detainer],
        tables["detainers"],
        tables["convictions"],
        tables["charges"],
    )
    assert result.cases == len(cases) > 100
    for side, policy in (("a", a), ("b", b)):
        decisions = [decide(c, jurisdiction=policy.jurisdiction, versions_on=policy.versions_on) for c in cases]
        held = [
            d
            for d in decisions
            if d.hold_until is not None and d.decided_at is not None and d.hold_until > d.decided_at
        ]
        assert result.totals[f"notify_{side}"] == sum(d.notify for d in decisions)
        assert result.totals[f"transfer_{side}"] == sum(d.transfer is not Transfer.NOT_ALLOWED for d in decisions)
        assert result.totals[f"hold_required_{side}"] == sum(d.hold_required for d in decisions)
        hours = 0.0
        for c, d in zip(cases, decisions, strict=True):
            eligible = c.booking.eligible_for_release_at
            if d.hold_until is not None and eligible is not None:
                hours += (d.hold_until.astimezone(UTC) - eligible).total_seconds() / 3600
        assert result.totals[f"hours_{side}"] == pytest.approx(hours, abs=0.05)
        assert result.totals[f"hold_{side}"] == len(held)
    assert result.totals["notify_diff"] == result.totals["notify_b"] - result.totals["notify_a"]
    assert sum(r["cases"] for r in result.rows) == result.cases


def test_cli_terminal_json_csv_parquet_and_sample(data: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(app, ["replay", "--policy", LASD, "--vs", TRAVIS, str(data), "--sample", "2"])
    assert shown.exit_code == 0, shown.output
    assert "per facility and year" in shown.output and "notify" in shown.output
    assert shown.output.count("fact: decision instant") == 4  # two cases, each explained under A and under B
    out = runner.invoke(app, ["replay", "--policy", LASD, "--vs", TRAVIS, str(data), "--json"])
    doc = json.loads(out.stdout)
    assert doc["policy_a"]["label"] == LASD and doc["policy_b"]["versions_on"] == "2021-01-01"
    assert doc["totals"]["notify_b"] >= doc["totals"]["notify_a"]  # Texas requires what SB 54 restricts
    assert {"facility", "year", "cases", "hold_a", "hours_b"} <= set(doc["rows"][0])
    csv_out = runner.invoke(app, ["replay", "--policy", LASD, str(data), "--csv"])
    header = csv_out.stdout.splitlines()[0].split(",")
    assert header[:4] == ["policy_a", "policy_b", "facility", "year"]
    target = tmp_path / "cmp.parquet"
    runner.invoke(app, ["replay", "--policy", LASD, "--vs", TRAVIS, str(data), "--parquet", str(target), "--json"])
    assert pq.read_table(target).num_rows == len(doc["rows"])


def test_cli_refuses_unknown_pack_and_missing_data(data: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    bad = runner.invoke(app, ["replay", "--policy", "us/nv/washoe", str(data)])
    assert bad.exit_code == 2 and "no pack" in bad.output
    typo = runner.invoke(app, ["replay", "--policy", LASD, "--vs", "us/ca/los-angles/lasd", str(data)])
    assert typo.exit_code == 2 and "did you mean us/ca/los-angeles/lasd" in typo.output
    empty = runner.invoke(app, ["replay", "--policy", LASD, str(tmp_path)])
    assert empty.exit_code == 2 and "missing" in empty.output


def test_json_and_csv_helpers_agree(data: Path) -> None:
    packs = default_packs()
    result = compare(open_data(data), parse_policy("us/ca", packs), parse_policy("recorded", packs), packs=packs)
    assert len(to_csv(result).splitlines()) == len(result.rows) + 1
    assert to_json_dict(result)["cases"] == result.cases


def test_coverage_counts_match_per_case_decisions(data: Path) -> None:
    """Replay counts the cases decided without every layer of their jurisdiction encoded, as decide() does."""
    packs = default_packs()
    recorded, lasd = parse_policy("recorded", packs), parse_policy(LASD, packs)
    result = compare(open_data(data), recorded, lasd, packs=packs)
    tables = {
        n: pq.read_table(data / f"{n}.parquet").to_pylist() for n in ("bookings", "detainers", "convictions", "charges")
    }
    with_detainer = {r["booking_id"] for r in tables["detainers"]}
    cases = cases_from_rows(
        [r for r in tables["bookings"] if r["booking_id"] in with_detainer],
        tables["detainers"],
        tables["convictions"],
        tables["charges"],
    )
    decisions = [decide(c, packs=packs) for c in cases]
    incomplete = [d for d in decisions if d.coverage is not None and not d.coverage.complete]
    assert result.coverage["a"]["incomplete"] == len(incomplete) > 0
    fell: dict[str, int] = {}
    for d in incomplete:
        assert d.coverage is not None
        for layer in d.coverage.fell_back:
            fell[layer] = fell.get(layer, 0) + 1
    assert result.coverage["a"]["fell_back"] == dict(sorted(fell.items()))
    assert result.coverage["b"] == {"incomplete": 0, "fell_back": {}}  # every LASD layer is encoded in 2021
    assert to_json_dict(result)["coverage"] == result.coverage
