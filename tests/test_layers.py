"""The layer table (``detainers._layers.LAYERS``) holds: every import between packages is declared, no package reaches
into another's private modules or names, and docs/architecture.md shows the same table."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from detainers._layers import LAYERS

ROOT = Path(__file__).parents[1] / "src" / "detainers"
ARCHITECTURE = Path(__file__).parents[1] / "docs" / "architecture.md"


def _module_parts(relative: str) -> list[str]:
    parts = ["detainers", *Path(relative).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(relative: str, source: str) -> Iterable[tuple[int, str, list[str]]]:
    """(line, absolute module, names imported from it) for every import in a module, relative ones resolved."""
    here = _module_parts(relative)
    package = here if relative.endswith("__init__.py") else here[:-1]
    for node in ast.walk(ast.parse(source, relative)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module, [alias.name for alias in node.names]


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def violations(sources: Mapping[str, str]) -> list[str]:
    """Every breach of the layer table in ``sources`` (path relative to src/detainers → module text)."""
    table = {layer.package: layer.imports for layer in LAYERS}
    problems = []
    for relative, source in sorted(sources.items()):
        parts = Path(relative).parts
        if len(parts) == 1:  # detainers/__init__.py, detainers/_layers.py: import no package
            owner = None
        else:
            owner = parts[0]
            if owner not in table:
                problems.append(f"{relative}: package {owner!r} is not in the layer table")
                continue
        for line, module, names in _imports(relative, source):
            pieces = module.split(".")
            if pieces[0] != "detainers" or len(pieces) < 2 or pieces[1] == owner:
                continue
            target = pieces[1]
            where = f"{relative}:{line}"
            if owner is None or target not in table[owner]:
                problems.append(f"{where}: {owner or 'detainers'} may not import {target} ({module})")
            if any(_private(piece) for piece in pieces[1:]):
                problems.append(f"{where}: private module {module} of another package")
            problems += [f"{where}: private name {module}.{n} of another package" for n in names if _private(n)]
    return problems


def _tree() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text() for p in ROOT.rglob("*.py")}


def test_the_code_keeps_the_layer_table() -> None:
    assert violations(_tree()) == []


def test_every_package_is_in_the_table_and_the_table_is_acyclic() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    declared = [layer.package for layer in LAYERS]
    assert sorted(declared) == sorted(packages)
    seen: set[str] = set()
    for layer in LAYERS:  # each row may import only rows above it: the order is a topological order
        assert layer.imports <= seen, (layer.package, sorted(layer.imports - seen))
        seen.add(layer.package)


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("domain/_planted.py", "from detainers.ledger import Recorder\n", "domain may not import ledger"),
        ("clock/_planted.py", "def f():\n    import detainers.service\n", "clock may not import service"),
        ("web/_planted.py", "from detainers.service._desk import Desk\n", "private module detainers.service._desk"),
        ("web/_planted.py", "from detainers.service import _need_to_know\n", "private name detainers.service._need"),
        ("service/_planted.py", "from detainers.ledger import Recorder\n", "service may not import ledger"),
        ("web/_planted.py", "from detainers.ledger import BookingState\n", "web may not import ledger"),
        ("desk/_planted.py", "from detainers.service import Desk\n", "desk may not import service"),
        ("law/bulk/_planted.py", "from ...ledger import Recorder\n", "law may not import ledger"),
        ("newpkg/_planted.py", "import os\n", "package 'newpkg' is not in the layer table"),
    ],
)
def test_a_planted_violation_fails(path: str, source: str, expected: str) -> None:
    tree = _tree()
    assert violations(tree) == []
    tree[path] = source
    found = violations(tree)
    assert len(found) == 1 and expected in found[0], found


def test_imports_within_a_package_and_public_modules_are_allowed() -> None:
    planted = {
        "service/_planted.py": "from detainers.service._desk import Desk\nfrom detainers.law.bulk import plan\n",
        "law/bulk/_planted.py": "from .._engine import decide\nfrom detainers.clock import Clock\n",
    }
    assert violations({**_tree(), **planted}) == []


def _documented_table() -> dict[str, set[str]]:
    rows = {}
    for line in ARCHITECTURE.read_text().splitlines():
        match = re.match(r"\| `detainers\.(\w+)` \|.*\| (.*) \|$", line)
        if match:
            cell = match.group(2).strip()
            rows[match.group(1)] = set() if cell == "—" else {p.strip(" `") for p in cell.split(",")}
    return rows


def test_architecture_doc_matches_the_table() -> None:
    documented = _documented_table()
    declared = {layer.package: set(layer.imports) for layer in LAYERS}
    assert documented == declared
