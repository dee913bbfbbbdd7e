"""Synthetic jails: facilities in the packs' jurisdictions and in places without packs, each with its IANA zone.

The fixed list gives plausible volume weights ([I]: LA County and Texas carry a large share of detainers, CA+TX
= 48.6% FY2021-24 per TRAC 748). Any pack path the fixed list does not reach gets a generic facility, so a new
pack is exercised by every generated population without editing this file.
"""

from __future__ import annotations

from dataclasses import dataclass

from detainers.law import PackSet, default_zone, layers_of

__all__ = ["Facility", "facilities_for"]


@dataclass(frozen=True)
class Facility:
    facility_id: str
    name: str
    jurisdiction: str
    timezone: str
    weight: float  # share of bookings (normalized later)
    detainer_rate: float  # multiplier on the national detainer share [I]
    agreements: tuple[str, ...] = ()  # 287(g) agreements some bookings carry


# (name, jurisdiction, weight, detainer multiplier, agreements)
_FIXED: tuple[tuple[str, str, float, float, tuple[str, ...]], ...] = (
    ("Synthetic LASD Men's Central Jail", "us/ca/los-angeles/lasd", 9.0, 2.5, ()),
    ("Synthetic LASD Century Regional", "us/ca/los-angeles/lasd", 3.0, 2.5, ()),
    ("Synthetic Orange County Jail", "us/ca/orange", 4.0, 2.0, ()),
    ("Synthetic Travis County Jail", "us/tx/travis", 4.0, 2.5, ()),
    ("Synthetic Harris County Jail", "us/tx/harris", 8.0, 2.5, ("287g_jem",)),
    ("Synthetic Cook County Jail", "us/il/cook", 6.0, 1.0, ()),
    ("Synthetic Multnomah County Jail", "us/or/multnomah", 2.0, 1.0, ()),
    ("Synthetic Pierce County Jail", "us/wa/pierce", 2.0, 0.6, ()),
    ("Synthetic Denver County Jail", "us/co/denver", 2.0, 1.2, ()),
    ("Synthetic NYC DOC Rikers", "us/ny/new-york-city/doc", 7.0, 1.0, ()),
    ("Synthetic Suffolk County Jail", "us/ma/suffolk", 2.0, 0.8, ()),
    ("Synthetic Maricopa County Jail", "us/az/maricopa", 6.0, 2.0, ("287g_jem",)),
    ("Synthetic Miami-Dade Jail", "us/fl/miami-dade", 5.0, 1.5, ("287g_wso",)),
    ("Synthetic Gwinnett County Jail", "us/ga/gwinnett", 3.0, 1.5, ("287g_jem",)),
    ("Synthetic Clark County Detention Center", "us/nv/clark", 3.0, 1.2, ()),
)


def _zone(path: str, packs: PackSet) -> str:
    for layer in reversed(layers_of(path)):
        pack = packs.get(layer.path)
        if pack is not None and pack.timezone:
            return pack.timezone
    return default_zone(path) or "America/New_York"


def facilities_for(packs: PackSet) -> list[Facility]:
    """The fixed facilities plus one generic facility for every pack path no fixed facility falls under."""
    rows = list(_FIXED)
    covered = {layer.path for _, path, *_ in rows for layer in layers_of(path)}
    for pack in packs:
        if pack.pack not in covered and len(pack.pack.split("/")) >= 2:
            name = f"Synthetic facility under {pack.pack}"
            path = pack.pack
            if len(path.split("/")) == 2:  # a state pack: put the facility in a county without a pack
                path = f"{path}/synthetic-county"
            rows.append((name, path, 2.0, 1.0, ()))
            covered |= {layer.path for layer in layers_of(path)}
    return [
        Facility(f"FAC-{i + 1:03d}", name, path, _zone(path, packs), weight, rate, agreements)
        for i, (name, path, weight, rate, agreements) in enumerate(rows)
    ]
