"""End to end in headless Chromium against a real uvicorn server on a fresh SQLite demo jail.

A clerk enters an I-247A, sees the decision and its citation, records a release, and the dashboard (open in another
tab) updates by itself; an ICE liaison sees only its office's detainers; the public page shows no personal data.
The tests also write the screenshots in docs/screenshots/ (``make screenshots``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from detainers.desk import BookingIn, EligibilityIn, SubjectIn
from detainers.ledger import Authority, ChargeIn
from detainers.service import Actor, Notice, Services, Settings, build_services
from detainers.service._demo import load_demo
from detainers.web import WebSettings, create_app

from ._browser import SCREENSHOTS, chromium, serving, skip_without_chromium

pytestmark = pytest.mark.browser

BOOKING = "LASD-TEST-0001"
DEMO_FAMILY = ("Sample", "Example", "Placeholder", "Testcase", "Fixture", "Dummy", "Mockingbird", "Synthetic", "Demo")

skip_without_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@dataclass
class Live:
    url: str
    tokens: dict[str, str]
    services: Services


class _Mailbox:
    """Stands in for the ICE offices' inboxes: every notice is accepted."""

    def __init__(self) -> None:
        self.received: list[Notice] = []

    def deliver(self, notice: Notice) -> None:
        self.received.append(notice)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db = tmp_path_factory.mktemp("live") / "desk.db"
    demo = load_demo(str(db), size=60, seed=7)
    mailbox = _Mailbox()
    services = build_services(
        Settings(database_url=f"sqlite:///{db}", worker=False), notifiers={"email": mailbox, "webhook": mailbox}
    )
    services.worker.run_once()  # notices due by now go out, holds past their limit are marked, as in `detainers serve`
    now = services.desk.now()
    actor = Actor("import:browser-test", "clerk")
    booking = services.desk.open_booking(
        BookingIn(
            booking_number=BOOKING,
            facility="Men's Central Jail (demo)",
            jurisdiction="us/ca/los-angeles/lasd",
            timezone="America/Los_Angeles",
            booked_at=now - timedelta(days=1),
            charges=[ChargeIn(statute="PC 459", level="felony")],
            subject=SubjectIn(family_name="Testcase-999", given_names="Zulu"),
            source=Authority.IMPORT,
        ),
        actor,
    )
    services.desk.record_eligibility(
        booking.id, EligibilityIn(eligible_at=now + timedelta(hours=5), reason="bond_posted"), actor
    )
    app = create_app(services=services, web=WebSettings(refresh_seconds=2))
    try:
        with serving(app, "web-test-server") as url:
            yield Live(url, demo.tokens, services)
    finally:
        services.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _page(browser: Browser, live: Live, role: str | None, width: int = 1280, height: int = 900) -> Page:
    context = browser.new_context(viewport={"width": width, "height": height}, base_url=live.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    if role is not None:
        page.goto("/sign-in")
        page.fill("#f-token", live.tokens[role])
        page.click("button:has-text('Sign in')")
        page.wait_for_load_state()
        assert "/sign-in" not in page.url
        assert live.tokens[role] not in page.url
    return page


def _shot(page: Page, name: str, **options: Any) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), **options)


def test_clerk_enters_an_i247a_sees_the_decision_records_a_release_and_the_dashboard_updates(
    live: Live, browser: Browser
) -> None:
    page = _page(browser, live, "clerk")
    board = page.context.new_page()
    board.goto("/desk")
    expect(board.locator("h1")).to_have_text("Desk")
    expect(board.locator(f"#board tr:has-text('{BOOKING}')")).to_have_count(0)

    page.goto("/intake")
    received = datetime.now(UTC).astimezone(ZoneInfo("America/Los_Angeles")) - timedelta(hours=1)
    page.select_option("#f-form", "I-247A")
    page.select_option("#f-office", "ERO-LOS")
    page.fill("#f-ice_event_no", "EVT-TEST-0001")
    page.fill("#f-received_at", received.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#f-zone", "America/Los_Angeles")
    page.fill("#f-family_name", "Testcase-999")
    page.fill("#f-given_names", "Zulu")
    page.fill("#f-a_number", "A000099999")
    page.fill("#f-booking_number", BOOKING)
    page.check("#f-pc-biometric_records")
    page.select_option("#f-warrant", "I-200")
    page.set_input_files(
        "#f-attachment",
        files=[{"name": "i-200.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n% synthetic test form\n"}],
    )
    _shot(page, "intake.png", full_page=True)
    page.click("button:has-text('Record detainer')")

    expect(page).to_have_url(re.compile(r"/detainers/[0-9a-f]{32}\?written=detainer_received"))
    expect(page.locator(".alert-ok")).to_contain_text("recorded")
    expect(page.locator(".headline")).to_contain_text("Do not hold past release")
    citation = page.locator('.decision a[href="/policies#rule-ca-sb54-no-hold"]').first
    expect(citation).to_be_visible()
    expect(page.locator("#timeline")).to_contain_text("Detainer received")
    expect(page.locator(".facts")).to_contain_text("i-200.pdf")
    page.set_viewport_size({"width": 1280, "height": 1400})
    _shot(page, "detainer.png")
    detainer_url = page.url.split("?")[0]

    # the dashboard in the other tab picks the new detainer up by itself
    expect(board.locator(f"#board tr:has-text('{BOOKING}')")).to_have_count(1)

    citation.click()
    expect(page).to_have_url(re.compile(r"/policies#rule-ca-sb54-no-hold$"))
    expect(page.locator("#rule-ca-sb54-no-hold")).to_be_visible()
    expect(page.locator("#rule-ca-sb54-no-hold")).to_contain_text("Cal. Gov. Code 7284.6")

    page.goto(detainer_url)
    page.click("#action-release summary")
    page.select_option("#f-release-released_to", "public")
    page.click("#action-release button:has-text('Review')")
    expect(page.locator("h1")).to_contain_text("check before writing")
    expect(page.locator(".confirm")).to_contain_text("person_released")
    expect(page.locator(".confirm")).to_contain_text(BOOKING)
    page.click("button:has-text('Write to the ledger')")
    expect(page.locator(".alert-ok")).to_contain_text("release is recorded")
    expect(page.locator("#timeline")).to_contain_text("Person released")
    expect(page.locator(".lede .status")).to_have_text("Released")

    # and the dashboard drops it again, still without a reload
    expect(board.locator(f"#board tr:has-text('{BOOKING}')")).to_have_count(0)
    page.context.close()


def test_dashboard_screenshots_at_desktop_and_tablet_width(live: Live, browser: Browser) -> None:
    page = _page(browser, live, "clerk")
    page.goto("/desk")
    expect(page.locator("#board tbody tr").first).to_be_visible()
    assert page.locator("#board tr.overdue").count() >= 1, "the demo jail has overdue items and they stand out"
    first = page.locator("#board tbody tr").first
    expect(first).to_have_class(re.compile("overdue"))
    _shot(page, "dashboard.png")
    page.set_viewport_size({"width": 800, "height": 1100})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 800, f"the page scrolls sideways on a tablet ({width} px)"
    _shot(page, "dashboard-tablet.png")
    # keyboard: the first tab stop is the skip link, and focus is visible
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.context.close()


def test_reports_page_has_charts_tables_denominators_and_csv(live: Live, browser: Browser) -> None:
    page = _page(browser, live, "supervisor")
    page.goto("/reports")
    expect(page.locator("svg.chart")).to_have_count(7)  # five desk tables and two TRUTH Act tables
    expect(page.locator(".denominator").first).to_contain_text("Denominator")
    with page.expect_download() as download:
        page.click("a:has-text('Download CSV')")
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[0] == "table,value,count,denominator,share"
    _shot(page, "reports.png", full_page=True)
    page.context.close()


def test_ice_liaison_sees_only_its_own_office(live: Live, browser: Browser) -> None:
    from detainers.service import Role
    from detainers.service import _need_to_know as ntk

    desk = live.services.desk
    own, _ = desk.list_detainers(office="ERO-LOS", limit=1000)
    others, _ = desk.list_detainers(limit=1000)
    # open as the liaison may see them: where notice is not allowed a released person's detainer still reads
    # "received" (custody is not the liaison's to know), so it stays on its board
    audience = ntk.Audience(Role.ICE_LIAISON, "ERO-LOS")
    shown = [ntk.detainer_for(audience, record)[0] for record in ntk.records_for(desk, own)]
    expected = {d.id for d in shown if d.status in ("active", "received")}
    assert expected != {d.id for d in own if d.status in ("active", "received")}, "the demo has such detainers"
    foreign = next(d for d in others if d.office != "ERO-LOS")
    page = _page(browser, live, "ice_liaison")
    page.goto("/desk")
    rows = page.locator("#board tbody tr[data-detainer]")
    expect(rows.first).to_be_visible()
    offices = set(rows.evaluate_all("rows => rows.map(r => r.dataset.office)"))
    shown = set(rows.evaluate_all("rows => rows.map(r => r.dataset.detainer)"))
    assert offices == {"ERO-LOS"}
    assert shown == expected
    page.goto(f"/detainers/{foreign.id}")
    expect(page.locator("h1")).to_have_text("Not found")
    page.goto("/reports")
    expect(page.locator("h1")).to_have_text("Not allowed")
    page.context.close()


def test_public_page_shows_aggregates_only(live: Live, browser: Browser) -> None:
    page = _page(browser, live, None)
    page.goto("/public")
    expect(page.locator("h1")).to_contain_text("public figures")
    expect(page.locator(".method")).to_contain_text("under 11")
    text = page.locator("body").inner_text()
    html = page.content()
    for family in DEMO_FAMILY:
        assert not re.search(rf"{family}-\d{{3}}", text), family
    assert not re.search(r"\bA0{3}\d{5,6}\b", html), "an A-number on the public page"
    assert BOOKING not in html and not re.search(r"\b[A-Z]{4}-\d{2}-1\d{4}\b", html), "a booking number"
    assert "DEMO-" not in html and "subject" not in text.lower().replace("subject key", "")
    counts = [int(n.replace(",", "")) for n in re.findall(r"^\s*([\d,]+)\s*$", text, re.M)]
    assert all(n >= 11 for n in counts), "a cell under 11 was shown"
    page.context.close()
