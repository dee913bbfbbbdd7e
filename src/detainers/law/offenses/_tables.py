"""Offense tables: strict YAML loading and validation.

A table is legal data with provenance, so a typo must fail loudly: duplicate keys and unknown keys are errors, and every
error names the file, the entry and the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from detainers.domain import Level
from detainers.law.offenses._statute import StatuteRef, parse_statute

EVIDENCE_TAGS = frozenset({"V", "V3", "I", "R"})
_TAG_RE = re.compile(r"^[a-z][a-z0-9_]*(?:_[A-Z]{1,2})?$")

_TABLE_REQUIRED = frozenset({"id", "title", "jurisdiction", "as_of", "citation", "evidence", "reviewed_by", "entries"})
_TABLE_OPTIONAL = frozenset(
    {"effective_from", "effective_to", "notes", "tags", "level", "conduct_items", "derived_from"}
)
_ENTRY_REQUIRED = frozenset({"statute"})
_ENTRY_OPTIONAL = frozenset(
    {"tags", "item", "note", "level", "felony_only", "when_tag", "effective_from", "effective_to", "evidence"}
)
_CITATION_KEYS = frozenset({"title", "section", "url", "date", "quote", "source"})
_CONDUCT_KEYS = frozenset({"item", "text", "tags", "note"})


class OffenseTableError(ValueError):
    """A table file is malformed; the message names the file, the entry and the key."""


class _Mapping(dict[Any, Any]):
    """A YAML mapping that remembers keys it saw twice, so validation can report them with their entry index."""

    duplicates: list[str]

    def __init__(self) -> None:
        super().__init__()
        self.duplicates = []


class _StrictLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> _Mapping:
    loader.flatten_mapping(node)
    out = _Mapping()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            out.duplicates.append(str(key))
        out[key] = loader.construct_object(value_node, deep=True)
    return out


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


@dataclass(frozen=True, slots=True)
class Citation:
    title: str
    section: str
    url: str | None = None
    date: date | None = None
    quote: str | None = None
    source: str | None = None

    def __str__(self) -> str:
        return f"{self.title} {self.section}".strip()


@dataclass(frozen=True, slots=True)
class OffenseEntry:
    """One listed statute. It matches any statute at or below `ref` in the subdivision tree."""

    ref: StatuteRef
    statute: str
    tags: frozenset[str]
    item: str | None = None
    note: str | None = None
    level: Level | None = None
    when_tag: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    evidence: str | None = None


@dataclass(frozen=True, slots=True)
class ConductItem:
    """A listed item defined by conduct, not by a statute (e.g. "personally inflicts great bodily injury").

    Kept visible so nobody mistakes the statute entries for the whole list; never matched.
    """

    item: str
    text: str
    tags: frozenset[str] = frozenset()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class OffenseTable:
    id: str
    title: str
    jurisdiction: str
    state: str
    as_of: date
    citation: Citation
    evidence: str
    reviewed_by: str
    entries: tuple[OffenseEntry, ...]
    effective_from: date | None = None
    effective_to: date | None = None
    notes: str | None = None
    conduct_items: tuple[ConductItem, ...] = ()
    derived_from: str | None = None
    path: Path | None = field(default=None, compare=False)

    def in_force(self, on: date | None) -> bool:
        if on is None:
            return True
        return (self.effective_from is None or self.effective_from <= on) and (
            self.effective_to is None or on <= self.effective_to
        )


def state_of(jurisdiction: str) -> str | None:
    """`us/ca/los_angeles` -> `CA`; None for anything that is not `us/<state>...`."""
    parts = jurisdiction.strip().lower().split("/")
    if len(parts) >= 2 and parts[0] == "us" and len(parts[1]) == 2:
        return parts[1].upper()
    return None


class _Ctx:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, key: str, problem: str) -> OffenseTableError:
        return OffenseTableError(f"{self.path}: {where}: key {key!r}: {problem}")

    def check_keys(self, where: str, data: object, required: frozenset[str], optional: frozenset[str]) -> _Mapping:
        if not isinstance(data, _Mapping):
            raise self.fail(where, "-", f"expected a mapping, got {type(data).__name__}")
        if data.duplicates:
            raise self.fail(where, data.duplicates[0], "duplicate key")
        for key in data:
            if not isinstance(key, str) or key not in required | optional:
                raise self.fail(where, str(key), "unknown key")
        for key in sorted(required):
            if key not in data:
                raise self.fail(where, key, "missing required key")
        return data

    def text(self, where: str, data: _Mapping, key: str, *, required: bool = True) -> str | None:
        value = data.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, key, "expected a non-empty string")
        return value.strip()

    def day(self, where: str, data: _Mapping, key: str) -> date | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(where, key, f"expected an ISO date, got {value!r}")

    def tags(self, where: str, data: _Mapping, key: str) -> frozenset[str]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(t, str) and _TAG_RE.match(t) for t in value):
            raise self.fail(where, key, f"expected a list of snake_case tags, got {value!r}")
        return frozenset(value)

    def level(self, where: str, data: _Mapping) -> Level | None:
        raw = data.get("level")
        level = None
        if raw is not None:
            try:
                level = Level(raw)
            except ValueError:
                raise self.fail(where, "level", f"expected one of {[lv.value for lv in Level]}, got {raw!r}") from None
        if "felony_only" in data:
            if not isinstance(data["felony_only"], bool):
                raise self.fail(where, "felony_only", "expected true or false")
            if data["felony_only"]:
                if level not in (None, Level.FELONY):
                    raise self.fail(where, "felony_only", "contradicts 'level'")
                level = Level.FELONY
        return level


def _citation(ctx: _Ctx, data: object) -> Citation:
    c = ctx.check_keys("citation", data, frozenset({"title", "section"}), _CITATION_KEYS - {"title", "section"})
    return Citation(
        title=ctx.text("citation", c, "title") or "",
        section=ctx.text("citation", c, "section") or "",
        url=ctx.text("citation", c, "url", required=False),
        date=ctx.day("citation", c, "date"),
        quote=ctx.text("citation", c, "quote", required=False),
        source=ctx.text("citation", c, "source", required=False),
    )


class _Header(NamedTuple):
    """What an offense table and a class dictionary both start with, validated."""

    ctx: _Ctx
    body: _Mapping
    id: str
    jurisdiction: str
    state: str
    evidence: str
    as_of: date


def read_header(
    path: Path, where: str, required: frozenset[str], optional: frozenset[str], jurisdiction_shape: str
) -> _Header:
    """Parse ``path`` (strict YAML) and check the shared head: keys, ``id`` = file name, a state jurisdiction
    (``jurisdiction_shape`` names what is accepted in the error), an evidence tag and ``as_of``."""
    ctx = _Ctx(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506 - strict SafeLoader
    except yaml.YAMLError as exc:
        raise OffenseTableError(f"{path}: {where}: key '-': not valid YAML: {exc}") from exc
    body = ctx.check_keys(where, raw, required, optional)
    ident = ctx.text(where, body, "id") or ""
    if ident != path.stem:
        raise ctx.fail(where, "id", f"{ident!r} does not match the file name {path.stem!r}")
    jurisdiction = ctx.text(where, body, "jurisdiction") or ""
    state = state_of(jurisdiction)
    if state is None:
        raise ctx.fail(where, "jurisdiction", f"expected {jurisdiction_shape!r}, got {jurisdiction!r}")
    evidence = body["evidence"]
    if evidence not in EVIDENCE_TAGS:
        raise ctx.fail(where, "evidence", f"expected one of {sorted(EVIDENCE_TAGS)}, got {evidence!r}")
    as_of = ctx.day(where, body, "as_of")
    assert as_of is not None  # required key, checked above
    return _Header(ctx, body, ident, jurisdiction, state, str(evidence), as_of)


def load_table(path: Path) -> OffenseTable:
    """Load and validate one table file."""
    ctx, t, table_id, jurisdiction, state, evidence, as_of = read_header(
        path, "table", _TABLE_REQUIRED, _TABLE_OPTIONAL, "us/<state>[/...]"
    )
    table_tags = ctx.tags("table", t, "tags")
    table_level = ctx.level("table", t)

    if not isinstance(t["entries"], list):
        raise ctx.fail("table", "entries", "expected a list")
    entries: list[OffenseEntry] = []
    for i, raw_entry in enumerate(t["entries"]):
        where = f"entry {i}"
        e = ctx.check_keys(where, raw_entry, _ENTRY_REQUIRED, _ENTRY_OPTIONAL)
        statute = ctx.text(where, e, "statute") or ""
        ref = parse_statute(statute, default_state=state)
        if ref is None:
            raise ctx.fail(where, "statute", f"cannot read {statute!r} as a statute")
        if ref.state != state:
            raise ctx.fail(where, "statute", f"{statute!r} is not a statute of {state}")
        tags = table_tags | ctx.tags(where, e, "tags")
        if not tags:
            raise ctx.fail(where, "tags", "entry has no tags (and the table sets none)")
        entry_evidence = e.get("evidence")
        if entry_evidence is not None and entry_evidence not in EVIDENCE_TAGS:
            raise ctx.fail(where, "evidence", f"expected one of {sorted(EVIDENCE_TAGS)}, got {entry_evidence!r}")
        when_tag = ctx.text(where, e, "when_tag", required=False)
        if when_tag is not None and not _TAG_RE.match(when_tag):
            raise ctx.fail(where, "when_tag", f"expected a snake_case tag, got {when_tag!r}")
        item = e.get("item")
        entries.append(
            OffenseEntry(
                ref=ref,
                statute=statute,
                tags=tags,
                item=str(item) if item is not None else None,
                note=ctx.text(where, e, "note", required=False),
                level=ctx.level(where, e) or table_level,
                when_tag=when_tag,
                effective_from=ctx.day(where, e, "effective_from"),
                effective_to=ctx.day(where, e, "effective_to"),
                evidence=entry_evidence,
            )
        )

    conduct: list[ConductItem] = []
    for i, raw_item in enumerate(t.get("conduct_items") or []):
        where = f"conduct_item {i}"
        c = ctx.check_keys(where, raw_item, frozenset({"item", "text"}), _CONDUCT_KEYS - {"item", "text"})
        conduct.append(
            ConductItem(
                item=str(c["item"]),
                text=ctx.text(where, c, "text") or "",
                tags=ctx.tags(where, c, "tags"),
                note=ctx.text(where, c, "note", required=False),
            )
        )

    return OffenseTable(
        id=table_id,
        title=ctx.text("table", t, "title") or "",
        jurisdiction=jurisdiction,
        state=state,
        as_of=as_of,
        citation=_citation(ctx, t["citation"]),
        evidence=evidence,
        reviewed_by=ctx.text("table", t, "reviewed_by") or "",
        entries=tuple(entries),
        effective_from=ctx.day("table", t, "effective_from"),
        effective_to=ctx.day("table", t, "effective_to"),
        notes=ctx.text("table", t, "notes", required=False),
        conduct_items=tuple(conduct),
        derived_from=ctx.text("table", t, "derived_from", required=False),
        path=path,
    )
