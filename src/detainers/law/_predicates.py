"""Rule conditions as a small typed tree, read from pack YAML.

One definition serves both paths: ``evaluate`` answers for one case (with reasons for the explanation);
the bulk path compiles the same tree to SQL. Logic is three-valued (:class:`Tri`) so an unknown statute
stays unknown instead of silently counting as a match or a non-match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from detainers.clock import years_before
from detainers.domain import (
    Agreement,
    DetainerForm,
    EligibilityReason,
    Level,
    PCBasis,
    Request,
    StatusProof,
    WarrantKind,
)
from detainers.law._facts import ConvictionFacts, Facts
from detainers.law._tri import Tri

__all__ = [
    "All",
    "Always",
    "Any_",
    "ChargeMatch",
    "ConvictionMatch",
    "FieldIn",
    "JurisdictionIn",
    "Named",
    "Not",
    "Predicate",
    "PredicateError",
    "ReadingIs",
    "nodes",
    "parse_predicate",
    "readings_used",
]


class PredicateError(ValueError):
    """A condition in a pack that cannot be read; the message names the key path."""


class Predicate:
    """Base of every condition node."""

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Always(Predicate):
    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        return Tri.TRUE

    def describe(self) -> str:
        return "always"


@dataclass(frozen=True)
class All(Predicate):
    items: tuple[Predicate, ...]

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        result = Tri.TRUE
        for item in self.items:
            result &= item.evaluate(facts, why)
            if result is Tri.FALSE:
                break
        return result

    def describe(self) -> str:
        return "(" + " and ".join(i.describe() for i in self.items) + ")"


@dataclass(frozen=True)
class Any_(Predicate):
    items: tuple[Predicate, ...]

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        result = Tri.FALSE
        for item in self.items:
            result |= item.evaluate(facts, why)
            if result is Tri.TRUE:
                break
        return result

    def describe(self) -> str:
        return "(" + " or ".join(i.describe() for i in self.items) + ")"


@dataclass(frozen=True)
class Not(Predicate):
    item: Predicate

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        return ~self.item.evaluate(facts, [])

    def describe(self) -> str:
        return f"not {self.item.describe()}"


_JURISDICTION_PATH = re.compile(r"[a-z]{2}(/[a-z0-9-]+)*")

# Scalar facts a condition may test for membership: key -> (fact getter, value parser).
_FIELDS: dict[str, tuple[Callable[[Facts], object], Callable[[str], object]]] = {
    "form_in": (lambda f: f.form, lambda v: DetainerForm[v]),
    "warrant_in": (lambda f: f.warrant, WarrantKind),
    "status_proof_in": (lambda f: f.status_proof, StatusProof),
    "eligibility_reason_in": (lambda f: f.eligibility_reason, EligibilityReason),
}
_BOOLS: dict[str, Callable[[Facts], bool | None]] = {
    "lifted": lambda f: f.lifted,
    "box2": lambda f: f.box2,
    "served": lambda f: f.served,
}


@dataclass(frozen=True)
class FieldIn(Predicate):
    key: str
    values: frozenset[object]

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        return Tri.of(_FIELDS[self.key][0](facts) in self.values)

    def describe(self) -> str:
        shown = ", ".join(sorted(str(getattr(v, "name", v)) for v in self.values))
        return f"{self.key.removesuffix('_in').replace('_', ' ')} is one of [{shown}]"


@dataclass(frozen=True)
class FlagIs(Predicate):
    key: str
    expected: bool

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        value = _BOOLS[self.key](facts)
        if value is None:
            return Tri.UNKNOWN
        return Tri.of(value == self.expected)

    def describe(self) -> str:
        return f"{self.key} is {'true' if self.expected else 'false'}"


@dataclass(frozen=True)
class Requests(Predicate):
    request: Request

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        return Tri.of(self.request in facts.requests)

    def describe(self) -> str:
        return f"the detainer requests {self.request.value}"


@dataclass(frozen=True)
class PersonTagsAny(Predicate):
    """The person carries one of these recorded facts (registrant, watch-list match, ...)."""

    tags: frozenset[str]

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        return Tri.of(bool(facts.person_tags & self.tags))

    def describe(self) -> str:
        return f"the person is recorded as one of {_listed(self.tags)}"


@dataclass(frozen=True)
class AgreementIn(Predicate):
    """The holding agency has one of these 287(g) agreements in force."""

    agreements: frozenset[Agreement]

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        return Tri.of(bool(facts.agreements & self.agreements))

    def describe(self) -> str:
        return f"the agency has a 287(g) agreement of kind {_listed(frozenset(a.value for a in self.agreements))}"


@dataclass(frozen=True)
class JurisdictionIn(Predicate):
    """The booking's jurisdiction is one of these paths or lies within one (a court order naming one sheriff)."""

    paths: frozenset[str]

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        here = facts.jurisdiction
        return Tri.of(any(here == p or here.startswith(p + "/") for p in self.paths))

    def describe(self) -> str:
        return f"the booking's jurisdiction is (within) one of {_listed(self.paths)}"


@dataclass(frozen=True)
class PCBasisAny(Predicate):
    bases: frozenset[PCBasis]

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        return Tri.of(bool(facts.pc_basis & self.bases))

    def describe(self) -> str:
        return f"probable cause rests on one of {_listed(frozenset(b.value for b in self.bases))}"


@dataclass(frozen=True)
class ReadingIs(Predicate):
    """The reading applied to an arguable clause (declared in a pack's ``readings``) is this option."""

    reading: str
    option: str

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        chosen = facts.readings.get(self.reading)
        if chosen is None:
            return Tri.UNKNOWN
        if chosen == self.option:
            why.append(f"reading {self.reading}: {self.option}")
        return Tri.of(chosen == self.option)

    def describe(self) -> str:
        return f"the reading {self.reading} is {self.option!r}"


def _listed(values: frozenset[str]) -> str:
    return "[" + ", ".join(sorted(values)) + "]"


def _tag_parts(any_of: frozenset[str], all_of: frozenset[str], none_of: frozenset[str]) -> list[str]:
    """The tag tests of a conviction or charge condition, in words (shared by both describe())."""
    parts = [f"tagged any of {_listed(any_of)}"] if any_of else []
    if all_of:
        parts.append(f"tagged all of {_listed(all_of)}")
    if none_of:
        parts.append(f"not tagged {_listed(none_of)}")
    return parts


def _tags_tri(
    tags: frozenset[str],
    possible: frozenset[str],
    known: bool,
    any_of: frozenset[str],
    all_of: frozenset[str],
    none_of: frozenset[str],
) -> Tri:
    """Tag tests: UNKNOWN when the statute is unknown, or when a tag depends on a fact the case does not give."""

    def has(tag: str) -> Tri:
        if tag in tags:
            return Tri.TRUE
        return Tri.UNKNOWN if (not known or tag in possible) else Tri.FALSE

    result = Tri.TRUE
    if any_of:
        found = Tri.FALSE
        for tag in any_of:
            found |= has(tag)
        result &= found
    for tag in all_of:
        result &= has(tag)
    for tag in none_of:
        result &= ~has(tag)
    return result


def _unknown_tags(
    known: bool,
    tags: frozenset[str],
    possible: frozenset[str],
    any_of: frozenset[str],
    all_of: frozenset[str],
    none_of: frozenset[str],
) -> list[str]:
    """Why a tag test came out UNKNOWN, in words: an unknown statute, or a tag its class or listing leaves open.

    The second case is not "unknown to the tables": the statute is known, but its class (or a listed form) turns on
    a subdivision or fact the record lacks.
    """
    if not known:
        return ["its statute is not known to the tables"]
    open_tags = sorted((any_of | all_of | none_of) & (possible - tags))
    if open_tags:
        return [
            f"whether it is tagged {_listed(frozenset(open_tags))} is not settled by the record (a subdivision or fact "
            "it does not give, or a statute text not yet encoded; see its classification step)"
        ]
    return []


@dataclass(frozen=True)
class ConvictionMatch(Predicate):
    """There is a prior conviction with these tags, level and recency."""

    tags_any: frozenset[str] = frozenset()
    tags_all: frozenset[str] = frozenset()
    tags_none: frozenset[str] = frozenset()
    level: Level | None = None
    within_years: int | None = None
    window_from: str = "conviction"  # conviction | release
    window_to: str = "decision"  # decision | booking
    state_prison: bool | None = None

    def _one(self, conviction: ConvictionFacts, facts: Facts) -> Tri:
        result = Tri.TRUE
        if self.level is not None:
            result &= Tri.of(conviction.level is self.level)
        if self.state_prison is not None:
            result &= (
                Tri.UNKNOWN if conviction.state_prison is None else Tri.of(conviction.state_prison == self.state_prison)
            )
        if self.within_years is not None:
            anchor = facts.decision_date if self.window_to == "decision" else facts.booking_date
            start = conviction.window_start if self.window_from == "release" else conviction.date
            result &= Tri.UNKNOWN if anchor is None else Tri.of(start >= years_before(anchor, self.within_years))
        result &= _tags_tri(
            conviction.tags, conviction.possible_tags, conviction.known, self.tags_any, self.tags_all, self.tags_none
        )
        return result

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        result = Tri.FALSE
        for conviction in facts.convictions:
            one = self._one(conviction, facts)
            if one is Tri.TRUE:
                why.append(f"conviction {conviction.statute} ({conviction.level.value}, {conviction.date}) qualifies")
            elif one is Tri.UNKNOWN:
                reasons = _unknown_tags(
                    conviction.known,
                    conviction.tags,
                    conviction.possible_tags,
                    self.tags_any,
                    self.tags_all,
                    self.tags_none,
                )
                if self.state_prison is not None and conviction.state_prison is None:
                    reasons.append("whether it was punishable by state prison is not recorded")
                why.append(
                    f"conviction {conviction.statute} ({conviction.level.value}, {conviction.date}) may qualify: "
                    + ("; ".join(reasons) or "the decision or booking date is not known")
                )
            result |= one
        return result

    def describe(self) -> str:
        parts = []
        if self.level:
            parts.append(self.level.value)
        if self.state_prison is not None:
            parts.append("punishable by state prison" if self.state_prison else "not a state-prison offense")
        parts += _tag_parts(self.tags_any, self.tags_all, self.tags_none)
        if self.within_years is not None:
            start = "release from custody" if self.window_from == "release" else "conviction"
            end = "the decision" if self.window_to == "decision" else "the booking"
            parts.append(f"{start} within {self.within_years} years before {end}")
        return "a prior conviction: " + ", ".join(parts or ["any"])


@dataclass(frozen=True)
class ChargeMatch(Predicate):
    """A current charge with these tags and level (and, optionally, a magistrate's probable-cause finding)."""

    tags_any: frozenset[str] = frozenset()
    tags_all: frozenset[str] = frozenset()
    tags_none: frozenset[str] = frozenset()
    level: Level | None = None
    magistrate_probable_cause: bool | None = None

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        result = Tri.FALSE
        for charge in facts.charges:
            one = Tri.TRUE
            if self.level is not None:
                one &= Tri.of(charge.level is self.level)
            if self.magistrate_probable_cause is not None:
                one &= Tri.of((charge.magistrate_probable_cause_at is not None) == self.magistrate_probable_cause)
            one &= _tags_tri(
                charge.tags, charge.possible_tags, charge.known, self.tags_any, self.tags_all, self.tags_none
            )
            if one is Tri.TRUE:
                why.append(f"current charge {charge.statute} ({charge.level.value}) qualifies")
            elif one is Tri.UNKNOWN:
                reasons = _unknown_tags(
                    charge.known, charge.tags, charge.possible_tags, self.tags_any, self.tags_all, self.tags_none
                )
                why.append(
                    f"current charge {charge.statute} may qualify: "
                    + ("; ".join(reasons) or "a fact it needs is not recorded")
                )
            result |= one
        return result

    def describe(self) -> str:
        parts = []
        if self.level:
            parts.append(self.level.value)
        parts += _tag_parts(self.tags_any, self.tags_all, self.tags_none)
        if self.magistrate_probable_cause:
            parts.append("held to answer on a magistrate's probable-cause finding")
        return "a current charge: " + ", ".join(parts or ["any"])


_CONVICTION_KEYS = {
    "tags_any",
    "tags_all",
    "tags_none",
    "level",
    "within_years",
    "window_from",
    "window_to",
    "state_prison",
}
_CHARGE_KEYS = {"tags_any", "tags_all", "tags_none", "level", "magistrate_probable_cause"}


def _strings(value: object, path: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise PredicateError(f"{path}: expected a string or a list of strings, got {value!r}")


def _check_keys(body: Mapping[str, Any], allowed: set[str], path: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise PredicateError(f"{path}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _level(value: object, path: str) -> Level:
    try:
        return Level(str(value))
    except ValueError:
        raise PredicateError(f"{path}: level must be felony, misdemeanor or infraction, got {value!r}") from None


@dataclass(frozen=True)
class Named(Predicate):
    """A shared condition defined once (law/conditions.yaml) and used by several packs."""

    name: str
    item: Predicate

    def evaluate(self, facts: Facts, why: list[str]) -> Tri:
        return self.item.evaluate(facts, why)

    def describe(self) -> str:
        return f"[{self.name}] {self.item.describe()}"


def parse_predicate(node: object, path: str = "when", named: Mapping[str, Predicate] | None = None) -> Predicate:
    """Read a condition from its YAML form; errors name the key path (``rules[3].when.any[1].conviction``)."""
    named = named or {}
    if node is True or node == "always" or node is None:
        return Always()
    if not isinstance(node, Mapping) or len(node) != 1:
        raise PredicateError(f"{path}: a condition is a mapping with exactly one key, got {node!r}")
    ((key, body),) = node.items()
    here = f"{path}.{key}"
    if key in ("all", "any"):
        if not isinstance(body, list) or not body:
            raise PredicateError(f"{here}: expected a non-empty list of conditions")
        items = tuple(parse_predicate(item, f"{here}[{i}]", named) for i, item in enumerate(body))
        return All(items) if key == "all" else Any_(items)
    if key == "not":
        return Not(parse_predicate(body, here, named))
    if key == "condition":
        if not isinstance(body, str) or body not in named:
            known = ", ".join(sorted(named)) or "none loaded"
            raise PredicateError(f"{here}: unknown shared condition {body!r} (known: {known})")
        return Named(body, named[body])
    if key in _FIELDS:
        parse = _FIELDS[key][1]
        try:
            return FieldIn(key, frozenset(parse(v) for v in _strings(body, here)))
        except (KeyError, ValueError) as exc:
            raise PredicateError(f"{here}: unknown value ({exc})") from None
    if key in _BOOLS:
        if not isinstance(body, bool):
            raise PredicateError(f"{here}: expected true or false")
        return FlagIs(key, body)
    if key == "requests":
        try:
            return Requests(Request(str(body)))
        except ValueError:
            raise PredicateError(f"{here}: expected notify, hold or transfer, got {body!r}") from None
    if key == "reading":
        if not isinstance(body, Mapping) or len(body) != 1:
            raise PredicateError(f"{here}: expected one reading id mapped to an option, e.g. {{ca.x: narrow}}")
        ((reading, option),) = body.items()
        if not isinstance(reading, str) or not isinstance(option, str):
            raise PredicateError(f"{here}: reading id and option must be text")
        return ReadingIs(reading, option)
    if key == "person_tags_any":
        return PersonTagsAny(frozenset(_strings(body, here)))
    if key == "agreement_in":
        try:
            return AgreementIn(frozenset(Agreement(v) for v in _strings(body, here)))
        except ValueError as exc:
            raise PredicateError(f"{here}: {exc}") from None
    if key == "jurisdiction_in":
        paths = _strings(body, here)
        bad = [p for p in paths if not _JURISDICTION_PATH.fullmatch(p)]
        if bad:
            raise PredicateError(f"{here}: {bad[0]!r} is not a jurisdiction path like us/in/monroe")
        return JurisdictionIn(frozenset(paths))
    if key == "pc_basis_any":
        try:
            return PCBasisAny(frozenset(PCBasis(v) for v in _strings(body, here)))
        except ValueError as exc:
            raise PredicateError(f"{here}: {exc}") from None
    if key in ("conviction", "charge"):
        if not isinstance(body, Mapping):
            raise PredicateError(f"{here}: expected a mapping")
        _check_keys(body, _CONVICTION_KEYS if key == "conviction" else _CHARGE_KEYS, here)
        tags = {
            k: frozenset(_strings(body[k], f"{here}.{k}")) for k in ("tags_any", "tags_all", "tags_none") if k in body
        }
        level = _level(body["level"], f"{here}.level") if "level" in body else None
        if key == "charge":
            mpc = body.get("magistrate_probable_cause")
            if mpc is not None and not isinstance(mpc, bool):
                raise PredicateError(f"{here}.magistrate_probable_cause: expected true or false")
            return ChargeMatch(level=level, magistrate_probable_cause=mpc, **tags)
        years = body.get("within_years")
        if years is not None and (not isinstance(years, int) or years <= 0):
            raise PredicateError(f"{here}.within_years: expected a positive whole number of years")
        window_from = body.get("window_from", "conviction")
        window_to = body.get("window_to", "decision")
        if window_from not in ("conviction", "release"):
            raise PredicateError(f"{here}.window_from: expected conviction or release")
        if window_to not in ("decision", "booking"):
            raise PredicateError(f"{here}.window_to: expected decision or booking")
        state_prison = body.get("state_prison")
        if state_prison is not None and not isinstance(state_prison, bool):
            raise PredicateError(f"{here}.state_prison: expected true or false")
        return ConvictionMatch(
            level=level,
            within_years=years,
            window_from=window_from,
            window_to=window_to,
            state_prison=state_prison,
            **tags,
        )
    allowed = sorted(
        [
            *_FIELDS,
            *_BOOLS,
            "agreement_in",
            "all",
            "any",
            "not",
            "condition",
            "person_tags_any",
            "jurisdiction_in",
            "requests",
            "pc_basis_any",
            "reading",
            "conviction",
            "charge",
        ]
    )
    raise PredicateError(f"{here}: unknown condition {key!r} (known: {', '.join(allowed)})")


def nodes(node: Predicate) -> list[Predicate]:
    """The node and every node below it (through shared conditions too), depth first."""
    found: list[Predicate] = []
    stack = [node]
    while stack:
        item = stack.pop()
        found.append(item)
        if isinstance(item, All | Any_):
            stack.extend(reversed(item.items))
        elif isinstance(item, Not | Named):
            stack.append(item.item)
    return found


def readings_used(node: Predicate) -> frozenset[ReadingIs]:
    """Every reading test inside a condition."""
    return frozenset(item for item in nodes(node) if isinstance(item, ReadingIs))
