"""Condition trees to SQL: one compiler per node class, chosen by :func:`functools.singledispatch`.

SQL's NULL is the engine's UNKNOWN, and SQL's AND, OR and NOT follow the same (Kleene) tables as
:class:`~detainers.law.Tri`, so a compiled condition is TRUE, FALSE or NULL exactly when ``evaluate``
says TRUE, FALSE or UNKNOWN. Conditions over a list of rows (prior convictions, current charges) are
compiled twice: a per-row code (0 false, 1 unknown, 2 true) whose maximum per case is the three-valued
"there is one", and a case-level test of that maximum.

A node class without a compiler raises :class:`BulkCompileError`: a new kind of condition must never be
silently dropped from the bulk path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from functools import singledispatch

from detainers.domain import DetainerForm
from detainers.law._predicates import (
    AgreementIn,
    All,
    Always,
    Any_,
    ChargeMatch,
    ConvictionMatch,
    FieldIn,
    FlagIs,
    JurisdictionIn,
    Named,
    Not,
    PCBasisAny,
    PersonTagsAny,
    Predicate,
    ReadingIs,
    Requests,
)

__all__ = [
    "BulkCompileError",
    "CompileContext",
    "compile_condition",
    "compiled_node_classes",
    "literal",
    "walk",
]

# Case-level fact columns a FieldIn / FlagIs key reads (see the facts table in _evaluate).
FIELD_COLUMNS = {
    "form_in": "form",
    "warrant_in": "warrant",
    "status_proof_in": "status_proof",
    "eligibility_reason_in": "eligibility_reason",
}
FLAG_COLUMNS = {"lifted": "lifted", "box2": "box2", "served": "served"}


class BulkCompileError(ValueError):
    """A condition the bulk path cannot express (an unknown node class, field or flag)."""


def literal(value: object) -> str:
    """A SQL literal for a string, enum member (forms by code, others by value), bool or number."""
    if isinstance(value, DetainerForm):
        value = value.name
    elif isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise BulkCompileError(f"cannot write {value!r} as a SQL literal")


def _list(values: object) -> str:
    assert isinstance(values, frozenset | tuple | list | set)
    return "[" + ", ".join(sorted(literal(v) for v in values)) + "]"


@dataclass
class CompileContext:
    """Collects the row-level sub-conditions (convictions, charges) and the tags they test."""

    convictions: dict[ConvictionMatch, str] = field(default_factory=dict)
    charges: dict[ChargeMatch, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    lists: set[str] = field(default_factory=set)  # list-valued fact columns some condition reads
    readings: dict[str, str] = field(default_factory=dict)  # the readings applied (one per run, as in the engine)

    def tag_column(self, tag: str) -> str:
        if tag not in self.tags:
            self.tags[tag] = f"h_{len(self.tags)}"
        return self.tags[tag]

    def conviction_column(self, node: ConvictionMatch) -> str:
        if node not in self.convictions:
            self.convictions[node] = f"cm_{len(self.convictions)}"
            for tag in (*node.tags_any, *node.tags_all, *node.tags_none):
                self.tag_column(tag)
        return self.convictions[node]

    def charge_column(self, node: ChargeMatch) -> str:
        if node not in self.charges:
            self.charges[node] = f"ch_{len(self.charges)}"
            for tag in (*node.tags_any, *node.tags_all, *node.tags_none):
                self.tag_column(tag)
        return self.charges[node]

    def tags_code(self, any_of: frozenset[str], all_of: frozenset[str], none_of: frozenset[str], row: str) -> list[str]:
        """Row-level codes for ``_tags_tri``: ``row.h_i`` is 2 (has the tag), 1 (may have it) or 0."""
        parts = []
        if any_of:
            cols = [f"{row}.{self.tag_column(t)}" for t in sorted(any_of)]
            parts.append(cols[0] if len(cols) == 1 else f"GREATEST({', '.join(cols)})")
        parts += [f"{row}.{self.tag_column(t)}" for t in sorted(all_of)]
        parts += [f"(2 - {row}.{self.tag_column(t)})" for t in sorted(none_of)]
        return parts


def _least(parts: list[str]) -> str:
    if not parts:
        return "2"
    return parts[0] if len(parts) == 1 else f"LEAST({', '.join(parts)})"


def conviction_code(
    node: ConvictionMatch, ctx: CompileContext, conv: str = "c", cls: str = "k", facts: str = "f"
) -> str:
    """Per-conviction three-valued code (0/1/2) of ``ConvictionMatch._one``."""
    parts = []
    if node.level is not None:
        parts.append(f"(CASE WHEN {conv}.level = {literal(node.level)} THEN 2 ELSE 0 END)")
    if node.state_prison is not None:
        parts.append(
            f"(CASE WHEN {conv}.state_prison IS NULL THEN 1 "
            f"WHEN {conv}.state_prison = {literal(node.state_prison)} THEN 2 ELSE 0 END)"
        )
    if node.within_years is not None:
        anchor = f"{facts}.decision_date" if node.window_to == "decision" else f"{facts}.booking_date"
        start = (
            f"(CASE WHEN {conv}.sentence_end IS NOT NULL THEN GREATEST({conv}.date, {conv}.sentence_end) "
            f"ELSE {conv}.date END)"
            if node.window_from == "release"
            else f"{conv}.date"
        )
        parts.append(
            f"(CASE WHEN {anchor} IS NULL THEN 1 "
            f"WHEN {start} >= CAST({anchor} - INTERVAL {int(node.within_years)} YEAR AS DATE) THEN 2 ELSE 0 END)"
        )
    parts += ctx.tags_code(node.tags_any, node.tags_all, node.tags_none, cls)
    return _least(parts)


def charge_code(node: ChargeMatch, ctx: CompileContext, charge: str = "c", cls: str = "k") -> str:
    """Per-charge three-valued code (0/1/2) of one iteration of ``ChargeMatch.evaluate``."""
    parts = []
    if node.level is not None:
        parts.append(f"(CASE WHEN {charge}.level = {literal(node.level)} THEN 2 ELSE 0 END)")
    if node.magistrate_probable_cause is not None:
        parts.append(
            f"(CASE WHEN ({charge}.magistrate_pc_at IS NOT NULL) = {literal(node.magistrate_probable_cause)} "
            "THEN 2 ELSE 0 END)"
        )
    parts += ctx.tags_code(node.tags_any, node.tags_all, node.tags_none, cls)
    return _least(parts)


def _tri_of_code(column: str) -> str:
    return f"(CASE {column} WHEN 2 THEN TRUE WHEN 0 THEN FALSE ELSE NULL END)"


@singledispatch
def _compile(node: Predicate, ctx: CompileContext) -> str:
    raise BulkCompileError(
        f"no SQL compiler for condition node {type(node).__name__}: register one in "
        "detainers.law.bulk._compile before packs may use it in bulk replay"
    )


@_compile.register
def _(node: Always, ctx: CompileContext) -> str:
    return "TRUE"


@_compile.register
def _(node: All, ctx: CompileContext) -> str:
    return "(" + " AND ".join(_compile(i, ctx) for i in node.items) + ")"


@_compile.register
def _(node: Any_, ctx: CompileContext) -> str:
    return "(" + " OR ".join(_compile(i, ctx) for i in node.items) + ")"


@_compile.register
def _(node: Not, ctx: CompileContext) -> str:
    return f"(NOT {_compile(node.item, ctx)})"


@_compile.register
def _(node: Named, ctx: CompileContext) -> str:
    return _compile(node.item, ctx)


@_compile.register
def _(node: FieldIn, ctx: CompileContext) -> str:
    column = FIELD_COLUMNS.get(node.key)
    if column is None:
        raise BulkCompileError(f"no fact column for condition key {node.key!r}")
    if not node.values:
        return "FALSE"
    # Python's `in` never answers UNKNOWN: a missing value is simply not among them.
    return f"COALESCE({column} IN ({', '.join(sorted(literal(v) for v in node.values))}), FALSE)"


@_compile.register
def _(node: FlagIs, ctx: CompileContext) -> str:
    column = FLAG_COLUMNS.get(node.key)
    if column is None:
        raise BulkCompileError(f"no fact column for flag {node.key!r}")
    return f"({column} = {literal(node.expected)})"


@_compile.register
def _(node: Requests, ctx: CompileContext) -> str:
    return f"req_{node.request.value}"


@_compile.register
def _(node: PersonTagsAny, ctx: CompileContext) -> str:
    ctx.lists.add("person_tags")
    return f"COALESCE(list_has_any(person_tags, {_list(node.tags)}), FALSE)"


@_compile.register
def _(node: AgreementIn, ctx: CompileContext) -> str:
    ctx.lists.add("agreements")
    return f"COALESCE(list_has_any(agreements, {_list(node.agreements)}), FALSE)"


@_compile.register
def _(node: JurisdictionIn, ctx: CompileContext) -> str:
    parts = [
        f"jurisdiction = {literal(p)} OR starts_with(jurisdiction, {literal(p + '/')})" for p in sorted(node.paths)
    ]
    return f"COALESCE({' OR '.join(parts)}, FALSE)"


@_compile.register
def _(node: PCBasisAny, ctx: CompileContext) -> str:
    ctx.lists.add("pc_basis")
    return f"COALESCE(list_has_any(pc_basis, {_list(node.bases)}), FALSE)"


@_compile.register
def _(node: ReadingIs, ctx: CompileContext) -> str:
    # A reading is chosen per run (deployment configuration), not per case: a constant in the plan.
    chosen = ctx.readings.get(node.reading)
    return "CAST(NULL AS BOOLEAN)" if chosen is None else literal(chosen == node.option)


@_compile.register
def _(node: ConvictionMatch, ctx: CompileContext) -> str:
    return _tri_of_code(ctx.conviction_column(node))


@_compile.register
def _(node: ChargeMatch, ctx: CompileContext) -> str:
    return _tri_of_code(ctx.charge_column(node))


def compile_condition(node: Predicate, ctx: CompileContext) -> str:
    """A SQL boolean (NULL for UNKNOWN) over the facts table; row-level parts are registered in ``ctx``."""
    return _compile(node, ctx)


def compiled_node_classes() -> frozenset[type]:
    """Every node class with a compiler of its own (the base class only raises)."""
    return frozenset(cls for cls in _compile.registry if cls is not Predicate and cls is not object)


@singledispatch
def _children(node: Predicate) -> tuple[Predicate, ...]:
    return ()


@_children.register
def _(node: All) -> tuple[Predicate, ...]:
    return node.items


@_children.register
def _(node: Any_) -> tuple[Predicate, ...]:
    return node.items


@_children.register
def _(node: Not) -> tuple[Predicate, ...]:
    return (node.item,)


@_children.register
def _(node: Named) -> tuple[Predicate, ...]:
    return (node.item,)


def walk(node: Predicate) -> list[Predicate]:
    """The node and every node below it, depth first."""
    out = [node]
    for child in _children(node):
        out.extend(walk(child))
    return out
