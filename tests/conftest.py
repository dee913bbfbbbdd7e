"""Suite-wide guard: a test that reaches PostgreSQL carries the ``postgres`` marker (so ``-m "not postgres"`` really
leaves the server out, and ``-m postgres`` runs every test that needs it)."""

from __future__ import annotations

import pytest

# Fixtures that open (or decide whether to open) a PostgreSQL schema.
POSTGRES_FIXTURES = frozenset({"pg_env", "postgres_url"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = []
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        param = getattr(getattr(item, "callspec", None), "params", {})
        uses = fixtures & POSTGRES_FIXTURES or "postgres" in param.values()
        if uses and item.get_closest_marker("postgres") is None:
            unmarked.append(item.nodeid)
    if unmarked:
        raise pytest.UsageError(f"tests that need PostgreSQL without @pytest.mark.postgres: {unmarked[:5]}")
