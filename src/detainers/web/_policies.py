"""The policy browser's data: every pack (jurisdiction), its versions on a timeline, its rules with citations.

Rule anchors are the ones docs/policies.md uses (``rule_anchor``), so a decision's citation links land on the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from markupsafe import Markup

from detainers.law import Pack, PackSet, PackVersion, Rule, default_packs, pack_anchor, rule_anchor
from detainers.web._charts import version_timeline
from detainers.web._format import EVIDENCE

__all__ = ["PackView", "RuleView", "VersionView", "policy_browser"]


@dataclass(frozen=True)
class RuleView:
    id: str
    anchor: str
    title: str
    when: str
    then: str
    otherwise: str
    citation: str
    url: str | None
    evidence: str
    evidence_text: str
    note: str
    notices: tuple[str, ...]
    anchored: bool  # the one place on the page that carries the rule's anchor


@dataclass(frozen=True)
class VersionView:
    version: str
    title: str
    effective_from: date
    effective_to: date | None
    reviewed_by: str
    summary: str
    in_force: bool
    rules: tuple[RuleView, ...]


@dataclass(frozen=True)
class PackView:
    pack: str
    anchor: str
    level: str
    title: str
    timezone: str
    notes: str
    versions: tuple[VersionView, ...]
    timeline: Markup


def _rule(rule: Rule, anchored: bool) -> RuleView:
    return RuleView(
        id=rule.id,
        anchor=rule_anchor(rule.id),
        title=rule.title,
        when=rule.condition.describe(),
        then=rule.sets.describe(),
        otherwise=rule.otherwise.describe() if rule.otherwise else "",
        citation=rule.citation.text(),
        url=rule.citation.url,
        evidence=rule.evidence,
        evidence_text=EVIDENCE.get(rule.evidence, ""),
        note=" ".join((rule.note or "").split()),
        notices=tuple(f"to {n.to} ({n.kind}): {n.text}" for n in rule.notices),
        anchored=anchored,
    )


def _version(v: PackVersion, today: date, homes: dict[str, str]) -> VersionView:
    return VersionView(
        version=v.version,
        title=v.title,
        effective_from=v.effective_from,
        effective_to=v.effective_to,
        reviewed_by=v.reviewed_by,
        summary=" ".join((v.summary or "").split()),
        in_force=v.in_force(today),
        rules=tuple(_rule(r, homes.get(r.id) == v.version) for r in v.rules),
    )


def _pack(pack: Pack, today: date) -> PackView:
    homes: dict[str, str] = {}  # rule id -> the version whose copy carries the anchor: in force, else the latest
    ordered = sorted(pack.versions, key=lambda v: (v.in_force(today), v.effective_from))
    for v in ordered:
        for r in v.rules:
            homes[r.id] = v.version
    versions = tuple(_version(v, today, homes) for v in pack.versions)
    return PackView(
        pack=pack.pack,
        anchor=pack_anchor(pack.pack),
        level=pack.level,
        title=pack.title,
        timezone=pack.timezone or "(from the case)",
        notes=" ".join((pack.notes or "").split()),
        versions=versions,
        timeline=version_timeline(
            [(v.version, v.effective_from, v.effective_to) for v in versions],
            title=f"Versions of {pack.pack} over time",
            today=today,
        ),
    )


@lru_cache(maxsize=4)
def _cached(today: date) -> tuple[str, tuple[PackView, ...]]:
    packs: PackSet = default_packs()
    return packs.digest, tuple(_pack(p, today) for p in packs)


def policy_browser(today: date) -> tuple[str, tuple[PackView, ...]]:
    """(pack digest, packs) as of ``today`` (which versions are in force)."""
    return _cached(today)
