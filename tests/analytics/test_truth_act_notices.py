"""TRUTH Act notice figures from the desk's served-notice records: per year in the facility's zone, by kind, and
consent forms by every answer (zeros included); other laws' notices are not counted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from detainers.analytics import TRUTH_ACT_ANSWERS, truth_act_notices
from detainers.cli import app
from detainers.clock import FrozenClock
from detainers.ledger import Authority, ChargeIn
from detainers.notices import ConsentAnswer, Delivery
from detainers.service import Actor, Office, Settings, build_services
from detainers.service._person_notices import PersonNoticeServedIn, serve_person_notice
from detainers.service._schemas import BookingIn, DetainerIn, LinkIn, SubjectIn

from .conftest import MAPPINGS, TRAVIS


def _served(
    kind: str, served_at: str, *, answer: str | None = None, rule: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "rule": rule or ("ca.truth.interview-consent" if answer else "ca.truth.copy-of-request"),
        "kind": kind,
        "recipient": extra.get("recipient", "subject"),
        "form": "consent" if answer else "notice",
        "answer": answer,
        "language": extra.get("language", "en"),
        "served_at": served_at,
        "zone": extra.get("zone", "America/Los_Angeles"),
    }


def test_years_follow_the_facilitys_calendar_and_every_answer_is_counted() -> None:
    rows = truth_act_notices(
        [
            # 04:30 UTC on New Year's Day is still 2024 in Los Angeles
            _served("truth_act_copy", "2025-01-01T04:30:00Z"),
            _served("truth_act_interview_consent", "2025-01-01T09:00:00Z", answer="declined", language="es"),
            _served("truth_act_interview_consent", "2025-03-02T18:00:00Z", answer="declined", language="vi"),
            _served("truth_act_interview_consent", "2025-03-03T18:00:00Z", answer="asked_for_counsel"),
            # another state's notice is not a TRUTH Act figure
            _served("texas_detainer_notice", "2025-03-03T18:00:00Z", rule="tx.sb4.inform-subject"),
        ]
    )
    assert [r["year"] for r in rows] == [2024, 2025]
    first, second = rows
    assert first["served_notices"] == 1 and first["consent_forms"] == 0
    assert first["consents_by_answer"] == dict.fromkeys(TRUTH_ACT_ANSWERS, 0)
    assert second["served_notices"] == 3 and second["consent_forms"] == 3
    assert second["consents_by_answer"] == {"consented": 0, "declined": 2, "asked_for_counsel": 1}
    assert second["by_kind"] == {"truth_act_interview_consent:subject": 3}
    assert second["by_language"] == {"en": 1, "es": 1, "vi": 1}


def test_bad_records_are_named() -> None:
    with pytest.raises(ValueError, match="no UTC offset"):
        truth_act_notices([_served("truth_act_copy", "2025-01-01T04:30:00")])
    with pytest.raises(ValueError, match="unknown answer 'maybe'"):
        truth_act_notices([_served("truth_act_interview_consent", "2025-01-01T04:30:00Z", answer="maybe")])


def test_nothing_served_is_no_rows() -> None:
    assert truth_act_notices([]) == []


def _desk_with_served_consent(path: Path) -> None:
    """A desk on SQLite with one California detainer whose consent form was served and declined in 2024."""
    now = datetime(2024, 3, 8, 20, 0, tzinfo=UTC)
    services = build_services(Settings(database_url=f"sqlite:///{path}", worker=False), clock=FrozenClock(now))
    try:
        desk = services.desk
        desk.register_office(Office("ERO-LOS", "ERO Los Angeles", email="ero-los@ice.invalid"))
        loader = Actor("import:test", "clerk")
        booking = desk.open_booking(
            BookingIn(
                booking_number="LASD-CLI-1",
                facility="Men's Central Jail (test)",
                jurisdiction="us/ca/los-angeles/lasd",
                timezone="America/Los_Angeles",
                booked_at=now - timedelta(days=1),
                charges=[ChargeIn(statute="PC 459", level="felony")],
                subject=SubjectIn(family_name="Testcase", given_names="Zulu"),
                source=Authority.IMPORT,
            ),
            loader,
        )
        detainer = desk.receive_detainer(
            DetainerIn(form="I-247A", office="ERO-LOS", received_at=now - timedelta(hours=3), source=Authority.FORM),
            loader,
        )
        desk.link(detainer.id, LinkIn(booking_id=booking.id), loader)
        body = PersonNoticeServedIn(language="es", delivered=Delivery.IN_PERSON, answer=ConsentAnswer.DECLINED)
        serve_person_notice(desk, detainer.id, "truth_act_interview_consent", body, Actor("clerk:test", "clerk"))
    finally:
        services.close()


def test_the_cli_report_reads_the_desks_ledger(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    _desk_with_served_consent(db)
    runner = CliRunner()
    alone = runner.invoke(app, ["report", "truth-act", "--desk", str(db), "--json"])
    assert alone.exit_code == 0, alone.output
    years = json.loads(alone.stdout)["years"]
    assert [y["year"] for y in years] == [2024]
    assert years[0]["consents_by_answer"] == {"consented": 0, "declined": 1, "asked_for_counsel": 0}
    assert years[0]["served_notices"] == 1 and years[0]["hold_requests"] is None  # no export read: not zero
    shown = runner.invoke(app, ["report", "truth-act", "--desk", str(db)])
    assert shown.exit_code == 0 and "annual figures" in shown.stdout
    missing = runner.invoke(app, ["report", "truth-act", "--desk", str(tmp_path / "none.db")])
    assert missing.exit_code == 2 and "no database" in missing.output
    assert len(missing.output.strip().splitlines()) == 1


def test_the_cli_report_joins_the_export_and_the_desk(tmp_path: Path) -> None:
    db = tmp_path / "desk.db"
    _desk_with_served_consent(db)
    args = [
        "--mapping",
        str(MAPPINGS / "travis_county_tx.yaml"),
        "--bookings",
        str(TRAVIS / "travis_ice_detainer_bookings.csv"),
        "--charges",
        str(TRAVIS / "travis_ice_detainer_charges.csv"),
        "--any-jurisdiction",
    ]
    result = CliRunner().invoke(app, ["report", "truth-act", *args, "--desk", str(db), "--json"])
    assert result.exit_code == 0, result.output
    years = {y["year"]: y for y in json.loads(result.stdout)["years"]}
    assert years[2024]["consent_forms"] == 1
    earlier = [y for year, y in years.items() if isinstance(year, int) and year < 2024]
    assert earlier and all(y["served_notices"] is None for y in earlier)  # the desk was not there to count
    assert all(y["hold_requests"] is not None for y in earlier)
