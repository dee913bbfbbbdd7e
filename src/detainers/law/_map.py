"""The law map: what a county jail with no county pack may or must do on a date, state by state.

For every state and DC (from the jurisdiction registry, never a fixed list) the real engine decides a small set
of representative cases at the state's own id (federal and state layers only: a county jail whose county has no
pack): a hold request on the I-247A with an administrative warrant (I-200) and no record — the typical case — and
the same request with a serious felony record, and each again with a judicial warrant. Per dimension (hold,
notice, transfer) the answer is forbid, allow or require when all cases agree, else ``depends`` with what it
depends on (the record, the warrant). Each state also carries the pack version in force with the citations and
evidence tags of the rules that decided, whether those rest only on [V]/[V3] rules, the versions over time, and,
given a 287(g) registry, the agreements in force in the state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from detainers.domain import (
    Booking,
    Case,
    Conviction,
    Detainer,
    DetainerForm,
    EligibilityReason,
    Level,
    Person,
    Request,
    WarrantKind,
)
from detainers.law._agreements import AgreementRegistry
from detainers.law._decision import Decision, Transfer
from detainers.law._engine import DecisionError, decide, default_packs
from detainers.law._jurisdictions import default_zone
from detainers.law._packs import Pack, PackSet
from detainers.law._policies_doc import pack_anchor
from detainers.law._predicates import ConvictionMatch, nodes
from detainers.law._registry import jurisdiction_registry

__all__ = [
    "DIMENSIONS",
    "MAP_CASES",
    "CaseKey",
    "DimensionAnswer",
    "LawMap",
    "RuleUsed",
    "StateLaw",
    "VersionSpan",
    "law_map",
    "typical_form",
]

DIMENSIONS = ("hold", "notify", "transfer")
DEPENDS = "depends"
_VERIFIED = frozenset({"V", "V3"})
_MAY2025 = date(2025, 5, 1)


@dataclass(frozen=True)
class CaseKey:
    """One representative case: the person's record and the warrant that comes with the hold request."""

    record: str  # none | serious_felony
    warrant: str  # administrative | judicial

    @property
    def key(self) -> str:
        return f"{self.record}/{self.warrant}"

    @property
    def typical(self) -> bool:
        return self.record == "none" and self.warrant == "administrative"


#: The representative cases, the typical one first.
MAP_CASES = (
    CaseKey("none", "administrative"),
    CaseKey("serious_felony", "administrative"),
    CaseKey("none", "judicial"),
    CaseKey("serious_felony", "judicial"),
)
_WARRANTS = {"administrative": WarrantKind.I200, "judicial": WarrantKind.JUDICIAL_WARRANT}
_WHAT = {"record": "the person's record", "warrant": "the warrant (administrative or judicial)"}


@dataclass(frozen=True)
class DimensionAnswer:
    """What the layer says on one dimension: ``answer`` is forbid, allow, require or depends."""

    answer: str
    typical: str  # the answer in the typical case (no record, administrative warrant)
    depends_on: tuple[str, ...]  # record | warrant, when the answer depends
    by_case: Mapping[str, str]  # case key -> forbid | allow | require

    def as_dict(self) -> dict[str, Any]:
        return {
            "answer": self.answer,
            "typical": self.typical,
            "depends_on": list(self.depends_on),
            "by_case": dict(self.by_case),
        }


@dataclass(frozen=True)
class RuleUsed:
    id: str
    pack_version: str
    citation: str
    evidence: str
    url: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.pack_version,
            "citation": self.citation,
            "evidence": self.evidence,
            "url": self.url,
        }


@dataclass(frozen=True)
class VersionSpan:
    version: str
    title: str
    effective_from: date
    effective_to: date | None
    in_force: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "title": self.title,
            "effective_from": self.effective_from.isoformat(),
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "in_force": self.in_force,
        }


@dataclass(frozen=True)
class StateLaw:
    """One state's row of the map."""

    state: str  # registry id, us/ia
    code: str  # postal code, IA
    name: str
    pack: str | None  # None: no state pack (federal law only)
    version: str | None  # None: no version in force on the date
    version_title: str | None
    effective_from: date | None
    effective_to: date | None
    anchor: str | None  # docs/policies.md anchor of the pack
    dimensions: Mapping[str, DimensionAnswer]
    rules: tuple[RuleUsed, ...]  # every rule that decided something in any representative case
    state_rules: tuple[RuleUsed, ...]  # those of the state layer
    evidence: tuple[str, ...]  # evidence tags of ``rules``, sorted
    verified_only: bool  # every rule in ``rules`` (federal and state) is [V] or [V3]
    state_verified_only: bool | None  # every rule in ``state_rules`` is [V] or [V3]; None: no state rule decided
    warnings: tuple[str, ...]  # the typical case's warnings
    agreements: int | None  # 287(g) agreements in force in the state on the date (None: no registry)
    agreements_mapped: int | None  # those mapped to a jurisdiction (a county jail or an agency)
    timeline: tuple[VersionSpan, ...]
    error: str | None = None  # the engine could not decide (named, never guessed)

    @property
    def citation(self) -> str:
        """The citations of the state layer's deciding rules, or what stands in for them."""
        if self.pack is None:
            return "no state pack: federal law only"
        if self.version is None:
            return "no state version in force on this date: federal law only"
        return "; ".join(dict.fromkeys(r.citation for r in self.state_rules)) or "no state rule decided"

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "code": self.code,
            "name": self.name,
            "pack": self.pack,
            "version": self.version,
            "version_title": self.version_title,
            "effective_from": self.effective_from.isoformat() if self.effective_from else None,
            "effective_to": self.effective_to.isoformat() if self.effective_to else None,
            "policies_anchor": self.anchor,
            "citation": self.citation,
            **{dim: self.dimensions[dim].as_dict() for dim in DIMENSIONS},
            "rules": [r.as_dict() for r in self.rules],
            "evidence": list(self.evidence),
            "verified_only": self.verified_only,
            "state_verified_only": self.state_verified_only,
            "warnings": list(self.warnings),
            "agreements_287g": self.agreements,
            "agreements_287g_mapped": self.agreements_mapped,
            "timeline": [v.as_dict() for v in self.timeline],
            "error": self.error,
        }


@dataclass(frozen=True)
class LawMap:
    day: date
    digest: str
    form: str
    states: tuple[StateLaw, ...]
    registry: bool = False
    cases: tuple[CaseKey, ...] = MAP_CASES
    notes: tuple[str, ...] = field(default_factory=tuple)

    def by_code(self) -> dict[str, StateLaw]:
        return {s.code: s for s in self.states}

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.day.isoformat(),
            "packs_digest": self.digest,
            "facts": {
                "jurisdiction": "the state's own id (a county jail whose county has no pack)",
                "form": self.form,
                "requests": ["notify", "hold"],
                "cases": [
                    {"key": c.key, "record": c.record, "warrant": _WARRANTS[c.warrant].value, "typical": c.typical}
                    for c in self.cases
                ],
            },
            "agreements_registry": self.registry,
            "notes": list(self.notes),
            "states": [s.as_dict() for s in self.states],
        }


def typical_form(day: date) -> DetainerForm:
    """The I-247A printing used for every date, so that dates compare (the May 2025 printing from 2025-05-01)."""
    return DetainerForm.I247A_2025 if day >= _MAY2025 else DetainerForm.I247A_2017


def _conviction_tags(pack: Pack | None, day: date) -> tuple[str, ...]:
    """Every conviction tag the state's version in force tests: a "serious felony record" carries them all."""
    version = pack.version_on(day) if pack is not None else None
    if version is None:
        return ()
    tags: set[str] = set()
    for rule in version.rules:
        for node in nodes(rule.condition):
            if isinstance(node, ConvictionMatch):
                tags |= node.tags_any | node.tags_all
    return tuple(sorted(tags))


def _case(state: str, zone: str, day: date, key: CaseKey, tags: tuple[str, ...]) -> Case:
    tz = ZoneInfo(zone)
    noon = datetime.combine(day, time(12, 0), tzinfo=tz)
    convictions: tuple[Conviction, ...] = ()
    if key.record == "serious_felony":
        convictions = (
            Conviction(
                statute="representative serious felony",
                level=Level.FELONY,
                date=day - timedelta(days=3 * 365),
                punishable_by_state_prison=True,
                sentence_end=day - timedelta(days=2 * 365),
                tags=("serious_felony", *tags),
            ),
        )
    return Case(
        name=f"law map {state} {day} {key.key}",
        person=Person(convictions=convictions),
        booking=Booking(
            facility="county jail (no county pack)",
            jurisdiction=state,
            timezone=zone,
            booked_at=noon - timedelta(days=3),
            eligible_for_release_at=noon,
            eligibility_reason=EligibilityReason.BOND_POSTED,
        ),
        detainers=(
            Detainer(
                form=typical_form(day),
                received_at=noon - timedelta(days=1),
                issued_on=day - timedelta(days=1),
                requests=frozenset({Request.NOTIFY, Request.HOLD}),
                warrant=_WARRANTS[key.warrant],
            ),
        ),
        as_of=noon,
    )


def _permissions(decision: Decision) -> dict[str, str]:
    hold = "require" if decision.hold_required else ("allow" if decision.hold_allowed else "forbid")
    notify = "require" if decision.notify_required else ("allow" if decision.notify else "forbid")
    transfer = {Transfer.NOT_ALLOWED: "forbid", Transfer.ALLOWED: "allow", Transfer.REQUIRED: "require"}
    return {"hold": hold, "notify": notify, "transfer": transfer[decision.transfer]}


def _dimension(results: Mapping[CaseKey, Mapping[str, str]], dim: str) -> DimensionAnswer:
    by_case = {key.key: said[dim] for key, said in results.items()}
    typical = by_case[MAP_CASES[0].key]
    if len(set(by_case.values())) == 1:
        return DimensionAnswer(typical, typical, (), by_case)
    depends: list[str] = []
    for factor in ("record", "warrant"):
        groups: dict[str, set[str]] = {}
        for key, said in results.items():
            other = key.warrant if factor == "record" else key.record
            groups.setdefault(other, set()).add(said[dim])
        if any(len(values) > 1 for values in groups.values()):
            depends.append(factor)
    return DimensionAnswer(DEPENDS, typical, tuple(depends), by_case)


def _agreement_counts(registry: AgreementRegistry | None, code: str, day: date) -> tuple[int | None, int | None]:
    if registry is None:
        return None, None
    found = [r for r in registry if r.state == code and r.in_force(day)]
    return len(found), sum(1 for r in found if r.jurisdiction is not None)


def _state(
    place_path: str,
    name: str,
    day: date,
    packs: PackSet,
    registry: AgreementRegistry | None,
    readings: Mapping[str, str] | None,
) -> StateLaw:
    code = place_path.rsplit("/", 1)[1]
    pack = packs.get(place_path)
    version = pack.version_on(day) if pack is not None else None
    zone = (pack.timezone if pack is not None else None) or default_zone(place_path) or "UTC"
    tags = _conviction_tags(pack, day)
    results: dict[CaseKey, dict[str, str]] = {}
    rules: dict[tuple[str, str], RuleUsed] = {}
    warnings: tuple[str, ...] = ()
    error: str | None = None
    for key in MAP_CASES:
        try:
            decision = decide(_case(place_path, zone, day, key, tags), packs=packs, readings=readings)
        except DecisionError as exc:
            error = f"{key.key}: {exc}"
            break
        results[key] = _permissions(decision)
        for r in decision.rules:
            rules.setdefault((r.id, r.version), RuleUsed(r.id, r.version, r.citation, r.evidence, r.url))
        if key.typical:
            warnings = decision.warnings
    if error is not None:
        unknown = DimensionAnswer("unknown", "unknown", (), {})
        dims = dict.fromkeys(DIMENSIONS, unknown)
    else:
        dims = {dim: _dimension(results, dim) for dim in DIMENSIONS}
    used = tuple(rules.values())
    prefix = f"{place_path}@"
    state_rules = tuple(r for r in used if r.pack_version.startswith(prefix))
    evidence = tuple(sorted({r.evidence for r in used}))
    count, mapped = _agreement_counts(registry, code, day)
    timeline = tuple(
        VersionSpan(v.version, v.title, v.effective_from, v.effective_to, v.in_force(day))
        for v in (pack.versions if pack is not None else ())
    )
    return StateLaw(
        state=place_path,
        code=code.upper(),
        name=name,
        pack=pack.pack if pack is not None else None,
        version=version.version if version is not None else None,
        version_title=version.title if version is not None else None,
        effective_from=version.effective_from if version is not None else None,
        effective_to=version.effective_to if version is not None else None,
        anchor=pack_anchor(pack.pack) if pack is not None else None,
        dimensions=dims,
        rules=used,
        state_rules=state_rules,
        evidence=evidence,
        verified_only=bool(used) and all(r.evidence in _VERIFIED for r in used),
        state_verified_only=all(r.evidence in _VERIFIED for r in state_rules) if state_rules else None,
        warnings=warnings,
        agreements=count,
        agreements_mapped=mapped,
        timeline=timeline,
        error=error,
    )


def _states() -> Iterable[tuple[str, str]]:
    """Every state and DC of the registry (territories have their own courts and no county jails of this kind)."""
    for place in jurisdiction_registry().states:
        if place.kind in ("state", "district"):
            yield place.path, place.name


def law_map(
    day: date,
    *,
    packs: PackSet | None = None,
    agreements: AgreementRegistry | None = None,
    readings: Mapping[str, str] | None = None,
) -> LawMap:
    """The map for ``day``: one :class:`StateLaw` per state and DC, decided through :func:`decide`."""
    packs = packs or default_packs()
    states = tuple(
        sorted(
            (_state(path, name, day, packs, agreements, readings) for path, name in _states()),
            key=lambda s: s.code,
        )
    )
    notes = (
        "Decided at each state's own id: federal and state law only, as for a county jail whose county has no pack.",
        "A 'serious felony record' carries every conviction tag the state's version tests, so it meets each "
        "state's own definition; 'depends' names which of the record and the warrant changes the answer.",
    )
    return LawMap(day, packs.digest, typical_form(day).value, states, agreements is not None, MAP_CASES, notes)
