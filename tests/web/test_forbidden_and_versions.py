"""What a write may overwrite and what the desk invites: forms carry the version they showed (a change made
meanwhile is refused, never overwritten); an act the decision does not allow is never the primary button, needs a
confirmation naming the rule, and is flagged in the ledger, the audit view and the reports; overdue rows say what
the decision says."""

from __future__ import annotations

import re
from datetime import timedelta

from detainers.desk import CorrectionIn
from detainers.service import Actor

from .conftest import T0, WebEnv

SUPERVISOR_API = Actor("supervisor:api-client", "supervisor")


def _summary(page: str, action: str) -> str:
    found = re.search(
        rf'<details class="action card[^"]*" id="action-{action}".*?<summary class="([^"]*)">(.*?)</summary>',
        page,
        re.S,
    )
    assert found, action
    return f"{found.group(1)}|{found.group(2)}"


def test_a_transfer_the_law_forbids_is_not_the_primary_action(web: WebEnv) -> None:
    """Los Angeles (SB 54; the county's judicial-authority policy): transfer to ICE is not allowed."""
    page = web.client("clerk").get(f"/detainers/{web.ids['la']}").text
    transfer, release = _summary(page, "transfer"), _summary(page, "release")
    assert "primary" not in transfer.split("|")[0] and "against the decision" in transfer
    assert "primary" in release.split("|")[0] and "against the decision" not in release
    assert page.count('class="button primary"') <= 2  # the lawful release (and the page's jump link)
    warning = page[page.index('id="action-transfer"') :].split("</details>")[0]
    assert "transfer to ICE is not allowed" in warning and "ca.sb54.transfer" in warning
    assert "records a violation" in warning


def _form(web: WebEnv, client: object, action: str) -> dict[str, str]:
    """The action's form as the page renders it: hidden fields (csrf, the versions shown) and the defaults."""
    page = client.get(f"/detainers/{web.ids['la']}").text  # type: ignore[attr-defined]
    block = page[page.index(f'id="action-{action}"') :].split("</details>")[0]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', block))
    fields.update(re.findall(r'<input id="f-[^"]+" name="([^"]+)" type="[^"]+" value="([^"]*)"', block))
    for name, options in re.findall(r'<select id="f-[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', block, re.S):
        chosen = re.search(r'<option value="([^"]+)" selected', options) or re.search(
            r'<option value="([^"]+)"', options
        )
        assert chosen
        fields[name] = chosen.group(1)
    return fields


def test_recording_a_forbidden_transfer_needs_the_confirmation_and_is_flagged(web: WebEnv) -> None:
    client = web.client("clerk")
    desk = web.services.desk
    url = f"/detainers/{web.ids['la']}/actions/transfer"
    form = {**_form(web, client, "transfer"), "transferred_at": "2024-03-08T11:00", "to_agency": "ICE ERO Los Angeles"}
    review = client.post(url, data=form)
    assert review.status_code == 200
    assert "This goes against the decision in force" in review.text and "ca.sb54.transfer" in review.text
    box = re.search(r'name="against_decision_confirmed" value="([^"]+)" required>', review.text)
    assert box and "ca.sb54.transfer" in box.group(1)
    assert 'class="button primary"' not in review.text.split("<main")[-1].split("</form>")[0]

    head = desk.recorder.head()[0]
    decided = desk.booking(web.ids["booking"]).decision_seq
    unconfirmed = client.post(url, data={**form, "confirm": "write"})
    assert unconfirmed.status_code == 422 and "tick the box" in unconfirmed.text
    assert desk.recorder.head()[0] == head, "nothing written without the confirmation"

    done = client.post(
        url, data={**form, "confirm": "write", "against_decision_confirmed": box.group(1)}, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    written = [e for e in desk.recorder.read(after_seq=head) if e.type == "transferred"]
    assert len(written) == 1
    flag = written[0].payload["against_decision"]
    assert flag["dimension"] == "transfer" and "ca.sb54.transfer" in flag["rules"]
    assert flag["decision_seq"] == decided
    page = client.get(done.headers["location"]).text
    assert "RECORDED AGAINST THE DECISION" in page

    audit = web.client("auditor").get("/audit").text
    section = audit[audit.index('id="against-h"') :].split("</section>")[0]
    assert "Recorded against the decision" in section and "ca.sb54.transfer" in section and "LASD-24-0001" in section
    reports = web.client("supervisor").get("/reports.csv").text
    assert "against,Transfer to ICE not allowed,1," in reports


def test_a_transfer_to_another_jurisdiction_is_not_against_the_decision(web: WebEnv) -> None:
    client = web.client("clerk")
    url = f"/detainers/{web.ids['la']}/actions/transfer"
    form = {
        **_form(web, client, "transfer"),
        "transferred_at": "2024-03-08T11:00",
        "to_agency": "Orange County Sheriff",
    }
    review = client.post(url, data=form)
    assert review.status_code == 200 and "goes against the decision" not in review.text
    assert client.post(url, data={**form, "confirm": "write"}, follow_redirects=False).status_code == 303


def test_a_correction_made_meanwhile_is_never_overwritten(web: WebEnv) -> None:
    """The review-then-write form carries the version it showed: an API change in between makes it a conflict."""
    client = web.client("supervisor")
    desk = web.services.desk
    url = f"/detainers/{web.ids['la']}/actions/correct"
    form = {
        **_form(web, client, "correct"),
        "field": "detainer:warrant",
        "value": "I-205",
        "reason": "fax page 2 shows an I-205",
    }
    assert "detainer_version" in form, "the form carries the version the page showed"
    assert form["detainer_version"] == str(desk.detainer(web.ids["la"]).version)
    review = client.post(url, data=form)
    assert review.status_code == 200
    carried = dict(re.findall(r'<input type="hidden" name="(\w+_version)" value="(\d*)"', review.text))
    assert carried["detainer_version"] == form["detainer_version"], "the review page carries the version on"
    # meanwhile, through the API, another supervisor corrects the same field
    desk.correct(
        "detainer",
        web.ids["la"],
        CorrectionIn(field="warrant", value="none", reason="no warrant came with the fax"),
        SUPERVISOR_API,
    )
    conflict = client.post(url, data={**form, "confirm": "write"})
    assert conflict.status_code == 409
    assert (
        "Someone else changed this record after you opened it" in conflict.text
        and "Nothing was written" in conflict.text
    )
    assert desk.detainer(web.ids["la"]).warrant == "none", "their change stands"
    # the same holds at the review step when the change came before it
    stale = client.post(url, data=form)
    assert stale.status_code == 409 and "Nothing was written" in stale.text


def test_a_release_form_shown_before_a_change_to_the_booking_is_refused(web: WebEnv) -> None:
    client = web.client("clerk")
    desk = web.services.desk
    form = {**_form(web, client, "release"), "released_at": "2024-03-08T11:45", "released_to": "public"}
    from detainers.desk import EligibilityIn

    desk.record_eligibility(
        web.ids["booking"], EligibilityIn(eligible_at=T0 + timedelta(hours=2), reason="time_served"), SUPERVISOR_API
    )
    url = f"/detainers/{web.ids['la']}/actions/release"
    response = client.post(url, data={**form, "confirm": "write"})
    assert response.status_code == 409 and desk.booking(web.ids["booking"]).status == "in_custody"


def test_overdue_rows_say_what_the_decision_says(web: WebEnv) -> None:
    """No hold is allowed in Los Angeles: once release is overdue the row says so — never 'Past the lawful hold
    limit' beside a 'No hold' pill."""
    web.clock.set(T0 + timedelta(hours=7))
    report = web.services.worker.run_once()
    assert report.over_limit == 1
    page = web.client("clerk").get("/desk").text
    row = re.search(rf'<tr[^>]*data-detainer="{web.ids["la"]}".*?</tr>', page, re.S)
    assert row
    assert "Release was due (no hold allowed)" in row.group(0) and "No hold" in row.group(0)
    assert "Past the lawful hold limit" not in page
    timeline = web.client("clerk").get(f"/detainers/{web.ids['la']}").text
    assert "Custody past its lawful end" in timeline and "Past the lawful hold limit" not in timeline


def test_the_intake_form_sent_twice_records_one_detainer(web: WebEnv) -> None:
    client = web.client("clerk")
    page = client.get("/intake").text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key, "the intake form carries a key made when it was shown"
    csrf = web.csrf(client, "/intake")
    form = {
        "csrf": csrf,
        "idempotency_key": key.group(1),
        "form": "I-247A",
        "office": "ERO-LOS",
        "ice_event_no": "EVT-TWICE",
        "received_at": "2024-03-08T09:30",
        "zone": "America/Los_Angeles",
        "requests": ["notify", "hold"],
        "pc_basis": ["biometric_records"],
        "warrant": "I-200",
    }
    before = web.services.desk.list_detainers()[1]
    first = client.post("/intake", data=form, follow_redirects=False)
    second = client.post("/intake", data=form, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert web.services.desk.list_detainers()[1] == before + 1
    existing = first.headers["location"].split("/")[2].split("?")[0]
    again = client.post("/intake", data={**form, "idempotency_key": "a-new-form"})
    assert again.status_code == 409
    found = re.search(r'id="ice_event_no-error">(.*?)</p>', again.text, re.S)
    assert found and "EVT-TWICE" in found.group(1) and existing in found.group(1)
    assert web.services.desk.list_detainers()[1] == before + 1
