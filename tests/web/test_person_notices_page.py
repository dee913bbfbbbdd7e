"""The detainer page's "Notices to the person" panel: due notices with countdowns, print links per language (a
logged read), a "mark served" form (CSRF) that records the event, and what each role sees of it."""

from __future__ import annotations

import hashlib
import re

from .conftest import WebEnv


def _page(web: WebEnv, role: str) -> tuple[object, str]:
    client = web.client(role)
    return client, client.get(f"/detainers/{web.ids['la']}").text


def test_the_panel_lists_the_notices_owed_with_their_countdowns(web: WebEnv) -> None:
    _client, html = _page(web, "clerk")
    assert 'id="person-notices"' in html and "Notices to the person" in html
    # the TRUTH Act copy is owed on receipt (30 hours ago in the fixture): due, and overdue by that long
    assert "notice-truth_act_copy-subject" in html and "1 d 6 h overdue" in html
    assert "notice-truth_act_interview_consent-subject" in html and "before any ICE interview" in html
    for tag in ("en", "es", "zh-Hans", "zh-Hant", "tl", "vi", "ko"):
        assert f"truth_act_interview_consent.pdf?language={tag}&amp;recipient=subject" in html
    assert "Mark served" in html


def test_print_is_a_logged_read_and_mark_served_records_the_event(web: WebEnv) -> None:
    client, _ = _page(web, "clerk")
    detainer = web.ids["la"]
    pdf = client.get(f"/detainers/{detainer}/person-notices/truth_act_interview_consent.pdf?language=ko")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    digest = hashlib.sha256(pdf.content).hexdigest()
    assert pdf.headers["X-Notice-SHA256"] == digest
    log = web.services.desk.personal.access_log(limit=10)
    assert any("print notice truth_act_interview_consent (ko)" in str(getattr(e, "purpose", e)) for e in log)

    csrf = web.csrf(client, f"/detainers/{detainer}")
    missing = client.post(
        f"/detainers/{detainer}/person-notices/truth_act_interview_consent/served",
        data={"csrf": csrf, "recipient": "subject", "language": "ko", "delivered": "in_person", "served_at": ""},
    )
    assert missing.status_code == 422 and "answer" in missing.text
    forged = client.post(
        f"/detainers/{detainer}/person-notices/truth_act_interview_consent/served",
        data={"csrf": "0" * 32, "language": "ko", "delivered": "in_person", "answer": "declined"},
    )
    assert forged.status_code in (400, 403)
    done = client.post(
        f"/detainers/{detainer}/person-notices/truth_act_interview_consent/served",
        data={
            "csrf": csrf,
            "recipient": "subject",
            "language": "ko",
            "delivered": "in_person",
            "answer": "declined",
            "served_at": "2024-03-08T11:30",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    html = client.get(done.headers["location"]).text
    assert "recorded as served" in html
    article = re.search(r'id="notice-truth_act_interview_consent-subject".*?</article>', html, re.S)
    assert article is not None
    assert "Declined the interview" in article.group(0) and digest[:12] in article.group(0)
    assert "Fri 08 Mar 2024, 11:30" in article.group(0)  # served at, in the facility zone
    events = web.services.desk.recorder.stream("detainer-" + detainer)
    served = [e for e in events if e.type == "person_notice_served"]
    assert len(served) == 1 and served[0].payload["pdf_sha256"] == digest
    assert served[0].authority == "form" and served[0].payload["language"] == "ko"
    assert "Notice served to the person" in html  # the timeline names it


def test_who_sees_the_panel(web: WebEnv) -> None:
    _c, auditor = _page(web, "auditor")
    assert 'id="person-notices"' in auditor and "Mark served" not in auditor and ".pdf?language=" in auditor
    _c, liaison = _page(web, "ice_liaison")
    assert 'id="person-notices"' not in liaison
    client = web.client("ice_liaison")
    pdf = client.get(f"/detainers/{web.ids['la']}/person-notices/truth_act_copy.pdf")
    assert pdf.status_code == 403
