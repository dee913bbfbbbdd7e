"""What the generator draws statutes, levels and tags from.

California statutes come from the offense tables and the CA DOJ CJIS dictionary (with its charge type as the
level); other states from their tables, where any, and a short list of plausible section numbers written the
way jail exports write them. A small share of statutes are unreadable or unknown on purpose, so the engine's
"unknown statute" path is exercised. Tags a pack tests but no table gives (registrant, aggravated felony...)
are collected from the packs and occasionally recorded explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from detainers.law import AgreementIn, ChargeMatch, ConvictionMatch, PackSet, PersonTagsAny
from detainers.law.bulk import walk
from detainers.law.offenses import load_offense_tables, read_doj_rows

__all__ = ["PackTags", "Vocabulary", "pack_tags", "vocabulary"]

# Plausible section numbers for states without a statute dictionary here ([I]; not checked against codes).
_OTHER: dict[str, tuple[tuple[str, str], ...]] = {
    "TX": (("TX PC 22.01", "misdemeanor"), ("TX PC 22.02", "felony"), ("TX PC 31.03", "misdemeanor"),
           ("TX PC 49.04", "misdemeanor"), ("TX HS 481.115", "felony"), ("TX PC 30.02", "felony"),
           ("TX TC 521.457", "misdemeanor"), ("TX PC 38.04", "misdemeanor")),
    "IL": (("720 ILCS 5/12-3", "misdemeanor"), ("720 ILCS 5/12-3.05", "felony"), ("625 ILCS 5/11-501", "misdemeanor"),
           ("720 ILCS 570/402", "felony"), ("720 ILCS 5/16-1", "misdemeanor")),
    "WA": (("RCW 9A.36.021", "felony"), ("RCW 9A.36.041", "misdemeanor"), ("RCW 46.61.502", "misdemeanor"),
           ("RCW 69.50.4013", "felony"), ("RCW 9A.56.050", "misdemeanor")),
    "OR": (("ORS 163.160", "misdemeanor"), ("ORS 163.175", "felony"), ("ORS 813.010", "misdemeanor"),
           ("ORS 164.055", "felony")),
    "CO": (("CRS 18-3-204", "misdemeanor"), ("CRS 18-3-203", "felony"), ("CRS 42-4-1301", "misdemeanor"),
           ("CRS 18-4-401", "felony")),
    "NY": (("NY PL 120.00", "misdemeanor"), ("NY PL 120.05", "felony"), ("NY VTL 1192", "misdemeanor"),
           ("NY PL 220.03", "misdemeanor"), ("NY PL 155.25", "misdemeanor")),
    "MA": (("MA GL 265-13A", "misdemeanor"), ("MA GL 265-15A", "felony"), ("MA GL 90-24", "misdemeanor")),
    "AZ": (("AZ ARS 13-1203", "misdemeanor"), ("AZ ARS 13-1204", "felony"), ("AZ ARS 28-1381", "misdemeanor")),
    "FL": (("FL 784.03", "misdemeanor"), ("FL 784.045", "felony"), ("FL 316.193", "misdemeanor")),
    "GA": (("GA 16-5-23", "misdemeanor"), ("GA 16-5-21", "felony"), ("GA 40-6-391", "misdemeanor")),
    "NV": (("NV NRS 200.481", "misdemeanor"), ("NV NRS 484C.110", "misdemeanor"), ("NV NRS 205.060", "felony")),
}  # fmt: skip
_GENERIC = (("8 USC 1326", "felony"), ("8 USC 1325", "misdemeanor"))
_UNREADABLE = (("XX 999.9", "misdemeanor"), ("FTA WARRANT", "misdemeanor"), ("LOCAL ORD 12", "infraction"))


@dataclass(frozen=True)
class Vocabulary:
    """Statutes (with the level they are usually charged at) per state code (``CA``), plus unknown ones."""

    by_state: dict[str, tuple[tuple[str, str], ...]]
    unknown: tuple[tuple[str, str], ...]

    def for_state(self, state: str) -> tuple[tuple[str, str], ...]:
        return self.by_state.get(state) or _GENERIC


@cache
def vocabulary() -> Vocabulary:
    by_state: dict[str, list[tuple[str, str]]] = {}
    for table in load_offense_tables():
        for entry in table.entries:
            level = entry.level.value if entry.level else ("felony" if table.id != "ca_prop47" else "misdemeanor")
            by_state.setdefault(table.state, []).append((entry.statute, level))
    levels = {"F": "felony", "M": "misdemeanor", "I": "infraction"}
    doj = sorted(
        {(f"{r.ref.code} {r.statute}", levels[r.charge_type]) for r in read_doj_rows() if r.charge_type in levels}
    )
    by_state.setdefault("CA", []).extend(doj)
    for state, items in _OTHER.items():
        by_state.setdefault(state, []).extend(items)
    return Vocabulary({k: tuple(v) for k, v in by_state.items()}, _UNREADABLE)


@dataclass(frozen=True)
class PackTags:
    """Facts the packs test that no statute table supplies: explicit row tags, person tags, agreements."""

    row_tags: tuple[str, ...]
    person_tags: tuple[str, ...]
    agreements: tuple[str, ...]


def pack_tags(packs: PackSet) -> PackTags:
    row: set[str] = set()
    person: set[str] = set()
    agreements: set[str] = set()
    for pack in packs:
        for version in pack.versions:
            for rule in version.rules:
                for node in walk(rule.condition):
                    if isinstance(node, ConvictionMatch | ChargeMatch):
                        row |= node.tags_any | node.tags_all | node.tags_none
                    elif isinstance(node, PersonTagsAny):
                        person |= node.tags
                    elif isinstance(node, AgreementIn):
                        agreements |= {a.value for a in node.agreements}
    return PackTags(tuple(sorted(row)), tuple(sorted(person)), tuple(sorted(agreements)))
