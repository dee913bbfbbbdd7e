"""Public API is explicit (httpx-style): each package's __all__ is sorted and names exist."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "detainers.domain",
    "detainers.clock",
    "detainers.law",
    "detainers.law.offenses",
    "detainers.notices",
    "detainers.desk",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_is_sorted_and_complete(name: str) -> None:
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=str.lower) or exported == sorted(exported)
    for item in exported:
        assert hasattr(module, item), f"{name}.{item} is in __all__ but missing"
    public = {n for n in vars(module) if not n.startswith("_") and not isinstance(getattr(module, n), type(importlib))}
    assert public <= set(exported) | {"annotations"}, sorted(public - set(exported))
