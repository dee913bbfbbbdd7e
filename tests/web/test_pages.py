"""The HTML routes through FastAPI's TestClient: sign-in, role access, intake validation, confirmed actions,
personal-data reads, reports, audit and the public page."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from detainers.ledger import Authority
from detainers.web._format import countdown, humanize
from detainers.web._session import COOKIE, safe_next

from .conftest import T0, WebEnv

PAGES = ["/desk", "/desk/rows", "/intake", "/reports", "/reports.csv", "/audit", "/audit/ledger.jsonl"]

EXPECTED = {
    # role: pages that answer 200 (the others 403)
    "clerk": {"/desk", "/desk/rows", "/intake"},
    "supervisor": {"/desk", "/desk/rows", "/intake", "/reports", "/reports.csv", "/audit"},
    "ice_liaison": {"/desk", "/desk/rows", "/intake"},
    "auditor": {"/desk", "/desk/rows", "/reports", "/reports.csv", "/audit", "/audit/ledger.jsonl"},
    "public": set(),
}


def _intake_form(csrf: str, **changes: object) -> dict[str, object]:
    form: dict[str, object] = {
        "csrf": csrf,
        "form": "I-247A",
        "office": "ERO-LOS",
        "received_at": "2024-03-08T09:30",
        "zone": "America/Los_Angeles",
        "requests": ["notify", "hold"],
        "pc_basis": ["biometric_records"],
        "warrant": "I-200",
        "family_name": "Fixture",
        "given_names": "Yankee",
        "a_number": "A000054321",
        "booking_number": "LASD-24-0002",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


# ------------------------------------------------------------------ sign-in and sessions


def test_pages_send_a_stranger_to_sign_in_and_back(web: WebEnv) -> None:
    client = web.client()
    response = client.get(f"/detainers/{web.ids['la']}", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/sign-in?next=/detainers/{web.ids['la']}"
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"


def test_sign_in_sets_an_httponly_cookie_and_never_puts_the_token_in_a_url_or_log(
    web: WebEnv, caplog: pytest.LogCaptureFixture
) -> None:
    client = web.client()
    token = web.tokens["clerk"]
    with caplog.at_level(logging.DEBUG):
        response = web.sign_in(client, token, "/intake")
    assert response.status_code == 303
    assert response.headers["location"] == "/intake"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert token not in response.headers["location"]
    assert all(token not in record.getMessage() and token not in str(record.__dict__) for record in caplog.records)
    page = client.get("/intake")
    assert page.status_code == 200 and token not in page.text
    assert client.post("/sign-out", follow_redirects=False).status_code == 303
    assert COOKIE not in client.cookies


def test_a_wrong_token_is_refused_without_echoing_it(web: WebEnv) -> None:
    client = web.client()
    response = web.sign_in(client, "dtn_deadbeef_not-a-secret")
    assert response.status_code == 401
    assert "not valid" in response.text and "not-a-secret" not in response.text
    assert COOKIE not in client.cookies


@pytest.mark.parametrize(
    ("given", "expected"),
    [("/reports", "/reports"), ("//evil.example/x", "/desk"), ("https://evil.example", "/desk"), ("/v1/me", "/desk")],
)
def test_after_sign_in_only_local_pages(given: str, expected: str) -> None:
    assert safe_next(given) == expected


def test_roles_land_on_their_home_page(web: WebEnv) -> None:
    for role, home in (("clerk", "/desk"), ("auditor", "/audit"), ("public", "/public")):
        client = web.client()
        response = web.sign_in(client, web.tokens[role])
        assert response.headers["location"] == home, role


# ------------------------------------------------------------------ role access


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_role_access_to_every_page(web: WebEnv, role: str) -> None:
    client = web.client(role)
    for path in PAGES:
        status = client.get(path, follow_redirects=False).status_code
        assert status == (200 if path in EXPECTED[role] else 403), (role, path, status)
    for path in ("/policies", "/public"):
        assert client.get(path).status_code == 200


def test_open_pages_need_no_sign_in_and_carry_security_headers(web: WebEnv) -> None:
    client = web.client()
    for path in ("/policies", "/public", "/sign-in"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"


def test_ice_liaison_sees_only_its_office(web: WebEnv) -> None:
    client = web.client("ice_liaison")
    desk = client.get("/desk").text
    assert web.ids["la"] in desk and web.ids["hou"] not in desk
    assert set(re.findall(r'data-office="([^"]+)"', desk)) == {"ERO-LOS"}
    assert "LASD-24-0001" not in desk, "a liaison does not see booking numbers"
    assert client.get(f"/detainers/{web.ids['hou']}").status_code == 404
    page = client.get(f"/detainers/{web.ids['la']}")
    assert page.status_code == 200
    assert "Booked into the jail" not in page.text, "no booking events for a liaison"
    assert "Show personal data" not in page.text
    intake = client.get("/intake").text
    assert 'name="booking_number"' not in intake and "ERO-LOS (your office)" in intake


def test_ice_liaison_intake_is_for_its_own_office(web: WebEnv) -> None:
    client = web.client("ice_liaison")
    csrf = web.csrf(client, "/intake")
    response = client.post(
        "/intake", data=_intake_form(csrf, office="ERO-HOU", booking_number=None), follow_redirects=False
    )
    assert response.status_code == 303, response.text
    detainer_id = response.headers["location"].split("/")[2].split("?")[0]
    state = web.services.desk.detainer(detainer_id)
    assert state.office == "ERO-LOS" and state.booking_id is None


def test_auditor_cannot_write_and_clerk_cannot_correct(web: WebEnv) -> None:
    auditor = web.client("auditor")
    csrf = web.csrf(auditor)
    page = auditor.get(f"/detainers/{web.ids['la']}").text
    assert "Record release" not in page
    response = auditor.post(
        f"/detainers/{web.ids['la']}/actions/release",
        data={"csrf": csrf, "released_at": "2024-03-08T11:00", "released_to": "public"},
    )
    assert response.status_code == 403
    clerk = web.client("clerk")
    csrf = web.csrf(clerk)
    response = clerk.post(
        f"/detainers/{web.ids['la']}/actions/correct",
        data={"csrf": csrf, "field": "detainer:warrant", "value": "I-205", "reason": "typo"},
    )
    assert response.status_code == 403


# ------------------------------------------------------------------ intake


def test_intake_shows_each_problem_next_to_its_field(web: WebEnv) -> None:
    client = web.client("clerk")
    csrf = web.csrf(client, "/intake")
    response = client.post(
        "/intake",
        data=_intake_form(
            csrf,
            office="",
            received_at="",
            requests=None,
            a_number="12345",
            box2="yes",
            booking_number="NO-SUCH-BOOKING",
            issued_on="2024-13-40",
        ),
    )
    assert response.status_code == 422
    page = response.text
    expected = {
        "office": "Choose the ICE office",
        "received_at": "Enter the date and time the jail received",
        "requests": "Tick at least one request box",
        "box2": "Box 1 or Box 2",
        "booking_number": "No booking has that number",
        "issued_on": "Enter the date the form was signed",
    }
    for field, message in expected.items():
        found = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', page, re.S)
        assert found and message in found.group(1), field
    assert 'class="error-summary"' in page and 'href="#f-received_at"' in page
    assert 'aria-invalid="true"' in page
    # what was typed is kept
    assert 'value="Fixture"' in page
    assert web.services.desk.list_detainers()[1] == 2, "nothing was written"


def test_intake_checks_the_a_number_and_times(web: WebEnv) -> None:
    client = web.client("clerk")
    csrf = web.csrf(client, "/intake")
    future = (T0 + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page = client.post("/intake", data=_intake_form(csrf, a_number="B12", received_at=future)).text
    assert re.search(r'id="a_number-error">.*A followed by 8 or 9 digits', page, re.S)
    assert re.search(r'id="received_at-error">.*cannot be in the future', page, re.S)


def test_intake_refuses_a_form_without_the_pages_csrf_field(web: WebEnv) -> None:
    client = web.client("clerk")
    response = client.post("/intake", data=_intake_form("0" * 40))
    assert response.status_code == 403
    assert web.services.desk.list_detainers()[1] == 2


def test_intake_records_the_detainer_person_attachment_and_decision(web: WebEnv) -> None:
    client = web.client("clerk")
    csrf = web.csrf(client, "/intake")
    response = client.post(
        "/intake",
        data=_intake_form(csrf),
        files={"attachment": ("i-200.pdf", b"%PDF-1.4 synthetic", "application/pdf")},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    detainer_id = response.headers["location"].split("/")[2].split("?")[0]
    desk = web.services.desk
    state = desk.detainer(detainer_id)
    assert state.booking_id == web.ids["spare"] and state.pc_basis == ["biometric_records"]
    assert [a["filename"] for a in state.attachments] == ["i-200.pdf"]
    received = desk.recorder.stream("detainer-" + detainer_id)[0]
    assert received.authority == Authority.FORM.value
    assert received.payload["received_at"].startswith("2024-03-08T17:30")
    assert "Fixture" not in str(received.payload), "names never go into events"
    assert desk.booking(web.ids["spare"]).decision is not None
    page = client.get(response.headers["location"]).text
    assert "The detainer is recorded" in page
    assert 'href="/policies#rule-ca-sb54-no-hold"' in page
    download = client.get(f"/detainers/{detainer_id}/attachments/{state.attachments[0]['attachment_id']}")
    assert download.content == b"%PDF-1.4 synthetic"
    assert "attachment" in download.headers["content-disposition"]


@pytest.mark.parametrize("form", ["I-247 (before Dec 2012)", "I-247G", "I-247D"])
def test_older_and_notification_only_forms_can_be_entered(web: WebEnv, form: str) -> None:
    client = web.client("clerk")
    csrf = web.csrf(client, "/intake")
    data = _intake_form(csrf, form=form, requests=["notify"], pc_basis=None, booking_number=None)
    response = client.post("/intake", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    detainer_id = response.headers["location"].split("/")[2].split("?")[0]
    assert web.services.desk.detainer(detainer_id).form == form


# ------------------------------------------------------------------ detainer page and actions


def test_detainer_page_shows_the_decision_in_plain_words_with_citations(web: WebEnv) -> None:
    client = web.client("clerk")
    page = client.get(f"/detainers/{web.ids['la']}").text
    assert "What the law allows now" in page
    assert "Do not hold past release" in page
    assert 'href="/policies#rule-ca-sb54-no-hold"' in page
    assert "Cal. Gov. Code 7284.6" in page
    assert "Timeline" in page and "Detainer received" in page and "Booked into the jail" in page
    for name in ("Record notification", "Record release", "Record transfer", "Record lift"):
        assert name in page
    assert "Correct a field" not in page, "corrections are for supervisors"
    anchors = set(re.findall(r'href="/policies#(rule-[^"]+)"', page))
    policies = client.get("/policies").text
    missing = [a for a in anchors if f'id="{a}"' not in policies]
    assert anchors and not missing


def test_an_action_is_reviewed_before_it_is_written(web: WebEnv) -> None:
    client = web.client("clerk")
    csrf = web.csrf(client)
    desk = web.services.desk
    head = desk.recorder.head()[0]
    url = f"/detainers/{web.ids['la']}/actions/release"
    form = {"csrf": csrf, "released_at": "2024-03-08T11:45", "released_to": "public"}
    review = client.post(url, data=form)
    assert review.status_code == 200
    assert "check before writing" in review.text and "person_released" in review.text
    assert "LASD-24-0001" in review.text and "Fri 08 Mar 2024, 11:45 PST" in review.text
    assert desk.recorder.head()[0] == head, "nothing written on review"
    done = client.post(url, data={**form, "confirm": "write"}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"/detainers/{web.ids['la']}?written=person_released#timeline"
    booking = desk.booking(web.ids["booking"])
    assert booking.status == "released" and booking.released_at is not None
    assert booking.released_at.startswith("2024-03-08T19:45")
    written = desk.recorder.read(after_seq=head)
    assert [e.type for e in written][0] == "person_released"
    assert {e.authority for e in written} == {"form"}, "keyed on the web desk's form, and the decision it caused"
    page = client.get(done.headers["location"]).text
    assert "The release is recorded" in page and "Person released" in page
    assert "Record release" not in page, "no second release"
    desk_page = client.get("/desk").text
    assert web.ids["la"] not in desk_page


def test_action_validation_and_conflicts(web: WebEnv) -> None:
    client = web.client("clerk")
    csrf = web.csrf(client)
    url = f"/detainers/{web.ids['la']}/actions/release"
    bad = client.post(url, data={"csrf": csrf, "released_at": "", "released_to": "public"})
    assert bad.status_code == 422
    assert re.search(r'id="release-released_at-error">.*Enter released at', bad.text, re.S)
    future = (T0 + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    later = client.post(url, data={"csrf": csrf, "released_at": future, "released_to": "public"})
    assert later.status_code == 422 and "cannot be in the future" in later.text
    # the record moved on between review and confirmation
    lift = f"/detainers/{web.ids['la']}/actions/lift"
    form = {"csrf": csrf, "lifted_at": "2024-03-08T10:00", "reason": "Prosecutorial Discretion", "confirm": "write"}
    assert client.post(lift, data=form, follow_redirects=False).status_code == 303
    again = client.post(lift, data=form)
    assert again.status_code == 409 and "no longer applies" in again.text


def test_supervisor_corrects_a_field_with_a_reason(web: WebEnv) -> None:
    client = web.client("supervisor")
    csrf = web.csrf(client)
    url = f"/detainers/{web.ids['la']}/actions/correct"
    form = {"csrf": csrf, "field": "detainer:warrant", "value": "I-205", "reason": "keyed the wrong warrant"}
    review = client.post(url, data=form)
    assert review.status_code == 200 and "Old value" in review.text and "I-200" in review.text
    done = client.post(url, data={**form, "confirm": "write"}, follow_redirects=False)
    assert done.status_code == 303
    assert web.services.desk.detainer(web.ids["la"]).warrant == "I-205"
    page = client.get(done.headers["location"]).text
    assert "warrant: I-200 → I-205 — reason: keyed the wrong warrant" in page


def test_personal_data_is_shown_only_with_a_purpose_and_the_read_is_logged(web: WebEnv) -> None:
    client = web.client("clerk")
    csrf = web.csrf(client)
    page = client.get(f"/detainers/{web.ids['la']}").text
    assert "Testcase" not in page
    url = f"/detainers/{web.ids['la']}/person"
    assert client.post(url, data={"csrf": csrf, "purpose": "x"}).status_code == 422
    shown = client.post(url, data={"csrf": csrf, "purpose": "identify at release window"})
    assert shown.status_code == 200 and "Testcase" in shown.text and "A000012345" in shown.text
    names = client.post("/desk/names", data={"csrf": csrf, "purpose": "shift handover"})
    assert names.status_code == 200 and "Testcase, Zulu" in names.text
    auditor = web.client("auditor")
    audit = auditor.get("/audit").text
    assert "identify at release window" in audit and "shift handover" in audit
    assert "Testcase" not in audit


# ------------------------------------------------------------------ dashboard


def test_dashboard_sorts_by_urgency_and_marks_overdue(web: WebEnv) -> None:
    client = web.client("clerk")
    page = client.get("/desk").text
    assert "Release due" in page and "in 6 h 0 min" in page
    web.clock.advance(timedelta(hours=7))
    page = client.get("/desk").text
    rows = re.findall(r'<tr class="([^"]*)" data-detainer="([0-9a-f]+)"', page)
    assert rows[0] == ("overdue", web.ids["la"])
    assert "Release was due (no hold allowed)" in page and "1 h 0 min overdue" in page
    only = client.get("/desk", params={"status": "overdue"}).text
    assert web.ids["hou"] not in only and web.ids["la"] in only
    received = client.get("/desk/rows", params={"status": "received"}).text
    assert web.ids["hou"] in received and web.ids["la"] not in received and "<html" not in received
    by_facility = client.get("/desk", params={"facility": "Men's Central Jail (test)"}).text
    assert web.ids["la"] in by_facility and web.ids["hou"] not in by_facility
    assert web.ids["la"] not in client.get("/desk", params={"state": "TX"}).text


# ------------------------------------------------------------------ reports, audit, public


def test_reports_csv_has_every_table_with_its_denominator(web: WebEnv) -> None:
    client = web.client("supervisor")
    page = client.get("/reports").text
    # five desk tables, and the two TRUTH Act tables (the desk holds California bookings)
    assert page.count('<svg class="chart"') == 7 and page.count("Denominator: all 2 detainers") == 4
    assert (
        "Facts recorded against the decision in force" in page and "Denominator: all 1 bookings with a decision" in page
    )
    lines = client.get("/reports.csv").text.splitlines()
    assert lines[0] == "table,value,count,denominator,share"
    assert "outcome,In custody,1,2,50.0%" in lines and 'outcome,"Received, not linked",1,2,50.0%' in lines
    tables = {line.split(",")[0] for line in lines[1:]}
    assert tables == {"outcome", "facility", "month", "form", "truth_consents"}, "nothing flagged or served yet"
    assert "truth_consents,Declined the interview,0,0,—" in lines  # every answer, zeros included


def test_audit_page_verifies_the_chain_and_names_a_tampered_event(web: WebEnv) -> None:
    client = web.client("auditor")
    assert "The chain verifies." in client.get("/audit").text
    export = client.get("/audit/ledger.jsonl")
    assert len(export.text.splitlines()) == web.services.desk.recorder.head()[0]
    with web.services.desk.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_events SET actor = 'someone-else' WHERE seq = 3"))
    page = client.get("/audit").text
    assert "The chain does not verify." in page and "event #3" in page


def test_public_page_suppresses_small_cells_and_shows_no_personal_data(web: WebEnv) -> None:
    page = web.client().get("/public").text
    assert "suppressed" in page and "under 11" in page
    for secret in ("Testcase", "Zulu", "A000012345", "LASD-24-0001", "SUBJ-LA-1", web.ids["la"]):
        assert secret not in page


def test_the_public_page_and_the_api_show_the_same_tables(web: WebEnv) -> None:
    """One suppression for both: each table on the page is the API's table for the same grouping."""
    from detainers.web._reports import PUBLIC_TABLES

    page = web.client().get("/public").text
    api = web.client()
    for key, title, _column in PUBLIC_TABLES:
        response = api.get(
            "/v1/public/counts", params={"by": [key]}, headers={"Authorization": f"Bearer {web.tokens['public']}"}
        )
        assert response.status_code == 200
        section = page[page.index(title) :].split("</section>")[0]
        cell_re = r'<td class="num">(?:<span class="suppressed"[^>]*>suppressed</span>|([\d,]+))</td>'
        shown = re.findall(cell_re, section)
        assert len(shown) == len(response.json()["cells"]) + 1  # every cell, then the total
        for number, cell in zip(shown, response.json()["cells"], strict=False):
            assert (number == "") == cell["suppressed"]
            if number:
                assert int(number.replace(",", "")) == cell["count"]


def test_countdown_words() -> None:
    assert humanize(timedelta(days=2, hours=3, minutes=5)) == "2 d 3 h"
    assert humanize(timedelta(hours=3, minutes=12)) == "3 h 12 min"
    assert humanize(timedelta(seconds=20)) == "less than a minute"
    assert countdown(T0 + timedelta(minutes=12), T0) == "in 12 min"
    assert countdown(T0 - timedelta(hours=1, minutes=5), T0) == "1 h 5 min overdue"
    assert countdown(None, T0) == ""
