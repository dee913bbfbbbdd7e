"""The person's notices through the API: owed with deadlines, printed as PDF (a logged read), recorded as served in
the ledger (hash-chained), seen by each role as the law allows, and warned about by the worker when overdue."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from detainers.ledger._schema import events as events_table
from detainers.service import Services
from detainers.service._worker import Worker

ORANGE = "us/ca/orange"  # SB 54: notice to ICE allowed on a serious-felony conviction (7282.5(a)(1))
LASD = "us/ca/los-angeles/lasd"  # the Board's policy: no notice to ICE without a judicial warrant
BURGLARY = [{"statute": "PC 459", "level": "felony", "date": "2015-05-01"}]


def _case(
    env: Any, jurisdiction: str, number: str, booking_json: Callable[..., Any], detainer_json: Callable[..., Any]
) -> str:
    booking = env.call(
        "clerk",
        "POST",
        "/v1/bookings",
        json=booking_json(
            booking_number=number,
            facility="Synthetic County Jail (test)",
            jurisdiction=jurisdiction,
            timezone="America/Los_Angeles",
            charges=[{"statute": "PC 459", "level": "felony"}],
            convictions=BURGLARY,
        ),
    ).json()
    detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json(ice_event_no=f"EVT-{number}")).json()
    linked = env.call("clerk", "POST", f"/v1/detainers/{detainer['id']}/link", json={"booking_id": booking["id"]})
    assert linked.status_code == 200, linked.text
    return str(detainer["id"])


@pytest.fixture
def orange(env: Any, booking_json: Callable[..., Any], detainer_json: Callable[..., Any]) -> tuple[Any, str]:
    return env, _case(env, ORANGE, "OC-1", booking_json, detainer_json)


def _by_key(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{n['kind']}:{n['recipient']}": n for n in items}


def test_the_decision_owes_the_truth_act_notices_with_their_deadlines(orange: tuple[Any, str]) -> None:
    env, detainer_id = orange
    response = env.call("clerk", "GET", f"/v1/detainers/{detainer_id}/person-notices")
    assert response.status_code == 200, response.text
    notices = _by_key(response.json())
    assert set(notices) == {
        "truth_act_copy:subject",
        "truth_act_interview_consent:subject",
        "truth_act_release_notice:subject",
        "truth_act_release_notice:attorney_or_designee",
    }
    copy = notices["truth_act_copy:subject"]
    received = env.services.desk.detainer(detainer_id).received_at
    assert copy["deadline"] == "on_receipt" and copy["status"] == "due"
    assert copy["due_at"] is not None and copy["due_at"][:16] == received[:16]
    # the countdown is the unrounded time left (negative: past its moment)
    now = env.clock.now()
    assert copy["seconds_to_due"] == (datetime.fromisoformat(copy["due_at"]) - now).total_seconds() < 0
    consent = notices["truth_act_interview_consent:subject"]
    assert consent["form"] == "consent" and consent["status"] == "owed" and consent["deadline"] == "before_interview"
    assert {"en", "es", "ko", "tl", "vi", "zh-Hans", "zh-Hant"} <= set(consent["languages"])
    assert "7283.1(a)" in consent["citation"]
    release = notices["truth_act_release_notice:subject"]
    assert release["status"] == "pending" and release["due_at"] is None  # ICE has not been told a release date


def test_print_then_mark_served_records_the_hash_in_the_chain(orange: tuple[Any, str]) -> None:
    env, detainer_id = orange
    base = f"/v1/detainers/{detainer_id}/person-notices"
    pdf = env.call("clerk", "GET", f"{base}/truth_act_interview_consent.pdf", params={"language": "es"})
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    digest = hashlib.sha256(pdf.content).hexdigest()
    assert pdf.headers["X-Notice-SHA256"] == digest
    again = env.call("clerk", "GET", f"{base}/truth_act_interview_consent.pdf", params={"language": "es"})
    assert hashlib.sha256(again.content).hexdigest() == digest  # the same facts render the same bytes

    # the PDF carries the person's name, so printing it is a logged personal-data read
    entries = env.call("auditor", "GET", "/v1/audit/access-log").json()
    assert any("print notice truth_act_interview_consent (es)" in str(e.get("purpose")) for e in entries)

    no_answer = env.call(
        "clerk", "POST", f"{base}/truth_act_interview_consent/served", json={"language": "es", "delivered": "in_person"}
    )
    assert no_answer.status_code == 422 and no_answer.json()["field"] == "answer"
    stale = env.call(
        "clerk",
        "POST",
        f"{base}/truth_act_interview_consent/served",
        json={"language": "es", "delivered": "in_person", "answer": "declined", "pdf_sha256": "0" * 64},
    )
    assert stale.status_code == 409 and stale.json()["field"] == "pdf_sha256"
    served_at = (env.clock.now() - timedelta(minutes=20)).isoformat()
    served = env.call(
        "clerk",
        "POST",
        f"{base}/truth_act_interview_consent/served",
        json={
            "language": "es",
            "delivered": "in_person",
            "answer": "declined",
            "pdf_sha256": digest,
            "served_at": served_at,
        },
    )
    assert served.status_code == 201, served.text
    out = served.json()
    assert out["status"] == "served"
    record = out["served"][0]
    assert record["answer"] == "declined" and record["language"] == "es" and record["pdf_sha256"] == digest
    assert record["by"] and datetime.fromisoformat(record["served_at"]) == datetime.fromisoformat(served_at)
    paths = {t["path"] for t in record["translations"]}
    assert "us/ca/truth_act_interview_consent/es.yaml" in paths

    events = env.call("clerk", "GET", f"/v1/detainers/{detainer_id}/events").json()
    event = next(e for e in events if e["type"] == "person_notice_served")
    assert event["payload"]["pdf_sha256"] == digest and event["payload"]["answer"] == "declined"
    assert datetime.fromisoformat(event["payload"]["served_at"]) == datetime.fromisoformat(served_at)
    assert "Zyxwvut" not in str(event)  # no name in the ledger

    assert env.call("supervisor", "GET", "/v1/audit/verify").json()["ok"] is True
    # altering the recorded answer breaks the chain at that very event
    with env.services.desk.engine.begin() as conn:
        changed = dict(event["payload"], answer="consented")
        conn.execute(update(events_table).where(events_table.c.seq == event["seq"]).values(payload=json.dumps(changed)))
    report = env.call("supervisor", "GET", "/v1/audit/verify").json()
    assert report["ok"] is False and report["first_break"]["seq"] == event["seq"]


def test_a_notice_is_recorded_without_an_answer_and_refuses_one(orange: tuple[Any, str]) -> None:
    env, detainer_id = orange
    base = f"/v1/detainers/{detainer_id}/person-notices/truth_act_copy/served"
    refused = env.call("clerk", "POST", base, json={"language": "en", "delivered": "in_person", "answer": "consented"})
    assert refused.status_code == 422 and refused.json()["field"] == "answer"
    unknown_language = env.call("clerk", "POST", base, json={"language": "fr", "delivered": "in_person"})
    assert unknown_language.status_code == 422 and unknown_language.json()["field"] == "language"
    future = (env.clock.now() + timedelta(hours=2)).isoformat()
    ahead = env.call("clerk", "POST", base, json={"language": "en", "delivered": "mail", "served_at": future})
    assert ahead.status_code == 422 and ahead.json()["field"] == "served_at"
    missing = env.call(
        "clerk",
        "POST",
        f"/v1/detainers/{detainer_id}/person-notices/texas_detainer_notice/served",
        json={"language": "en", "delivered": "in_person"},
    )
    assert missing.status_code == 404 and missing.json()["field"] == "kind"
    ok = env.call("clerk", "POST", base, json={"language": "en", "delivered": "in_person"})
    assert ok.status_code == 201 and ok.json()["served"][0]["answer"] is None


def test_a_liaison_sees_status_only_and_only_where_release_information_is_shared(
    env: Any, booking_json: Callable[..., Any], detainer_json: Callable[..., Any]
) -> None:
    shared = _case(env, ORANGE, "OC-2", booking_json, detainer_json)
    closed = _case(env, LASD, "LA-2", booking_json, detainer_json)
    env.call(
        "clerk",
        "POST",
        f"/v1/detainers/{shared}/person-notices/truth_act_interview_consent/served",
        json={"language": "vi", "delivered": "in_person", "answer": "asked_for_counsel"},
    )
    seen = _by_key(env.call("ice_liaison", "GET", f"/v1/detainers/{shared}/person-notices").json())
    consent = seen["truth_act_interview_consent:subject"]
    assert consent["status"] == "served" and consent["served"][0]["answer"] == "asked_for_counsel"
    assert consent["pdf"] is None and consent["served"][0]["by"] is None
    assert consent["served"][0]["pdf_sha256"] is None and consent["served"][0]["language"] is None
    assert "served.pdf_sha256" in consent["withheld"]
    # where the law forbids telling ICE (the Board's policy), the list is empty: nothing about custody leaks
    staff = env.call("clerk", "GET", f"/v1/detainers/{closed}/person-notices").json()
    assert staff, "staff see the TRUTH Act notices owed on the closed case"
    assert env.call("ice_liaison", "GET", f"/v1/detainers/{closed}/person-notices").json() == []
    # the detainer record itself never carries the served notices to a liaison
    record = env.call("ice_liaison", "GET", f"/v1/detainers/{shared}").json()
    assert record["person_notices"] == [] and "person_notices" in record["withheld"]
    assert env.call("clerk", "GET", f"/v1/detainers/{shared}").json()["person_notices"]
    # another office's liaison gets the 404 of an unknown id; the public role nothing
    assert env.call("other_liaison", "GET", f"/v1/detainers/{shared}/person-notices").status_code == 404
    assert env.call("public", "GET", f"/v1/detainers/{shared}/person-notices").status_code == 403
    assert (
        env.call("ice_liaison", "GET", f"/v1/detainers/{shared}/person-notices/truth_act_copy.pdf").status_code == 403
    )


def test_a_countys_certified_translation_is_recorded_by_hash(
    orange: tuple[Any, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env, detainer_id = orange
    shipped = Path(__file__).parents[2] / "src/detainers/notices/templates/us/ca/truth_act_copy/es.yaml"
    county = tmp_path / "county" / "us/ca/truth_act_copy/es.yaml"
    county.parent.mkdir(parents=True)
    county.write_text(
        shipped.read_text().replace(
            "status: drafted",
            "status: reviewed\nreviewed_by: Synthetic Certified Translations\nreviewed_on: 2024-01-15",
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("DETAINERS_NOTICE_TRANSLATIONS", str(tmp_path / "county"))
    served = env.call(
        "clerk",
        "POST",
        f"/v1/detainers/{detainer_id}/person-notices/truth_act_copy/served",
        json={"language": "es", "delivered": "in_person"},
    ).json()
    used = {t["path"]: t for t in served["served"][0]["translations"]}
    form = used["us/ca/truth_act_copy/es.yaml"]
    assert form["source"] == "county" and form["status"] == "reviewed"
    assert form["sha256"] == hashlib.sha256(county.read_bytes()).hexdigest()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed")
def test_the_printed_form_carries_the_name_and_booking_number(orange: tuple[Any, str], tmp_path: Path) -> None:
    env, detainer_id = orange
    pdf = env.call("clerk", "GET", f"/v1/detainers/{detainer_id}/person-notices/truth_act_copy.pdf?language=en")
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Synthetica Zyxwvut" in text and "OC-1" in text and "7283.1(b)" in text


def test_the_worker_warns_once_when_a_notice_is_due_and_not_served(
    env: Any, booking_json: Callable[..., Any], detainer_json: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    detainer_id = _case(env, LASD, "LA-3", booking_json, detainer_json)
    services: Services = env.services
    worker = Worker(services.desk, services.outbox)
    with caplog.at_level("INFO", logger="detainers.worker"):
        first = worker.run_once()
        second = worker.run_once()
    assert first.person_notices_overdue == 1  # the copy owed on receipt; the consent form has no visible clock
    assert second.person_notices_overdue == 0
    events = env.call("clerk", "GET", f"/v1/detainers/{detainer_id}/events").json()
    overdue = [e for e in events if e["type"] == "person_notice_overdue"]
    assert [e["payload"]["kind"] for e in overdue] == ["truth_act_copy"]
    logged = " ".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "person notice overdue" in logged and "Zyxwvut" not in logged and "A012345678" not in logged
    # served, then nothing more to warn about on a fresh detainer of the same kind
    env.call(
        "clerk",
        "POST",
        f"/v1/detainers/{detainer_id}/person-notices/truth_act_copy/served",
        json={"language": "en", "delivered": "in_person"},
    )
    assert worker.run_once().person_notices_overdue == 0


def test_notices_are_not_owed_outside_the_laws_that_require_them(
    env: Any, booking_json: Callable[..., Any], detainer_json: Callable[..., Any]
) -> None:
    booking = env.call("clerk", "POST", "/v1/bookings", json=booking_json(booking_number="GA-1")).json()
    detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json(ice_event_no="EVT-GA-1")).json()
    env.call("clerk", "POST", f"/v1/detainers/{detainer['id']}/link", json={"booking_id": booking["id"]})
    assert env.call("clerk", "GET", f"/v1/detainers/{detainer['id']}/person-notices").json() == []
    pdf = env.call("clerk", "GET", f"/v1/detainers/{detainer['id']}/person-notices/truth_act_copy.pdf")
    assert pdf.status_code == 404 and pdf.json()["field"] == "kind"


@pytest.mark.postgres
def test_served_on_postgresql_and_the_chain_verifies(
    pg_env: Any, booking_json: Callable[..., Any], detainer_json: Callable[..., Any]
) -> None:
    detainer_id = _case(pg_env, ORANGE, "OC-PG", booking_json, detainer_json)
    base = f"/v1/detainers/{detainer_id}/person-notices"
    pdf = pg_env.call("clerk", "GET", f"{base}/truth_act_interview_consent.pdf", params={"language": "zh-Hant"})
    digest = hashlib.sha256(pdf.content).hexdigest()
    served = pg_env.call(
        "supervisor",
        "POST",
        f"{base}/truth_act_interview_consent/served",
        json={"language": "zh-Hant", "delivered": "attorney_visit", "answer": "consented", "pdf_sha256": digest},
    )
    assert served.status_code == 201, served.text
    listed = _by_key(pg_env.call("auditor", "GET", base).json())
    assert listed["truth_act_interview_consent:subject"]["served"][0]["pdf_sha256"] == digest
    report = pg_env.call("auditor", "GET", "/v1/audit/verify").json()
    assert report["ok"] is True


def test_the_projection_rebuilds_to_the_same_record(orange: tuple[Any, str]) -> None:
    env, detainer_id = orange
    env.call(
        "clerk",
        "POST",
        f"/v1/detainers/{detainer_id}/person-notices/truth_act_copy/served",
        json={"language": "tl", "delivered": "in_person"},
    )
    Worker(env.services.desk, env.services.outbox).run_once()
    desk = env.services.desk
    before = desk.detainer(detainer_id)
    assert before.person_notices and before.person_notices[0]["language"] == "tl"
    desk.recorder.rebuild_projections()
    assert desk.detainer(detainer_id) == before


def test_a_retried_service_with_the_same_idempotency_key_records_it_once(orange: tuple[Any, str]) -> None:
    """A clerk's request retried (a dropped connection, a double click) with its Idempotency-Key records one
    service, answers the first answer again, and the same key with another request is refused."""
    env, detainer_id = orange
    path = f"/v1/detainers/{detainer_id}/person-notices/truth_act_copy/served"
    body = {"language": "en", "delivered": "in_person"}
    headers = {**env.headers("clerk"), "Idempotency-Key": "serve-copy-1"}
    first = env.client.request("POST", path, headers=headers, json=body)
    assert first.status_code == 201, first.text
    again = env.client.request("POST", path, headers=headers, json=body)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json() and len(first.json()["served"]) == 1
    other = env.client.request("POST", path, headers=headers, json={**body, "language": "es"})
    assert other.status_code == 422, other.text
    events = env.call("clerk", "GET", f"/v1/detainers/{detainer_id}/events").json()
    assert [e["type"] for e in events].count("person_notice_served") == 1
    # without a key each call records a service (a copy served again counts again)
    assert env.call("clerk", "POST", path, json=body).status_code == 201
    events = env.call("clerk", "GET", f"/v1/detainers/{detainer_id}/events").json()
    assert [e["type"] for e in events].count("person_notice_served") == 2
