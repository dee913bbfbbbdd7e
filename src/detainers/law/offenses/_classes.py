"""Offense classes read from statute text: felony / wobbler / misdemeanor / infraction, or a Texas grade.

A state's *class dictionary* (`law/data/<state>_offense_classes.yaml`) says, per section and subdivision, how the
statute text punishes the offense, with the source where that text was read. It replaces inference from a charge-code
table: a code table lists charge forms (a felony row for an aggravated form under the same section number as the plain
misdemeanor), so "it has F and M rows" does not make a section a wobbler.

Resolution (`ClassDictionary.resolve`):

- the statute names a subdivision an entry covers (the entry or one above it): that entry's class decides;
- the statute names less than the entries do (`PC 243` where 243(a) is a misdemeanor and 243(d) a wobbler): the
  entries below it are candidates; the record's level removes the candidates that cannot be convicted at that level
  (a misdemeanor conviction under a section whose subdivisions are felonies or wobblers is a wobbler conviction); if
  the rest still differ, the answer is "depends on the subdivision", never a guess;
- an entry can list several classes that turn on a fact the statute cannot show (value, injury, degree); a tag in
  `by_tag` settles it when the caller gives that tag.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from detainers.domain import Level
from detainers.law.offenses._statute import StatuteRef, parse_statute
from detainers.law.offenses._tables import (
    EVIDENCE_TAGS,
    OffenseTableError,
    _Ctx,
    _Mapping,
    read_header,
)

__all__ = [
    "CLASSES_DIR",
    "KINDS",
    "ClassAnswer",
    "ClassDictionary",
    "ClassSource",
    "OffenseClass",
    "load_class_dictionaries",
    "load_class_dictionary",
]

CLASSES_DIR = Path(__file__).resolve().parents[1] / "data"
_GLOB = "*_offense_classes.yaml"

# Punishment classes. A wobbler is punishable either as a felony or as a misdemeanor (PC 17(b)); a "wobblette" either
# as a misdemeanor or as an infraction (PC 17(d)).
KINDS = ("felony", "wobbler", "misdemeanor", "wobblette", "infraction")
# Which classes a conviction at a level can be: a misdemeanor conviction is never of a straight felony.
_FITS: dict[Level, frozenset[str]] = {
    Level.FELONY: frozenset({"felony", "wobbler"}),
    Level.MISDEMEANOR: frozenset({"misdemeanor", "wobbler", "wobblette"}),
    Level.INFRACTION: frozenset({"infraction", "wobblette"}),
}
# Texas grades (Penal Code ch. 12) and the class each one is.
GRADES: dict[str, str] = {
    "capital_felony": "felony",
    "felony_1": "felony",
    "felony_2": "felony",
    "felony_3": "felony",
    "state_jail_felony": "felony",
    "misdemeanor_a": "misdemeanor",
    "misdemeanor_b": "misdemeanor",
    "misdemeanor_c": "misdemeanor",
}
_GRADE_WORDS = {
    "capital_felony": "capital felony",
    "felony_1": "first-degree felony",
    "felony_2": "second-degree felony",
    "felony_3": "third-degree felony",
    "state_jail_felony": "state jail felony",
    "misdemeanor_a": "Class A misdemeanor",
    "misdemeanor_b": "Class B misdemeanor",
    "misdemeanor_c": "Class C misdemeanor",
}
_TAG_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_SOURCE_KINDS = frozenset({"statute", "session_law", "secondary"})

_DICT_REQUIRED = frozenset({"id", "title", "jurisdiction", "as_of", "sources", "evidence", "reviewed_by", "entries"})
_DICT_OPTIONAL = frozenset({"notes", "tags", "code_title"})
_SOURCE_REQUIRED = frozenset({"title", "section", "read_at", "source"})
_SOURCE_OPTIONAL = frozenset({"url", "date"})
_ENTRY_REQUIRED = frozenset({"statute", "source"})
_ENTRY_OPTIONAL = frozenset(
    {"class", "classes", "grade", "grades", "by_tag", "title", "quote", "note", "punished_by", "evidence"}
    | {"effective_from", "effective_to"}
)


@dataclass(frozen=True, slots=True)
class ClassSource:
    """Where the statute text was read."""

    id: str
    title: str  # "Cal. Penal Code"
    section: str  # "243"
    read_at: str  # the page or file where the text was read
    source: str  # statute | session_law | secondary
    url: str | None = None
    date: date | None = None


@dataclass(frozen=True, slots=True)
class OffenseClass:
    """One dictionary entry: the punishment class(es) the text gives a section or subdivision."""

    ref: StatuteRef
    statute: str
    kinds: tuple[str, ...]  # one class, or the classes a fact decides between
    source: ClassSource
    dictionary: str
    evidence: str
    grades: tuple[str, ...] = ()  # Texas grades, same order as the facts allow
    by_tag: tuple[tuple[str, str], ...] = ()  # (tag, class or grade) that settles a multi-class entry
    title: str | None = None
    quote: str | None = None
    note: str | None = None
    punished_by: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None

    @property
    def kind(self) -> str | None:
        """The class when the text gives one; None when a fact decides between several."""
        return self.kinds[0] if len(self.kinds) == 1 else None

    @property
    def grade(self) -> str | None:
        return self.grades[0] if len(self.grades) == 1 else None

    @property
    def citation(self) -> str:
        return f"{self.source.title} {self.ref.section}{self.ref.subdivision_text}"

    def words(self) -> str:
        """'wobbler' / 'second-degree felony' / 'misdemeanor or wobbler (depends on facts)'."""
        names = [_GRADE_WORDS[g] for g in self.grades] if self.grades else list(self.kinds)
        return names[0] if len(names) == 1 else " or ".join(names) + " (depends on facts)"

    def in_force(self, on: date | None) -> bool:
        return on is None or (
            (self.effective_from is None or self.effective_from <= on)
            and (self.effective_to is None or on <= self.effective_to)
        )

    def settled(self, given: frozenset[str]) -> OffenseClass:
        """The entry with its classes narrowed by a `by_tag` tag the caller gave."""
        for tag, value in self.by_tag:
            if tag in given:
                if value in GRADES:
                    return _replace(self, kinds=(GRADES[value],), grades=(value,))
                return _replace(self, kinds=(value,), grades=())
        return self


def _replace(entry: OffenseClass, *, kinds: tuple[str, ...], grades: tuple[str, ...]) -> OffenseClass:
    return OffenseClass(
        ref=entry.ref,
        statute=entry.statute,
        kinds=kinds,
        source=entry.source,
        dictionary=entry.dictionary,
        evidence=entry.evidence,
        grades=grades,
        by_tag=(),
        title=entry.title,
        quote=entry.quote,
        note=entry.note,
        punished_by=entry.punished_by,
        effective_from=entry.effective_from,
        effective_to=entry.effective_to,
    )


@dataclass(frozen=True, slots=True)
class ClassAnswer:
    """What the dictionary says about one statute at one level.

    `offense_class` is set when the text decides one class (possibly after the level removed the others);
    `candidates` holds the entries that remain possible when it does not, and `reason` says why in words.
    """

    offense_class: OffenseClass | None
    candidates: tuple[OffenseClass, ...] = ()
    reason: str | None = None
    # Title of the section (Texas), when the dictionary has one even if the class is not decided.
    title: str | None = None

    @property
    def kinds(self) -> frozenset[str]:
        """Every class still possible."""
        if self.offense_class is not None:
            return frozenset(self.offense_class.kinds)
        return frozenset(k for c in self.candidates for k in c.kinds)


@dataclass(frozen=True)
class ClassDictionary:
    id: str
    title: str
    jurisdiction: str
    state: str
    as_of: date
    evidence: str
    reviewed_by: str
    entries: tuple[OffenseClass, ...]
    sources: Mapping[str, ClassSource]
    tags: Mapping[str, frozenset[str]]  # class or grade -> tags it adds (e.g. wobbler -> ca_wobbler)
    notes: str | None = None
    path: Path | None = field(default=None, compare=False)
    _index: dict[tuple[str | None, str | None, str], list[OffenseClass]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        for entry in self.entries:
            self._index.setdefault(entry.ref.key, []).append(entry)

    def has_section(self, ref: StatuteRef) -> bool:
        return ref.key in self._index

    def section_title(self, ref: StatuteRef) -> str | None:
        for entry in self._index.get(ref.key, ()):
            if not entry.ref.subdivisions and entry.title:
                return entry.title
        return next((e.title for e in self._index.get(ref.key, ()) if e.title), None)

    def resolve(
        self, ref: StatuteRef, *, level: Level | None, on: date | None = None, given: Iterable[str] = ()
    ) -> ClassAnswer:
        tags = frozenset(given)
        entries = [e.settled(tags) for e in self._index.get(ref.key, ()) if e.in_force(on)]
        title = self.section_title(ref)
        if not entries:
            return ClassAnswer(None, (), None, title)
        above = [e for e in entries if ref.is_within(e.ref)]
        below = [e for e in entries if e.ref.is_within(ref) and e.ref != ref]
        if not below:
            if not above:
                return ClassAnswer(None, (), f"no class entry covers {ref}", title)
            entry = max(above, key=lambda e: len(e.ref.subdivisions))
            return _one(ref, entry, level, title)
        # The statute names less than the dictionary distinguishes: every entry below it is possible.
        candidates = below
        fitting = [e for e in candidates if level is None or _fits(e, level)]
        kinds = {k for e in fitting for k in e.kinds if level is None or k in _FITS[level]}
        listing = "; ".join(f"{e.ref.section}{e.ref.subdivision_text} {e.words()}" for e in candidates)
        if len(kinds) == 1 and fitting:
            kind = next(iter(kinds))
            at = f"as a {level.value}" if level else ""
            reason = (
                f"{ref} names no subdivision, but every subdivision that can be convicted {at} is a {kind}: {listing}"
            )
            chosen = fitting[0] if len(fitting) == 1 else _merged(ref, fitting, kind)
            return ClassAnswer(chosen, tuple(candidates), reason, title)
        reason = f"depends on the subdivision, which {ref} does not name: {listing}"
        return ClassAnswer(None, tuple(fitting or candidates), reason, title)


def _fits(entry: OffenseClass, level: Level) -> bool:
    return any(k in _FITS[level] for k in entry.kinds)


def _one(ref: StatuteRef, entry: OffenseClass, level: Level | None, title: str | None) -> ClassAnswer:
    if level is not None and not _fits(entry, level):
        reason = f"the record says {level.value}, but {entry.citation} is punished only as {entry.words()}"
        return ClassAnswer(entry, (), reason, title)
    if entry.kind is None and level is not None:
        kinds = [k for k in entry.kinds if k in _FITS[level]]
        if len(set(kinds)) == 1:
            return ClassAnswer(_replace(entry, kinds=(kinds[0],), grades=_grades_of(entry, kinds[0])), (), None, title)
    if entry.kind is None:
        return ClassAnswer(None, (entry,), f"{entry.citation}: {entry.words()}", title)
    return ClassAnswer(entry, (), None, title)


def _grades_of(entry: OffenseClass, kind: str) -> tuple[str, ...]:
    return tuple(g for g in entry.grades if GRADES[g] == kind)


def _merged(ref: StatuteRef, entries: list[OffenseClass], kind: str) -> OffenseClass:
    """One class for several subdivisions that agree (PC 245 convicted as a misdemeanor: a wobbler either way)."""
    first = entries[0]
    cited = ", ".join(f"{e.ref.section}{e.ref.subdivision_text}" for e in entries)
    return OffenseClass(
        ref=ref,
        statute=str(ref),
        kinds=(kind,),
        source=first.source,
        dictionary=first.dictionary,
        evidence="I",  # inferred from the entries, which each cite their text
        title=first.title,
        note=f"every subdivision that fits the level is a {kind}: {cited}",
    )


# --- loading ---------------------------------------------------------------------------------------------------------


def _source(ctx: _Ctx, key: str, data: object) -> ClassSource:
    where = f"source {key!r}"
    s = ctx.check_keys(where, data, _SOURCE_REQUIRED, _SOURCE_OPTIONAL)
    kind = ctx.text(where, s, "source") or ""
    if kind not in _SOURCE_KINDS:
        raise ctx.fail(where, "source", f"expected one of {sorted(_SOURCE_KINDS)}, got {kind!r}")
    return ClassSource(
        id=key,
        title=ctx.text(where, s, "title") or "",
        section=str(s["section"]).strip() if s.get("section") is not None else "",
        read_at=ctx.text(where, s, "read_at") or "",
        source=kind,
        url=ctx.text(where, s, "url", required=False),
        date=ctx.day(where, s, "date"),
    )


def _names(ctx: _Ctx, where: str, e: _Mapping, one: str, many: str, allowed: Iterable[str]) -> tuple[str, ...]:
    if one in e and many in e:
        raise ctx.fail(where, many, f"give {one!r} or {many!r}, not both")
    raw: Any = [e[one]] if one in e else e.get(many, [])
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise ctx.fail(where, many if many in e else one, "expected a name or a list of names")
    allowed = set(allowed)
    for value in raw:
        if value not in allowed:
            raise ctx.fail(where, many if many in e else one, f"expected one of {sorted(allowed)}, got {value!r}")
    if len(set(raw)) != len(raw):
        raise ctx.fail(where, many, "a name is listed twice")
    return tuple(raw)


def load_class_dictionary(path: Path) -> ClassDictionary:
    """Load and validate one class dictionary; errors name the file, the entry and the key."""
    ctx, d, dict_id, jurisdiction, state, evidence, as_of = read_header(
        path, "dictionary", _DICT_REQUIRED, _DICT_OPTIONAL, "us/<state>"
    )
    if not isinstance(d["sources"], _Mapping) or not d["sources"]:
        raise ctx.fail("dictionary", "sources", "expected a non-empty mapping of source ids")
    if d["sources"].duplicates:
        raise ctx.fail("dictionary", d["sources"].duplicates[0], "duplicate source id")
    sources = {str(k): _source(ctx, str(k), v) for k, v in d["sources"].items()}
    tag_map: dict[str, frozenset[str]] = {}
    raw_tags = d.get("tags") or {}
    if not isinstance(raw_tags, dict):
        raise ctx.fail("dictionary", "tags", "expected a mapping of class or grade to a list of tags")
    for name, tags in raw_tags.items():
        if name not in KINDS and name not in GRADES:
            raise ctx.fail("dictionary", "tags", f"unknown class or grade {name!r}")
        if not isinstance(tags, list) or not all(isinstance(t, str) and _TAG_RE.match(t) for t in tags):
            raise ctx.fail("dictionary", "tags", f"expected a list of snake_case tags for {name!r}")
        tag_map[str(name)] = frozenset(tags)

    if not isinstance(d["entries"], list):
        raise ctx.fail("dictionary", "entries", "expected a list")
    entries: list[OffenseClass] = []
    seen: dict[tuple[StatuteRef, date | None], int] = {}
    for i, raw_entry in enumerate(d["entries"]):
        where = f"entry {i}"
        e = ctx.check_keys(where, raw_entry, _ENTRY_REQUIRED, _ENTRY_OPTIONAL)
        statute = ctx.text(where, e, "statute") or ""
        ref = parse_statute(statute, default_state=state)
        if ref is None:
            raise ctx.fail(where, "statute", f"cannot read {statute!r} as a statute")
        if ref.state != state:
            raise ctx.fail(where, "statute", f"{statute!r} is not a statute of {state}")
        effective_from = ctx.day(where, e, "effective_from")
        if (ref, effective_from) in seen:
            raise ctx.fail(where, "statute", f"{statute!r} is already entry {seen[ref, effective_from]}")
        seen[ref, effective_from] = i
        grades = _names(ctx, where, e, "grade", "grades", GRADES)
        kinds = _names(ctx, where, e, "class", "classes", KINDS)
        if grades and kinds:
            raise ctx.fail(where, "class", "give a class or a Texas grade, not both")
        if grades:
            kinds = tuple(dict.fromkeys(GRADES[g] for g in grades))
        if not kinds:
            raise ctx.fail(where, "class", "missing: give 'class'/'classes' or 'grade'/'grades'")
        source_id = ctx.text(where, e, "source") or ""
        if source_id not in sources:
            raise ctx.fail(where, "source", f"unknown source id {source_id!r} (known: {', '.join(sorted(sources))})")
        entry_evidence = e.get("evidence", evidence)
        if entry_evidence not in EVIDENCE_TAGS:
            raise ctx.fail(where, "evidence", f"expected one of {sorted(EVIDENCE_TAGS)}, got {entry_evidence!r}")
        by_tag: list[tuple[str, str]] = []
        raw_by_tag = e.get("by_tag") or {}
        if not isinstance(raw_by_tag, dict):
            raise ctx.fail(where, "by_tag", "expected a mapping of tag to class or grade")
        for tag, value in raw_by_tag.items():
            if not isinstance(tag, str) or not _TAG_RE.match(tag):
                raise ctx.fail(where, "by_tag", f"expected a snake_case tag, got {tag!r}")
            if value not in (grades or kinds):
                raise ctx.fail(where, "by_tag", f"{tag!r}: {value!r} is not one of this entry's classes or grades")
            by_tag.append((tag, str(value)))
        if by_tag and len(kinds) + len(grades) < 2:
            raise ctx.fail(where, "by_tag", "only an entry with several classes or grades can be settled by a tag")
        entries.append(
            OffenseClass(
                ref=ref,
                statute=statute,
                kinds=kinds,
                grades=grades,
                source=sources[source_id],
                dictionary=dict_id,
                evidence=entry_evidence,
                by_tag=tuple(by_tag),
                title=ctx.text(where, e, "title", required=False),
                quote=ctx.text(where, e, "quote", required=False),
                note=ctx.text(where, e, "note", required=False),
                punished_by=ctx.text(where, e, "punished_by", required=False),
                effective_from=effective_from,
                effective_to=ctx.day(where, e, "effective_to"),
            )
        )
    unused = sorted(set(sources) - {e.source.id for e in entries})
    if unused:
        raise ctx.fail(f"source {unused[0]!r}", "-", "no entry cites this source")
    return ClassDictionary(
        id=dict_id,
        title=ctx.text("dictionary", d, "title") or "",
        jurisdiction=jurisdiction,
        state=state,
        as_of=as_of,
        evidence=evidence,
        reviewed_by=ctx.text("dictionary", d, "reviewed_by") or "",
        entries=tuple(entries),
        sources=sources,
        tags=tag_map,
        notes=ctx.text("dictionary", d, "notes", required=False),
        path=path,
    )


def load_class_dictionaries_from(directory: Path) -> dict[str, ClassDictionary]:
    """Every `*_offense_classes.yaml` in `directory`, by state code."""
    out: dict[str, ClassDictionary] = {}
    for path in sorted(directory.glob(_GLOB)):
        dictionary = load_class_dictionary(path)
        if dictionary.state in out:
            raise OffenseTableError(
                f"{path}: dictionary: key 'jurisdiction': a second dictionary for {dictionary.state}"
            )
        out[dictionary.state] = dictionary
    return out


@cache
def load_class_dictionaries() -> dict[str, ClassDictionary]:
    """The project's class dictionaries, loaded once per process."""
    return load_class_dictionaries_from(CLASSES_DIR)
