"""Coverage in words and in bulk: which layers of a jurisdiction the law is encoded for, and which fell back.

The engine puts a :class:`Coverage` on every decision; this module says it in one plain sentence for people
(CLI line, desk banner) and computes it for many cases at once where no per-case decision exists (replay).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from detainers.law._decision import Coverage, LayerRef
from detainers.law._engine import _coverage
from detainers.law._jurisdictions import layers_of
from detainers.law._packs import PackSet
from detainers.law._registry import jurisdiction_registry

__all__ = ["coverage_note", "coverage_of"]

_NOUN = {"federal": "federal law", "state": "state law", "county": "county policy", "agency": "agency policy"}


def coverage_of(jurisdiction: str, day: date, packs: PackSet) -> Coverage:
    """The coverage a decision for ``jurisdiction`` with pack versions in force on ``day`` would carry."""
    chain = []
    for layer in layers_of(jurisdiction):
        pack = packs.get(layer.path)
        version = pack.version_on(day) if pack is not None else None
        chain.append(
            LayerRef(
                level=layer.level,
                jurisdiction=layer.path,
                pack=pack.pack if pack is not None else None,
                version=version.version if version is not None else None,
            )
        )
    return _coverage(chain)


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _nouns(levels: list[str]) -> tuple[str, int]:
    """``["county", "agency"]`` -> ("county and agency policy", 2): laws and policies named once each."""
    laws = [lv for lv in levels if _NOUN[lv].endswith(" law")]
    policies = [lv for lv in levels if _NOUN[lv].endswith(" policy")]
    parts = []
    if laws:
        parts.append(_join(laws) + " law")
    if policies:
        parts.append(_join(policies) + " policy")
    return " and ".join(parts), len(levels)


def coverage_note(chain: Iterable[LayerRef | Mapping[str, Any]]) -> str | None:
    """One sentence for a decision whose coverage is incomplete (None when every layer is encoded).

    ``chain`` is the decision's ``jurisdiction_chain`` (objects or their JSON form).
    """
    layers = [c if isinstance(c, Mapping) else c.model_dump() for c in chain]
    fell = [c for c in layers if not (c.get("pack") and c.get("version"))]
    if not fell:
        return None
    encoded = [str(c["level"]) for c in layers if c.get("pack") and c.get("version")]
    registry = jurisdiction_registry()
    named = []
    for c in fell:
        path = str(c["jurisdiction"])
        why = "no version in force on the date" if c.get("pack") else "not encoded"
        place = registry.describe(path) if registry.is_registered(path) else "not in the registry"
        named.append(f"{path} ({place}; {why})")
    missing, count = _nouns([str(c["level"]) for c in fell])
    if encoded:
        have, n = _nouns(encoded)
        head = f"Only {have} {'is' if n == 1 else 'are'} encoded for this jurisdiction"
    else:
        head = "No law is encoded for this jurisdiction"
    return (
        f"{head}; {missing} {'is' if count == 1 else 'are'} not: {', '.join(named)}. "
        "The answer rests on the encoded layers only."
    )
