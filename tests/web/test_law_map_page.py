"""The law map page without a browser: public (law, not people), bad input answered in words, registry from env."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from detainers.ingest import read_agreement_lists
from detainers.service import Settings
from detainers.web import create_app

FIXTURES = Path(__file__).resolve().parents[1] / "data" / "287g"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings=Settings(database_url=f"sqlite:///{tmp_path / 'desk.db'}", worker=False))
    with TestClient(app) as test_client:
        yield test_client


def test_anyone_may_open_it_and_it_names_no_person(client: TestClient) -> None:
    page = client.get("/law-map?on=2025-06-01&dim=notify")
    assert page.status_code == 200
    assert '<svg class="lawmap"' in page.text and 'data-dim="notify"' in page.text
    assert "<caption>" in page.text and 'scope="row"' in page.text
    assert re.search(r'href="/law-map"[^>]*aria-current="page"', page.text), "the nav marks the page"
    assert "booking" not in page.text.lower()


def test_bad_input_is_answered_in_words(client: TestClient) -> None:
    page = client.get("/law-map?on=yesterday&dim=color")
    assert page.status_code == 400
    assert "“yesterday” is not a date" in page.text and "“color” is not one of" in page.text


def test_a_registry_named_in_the_environment_is_counted(
    client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = tmp_path / "287g.csv"
    registry.write_text(read_agreement_lists(sorted(FIXTURES.glob("*.csv"))).registry.to_csv(), encoding="utf-8")
    monkeypatch.setenv("DETAINERS_AGREEMENTS", str(registry))
    page = client.get("/law-map?on=2025-06-01")
    assert "287(g)" in page.text and "data-agreements=" in page.text
    monkeypatch.setenv("DETAINERS_AGREEMENTS", str(tmp_path / "missing.csv"))
    page = client.get("/law-map?on=2025-06-01")
    assert page.status_code == 200 and "could not be read" in page.text and "data-agreements=" not in page.text
