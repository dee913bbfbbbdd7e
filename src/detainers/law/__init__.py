"""Policy packs, offense tables and the evaluator: the law as data, applied at the legally relevant instant."""

from detainers.law._coverage import coverage_note, coverage_of
from detainers.law._decision import Coverage, Decision, LayerRef, Notice, RuleRef, Step, Transfer
from detainers.law._disclosure import SUPPRESS_BELOW, CountTable, Dimension, SuppressedCounts, suppress_counts
from detainers.law._engine import DecisionError, decide, default_packs, engine_version
from detainers.law._facts import ChargeFacts, ConvictionFacts, Facts
from detainers.law._jurisdictions import Layer, default_zone, layers_of, parse_jurisdiction
from detainers.law._packs import (
    PRIMARY_SOURCES,
    Citation,
    CourtOrder,
    Effects,
    Pack,
    PackError,
    PackSet,
    PackVersion,
    Permission,
    Reading,
    Rule,
    SharedCondition,
    SourceKind,
    load_packs,
)
from detainers.law._predicates import Predicate, PredicateError, parse_predicate
from detainers.law._registry import JurisdictionError, Place, check_jurisdiction, jurisdiction_registry
from detainers.law._scenarios import (
    CaseResult,
    Mismatch,
    Scenario,
    ScenarioError,
    check_scenario,
    decision_json,
    load_scenarios,
)
from detainers.law._tri import Tri

__all__ = [
    "CaseResult",
    "ChargeFacts",
    "check_jurisdiction",
    "check_scenario",
    "Citation",
    "ConvictionFacts",
    "CountTable",
    "CourtOrder",
    "Coverage",
    "coverage_note",
    "coverage_of",
    "decide",
    "Decision",
    "decision_json",
    "DecisionError",
    "default_packs",
    "default_zone",
    "Dimension",
    "Effects",
    "engine_version",
    "Facts",
    "jurisdiction_registry",
    "JurisdictionError",
    "Layer",
    "LayerRef",
    "layers_of",
    "load_packs",
    "load_scenarios",
    "Mismatch",
    "Notice",
    "Pack",
    "PackError",
    "PackSet",
    "PackVersion",
    "parse_jurisdiction",
    "parse_predicate",
    "Permission",
    "Place",
    "Predicate",
    "PredicateError",
    "PRIMARY_SOURCES",
    "Reading",
    "Rule",
    "RuleRef",
    "Scenario",
    "ScenarioError",
    "SharedCondition",
    "SourceKind",
    "Step",
    "SUPPRESS_BELOW",
    "suppress_counts",
    "SuppressedCounts",
    "Transfer",
    "Tri",
]
