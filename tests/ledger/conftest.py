from __future__ import annotations

from collections.abc import Iterator

import pytest

from detainers.ledger._testing import postgres_unavailable, temporary_postgres_schema


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return postgres_unavailable()


@pytest.fixture
def postgres_url(postgres_reason: str | None) -> Iterator[str]:
    if postgres_reason is not None:
        pytest.skip(postgres_reason)
    with temporary_postgres_schema() as url:
        yield url
