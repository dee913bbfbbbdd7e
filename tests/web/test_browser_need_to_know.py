"""In headless Chromium against a real uvicorn server: an ICE liaison's pages for a detainer the law says ICE may not
be told about show no release timing; a clerk recording a transfer the law forbids has to confirm it, naming the
rule, and the auditor's page then shows the flag."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from detainers.desk import BookingIn, DetainerIn, EligibilityIn, LinkIn
from detainers.ledger import Authority, ChargeIn
from detainers.service import Actor, Office, Role, Services, Settings, build_services
from detainers.web import WebSettings, create_app

from ._browser import chromium, serving, skip_without_chromium

pytestmark = pytest.mark.browser


skip_without_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@dataclass
class Live:
    url: str
    tokens: dict[str, str]
    services: Services
    detainer_id: str
    eligible: datetime


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db = tmp_path_factory.mktemp("ntk") / "desk.db"
    services = build_services(Settings(database_url=f"sqlite:///{db}", worker=False), notifiers={})
    desk = services.desk
    desk.register_office(Office("ERO-LOS", "ERO Los Angeles", email="ero-los@ice.invalid"))
    now = desk.now()
    loader = Actor("import:browser-test", "clerk")
    booking = desk.open_booking(
        BookingIn(
            booking_number="LASD-NTK-0001",
            facility="Men's Central Jail (browser test)",
            jurisdiction="us/ca/los-angeles/lasd",
            timezone="America/Los_Angeles",
            booked_at=now - timedelta(days=1),
            charges=[ChargeIn(statute="PC 459", level="felony")],
            source=Authority.IMPORT,
        ),
        loader,
    )
    # release in a few hours, at :47 past the hour (so any time shown is easy to spot)
    eligible = (now + timedelta(hours=5)).replace(minute=47, second=0, microsecond=0)
    detainer = desk.receive_detainer(
        DetainerIn(
            form="I-247A",
            office="ERO-LOS",
            received_at=now - timedelta(hours=2),
            warrant="I-200",
            pc_basis=["biometric_records"],
            ice_event_no="EVT-NTK-1",
            source=Authority.FORM,
        ),
        loader,
    )
    desk.link(detainer.id, LinkIn(booking_id=booking.id), loader)
    decided = desk.record_eligibility(booking.id, EligibilityIn(eligible_at=eligible, reason="bond_posted"), loader)
    assert decided.decision is not None and decided.decision["notify"] is False  # SB 54 + the county's policy
    tokens = {}
    for role in (Role.CLERK, Role.AUDITOR, Role.ICE_LIAISON):
        office = "ERO-LOS" if role is Role.ICE_LIAISON else None
        tokens[role.value], _ = services.tokens.create(role, label="browser", now=now, office=office)
    app = create_app(services=services, web=WebSettings(refresh_seconds=0, zone="America/Los_Angeles"))
    try:
        with serving(app, "need-to-know-test-server") as url:
            yield Live(url, tokens, services, detainer.id, eligible)
    finally:
        services.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _signed_in(browser: Browser, live: Live, role: str) -> Page:
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/sign-in")
    page.fill("#f-token", live.tokens[role])
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()
    return page


def _times(live: Live) -> list[str]:
    """Every way the release time could be written on a page (local or UTC, 12 or 24 hours)."""
    local = live.eligible.astimezone(ZoneInfo("America/Los_Angeles"))
    utc = live.eligible.astimezone(UTC)
    return [f"{local:%H}:47", f"{utc:%H}:47", f"{local:%I}:47".lstrip("0")]


def test_the_liaisons_pages_for_a_do_not_notify_detainer_show_no_release_timing(live: Live, browser: Browser) -> None:
    page = _signed_in(browser, live, "ice_liaison")
    page.goto("/desk")
    row = page.locator(f"#board tr[data-detainer='{live.detainer_id}']")
    expect(row).to_have_count(1)
    row_text = row.inner_text()
    assert "Link to a booking" in row_text or "No deadline" in row_text
    assert row.locator("time").count() == 0 and row.locator("[data-countdown]").count() == 0
    for shown in _times(live):
        assert shown not in row_text, shown
    assert "Men's Central Jail" not in row_text

    page.goto(f"/detainers/{live.detainer_id}")
    expect(page.locator(".not-shared")).to_contain_text("nothing about custody, release timing or the decision")
    body = page.locator("body").inner_text()
    for shown in _times(live):
        assert shown not in body, shown
    for word in ("In custody", "Men's Central Jail", "Release due", "Hold ends", "Linked to a booking", "Custody"):
        assert word not in body, word
    assert not re.search(r"datetime=\"[^\"]*T\d\d:47", page.content())
    page.context.close()


def test_recording_a_forbidden_transfer_needs_the_confirmation_and_the_audit_view_shows_the_flag(
    live: Live, browser: Browser
) -> None:
    page = _signed_in(browser, live, "clerk")
    page.goto(f"/detainers/{live.detainer_id}")
    transfer = page.locator("#action-transfer summary")
    expect(transfer).to_contain_text("against the decision")
    assert "primary" not in (transfer.get_attribute("class") or "")
    assert "primary" in (page.locator("#action-release summary").get_attribute("class") or "")
    transfer.click()
    expect(page.locator("#action-transfer .against-warning")).to_contain_text("transfer to ICE is not allowed")
    page.fill("#f-transfer-to_agency", "ICE ERO Los Angeles")
    page.click("#action-transfer button:has-text('Review')")
    expect(page.locator(".against-decision")).to_contain_text("ca.sb54.transfer")
    head = live.services.desk.recorder.head()[0]
    page.click("button:has-text('Record it against the decision')")  # the box is not ticked: the browser holds it
    expect(page.locator("h1")).to_contain_text("check before writing")
    assert live.services.desk.recorder.head()[0] == head, "nothing written without the confirmation"
    page.check("#f-against_decision_confirmed")
    page.click("button:has-text('Record it against the decision')")
    expect(page.locator(".alert-ok")).to_contain_text("transfer is recorded")
    expect(page.locator("#timeline .event-alert").first).to_contain_text("RECORDED AGAINST THE DECISION")
    page.context.close()

    audit = _signed_in(browser, live, "auditor")
    audit.goto("/audit")
    section = audit.locator("section:has(#against-h)")
    expect(section).to_contain_text("ca.sb54.transfer")
    expect(section).to_contain_text("LASD-NTK-0001")
    expect(section.locator("tbody tr")).to_have_count(1)
    audit.context.close()
