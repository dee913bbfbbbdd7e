"""The law map page in headless Chromium against a real uvicorn server: its table says what `packs map --json` says
for the same date, its tiles agree with the table, the date and dimension controls work without JavaScript, and
287(g) counts appear when the desk has a registry. Writes docs/screenshots/law-map.png under `make screenshots`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from detainers.cli import app as cli
from detainers.ingest import read_agreement_lists
from detainers.law import AgreementRegistry
from detainers.service import Settings, build_services
from detainers.web import create_app

from ._browser import SCREENSHOTS, chromium, serving, skip_without_chromium

pytestmark = pytest.mark.browser

DAY = "2025-06-01"  # a real date: several state laws of 2025 are in force, others not yet
FIXTURES = Path(__file__).resolve().parents[1] / "data" / "287g"

skip_without_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@dataclass
class Server:
    url: str
    app: Any


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    db = tmp_path_factory.mktemp("lawmap") / "desk.db"
    services = build_services(Settings(database_url=f"sqlite:///{db}", worker=False))
    app = create_app(services=services)
    try:
        with serving(app, "law-map-test-server") as url:
            yield Server(url, app)
    finally:
        services.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _page(browser: Browser, server: Server, *, script: bool = True, width: int = 1440, height: int = 1000) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": height}, base_url=server.url, java_script_enabled=script
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def _cli_map(day: str, *extra: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["packs", "map", "--on", day, "--json", *extra])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    return data


_READ_TABLE = """() => Array.from(document.querySelectorAll('#law-map-table tbody tr')).map(tr => ({
  state: tr.dataset.state,
  answers: Object.fromEntries(Array.from(tr.querySelectorAll('td[data-dim]')).map(td => [td.dataset.dim,
    td.dataset.answer])),
  version: (document.querySelector(`#law-map-details tr[data-state="${tr.dataset.state}"] a.mono`)
    || {textContent: ''}).textContent.trim(),
  agreements: (tr.querySelector('td[data-agreements]') || {dataset: {agreements: null}}).dataset.agreements,
}))"""

_READ_TILES = """() => Object.fromEntries(Array.from(document.querySelectorAll('svg.lawmap a[data-state]')).map(a =>
  [a.dataset.state, [a.dataset.answer, a.textContent.replace(/\\s+/g, ' ').trim()]]))"""


def test_the_table_says_what_packs_map_json_says_and_the_tiles_agree(server: Server, browser: Browser) -> None:
    page = _page(browser, server)
    page.goto(f"/law-map?on={DAY}")
    expect(page.locator("h1")).to_contain_text("state by state")
    rows = page.evaluate(_READ_TABLE)
    data = _cli_map(DAY)
    assert data["date"] == DAY
    expected = {s["code"]: s for s in data["states"]}
    assert [r["state"] for r in rows] == list(expected), "one row per state and DC, in the same order"
    for row in rows:
        want = expected[row["state"]]
        assert row["answers"] == {dim: want[dim]["answer"] for dim in ("hold", "notify", "transfer")}, row["state"]
        assert row["version"] == (f"{want['pack']}@{want['version']}" if want["version"] else ""), row["state"]
    tiles = page.evaluate(_READ_TILES)
    assert set(tiles) == set(expected), "a tile for every state and DC"
    codes = {"forbid": "NO", "allow": "MAY", "require": "MUST", "depends": "DEP"}
    for code, (answer, text) in tiles.items():
        assert answer == expected[code]["hold"]["answer"], code
        assert text.startswith(code) and codes[answer] in text, f"{code}: the tile says its answer in text: {text!r}"
    assert {a for a, _ in tiles.values()} >= {"forbid", "allow", "require", "depends"}, "the date shows every colour"
    # accessibility: a caption, scoped headers, and a title and description on the map
    assert page.locator("#law-map-table caption").count() == 1
    assert page.locator("#law-map-table thead th[scope=col]").count() >= 4
    assert page.locator("#law-map-table tbody th[scope=row]").count() == len(rows)
    assert page.locator("svg.lawmap title").first.text_content()
    page.set_viewport_size({"width": 1440, "height": 1150})
    _shot(page, "law-map.png")
    page.context.close()


def test_date_and_dimension_controls_work_without_javascript(server: Server, browser: Browser) -> None:
    page = _page(browser, server, script=False)
    page.goto(f"/law-map?on={DAY}")
    page.fill("#lm-on", "2015-06-01")
    page.select_option("#lm-dim", "transfer")
    page.click("button:has-text('Show')")
    expect(page).to_have_url(f"{server.url}/law-map?on=2015-06-01&dim=transfer")
    expect(page.locator("svg.lawmap")).to_have_attribute("data-dim", "transfer")
    expect(page.locator("#law-map-table")).to_have_attribute("data-date", "2015-06-01")
    rows = page.evaluate(_READ_TABLE)
    earlier = {s["code"]: s for s in _cli_map("2015-06-01")["states"]}
    assert {r["state"]: r["answers"]["transfer"] for r in rows} == {
        c: s["transfer"]["answer"] for c, s in earlier.items()
    }
    # the timeline links land on the policy page's pack anchors
    link = page.locator("#tl-TX a.mono").first
    assert (link.get_attribute("href") or "").startswith("/policies#pack-us-tx")
    page.goto("/law-map?on=2015-13-40")
    expect(page.locator(".alert-warn")).to_contain_text("is not a date")
    page.context.close()


def test_287g_counts_show_when_the_desk_has_a_registry(server: Server, browser: Browser) -> None:
    found = read_agreement_lists(sorted(FIXTURES.glob("participatingAgencies*.csv")))
    registry: AgreementRegistry = found.registry
    day = date(2025, 6, 1)
    in_force = [r for r in registry if r.in_force(day)]
    assert in_force, "the fixture has agreements in force on the date"
    by_state: dict[str, int] = {}
    for r in in_force:
        by_state[r.state.upper()] = by_state.get(r.state.upper(), 0) + 1
    server.app.state.agreements = registry
    try:
        page = _page(browser, server)
        page.goto(f"/law-map?on={day}")
        rows = {r["state"]: r["agreements"] for r in page.evaluate(_READ_TABLE)}
        assert {k: int(v) for k, v in rows.items() if v not in (None, "0")} == by_state
        tiles = page.evaluate(_READ_TILES)
        for code, n in by_state.items():
            assert f"287(g) {n}" in tiles[code][1]
        page.context.close()
    finally:
        del server.app.state.agreements


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))
