"""A national population: every state and DC, weighted by a published per-state table of detainer volumes.

The shipped table (``tests/data/real/trac_detainers_by_state_fy2021_2024q1/state_shares.csv``; TRAC report 748,
FY2021–FY2024Q1, sources in ``tests/data/real/SOURCES.md``) gives shares for groups of states: California and Texas
together 48.6%, Florida 6%, every other state and DC 45.4%. A group's share is split **equally among its states**
(:data:`WITHIN_GROUP` [I]: the table gives no finer split). Within a state, :data:`COUNTY_SHARE` of the state's
share goes to facilities in counties or agencies with packs (in proportion to their booking weights in
:mod:`detainers.synth._facilities`), the rest to a facility in a county without a pack, decided under the state's
law; a state without county packs puts all its share there. Every facility draws detainers at the same rate, so
cases per state follow the table.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from detainers.law import PackSet, VolumeRow, VolumeTableError, default_zone, jurisdiction_registry, read_volumes
from detainers.synth._facilities import Facility, facilities_for

__all__ = [
    "COUNTY_SHARE",
    "STATE_SHARES",
    "WITHIN_GROUP",
    "NationalWeights",
    "national_facilities",
    "state_weights",
]

# The cited table, shipped with the package (law/data/SOURCE.md; the same file as tests/data/real's copy, which a
# test compares); --volumes gives another table.
STATE_SHARES = Path(__file__).resolve().parents[1] / "law" / "data" / "trac_state_shares.csv"
COUNTY_SHARE = 0.5  # [I] share of a state's cases booked in a county or agency with its own pack, where any
WITHIN_GROUP = "equal"  # [I] how a group's share is split among its states: equally


@dataclass(frozen=True)
class NationalWeights:
    """Percent of national detainers per state code (``CA``), and the table rows they came from."""

    shares: dict[str, float]
    rows: tuple[VolumeRow, ...]
    source: Path

    def describe(self) -> str:
        groups = "; ".join(f"{' '.join(r.states)} {r.share:g}%" for r in self.rows)
        period = ", ".join(sorted({r.period for r in self.rows}))
        return (
            f"per-state detainer shares from {self.source.name} ({period}; {groups}); a group's share split "
            f"equally among its states [I]; {COUNTY_SHARE:.0%} of a state's cases in counties with packs [I]"
        )


def _codes() -> list[str]:
    """Every state and DC (territories have no state pack of this kind)."""
    return sorted(
        p.path.split("/")[1].upper() for p in jurisdiction_registry().states if p.kind in ("state", "district")
    )


def state_weights(path: Path | None = None) -> NationalWeights:
    """Per-state percent of national detainers from the table at ``path`` (default: the shipped TRAC table)."""
    path = path or STATE_SHARES
    if not path.exists():
        raise VolumeTableError(f"{path}: not found (give the per-state share table with --volumes FILE)")
    rows = read_volumes(path)
    codes = _codes()
    listed = {s for r in rows for s in r.states if s != "*"}
    unknown = sorted(listed - set(codes))
    if unknown:
        raise VolumeTableError(f"{path}: states: {' '.join(unknown)} is not a state or DC")
    shares: dict[str, float] = {}
    for row in rows:
        members = [c for c in codes if c not in listed] if row.states == ("*",) else list(row.states)
        for code in members:
            shares[code] = row.share / len(members)
    missing = [c for c in codes if c not in shares]
    if missing:
        raise VolumeTableError(f"{path}: no row gives a share for {' '.join(missing)} (add a '*' row)")
    return NationalWeights(shares, rows, path)


def national_facilities(packs: PackSet, weights: NationalWeights) -> list[Facility]:
    """Facilities in every state and DC, their booking weights summing to each state's share (percent)."""
    known = facilities_for(packs)
    by_state: dict[str, list[Facility]] = {}
    rest: dict[str, Facility] = {}
    for f in known:
        parts = f.jurisdiction.split("/")
        code = parts[1].upper()
        if len(parts) == 3 and parts[2] == "synthetic-county":
            rest[code] = f
        else:
            by_state.setdefault(code, []).append(f)
    out: list[Facility] = []
    for code, share in sorted(weights.shares.items()):
        if share <= 0:
            continue
        counties = by_state.get(code, [])
        county_total = sum(f.weight for f in counties)
        county_part = share * COUNTY_SHARE if counties else 0.0
        for f in counties:
            out.append(replace(f, weight=county_part * f.weight / county_total, detainer_rate=1.0))
        path = f"us/{code.lower()}/synthetic-county"
        base = rest.get(code) or Facility(
            "", f"Synthetic facility in a county of {code} without a county pack", path,
            _zone(path, packs), 1.0, 1.0,
        )  # fmt: skip
        out.append(replace(base, weight=share - county_part, detainer_rate=1.0))
    return [replace(f, facility_id=f"FAC-{i + 1:03d}") for i, f in enumerate(out)]


def _zone(path: str, packs: PackSet) -> str:
    state = "/".join(path.split("/")[:2])
    pack = packs.get(state)
    if pack is not None and pack.timezone:
        return pack.timezone
    return default_zone(path) or default_zone(state) or "America/New_York"
