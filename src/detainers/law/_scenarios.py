"""Scenario files (../scenarios/FORMAT.md): read cases, decide them, and check their ``expect:`` blocks.

Reading is strict: unknown keys are errors naming file, case and key; a time without an offset is wall
clock in the facility's zone (the printed decision shows the offset used); a DST-gap time is an error.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from detainers.clock import format_instant, localize, zone_of
from detainers.domain import (
    Booking,
    Case,
    Charge,
    Conviction,
    Detainer,
    FormLabelError,
    PCBasis,
    Person,
    Request,
    WarrantKind,
    parse_form,
)
from detainers.law._decision import Decision
from detainers.law._engine import DecisionError, decide
from detainers.law._jurisdictions import default_zone
from detainers.law._packs import PackSet, _UniqueKeyLoader
from detainers.law._registry import check_jurisdiction

__all__ = [
    "CaseResult",
    "Mismatch",
    "Scenario",
    "ScenarioError",
    "check_scenario",
    "decision_json",
    "load_scenarios",
]


class ScenarioError(ValueError):
    """A scenario file that cannot be read; the message names the file, the case and the key."""


class _ScenarioLoader(_UniqueKeyLoader):
    """Like the pack loader, but timestamps stay text so we decide how to read zone-less times."""


_ScenarioLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _UniqueKeyLoader.yaml_implicit_resolvers.items()
}

_CASE_KEYS = {
    "name",
    "jurisdiction",
    "timezone",
    "as_of",
    "person",
    "booking",
    "detainers",
    "expect",
    "facility",
    "note",
    "readings",
}
_PERSON_KEYS = {"status_proof", "status_proof_at", "convictions", "ids", "tags", "name"}
_CONVICTION_KEYS = {"statute", "level", "date", "punishable_by_state_prison", "sentence_end", "tags", "jurisdiction"}
_CHARGE_KEYS = {"statute", "level", "magistrate_probable_cause_at", "tags"}
_BOOKING_KEYS = {
    "facility",
    "booked_at",
    "charges",
    "eligible_for_release_at",
    "eligibility_reason",
    "bail_refused_at",
    "released_at",
    "released_to",
    "agreements",
}
_DETAINER_KEYS = {
    "form",
    "version_date",
    "received_at",
    "issued_on",
    "requests",
    "warrant",
    "pc_basis",
    "box2",
    "served_on_subject_at",
    "issuing_office",
    "lifted_at",
    "lift_reason",
}
EXPECT_KEYS = {
    "notify",
    "notify_required",
    "hold_until",
    "hold_required",
    "transfer",
    "inform_subject",
    "over_detention_hours",
    "notify_target",
    "over_detention_flags",
    "rules",
    "jurisdiction_chain",
    "unknown_statutes",
    "custody_basis",
    "notices",
    # added keys (the reference format's keys above keep their meanings)
    "coverage",  # a mapping with any of encoded, fell_back, complete (summary is prose, not compared)
    "hold_allowed",
    "readings",
    "warns_about",
}
_INSTANT_KEYS = {"hold_until", "notify_target"}


@dataclass(frozen=True)
class Scenario:
    file: str
    index: int
    case: Case
    expect: Mapping[str, Any]
    offsets_used: tuple[str, ...] = ()  # "booking.booked_at read as -07:00 (America/Los_Angeles)"
    readings: Mapping[str, str] = field(default_factory=dict)  # options of declared arguable clauses, by id
    # The person's name for printed notices only: kept out of the case, so no decision or event carries it.
    person_name: str | None = None


@dataclass(frozen=True)
class Mismatch:
    key: str
    expected: Any
    actual: Any


@dataclass
class CaseResult:
    scenario: Scenario
    decision: Decision | None
    mismatches: list[Mismatch] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and not self.mismatches


class _Reader:
    """Reads one case, remembering where it is for error messages and which offsets it inferred."""

    def __init__(self, file: str, label: str, zone: str) -> None:
        self.file, self.label, self.zone = file, label, zone
        self.offsets: list[str] = []

    def fail(self, key: str, message: str) -> ScenarioError:
        return ScenarioError(f"{self.file}: case {self.label}: {key}: {message}")

    def keys(self, body: Any, allowed: set[str], where: str) -> Mapping[str, Any]:
        if not isinstance(body, Mapping):
            raise self.fail(where, f"expected a mapping, got {type(body).__name__}")
        for key in body:
            if key not in allowed:
                prefix = f"{where}." if where else ""
                raise self.fail(f"{prefix}{key}", f"unknown key (allowed: {', '.join(sorted(allowed))})")
        return body

    def instant(self, value: Any, key: str) -> datetime | None:
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise self.fail(key, f"not an ISO 8601 time: {value!r}") from None
        if parsed.tzinfo is None:
            try:
                parsed = localize(parsed, self.zone)
            except ValueError as exc:
                raise self.fail(key, str(exc)) from None
            self.offsets.append(f"{key} {value} read as {format_instant(parsed, self.zone)} ({self.zone})")
        return parsed

    def day(self, value: Any, key: str) -> date | None:
        if value is None:
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise self.fail(key, f"not an ISO 8601 date: {value!r}") from None

    def model(self, factory: Callable[..., Any], key: str, **kwargs: Any) -> Any:
        try:
            return factory(**{k: v for k, v in kwargs.items() if v is not None})
        except ValidationError as exc:
            first = exc.errors()[0]
            sub = ".".join(str(p) for p in first["loc"])
            where = f"{key}.{sub}" if sub else key
            raise self.fail(where, first["msg"].removeprefix("Value error, ")) from None


def _read_case(raw: Any, file: str, index: int) -> Scenario:
    label = f"#{index + 1}"
    if not isinstance(raw, Mapping):
        raise ScenarioError(f"{file}: case {label}: expected a mapping, got {type(raw).__name__}")
    if isinstance(raw.get("name"), str):
        label = f"#{index + 1} ({raw['name']!r})"
    for key in raw:
        if key not in _CASE_KEYS:
            raise ScenarioError(f"{file}: case {label}: {key}: unknown key (allowed: {', '.join(sorted(_CASE_KEYS))})")
    for required in ("jurisdiction", "booking", "detainers"):
        if required not in raw:
            raise ScenarioError(f"{file}: case {label}: {required}: missing")
    try:
        jurisdiction = check_jurisdiction(str(raw["jurisdiction"]))  # a real place, or "did you mean …"
    except ValueError as exc:
        raise ScenarioError(f"{file}: case {label}: jurisdiction: {exc}") from None
    zone = raw.get("timezone") or default_zone(jurisdiction)
    if zone is None:
        raise ScenarioError(f"{file}: case {label}: timezone: missing, and {jurisdiction} has no default zone")
    try:
        zone_of(str(zone))
    except ValueError as exc:
        raise ScenarioError(f"{file}: case {label}: timezone: {exc}") from None
    r = _Reader(file, label, str(zone))

    person_raw = r.keys(raw.get("person") or {}, _PERSON_KEYS, "person")
    convictions = []
    for i, c in enumerate(person_raw.get("convictions") or []):
        key = f"person.convictions[{i}]"
        c = r.keys(c, _CONVICTION_KEYS, key)
        convictions.append(
            r.model(
                Conviction,
                key,
                statute=c.get("statute"),
                level=c.get("level"),
                date=r.day(c.get("date"), f"{key}.date"),
                jurisdiction=c.get("jurisdiction"),
                punishable_by_state_prison=c.get("punishable_by_state_prison"),
                sentence_end=r.day(c.get("sentence_end"), f"{key}.sentence_end"),
                tags=tuple(c.get("tags") or ()),
            )
        )
    person = r.model(
        Person,
        "person",
        status_proof=person_raw.get("status_proof"),
        status_proof_at=r.instant(person_raw.get("status_proof_at"), "person.status_proof_at"),
        convictions=tuple(convictions),
        ids=person_raw.get("ids"),
        tags=tuple(person_raw.get("tags") or ()),
    )

    b = r.keys(raw["booking"], _BOOKING_KEYS, "booking")
    charges = []
    for i, ch in enumerate(b.get("charges") or []):
        key = f"booking.charges[{i}]"
        ch = r.keys(ch, _CHARGE_KEYS, key)
        charges.append(
            r.model(
                Charge,
                key,
                statute=ch.get("statute"),
                level=ch.get("level"),
                magistrate_probable_cause_at=r.instant(
                    ch.get("magistrate_probable_cause_at"), f"{key}.magistrate_probable_cause_at"
                ),
                tags=tuple(ch.get("tags") or ()),
            )
        )
    booking = r.model(
        Booking,
        "booking",
        facility=b.get("facility") or raw.get("facility"),
        jurisdiction=jurisdiction,
        timezone=str(zone),
        booked_at=r.instant(b.get("booked_at"), "booking.booked_at"),
        charges=tuple(charges),
        eligible_for_release_at=r.instant(b.get("eligible_for_release_at"), "booking.eligible_for_release_at"),
        eligibility_reason=b.get("eligibility_reason"),
        bail_refused_at=r.instant(b.get("bail_refused_at"), "booking.bail_refused_at"),
        released_at=r.instant(b.get("released_at"), "booking.released_at"),
        released_to=b.get("released_to"),
        agreements=frozenset(b.get("agreements") or ()),
    )

    detainers_raw = raw["detainers"]
    if not isinstance(detainers_raw, list) or not detainers_raw:
        raise r.fail("detainers", "expected a non-empty list")
    detainers = []
    for i, d in enumerate(detainers_raw):
        key = f"detainers[{i}]"
        d = r.keys(d, _DETAINER_KEYS, key)
        if "form" not in d:
            raise r.fail(f"{key}.form", "missing")
        received = r.instant(d.get("received_at"), f"{key}.received_at")
        try:
            form = parse_form(
                str(d["form"]),
                version_date=r.day(d.get("version_date"), f"{key}.version_date"),
                received_on=received.date() if received else None,
            )
        except FormLabelError as exc:
            raise r.fail(f"{key}.form", str(exc)) from None
        requests = None
        if "requests" in d:
            try:
                requests = frozenset(Request(x) for x in (d["requests"] or []))
            except ValueError as exc:
                raise r.fail(f"{key}.requests", str(exc)) from None
        try:
            pc_basis = frozenset(PCBasis(x) for x in (d.get("pc_basis") or []))
            warrant = WarrantKind(d.get("warrant") or "none")
        except ValueError as exc:
            raise r.fail(key, str(exc)) from None
        detainers.append(
            r.model(
                Detainer,
                key,
                form=form,
                received_at=received,
                issued_on=r.day(d.get("issued_on"), f"{key}.issued_on"),
                requests=requests,
                warrant=warrant,
                pc_basis=pc_basis,
                box2_transferred_for_proceeding=bool(d.get("box2", False)),
                served_on_subject_at=r.instant(d.get("served_on_subject_at"), f"{key}.served_on_subject_at"),
                issuing_office=d.get("issuing_office"),
                lifted_at=r.instant(d.get("lifted_at"), f"{key}.lifted_at"),
                lift_reason=d.get("lift_reason"),
            )
        )
    case = r.model(
        Case,
        "case",
        name=str(raw.get("name") or f"{Path(file).name}#{index + 1}"),
        person=person,
        booking=booking,
        detainers=tuple(detainers),
        as_of=r.instant(raw.get("as_of"), "as_of"),
    )
    expect = raw.get("expect") or {}
    if not isinstance(expect, Mapping):
        raise r.fail("expect", "expected a mapping")
    for key in expect:
        if key not in EXPECT_KEYS:
            raise r.fail(f"expect.{key}", f"unknown key (allowed: {', '.join(sorted(EXPECT_KEYS))})")
    if "coverage" in expect:
        r.keys(expect["coverage"], {"encoded", "fell_back", "complete"}, "expect.coverage")
    parsed_expect = {k: (r.instant(v, f"expect.{k}") if k in _INSTANT_KEYS else v) for k, v in expect.items()}
    readings = raw.get("readings") or {}
    if not isinstance(readings, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in readings.items()
    ):
        raise r.fail("readings", "expected a mapping of reading id to option, e.g. {ca.7282.5-a6: broad}")
    name = person_raw.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise r.fail("person.name", "expected a non-empty string (a synthetic name: never a real person's)")
    return Scenario(
        file=file,
        index=index,
        case=case,
        expect=parsed_expect,
        offsets_used=tuple(r.offsets),
        readings=dict(readings),
        person_name=name.strip() if isinstance(name, str) else None,
    )


def load_scenarios(path: Path) -> list[Scenario]:
    """Read every case of a scenario file (a list of cases, or a single mapping)."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{file}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(
            f"{file}: not UTF-8 text ({exc.reason} at byte offset {exc.start}); save scenario files as UTF-8"
        ) from None
    try:
        raw = yaml.load(text, Loader=_ScenarioLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{file}: {exc}") from None
    if raw is None:
        raise ScenarioError(f"{file}: no cases")
    cases = raw if isinstance(raw, list) else [raw]
    scenarios = [_read_case(item, file, i) for i, item in enumerate(cases)]
    names = [s.case.name for s in scenarios]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ScenarioError(f"{file}: case name {dupes[0]!r} is used twice")
    return scenarios


def decision_json(decision: Decision) -> dict[str, Any]:
    """The decision as printed by ``decide --json``: instants in the facility's zone with their offset."""
    data = decision.model_dump(mode="json")
    zone = decision.timezone
    for key in ("hold_until", "notify_target", "decided_at"):
        value = getattr(decision, key)
        data[key] = format_instant(value, zone) if value is not None else None
    return data


def _same(key: str, expected: Any, actual: Any) -> bool:
    if key in _INSTANT_KEYS:
        if expected is None or actual is None:
            return expected is actual
        return bool(expected == actual)  # aware datetimes compare as instants
    if key == "over_detention_hours":
        return math.isclose(float(expected), float(actual), abs_tol=0.01)
    if key == "rules":
        return sorted(expected) == sorted(r["id"] for r in actual)
    if key == "warns_about":
        wanted = [expected] if isinstance(expected, str) else list(expected)
        return all(any(w in text for text in actual) for w in wanted)
    if key == "coverage":
        if not isinstance(expected, Mapping) or not isinstance(actual, Mapping):
            return False
        return all(k in actual and _same(k, v, actual[k]) for k, v in expected.items())
    if isinstance(expected, Sequence) and not isinstance(expected, str):
        return list(expected) == list(actual)
    return bool(expected == actual)


def check_scenario(
    scenario: Scenario, packs: PackSet | None = None, readings: Mapping[str, str] | None = None
) -> CaseResult:
    """Decide the case (``readings``: a deployment's choices; the case's own ``readings`` win) and compare."""
    try:
        decision = decide(scenario.case, packs=packs, readings={**(readings or {}), **scenario.readings})
    except DecisionError as exc:
        return CaseResult(scenario, None, error=str(exc))
    printed = decision_json(decision)
    result = CaseResult(scenario, decision)
    for key, expected in scenario.expect.items():
        actual: Any = (
            getattr(decision, key) if key in _INSTANT_KEYS else printed[key if key != "warns_about" else "warnings"]
        )
        if not _same(key, expected, actual):
            shown_expected = format_instant(expected, decision.timezone) if isinstance(expected, datetime) else expected
            shown_actual = format_instant(actual, decision.timezone) if isinstance(actual, datetime) else actual
            if key == "rules":
                shown_actual = [r["id"] for r in actual]
            result.mismatches.append(Mismatch(key, shown_expected, shown_actual))
    return result
