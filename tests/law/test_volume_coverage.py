"""Coverage, measured (issue 14 item 6): the generated section of docs/jurisdictions.md is current, the bounds are
computed from the published shares, and a bad table is refused with its row and column named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from detainers.law import default_packs, law_map
from detainers.law._volume_coverage import (
    BEGIN,
    END,
    VolumeTableError,
    measure,
    read_volumes,
    render_coverage,
    replace_section,
)

ROOT = Path(__file__).parents[2]
VOLUMES = "tests/data/real/trac_detainers_by_state_fy2021_2024q1/state_shares.csv"


def test_docs_jurisdictions_carries_the_current_coverage_section() -> None:
    rows = read_volumes(ROOT / VOLUMES)
    section = render_coverage(rows, default_packs(), VOLUMES)
    document = (ROOT / "docs" / "jurisdictions.md").read_text(encoding="utf-8")
    assert replace_section(document, section) == document, "stale: run `detainers docs coverage --write`"


def test_the_published_shares_add_up_and_weight_the_states_with_packs() -> None:
    rows = read_volumes(ROOT / VOLUMES)
    assert sum(r.share for r in rows) == pytest.approx(100)
    day = date(2023, 12, 31)
    packs = default_packs()
    result = law_map(day, packs=packs)
    m = measure(rows, packs, day, result)
    with_pack = {s.code for s in result.states if s.version}
    assert set(m.states_with_pack) == with_pack
    # each group counts in full when all its states have packs, at most when any has
    low = sum(r.share for r in rows if r.states != ("*",) and set(r.states) <= with_pack)
    high = sum(r.share for r in rows if r.states != ("*",) and set(r.states) & with_pack)
    listed = {s for r in rows for s in r.states}
    rest = {s.code for s in result.states} - listed
    star = next(r.share for r in rows if r.states == ("*",))
    low += star if rest <= with_pack else 0
    high += star if rest & with_pack else 0
    assert (m.state_share.low, m.state_share.high) == (pytest.approx(low), pytest.approx(high))
    assert m.state_and_county_share.low == 0 and m.state_and_county_share.high <= m.state_share.high
    assert m.state_verified_share.high <= m.state_share.high


def test_a_section_is_added_once_and_replaced_in_place() -> None:
    doc = "# Title\n\nIntro.\n\n## Later\n\ntext\n"
    section = f"{BEGIN}\n## Coverage\n{END}\n"
    once = replace_section(doc, section)
    assert once.index(BEGIN) < once.index("## Later") and once.count(BEGIN) == 1
    again = replace_section(once, f"{BEGIN}\n## Coverage, new\n{END}\n")
    assert again.count(BEGIN) == 1 and "Coverage, new" in again and "## Later" in again


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("states,share\nca,100\n", "expected the columns"),
        ("states,share_percent,period,source\nca,lots,x,y\n", "row 2: share_percent: 'lots' is not a number"),
        ("states,share_percent,period,source\nca,60,x,y\nca tx,40,x,y\n", "row 3: states: CA twice"),
        ("states,share_percent,period,source\nca,60,x,y\n", "adds up to 60"),
    ],
)
def test_a_bad_table_is_refused_in_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "shares.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VolumeTableError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_volumes(path)
