"""Policy packs: one YAML file per jurisdiction layer, with dated versions and a citation on every rule.

Loading is strict (OpenFisca-style): duplicate keys, unknown keys, overlapping versions, a rule without
citation or evidence tag are errors that name the file and the key path.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from datetime import date
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from detainers.clock import HoldClockKind, calendar_by_name, zone_of
from detainers.law._predicates import (
    ChargeMatch,
    ConvictionMatch,
    Predicate,
    PredicateError,
    nodes,
    parse_predicate,
    readings_used,
)

__all__ = [
    "PERSON_RECIPIENTS",
    "PRIMARY_SOURCES",
    "Citation",
    "CourtOrder",
    "CustodyBasis",
    "Effects",
    "Evidence",
    "NoticeDeadline",
    "NoticeSpec",
    "Pack",
    "PackError",
    "PackSet",
    "PackVersion",
    "Permission",
    "Reading",
    "Rule",
    "SharedCondition",
    "SourceKind",
    "load_packs",
]

Evidence = Literal["V", "V3", "I", "R"]
Dimension = Literal["notify", "hold", "transfer"]


class PackError(ValueError):
    """A pack file that cannot be used; the message names the file and the key path."""


class Permission(StrEnum):
    FORBID = "forbid"
    ALLOW = "allow"
    REQUIRE = "require"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SourceKind(StrEnum):
    """What kind of text a rule's evidence tag rests on (the text at ``read_at``, else at ``url``).

    Only the primary legal kinds (:data:`PRIMARY_SOURCES`) can carry [V]; a project document is never evidence.
    """

    STATUTE = "statute"  # codified statute text (an official code site or a faithful mirror of it)
    SESSION_LAW = "session_law"  # an enacted bill or chaptered act, as signed
    REGULATION = "regulation"  # CFR or a state administrative code
    FORM = "form"  # the government form itself (DHS I-247A, I-200, ...)
    OPINION = "opinion"  # a court's opinion
    COURT_ORDER = "court_order"  # an injunction, stay, judgment, consent decree or approved settlement
    EXECUTIVE_ORDER = "executive_order"  # a governor's or mayor's executive order
    ATTORNEY_GENERAL = "attorney_general"  # an attorney general's directive or formal opinion
    OFFICIAL_POLICY = "official_policy"  # an agency's own published policy, order or manual
    LEGISLATIVE_RECORD = "legislative_record"  # bill digest, committee analysis: about the law, not it
    GOVERNMENT_PAGE = "government_page"  # an official press release or summary page
    SECONDARY = "secondary"  # news, advocacy, law firm, encyclopedia, another repository's notes
    NONE = "none"  # nothing was read: recalled [R] or reasoned [I]


PRIMARY_SOURCES = frozenset(
    {
        SourceKind.STATUTE,
        SourceKind.SESSION_LAW,
        SourceKind.REGULATION,
        SourceKind.FORM,
        SourceKind.OPINION,
        SourceKind.COURT_ORDER,
        SourceKind.EXECUTIVE_ORDER,
        SourceKind.ATTORNEY_GENERAL,
        SourceKind.OFFICIAL_POLICY,
    }
)


class Citation(_Strict):
    """Where the rule comes from (structured, per OpenFisca-france RFC #1672).

    ``url`` is the canonical address of the law cited; ``read_at`` is where its text (or the summary the
    evidence tag rests on) was actually read, when that is another place; ``source`` says what kind of text
    that was, so a test can hold [V] to primary legal texts.
    """

    title: str = Field(min_length=1)
    section: str | None = None
    url: str | None = None
    date: dt.date | None = None
    source: SourceKind | None = None
    read_at: str | None = None

    def text(self) -> str:
        parts = [self.title]
        if self.section:
            parts.append(self.section)
        if self.date:
            parts.append(f"({self.date.isoformat()})")
        return " ".join(parts)


class CustodyBasis(StrEnum):
    """What custody past release eligibility rests on."""

    DETAINER = "detainer"  # a detainer honoured under state or local law
    JUDICIAL_WARRANT = "judicial_warrant"  # a criminal warrant: warrant process, not the detainer clock
    FEDERAL_287G = "federal_admin_warrant_287g"  # a federal administrative arrest by a deputized officer


class Effects(_Strict):
    notify: Permission | None = None
    hold: Permission | None = None
    transfer: Permission | None = None
    hold_clock: HoldClockKind | None = None
    hold_hours: float | None = Field(default=None, gt=0, le=240)
    inform_subject: bool | None = None
    custody_basis: CustodyBasis | None = None

    def permissions(self) -> dict[str, Permission]:
        return {d: p for d in ("notify", "hold", "transfer") if (p := getattr(self, d)) is not None}

    def describe(self) -> str:
        parts = [f"{d} {p.value}" for d, p in self.permissions().items()]
        if self.hold_clock is not None:
            parts.append(f"hold clock {self.hold_clock.value}")
        if self.hold_hours is not None:
            parts.append(f"hold at most {self.hold_hours:g} h")
        if self.inform_subject:
            parts.append("inform the person")
        if self.custody_basis is not None:
            parts.append(f"custody basis {self.custody_basis.value}")
        return ", ".join(parts) or "no effect"


class NoticeDeadline(StrEnum):
    """When a notice is owed, in the words of the law that requires it."""

    ON_RECEIPT = "on_receipt"  # upon receiving the request (a copy of it to the person)
    BEFORE_INTERVIEW = "before_interview"  # before any immigration interview takes place
    WITH_RELEASE_NOTIFICATION = "with_release_notification"  # promptly when ICE is told of a release date
    WHILE_HELD = "while_held"  # while the person is held under the request (the text sets no clock)


PERSON_RECIPIENTS = frozenset({"subject", "attorney_or_designee"})  # notices the person (or their counsel) receives

_LANGUAGE_TAG = r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2})?$"  # BCP 47: language, optional script and region


class NoticeSpec(_Strict):
    """A notice a rule requires. ``kind``, ``to`` and ``text`` say what is owed to whom; the optional keys say what
    the law requires of it (content, languages, when) so templates can be checked against them.

    ``template`` names the form under ``detainers/notices/templates`` (default: ``<pack>/<kind>``); ``citation`` is
    where the content, languages or deadline are written, when that is not the rule's own citation.
    """

    kind: str
    to: str
    text: str
    template: str | None = Field(default=None, pattern=r"^[a-z]{2}(/[a-z0-9-]+)*/[a-z0-9_]+$")
    form: Literal["notice", "consent"] = "notice"  # a consent form records the person's answer
    deadline: NoticeDeadline | None = None
    languages: tuple[Annotated[str, Field(pattern=_LANGUAGE_TAG)], ...] = ()  # every language the law names
    content: tuple[str, ...] = ()  # what the law says the notice must contain, one requirement an item
    citation: Citation | None = None

    @model_validator(mode="after")
    def _coherent(self) -> NoticeSpec:
        if len(set(self.languages)) != len(self.languages):
            raise ValueError("languages: a language is named twice")
        if self.form == "consent" and self.to not in PERSON_RECIPIENTS:
            raise ValueError(f"a consent form is given to the person, not to {self.to!r}")
        return self


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str
    when: Any = None
    on_outcome: Dimension | None = None  # evaluated after the layers are composed (notices that follow a decision)
    sets: Effects = Effects()
    otherwise: Effects | None = None
    preempts_local: tuple[Dimension, ...] = ()
    notices: tuple[NoticeSpec, ...] = ()
    warn: str | None = None  # a warning added to the decision when the rule applies (no effect on permissions)
    # When the duty or warning arises: at the decision instant (default), on receipt of each detainer (a copy of
    # the request is owed once received, whatever happens later), or on its issue date (a rule binding ICE).
    arises: Literal["decision", "receipt", "issue"] = "decision"
    citation: Citation
    evidence: Evidence
    note: str | None = None
    _condition: Predicate = PrivateAttr()

    @property
    def condition(self) -> Predicate:
        return self._condition

    @model_validator(mode="after")
    def _coherent(self, info: ValidationInfo) -> Rule:
        named = (info.context or {}).get("conditions", {})
        try:
            self._condition = parse_predicate(self.when, "when", named)
        except PredicateError as exc:
            raise ValueError(str(exc)) from None
        if self.on_outcome and (self.sets.permissions() or (self.otherwise and self.otherwise.permissions())):
            raise ValueError("a rule with on_outcome may only add notices or inform_subject, not permissions")
        if self.arises != "decision" and (
            self.on_outcome
            or self.otherwise
            or self.preempts_local
            or self.sets.model_dump(exclude_none=True).keys() - {"inform_subject"}
        ):
            raise ValueError(
                f"a rule that arises on {self.arises} may only add notices, inform_subject or a warning "
                "(permissions are decided at the decision instant)"
            )
        if self.arises == "receipt" and any(
            isinstance(n, ConvictionMatch | ChargeMatch) for n in nodes(self._condition)
        ):
            raise ValueError(
                "a rule that arises on receipt may test the request and the person, not convictions or charges "
                "(those are judged at the decision instant)"
            )
        for notice in self.notices:
            if notice.deadline is NoticeDeadline.ON_RECEIPT and self.arises != "receipt":
                raise ValueError(f"notice {notice.kind!r} is owed on receipt, but the rule arises on {self.arises}")
            if notice.deadline is NoticeDeadline.WITH_RELEASE_NOTIFICATION and self.on_outcome != "notify":
                raise ValueError(
                    f"notice {notice.kind!r} goes with a release notification: the rule needs on_outcome: notify"
                )
        if self.arises == "issue" and (self.notices or self.sets.inform_subject):
            raise ValueError("a rule that arises on issue binds ICE: it may only warn (no notices or inform_subject)")
        for dim in self.preempts_local:
            if getattr(self.sets, dim) is None:
                raise ValueError(f"preempts_local names {dim!r} but the rule does not set it")
        return self


class CourtOrder(_Strict):
    """A court order that made a pack version: an injunction, a stay, a vacatur, a consent decree."""

    kind: Literal["injunction", "stay", "vacatur", "judgment", "opinion", "consent_decree", "settlement"]
    court: str = Field(min_length=1)
    case: str = Field(min_length=1)
    docket: str | None = None
    date: dt.date
    scope: str = Field(min_length=1)  # what the order suspended or restored, and for whom
    citation: Citation
    evidence: Evidence


class Reading(_Strict):
    """An arguable clause: the question, the reading the pack takes by default, and the alternatives.

    Rules test the reading in force with ``{reading: {ID: OPTION}}``; a deployment may choose another option
    (counties follow their counsel); every decision the choice would change carries a warning naming it.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    question: str
    options: dict[str, str] = Field(min_length=2)  # option -> what it means
    default: str
    citation: Citation
    evidence: Evidence
    note: str | None = None

    @model_validator(mode="after")
    def _default_is_an_option(self) -> Reading:
        if self.default not in self.options:
            raise ValueError(f"default {self.default!r} is not one of the options {sorted(self.options)}")
        return self


class PackVersion(_Strict):
    version: str = Field(min_length=1)
    title: str
    effective_from: date
    effective_to: date | None = None  # last day in force (inclusive); None: still in force
    reviewed_by: str = Field(min_length=1)
    reviewed_on: date | None = None
    summary: str | None = None
    court_order: CourtOrder | None = None  # the order that made this version, if a court did
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _flatten_rules(cls, data: Any) -> Any:
        # A version may reuse an earlier version's rules through a YAML alias (``- *federal_rules``).
        if isinstance(data, dict) and isinstance(data.get("rules"), list):
            flat: list[Any] = []
            for item in data["rules"]:
                flat.extend(item if isinstance(item, list) else [item])
            data = {**data, "rules": flat}
        return data

    @model_validator(mode="after")
    def _dates(self) -> PackVersion:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(f"effective_to {self.effective_to} is before effective_from {self.effective_from}")
        ids = [r.id for r in self.rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule id {dupes[0]!r} appears twice")
        return self

    def in_force(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


class Pack(_Strict):
    pack: str = Field(pattern=r"^[a-z]{2}(/[a-z0-9-]+)*$")
    level: Literal["federal", "state", "county", "city", "agency"]
    title: str
    timezone: str | None = None
    holiday_calendar: str | None = None
    notes: str | None = None
    readings: tuple[Reading, ...] = ()
    versions: tuple[PackVersion, ...] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            zone_of(value)
        return value

    @field_validator("holiday_calendar")
    @classmethod
    def _calendar(cls, value: str | None) -> str | None:
        if value is not None:
            calendar_by_name(value)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Pack:
        previous: PackVersion | None = None
        for version in self.versions:
            if previous is not None:
                if previous.effective_to is None or previous.effective_to >= version.effective_from:
                    raise ValueError(
                        f"version {version.version!r} starts {version.effective_from} while "
                        f"{previous.version!r} is still in force; set its effective_to to the day before"
                    )
            previous = version
        names = [v.version for v in self.versions]
        if len(set(names)) != len(names):
            raise ValueError("two versions share a name")
        return self

    def version_on(self, day: date) -> PackVersion | None:
        """The version in force on ``day`` (a local calendar date), chosen by law's date, never the wall clock."""
        for version in self.versions:
            if version.in_force(day):
                return version
        return None


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML loader that refuses duplicate keys instead of keeping the last one."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in mapping:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def load_yaml(text: str, source: str) -> Any:
    """Parse YAML strictly; errors name ``source`` and the line."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise PackError(f"{source}: {exc}") from None


def _format_loc(loc: tuple[int | str, ...], raw: Any) -> str:
    """Turn a pydantic error location into ``versions[1].rules[2].when`` using names where they exist."""
    out = ""
    node = raw
    for part in loc:
        if isinstance(part, int):
            label = f"[{part}]"
            if isinstance(node, list) and part < len(node):
                node = node[part]
                if isinstance(node, Mapping) and isinstance(node.get("id") or node.get("version"), str):
                    label = f"[{part}]({node.get('id') or node.get('version')})"
            out += label
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, Mapping) else None
    return out


class SharedCondition(_Strict):
    """A condition several packs use (e.g. the Gov. Code 7282.5(a) criteria), cited once."""

    title: str
    when: Any
    citation: Citation
    evidence: Evidence
    note: str | None = None


def parse_conditions(text: str, source: str) -> tuple[dict[str, SharedCondition], dict[str, Predicate]]:
    raw = load_yaml(text, source) or {}
    if not isinstance(raw, Mapping):
        raise PackError(f"{source}: expected a mapping of condition names")
    specs: dict[str, SharedCondition] = {}
    predicates: dict[str, Predicate] = {}
    for name, body in raw.items():
        try:
            spec = SharedCondition.model_validate(body)
            predicates[str(name)] = parse_predicate(spec.when, f"{name}.when", predicates)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
            raise PackError(f"{source}: {name}.{where}: {message}") from None
        except PredicateError as exc:
            raise PackError(f"{source}: {exc}") from None
        specs[str(name)] = spec
    return specs, predicates


def parse_pack(text: str, source: str, conditions: Mapping[str, Predicate] | None = None) -> Pack:
    raw = load_yaml(text, source)
    try:
        return Pack.model_validate(raw, context={"conditions": dict(conditions or {})})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _format_loc(tuple(first["loc"]), raw)
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        raise PackError(f"{source}: {where or 'pack'}: {message}") from None


class PackSet:
    """Every pack, indexed by jurisdiction path, with a content hash for the engine version."""

    def __init__(
        self,
        packs: Mapping[str, Pack],
        digest: str,
        sources: Mapping[str, str],
        conditions: Mapping[str, SharedCondition] | None = None,
    ) -> None:
        self._packs = dict(packs)
        self.conditions = dict(conditions or {})
        self.digest = digest
        self.sources = dict(sources)
        self.readings: dict[str, Reading] = {}
        for pack in self._packs.values():
            for reading in pack.readings:
                if reading.id in self.readings:
                    raise PackError(
                        f"{self.sources.get(pack.pack, pack.pack)}: reading {reading.id!r} is declared twice"
                    )
                self.readings[reading.id] = reading
        for pack in self._packs.values():
            for version in pack.versions:
                for rule in version.rules:
                    for test in readings_used(rule.condition):
                        declared = self.readings.get(test.reading)
                        where = f"{self.sources.get(pack.pack, pack.pack)}: {version.version}: {rule.id}"
                        if declared is None:
                            raise PackError(f"{where}: reading {test.reading!r} is not declared in any pack's readings")
                        if test.option not in declared.options:
                            raise PackError(
                                f"{where}: reading {test.reading!r} has no option {test.option!r} "
                                f"(options: {', '.join(sorted(declared.options))})"
                            )

    def choose_readings(self, chosen: Mapping[str, str] | None = None) -> dict[str, str]:
        """Every declared reading's default, overridden by a deployment's ``chosen`` options (checked)."""
        out = {rid: reading.default for rid, reading in self.readings.items()}
        for rid, option in (chosen or {}).items():
            declared = self.readings.get(rid)
            if declared is None:
                known = ", ".join(sorted(self.readings)) or "none declared"
                raise PackError(f"unknown reading {rid!r} (declared: {known})")
            if option not in declared.options:
                raise PackError(f"reading {rid!r} has no option {option!r} (options: {', '.join(declared.options)})")
            out[rid] = option
        return out

    def get(self, jurisdiction: str) -> Pack | None:
        return self._packs.get(jurisdiction)

    def __iter__(self) -> Iterator[Pack]:
        return iter(sorted(self._packs.values(), key=lambda p: p.pack))

    def __len__(self) -> int:
        return len(self._packs)


def _read_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.yaml"))}


def load_packs(directory: Path | None = None, conditions_file: Path | None = None) -> PackSet:
    """Load the packs shipped with the package, or those under ``directory``.

    Shared conditions come from ``conditions.yaml`` beside the packs directory (or ``conditions_file``).
    """
    root = directory if directory is not None else Path(str(resources.files("detainers.law") / "packs"))
    conditions_path = conditions_file if conditions_file is not None else root.parent / "conditions.yaml"
    digest = hashlib.sha256()
    specs: dict[str, SharedCondition] = {}
    named: dict[str, Predicate] = {}
    if conditions_path.exists():
        text = conditions_path.read_text(encoding="utf-8")
        digest.update(b"conditions\0" + text.encode() + b"\0")
        specs, named = parse_conditions(text, conditions_path.name)
    texts = _read_tree(root)
    packs: dict[str, Pack] = {}
    sources: dict[str, str] = {}
    for relative, text in texts.items():
        digest.update(relative.encode() + b"\0" + text.encode() + b"\0")
        source = f"packs/{relative}"
        pack = parse_pack(text, source, named)
        expected = relative.removesuffix(".yaml")
        if pack.pack != expected:
            raise PackError(f"{source}: pack: {pack.pack!r} must match its file path {expected!r}")
        packs[pack.pack] = pack
        sources[pack.pack] = source
    return PackSet(packs, digest.hexdigest()[:12], sources, specs)
