"""Columnar bulk evaluation: the packs' own rules, compiled to DuckDB SQL over case tables.

One rule definition serves both paths: :func:`detainers.law.decide` evaluates a case's condition trees in
Python; :func:`bulk_decide` compiles the same trees (and the engine's layer composition) to SQL and answers
millions of cases in one plan. ``tests/bulk`` checks that both give the same answers.
"""

from detainers.law.bulk._compile import BulkCompileError, compile_condition, compiled_node_classes, literal, walk
from detainers.law.bulk._evaluate import RESULT_COLUMNS, BulkPlan, bulk_decide, plan
from detainers.law.bulk._schema import (
    BOOKINGS,
    CHARGES,
    CONVICTIONS,
    DETAINERS,
    SCHEMAS,
    BulkSource,
    cases_from_rows,
    tables_from_cases,
)

__all__ = [
    "BOOKINGS",
    "BulkCompileError",
    "BulkPlan",
    "BulkSource",
    "CHARGES",
    "CONVICTIONS",
    "DETAINERS",
    "RESULT_COLUMNS",
    "SCHEMAS",
    "bulk_decide",
    "cases_from_rows",
    "compile_condition",
    "compiled_node_classes",
    "literal",
    "plan",
    "tables_from_cases",
    "walk",
]
