"""The compiler covers every condition node, field and flag, and refuses what it does not know."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest

from detainers.domain import Booking, Case, Charge, Conviction, Detainer, DetainerForm, Level, Person, WarrantKind
from detainers.law import _predicates
from detainers.law._facts import Facts
from detainers.law._predicates import FieldIn, FlagIs, Predicate
from detainers.law._tri import Tri
from detainers.law.bulk import BulkCompileError, cases_from_rows, compiled_node_classes, plan, tables_from_cases
from detainers.law.bulk._compile import FIELD_COLUMNS, FLAG_COLUMNS, CompileContext, compile_condition


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_subclasses(sub)}
    return out


def test_every_predicate_class_has_a_compiler() -> None:
    missing = sorted(
        c.__name__ for c in _subclasses(Predicate) - compiled_node_classes() if c.__module__ == _predicates.__name__
    )
    assert not missing, f"condition nodes without a SQL compiler: {missing}"


def test_every_field_and_flag_key_has_a_column() -> None:
    assert set(_predicates._FIELDS) <= set(FIELD_COLUMNS)
    assert set(_predicates._BOOLS) <= set(FLAG_COLUMNS)


def test_unknown_node_class_fails_loudly() -> None:
    @dataclass(frozen=True)
    class Moon(Predicate):
        def evaluate(self, facts: Facts, why: list[str]) -> Tri:
            return Tri.UNKNOWN

    with pytest.raises(BulkCompileError, match="Moon"):
        compile_condition(Moon(), CompileContext())


def test_unknown_field_key_fails_loudly() -> None:
    with pytest.raises(BulkCompileError, match="phase_of_moon"):
        compile_condition(FieldIn("phase_of_moon", frozenset({"full"})), CompileContext())
    with pytest.raises(BulkCompileError, match="waxing"):
        compile_condition(FlagIs("waxing", True), CompileContext())


def test_every_shipped_pack_compiles() -> None:
    compiled = plan()
    assert compiled.conditions  # one column per distinct rule condition
    assert compiled.ctx.convictions and compiled.ctx.charges


def test_tables_round_trip_cases() -> None:
    t0 = datetime(2021, 3, 1, 12, tzinfo=UTC)
    case = Case(
        name="rt",
        person=Person(
            convictions=(Conviction(statute="PC 211", level=Level.FELONY, date=date(2010, 1, 1), tags=("x",)),)
        ),
        booking=Booking(
            jurisdiction="us/ca/orange",
            timezone="America/Los_Angeles",
            booked_at=t0,
            charges=(Charge(statute="PC 459", level=Level.MISDEMEANOR, magistrate_probable_cause_at=t0),),
            eligible_for_release_at=t0,
        ),
        detainers=(
            Detainer(form=DetainerForm.I247A_2017, received_at=t0, warrant=WarrantKind.I200),
            Detainer(form=DetainerForm.I247G_2025),
        ),
    )
    tables = tables_from_cases([case])
    rows = {k: t.to_pylist() for k, t in tables.items()}
    (back,) = cases_from_rows(rows["bookings"], rows["detainers"], rows["convictions"], rows["charges"])
    assert back == case
