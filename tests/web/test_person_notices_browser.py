"""Notices to the person end to end in headless Chromium against a real uvicorn server: a clerk prints the TRUTH
Act consent form from the detainer page and marks it served with the person's answer; a supervisor finds the
ledger entry on the audit page and the count on the reports page's TRUTH Act table. Writes
docs/screenshots/person-notices.png under `make screenshots` (DETAINERS_SCREENSHOTS=1).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from detainers.desk import BookingIn, DetainerIn, EligibilityIn, LinkIn, SubjectIn
from detainers.ledger import Authority, ChargeIn
from detainers.service import Actor, Office, Role, Services, Settings, build_services
from detainers.web import WebSettings, create_app

from ._browser import SCREENSHOTS, chromium, serving, skip_without_chromium

pytestmark = pytest.mark.browser


skip_without_chromium()

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@dataclass
class Desk:
    url: str
    tokens: dict[str, str]
    detainer_id: str
    services: Services


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    db = tmp_path_factory.mktemp("notices") / "desk.db"
    services = build_services(Settings(database_url=f"sqlite:///{db}", worker=False), notifiers={})
    services.tokens.hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    services.desk.register_office(Office("ERO-LOS", "ERO Los Angeles", email="ero-los@ice.invalid"))
    now = datetime.now(UTC)
    tokens = {
        role.value: services.tokens.create(role, label=f"browser {role.value}", now=now)[0]
        for role in (Role.CLERK, Role.SUPERVISOR)
    }
    loader = Actor("import:browser-test", "clerk")
    booking = services.desk.open_booking(
        BookingIn(
            booking_number="LASD-NOTICE-0001",
            facility="Men's Central Jail (test)",
            jurisdiction="us/ca/los-angeles/lasd",
            timezone="America/Los_Angeles",
            booked_at=now - timedelta(days=1),
            charges=[ChargeIn(statute="PC 459", level="felony")],
            subject=SubjectIn(family_name="Testcase-777", given_names="Zulu"),
            source=Authority.IMPORT,
        ),
        loader,
    )
    services.desk.record_eligibility(
        booking.id, EligibilityIn(eligible_at=now + timedelta(hours=5), reason="bond_posted"), loader
    )
    detainer = services.desk.receive_detainer(
        DetainerIn(
            form="I-247A",
            office="ERO-LOS",
            received_at=now - timedelta(hours=2),
            warrant="I-200",
            pc_basis=["biometric_records"],
            ice_event_no="EVT-NOTICE-1",
            source=Authority.FORM,
        ),
        loader,
    )
    services.desk.link(detainer.id, LinkIn(booking_id=booking.id), loader)
    app = create_app(services=services, web=WebSettings(refresh_seconds=30))
    try:
        with serving(app, "notices-test-server") as url:
            yield Desk(url, tokens, detainer.id, services)
    finally:
        services.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def _signed_in(browser: Browser, desk: Desk, role: str) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 1400}, base_url=desk.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto("/sign-in")
    page.fill("#f-token", desk.tokens[role])
    page.click("button:has-text('Sign in')")
    page.wait_for_load_state()
    assert "/sign-in" not in page.url
    return page


def test_serve_a_consent_form_and_find_it_in_the_audit_view_and_the_truth_act_report(
    desk: Desk, browser: Browser
) -> None:
    page = _signed_in(browser, desk, "clerk")
    page.goto(f"/detainers/{desk.detainer_id}")
    panel = page.locator("#person-notices")
    expect(panel).to_contain_text("Notices to the person")
    copy = page.locator("#notice-truth_act_copy-subject")
    expect(copy).to_contain_text("overdue")  # owed on receipt, two hours ago
    consent = page.locator("#notice-truth_act_interview_consent-subject")
    expect(consent).to_contain_text("before any ICE interview")

    # print: the Spanish form, fetched with the clerk's session through the link on the page
    link = consent.locator("a.print-link[data-language='es']")
    expect(link).to_have_text("Spanish")
    href = link.get_attribute("href")
    assert href is not None
    pdf = page.request.get(href)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    digest = hashlib.sha256(pdf.body()).hexdigest()
    assert pdf.headers["x-notice-sha256"] == digest

    # mark served: language, delivery and the person's answer
    consent.locator("summary:has-text('Mark served')").click()
    consent.locator("select[name='language']").select_option("es")
    consent.locator("select[name='delivered']").select_option("in_person")
    consent.locator("select[name='answer']").select_option("declined")
    consent.locator("button:has-text('Record as served')").click()
    expect(page.locator(".alert-ok")).to_contain_text("recorded as served")
    consent = page.locator("#notice-truth_act_interview_consent-subject")
    expect(consent.locator(".badge")).to_have_text("served")
    expect(consent.locator(".served-list")).to_contain_text("Declined the interview")
    expect(consent.locator(".served-list")).to_contain_text("Spanish")
    expect(consent.locator(".served-list")).to_contain_text(digest[:12])
    expect(page.locator("#timeline")).to_contain_text("Notice served to the person")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    panel.screenshot(path=str(SCREENSHOTS / "person-notices.png"))
    page.context.close()

    boss = _signed_in(browser, desk, "supervisor")
    boss.goto("/audit")
    expect(boss.locator(".verify-result")).to_contain_text("The chain verifies")
    served = boss.locator("#notices-served tbody tr")
    expect(served).to_have_count(1)
    expect(served.first).to_contain_text("Consent form")
    expect(served.first).to_contain_text("Declined the interview")
    expect(served.first.locator("td").nth(7)).to_have_attribute("title", digest)

    boss.goto("/reports")
    consents = boss.locator("section:has(#r-truth_consents)")
    expect(consents).to_contain_text("all 1 interview consent forms recorded as served")
    consents.locator("summary:has-text('Table')").click()
    row = consents.locator("tbody tr:has-text('Declined the interview')")
    expect(row.locator("td").first).to_have_text("1")
    expect(consents.locator("tbody tr:has-text('Consented to the interview') td").first).to_have_text("0")
    notices = boss.locator("section:has(#r-truth_notices)")
    expect(notices).to_contain_text("all 1 TRUTH Act notices")
    boss.context.close()
