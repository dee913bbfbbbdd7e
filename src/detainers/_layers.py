"""The declared layer table: every package under ``src/detainers``, its job and the packages it may import.

``tests/test_layers.py`` reads this table, parses every module with :mod:`ast` and fails on an import the table
does not allow, on an import of another package's private module or name (``detainers.ledger._schema``,
``from detainers.service import _desk``), and on a package the table does not name. The same test checks the
package table in ``docs/architecture.md`` against this one. Third-party dependencies are not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["LAYERS", "Layer"]


@dataclass(frozen=True)
class Layer:
    """One package: what it owns, in a line, and the ``detainers`` packages it may import (besides itself)."""

    package: str
    job: str
    imports: frozenset[str]


def _layer(package: str, imports: str, job: str) -> Layer:
    return Layer(package, job, frozenset(imports.split()))


# Lowest first; a package may import only packages named in its row, all of them rows above it.
LAYERS: tuple[Layer, ...] = (
    _layer("domain", "", "pure typed records of the detainer process; no I/O"),
    _layer("clock", "domain", "legal time: hold and notice deadlines, calendars, zones, over-detention"),
    _layer("law", "domain clock", "the law as data (packs, offense tables, conditions) and its evaluator"),
    _layer("notices", "domain clock law", "the notices and consent forms owed to the person, as PDF"),
    _layer("ledger", "domain", "the system of record: events in a hash chain, projections, personal data apart"),
    _layer("ingest", "domain law", "importers with provenance into DuckDB over Parquet"),
    _layer("analytics", "domain law", "honest numbers: outcomes, held-longer, re-arrest, reconciliation"),
    _layer("synth", "domain law", "the seeded synthetic population generator"),
    _layer("replay", "domain law ingest analytics", "what-if replay of history under another policy"),
    _layer("desk", "domain clock law notices ledger", "the application layer: unit of work, commands, queries"),
    _layer("service", "domain clock law notices desk", "the REST API, roles, deadline worker, outbox and notifiers"),
    _layer("web", "domain law notices analytics desk service", "server-rendered pages of the desk"),
    _layer("cli", "domain clock law notices ledger ingest analytics synth replay desk service web", "the command"),
)
