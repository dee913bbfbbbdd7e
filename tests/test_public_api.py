"""Public API is explicit (httpx-style): each package's __all__ is sorted and names exist."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = ["detainers.domain", "detainers.clock", "detainers.law", "detainers.law.offenses", "detainers.notices"]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=str.lower) or exported == sorted(exported)
    for item in exported:
        assert hasattr(module, item), f"{name}.{item} is in __all__ but missing"
    public = {n for n in vars(module) if not n.startswith("_") and not isinstance(getattr(module, n), type(importlib))}
    assert public <= set(exported) | {"annotations"}, sorted(public - set(exported))


def test_layers_import_one_way() -> None:
    """domain imports nothing above it; clock only domain; law never ledger/service/ingest/analytics; notices only
    domain, clock and law."""
    import ast
    from pathlib import Path

    root = Path(__file__).parents[1] / "src" / "detainers"
    forbidden = {
        "domain": ("detainers.clock", "detainers.law", "detainers.ledger", "detainers.service", "detainers.ingest"),
        "clock": ("detainers.law", "detainers.ledger", "detainers.service", "detainers.ingest", "detainers.analytics"),
        "law": ("detainers.ledger", "detainers.service", "detainers.ingest", "detainers.analytics", "detainers.cli"),
        "ledger": ("detainers.service", "detainers.cli"),
        "ingest": ("detainers.service",),
        "analytics": ("detainers.service",),
        # notices uses domain, clock and law; the desk, the API and the ledger call it, never the reverse
        "notices": ("detainers.ledger", "detainers.service", "detainers.web", "detainers.ingest", "detainers.cli"),
    }
    problems = []
    for layer, bad in forbidden.items():
        for path in (root / layer).rglob("*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                problems += [f"{path.relative_to(root)} imports {n}" for n in names if n.startswith(bad)]
    assert not problems, problems
