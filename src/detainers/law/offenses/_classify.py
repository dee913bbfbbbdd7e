"""Classifying a statute against the offense tables.

The index is built once (a dict keyed by (state, code, section)), so classification is a parse (cached) plus one
dict lookup and a short filter; bulk replay can instead join `OffenseTables.rows()` in DuckDB.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import NamedTuple

from detainers.domain import Level
from detainers.law.offenses._classes import ClassAnswer, ClassDictionary, OffenseClass, load_class_dictionaries
from detainers.law.offenses._doj import doj_known_sections, doj_wobbler_hint
from detainers.law.offenses._statute import StatuteRef, parse_statute
from detainers.law.offenses._tables import OffenseEntry, OffenseTable, OffenseTableError, load_table, state_of

TABLES_DIR = Path(__file__).resolve().parent / "tables"

# Plain policy words mapped to the state's list tags (Gov. Code 7282(f)/(g) define them by PC 1192.7(c)/667.5(c)).
_PLAIN_TAGS: dict[str, dict[str, str]] = {"CA": {"serious": "ca_serious", "violent": "ca_violent"}}


@dataclass(frozen=True, slots=True)
class Match:
    table_id: str
    item: str | None
    citation: str  # e.g. "Cal. Penal Code 1192.7(c)(19)"
    evidence: str
    tags: frozenset[str]
    entry_statute: str
    when_tag: str | None = None  # the match counts only if the input carries this tag
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Classification:
    statute: str
    ref: StatuteRef | None
    tags: frozenset[str]
    matches: tuple[Match, ...]
    known: bool
    reason: str | None = None
    # Matched the statute, but the entry needs a fact the statute cannot show (degree, value, conduct): the engine
    # must decide, or the caller passes the `when_tag` in `extra_tags`.
    conditional: tuple[Match, ...] = ()
    # Matched the statute, but the entry is limited to a level and the level was not given.
    needs_level: tuple[Match, ...] = ()
    # The punishment class the statute text gives (state class dictionary), when it decides one.
    offense_class: OffenseClass | None = None
    # The classes still possible when the text does not decide (the statute names no subdivision, or a fact decides).
    class_candidates: tuple[OffenseClass, ...] = ()
    # Why the class is what it is, or why it is not decided ("depends on the subdivision ...").
    class_reason: str | None = None
    # The section's title, where the dictionary has one (Texas Penal Code section names).
    title: str | None = None


class OffenseRow(NamedTuple):
    """Flat record for joining in bulk (one per entry and tag). Dates combine table and entry limits."""

    table_id: str
    state: str | None
    code: str | None
    section: str  # StatuteRef.key_section
    subdivisions_prefix: str  # "(a)(1)" or ""
    tag: str
    level_limit: str | None
    effective_from: date | None
    effective_to: date | None
    when_tag: str | None


def _join_item(citation: str, item: str) -> str:
    """'Gov. Code 7282.5(a)(3)' + '(a)(3)(F)' -> 'Gov. Code 7282.5(a)(3)(F)': drop the part both repeat."""
    for k in range(len(item), 0, -1):
        if item[k - 1] == ")" and citation.endswith(item[:k]):
            return citation + item[k:]
    return citation + item


@dataclass(frozen=True, slots=True)
class _Indexed:
    table: OffenseTable
    entry: OffenseEntry

    def in_force(self, on: date | None) -> bool:
        if not self.table.in_force(on):
            return False
        e = self.entry
        return on is None or (
            (e.effective_from is None or e.effective_from <= on) and (e.effective_to is None or on <= e.effective_to)
        )

    def match(self) -> Match:
        t, e = self.table, self.entry
        item = f"({e.item})" if e.item and not e.item.startswith("(") else e.item
        return Match(
            table_id=t.id,
            item=e.item,
            citation=_join_item(str(t.citation), item or ""),
            evidence=e.evidence or t.evidence,
            tags=e.tags,
            entry_statute=e.statute,
            when_tag=e.when_tag,
            note=e.note,
        )


def _max(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else max(a, b)


def _min(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else min(a, b)


_MEMO_LIMIT = 65_536  # classifications remembered per table set (cleared when full)


class OffenseTables:
    """All loaded tables with a lookup index."""

    def __init__(
        self, tables: Iterable[OffenseTable], dictionaries: Mapping[str, ClassDictionary] | None = None
    ) -> None:
        self.tables: dict[str, OffenseTable] = {}
        # Punishment classes per state (law/data/*_offense_classes.yaml), by state code.
        self.dictionaries: Mapping[str, ClassDictionary] = (
            load_class_dictionaries() if dictionaries is None else dictionaries
        )
        self._index: dict[tuple[str | None, str | None, str], list[_Indexed]] = {}
        self._states: set[str] = set()
        # classify() is pure in its arguments; the service and bulk paths ask the same few statutes again and again.
        self._memo: dict[tuple[object, ...], Classification] = {}
        for table in tables:
            if table.id in self.tables:
                raise OffenseTableError(f"{table.path}: table: key 'id': duplicate table id {table.id!r}")
            self.tables[table.id] = table
            self._states.add(table.state)
            for entry in table.entries:
                self._index.setdefault(entry.ref.key, []).append(_Indexed(table, entry))

    def __getitem__(self, table_id: str) -> OffenseTable:
        return self.tables[table_id]

    def __iter__(self) -> Iterator[OffenseTable]:
        return iter(self.tables.values())

    def __len__(self) -> int:
        return len(self.tables)

    def candidates(self, ref: StatuteRef) -> list[_Indexed]:
        return [ix for ix in self._index.get(ref.key, ()) if ref.is_within(ix.entry.ref)]

    def narrower(self, ref: StatuteRef) -> list[_Indexed]:
        """Entries below `ref` (the statute names less than the entry): they may apply, depending on the subdivision."""
        return [ix for ix in self._index.get(ref.key, ()) if ix.entry.ref.is_within(ref) and ix.entry.ref != ref]

    def in_tables(self, ref: StatuteRef) -> bool:
        return ref.key in self._index

    def has_state(self, state: str | None) -> bool:
        return state in self._states

    def rows(self) -> Iterator[OffenseRow]:
        for table in self.tables.values():
            for e in table.entries:
                for tag in sorted(e.tags):
                    yield OffenseRow(
                        table_id=table.id,
                        state=e.ref.state,
                        code=e.ref.code,
                        section=e.ref.key_section,
                        subdivisions_prefix=e.ref.subdivision_text,
                        tag=tag,
                        level_limit=e.level.value if e.level else None,
                        effective_from=_max(table.effective_from, e.effective_from),
                        effective_to=_min(table.effective_to, e.effective_to),
                        when_tag=e.when_tag,
                    )
        for dictionary in self.dictionaries.values():
            for c in dictionary.entries:
                for tag in sorted(_class_tags(dictionary, c)):
                    yield OffenseRow(
                        table_id=dictionary.id,
                        state=c.ref.state,
                        code=c.ref.code,
                        section=c.ref.key_section,
                        subdivisions_prefix=c.ref.subdivision_text,
                        tag=tag,
                        level_limit=None,
                        effective_from=c.effective_from,
                        effective_to=c.effective_to,
                        when_tag=None if c.kind or c.grade else "facts_decide_the_class",
                    )

    def classify(
        self,
        statute: str,
        *,
        level: Level | None,
        jurisdiction: str,
        on: date | None = None,
        extra_tags: Iterable[str] = (),
    ) -> Classification:
        given = frozenset(extra_tags)
        key = (statute, level, state_of(jurisdiction), on, given)
        if not isinstance(statute, str):
            return self._classify(statute, level=level, state=key[2], on=on, given=given)
        found = self._memo.get(key)
        if found is None:
            found = self._classify(statute, level=level, state=key[2], on=on, given=given)
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            self._memo[key] = found
        return found

    def _classify(
        self, statute: str, *, level: Level | None, state: str | None, on: date | None, given: frozenset[str]
    ) -> Classification:
        ref = parse_statute(statute, default_state=state) if isinstance(statute, str) else None
        plain = _PLAIN_TAGS.get((ref.state if ref else None) or state or "", {})
        explicit = frozenset(plain.get(t, t) for t in given)
        if ref is None:
            return Classification(statute, None, explicit, (), False, f"cannot read a statute from {statute!r}")

        matches: list[Match] = []
        conditional: list[Match] = []
        needs_level: list[Match] = []
        tags = set(explicit)
        for ix in self.candidates(ref):
            if not ix.in_force(on):
                continue
            m = ix.match()
            limit = ix.entry.level
            if limit is not None and level is None:
                needs_level.append(m)
                continue
            if limit is not None and level != limit:
                continue
            if m.when_tag is not None and m.when_tag not in given:
                conditional.append(m)
                continue
            matches.append(m)
            tags |= m.tags
        # An entry for a subdivision (1192.7(c)(31): 245(a)(1), not 245(a)(4)) can apply to a statute that names no
        # subdivision, but only depending on which one: possible, never matched and never silently dropped.
        covered = {t for m in matches for t in m.tags}
        for ix in self.narrower(ref):
            if not ix.in_force(on) or (ix.entry.level is not None and level is not None and level != ix.entry.level):
                continue
            m = ix.match()
            if m.tags <= covered:
                continue
            sub = f"{ix.entry.ref.section}{ix.entry.ref.subdivision_text}"
            conditional.append(
                Match(
                    table_id=m.table_id,
                    item=m.item,
                    citation=m.citation,
                    evidence=m.evidence,
                    tags=m.tags,
                    entry_statute=m.entry_statute,
                    when_tag=f"the subdivision is {sub} (the record names no subdivision)",
                    note=m.note,
                )
            )

        answer = self._offense_class(ref, level=level, on=on, given=given)
        dictionary = self.dictionaries.get(ref.state or "")
        if dictionary is not None:
            if answer.offense_class is not None:
                # Always shown, also when the class carries no tag: "misdemeanor by the statute text" is why a
                # straight misdemeanor is not a wobbler.
                found = _class_tags(dictionary, answer.offense_class)
                matches.append(_class_match(answer.offense_class, found, answer.reason))
                tags |= found
            elif answer.candidates:
                possible = frozenset().union(
                    *(dictionary.tags.get(k, frozenset()) for c in answer.candidates for k in (*c.kinds, *c.grades))
                )
                if possible:
                    conditional.append(_undecided_match(ref, answer, possible, dictionary))
            elif ref.state == "CA" and (hint := doj_wobbler_hint(ref)) is not None:
                # Not in the dictionary: a charge table with felony and misdemeanor rows makes a wobbler
                # possible, never certain (its rows can belong to other subdivisions or aggravated forms).
                possible = dictionary.tags.get("wobbler", frozenset())
                if possible:
                    conditional.append(_doj_match(ref, hint, possible))
                    answer = ClassAnswer(None, (), f"statute text not in the class dictionary; {hint}", answer.title)

        known, reason = self._known(ref)
        return Classification(
            statute=statute,
            ref=ref,
            tags=frozenset(tags),
            matches=tuple(matches),
            known=known,
            reason=reason,
            conditional=tuple(conditional),
            needs_level=tuple(needs_level),
            offense_class=answer.offense_class,
            class_candidates=answer.candidates,
            class_reason=answer.reason,
            title=answer.title,
        )

    def _offense_class(
        self, ref: StatuteRef, *, level: Level | None, on: date | None, given: frozenset[str]
    ) -> ClassAnswer:
        dictionary = self.dictionaries.get(ref.state or "")
        if dictionary is None:
            return ClassAnswer(None)
        return dictionary.resolve(ref, level=level, on=on, given=given)

    def _known(self, ref: StatuteRef) -> tuple[bool, str | None]:
        if self.in_tables(ref):
            return True, None
        dictionary = self.dictionaries.get(ref.state or "")
        if dictionary is not None and dictionary.has_section(ref):
            return True, None
        if ref.state == "CA":
            if ref.key in doj_known_sections():
                return True, None
            return False, f"{ref.code} {ref.section} is not in the CA DOJ statute dictionary or any CA table"
        if ref.state is None:
            return False, "no state for the statute (give a jurisdiction or a state prefix)"
        if dictionary is not None:
            return (
                False,
                f"{ref.code} {ref.section} is not in the {dictionary.title} or any us/{ref.state.lower()} table",
            )
        if self.has_state(ref.state):
            return False, f"{ref} is not in any us/{ref.state.lower()} table"
        return False, f"no statute dictionary for us/{ref.state.lower()}"


def _class_tags(dictionary: ClassDictionary, entry: OffenseClass) -> frozenset[str]:
    """Tags a class gives (e.g. wobbler -> ca_wobbler); only when the entry decides one class."""
    if entry.kind is None and entry.grade is None:
        return frozenset()
    names = [n for n in (entry.kind, entry.grade) if n is not None]
    return frozenset().union(*(dictionary.tags.get(n, frozenset()) for n in names))


def _class_match(entry: OffenseClass, tags: frozenset[str], reason: str | None) -> Match:
    said = f"{entry.words()} by the statute text"
    if entry.punished_by:
        said += f" (punished by {entry.punished_by})"
    return Match(
        table_id=entry.dictionary,
        item=None,
        citation=entry.citation,
        evidence=entry.evidence,
        tags=tags,
        entry_statute=entry.statute,
        note=reason or said,
    )


def _undecided_match(ref: StatuteRef, answer: ClassAnswer, tags: frozenset[str], dictionary: ClassDictionary) -> Match:
    """A class tag the statute may carry: the text decides it only with the subdivision or a fact."""
    first = answer.candidates[0]
    carrying = [c for c in answer.candidates if any(dictionary.tags.get(k) for k in (*c.kinds, *c.grades))]
    if any(ref.is_within(c.ref) for c in answer.candidates):
        kinds = sorted({k for c in carrying for k in (*c.kinds, *c.grades) if dictionary.tags.get(k)})
        settle = sorted({t for c in carrying for t, _ in c.by_tag})
        condition = f"the facts make it a {' or '.join(kinds)}"
        if settle:
            condition += f" (a tag settles it: {', '.join(settle)})"
    else:
        which = ", ".join(f"{c.ref.section}{c.ref.subdivision_text}" for c in carrying) or "another subdivision"
        condition = f"the subdivision is {which} (the record names no subdivision)"
    return Match(
        table_id=first.dictionary,
        item=None,
        citation=f"{first.source.title} {ref.section}{ref.subdivision_text}",
        evidence=first.evidence,
        tags=tags,
        entry_statute=str(ref),
        when_tag=condition,
        note=answer.reason,
    )


def _doj_match(ref: StatuteRef, hint: str, tags: frozenset[str]) -> Match:
    return Match(
        table_id="ca_doj_offense_table",
        item=None,
        citation=f"CA DOJ CJIS offense table, {ref.code} {ref.section}{ref.subdivision_text}",
        evidence="I",
        tags=tags,
        entry_statute=str(ref),
        when_tag=(
            "the statute text makes it a wobbler (not read; the charge table only lists felony and misdemeanor forms)"
        ),
        note=hint,
    )


def load_offense_tables_from(directory: Path) -> OffenseTables:
    """Load every `*.yaml` table in `directory` (for tests and alternative table sets)."""
    return OffenseTables(load_table(p) for p in sorted(directory.glob("*.yaml")))


@cache
def load_offense_tables() -> OffenseTables:
    """The project's tables, loaded once per process."""
    return load_offense_tables_from(TABLES_DIR)


def classify(
    statute: str,
    *,
    level: Level | None,
    jurisdiction: str,
    on: date | None = None,
    extra_tags: Iterable[str] = (),
) -> Classification:
    """Classify against the project's tables; see `OffenseTables.classify`."""
    return load_offense_tables().classify(statute, level=level, jurisdiction=jurisdiction, on=on, extra_tags=extra_tags)
