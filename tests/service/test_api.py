"""The API over both backends: intake, link, decision with citations, release, lift, corrections, conflicts."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update

from detainers.ledger._schema import detainer_view
from detainers.service import configure_logging

Body = Callable[..., dict[str, Any]]


class ApiSuite:
    """Backend-agnostic API cases; subclasses provide ``desk_env``."""

    @pytest.fixture
    def desk_env(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def test_intake_link_decide_release(self, desk_env: Any, detainer_json: Body, booking_json: Body) -> None:
        env = desk_env
        booking = env.call("clerk", "POST", "/v1/bookings", json=booking_json())
        assert booking.status_code == 201, booking.text
        booking_id = booking.json()["id"]
        made = env.call("clerk", "POST", "/v1/detainers", json=detainer_json())
        assert made.status_code == 201, made.text
        detainer = made.json()
        assert detainer["status"] == "received" and detainer["form"] == "I-247A" and detainer["version"] == 1
        assert detainer["subject_key"].startswith("s_") and "family_name" not in detainer
        linked = env.call(
            "clerk",
            "POST",
            f"/v1/detainers/{detainer['id']}/link",
            json={"booking_id": booking_id, "expected_version": 1},
        )
        assert linked.status_code == 200, linked.text
        assert linked.json()["status"] == "active" and linked.json()["jurisdiction"] == "us/ga/fulton"
        eligible = env.call(
            "clerk",
            "POST",
            f"/v1/bookings/{booking_id}/eligibility",
            json={"eligible_at": "2024-03-08T14:00:00-05:00", "reason": "bond_posted"},
        )
        assert eligible.status_code == 200, eligible.text
        decision = env.call("clerk", "GET", f"/v1/bookings/{booking_id}/decision").json()
        assert decision["decision"]["notify"] is True
        assert decision["decision"]["hold_until"].startswith("2024-03-10T15:00:00-04:00")  # G1: 48 h across DST
        assert decision["decision"]["rules"] and decision["decision"]["explanation"]
        # the decision is a ledger event carrying the rule citations
        events = env.call("auditor", "GET", f"/v1/bookings/{booking_id}/events").json()
        made_events = [e for e in events if e["type"] == "decision_made"]
        assert made_events and made_events[-1]["rules"] == decision["decision"]["rules"]
        assert all(r["citation"] for r in made_events[-1]["rules"])
        released = env.call(
            "clerk",
            "POST",
            f"/v1/bookings/{booking_id}/release",
            json={"released_at": "2024-03-09T09:00:00-05:00", "released_to": "ice"},
        )
        assert released.status_code == 200 and released.json()["status"] == "released"
        assert env.call("clerk", "GET", f"/v1/detainers/{detainer['id']}").json()["status"] == "released"
        again = env.call(
            "clerk", "POST", f"/v1/bookings/{booking_id}/release", json={"released_at": "2024-03-09T09:00:00Z"}
        )
        assert again.status_code == 422 and again.json()["field"] == "released_at"
        verify = env.call("auditor", "GET", "/v1/audit/verify").json()
        assert verify["ok"] is True and verify["checked"] >= 6

    def test_verify_names_an_edited_view_row(self, desk_env: Any, detainer_json: Body) -> None:
        # The API serves detainer_view; an edit there (a detainer moved to another office) must not verify.
        env = desk_env
        detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json()).json()
        assert env.call("auditor", "GET", "/v1/audit/verify").json()["views_ok"] is True
        with env.services.desk.engine.begin() as conn:
            conn.execute(update(detainer_view).where(detainer_view.c.id == detainer["id"]).values(office="ERO-HOU"))
        report = env.call("auditor", "GET", "/v1/audit/verify").json()
        assert report["ok"] is False and report["views_ok"] is False
        assert [(m["table"], m["column"]) for m in report["view_mismatches"]] == [("detainer_view", "office")]
        assert detainer["id"] in report["view_mismatches"][0]["description"]

    def test_stale_version_is_409_never_a_lost_update(self, desk_env: Any, detainer_json: Body) -> None:
        env = desk_env
        detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json()).json()
        path = f"/v1/detainers/{detainer['id']}/service"
        first = env.call("clerk", "POST", path, json={"served_at": "2024-03-08T19:00:00Z", "expected_version": 1})
        assert first.status_code == 200 and first.json()["version"] == 2
        stale = env.call("clerk", "POST", path, json={"served_at": "2024-03-08T20:00:00Z", "expected_version": 1})
        assert stale.status_code == 409
        assert stale.json()["field"] == "expected_version" and stale.json()["current_version"] == 2
        assert (
            env.call("clerk", "GET", f"/v1/detainers/{detainer['id']}")
            .json()["served_at"]
            .startswith("2024-03-08T19:00:00")
        )

    def test_invalid_input_is_json_with_field_and_never_reaches_the_ledger(
        self, desk_env: Any, detainer_json: Body
    ) -> None:
        env = desk_env
        head = env.services.desk.recorder.head()
        cases = [
            (detainer_json(form="I-999"), "form"),
            (detainer_json(received_at="2024-03-08T10:00:00"), "received_at"),  # no offset
            (detainer_json(subject={"a_number": "B12"}), "subject.a_number"),
            (detainer_json(box2_transferred_for_proceeding=True), None),  # Box 1 and Box 2
            (detainer_json(office="NOPE"), "office"),
            (detainer_json(source="worker"), None),
            (detainer_json(booking_id="missing"), "booking_id"),
        ]
        for body, field in cases:
            response = env.call("clerk", "POST", "/v1/detainers", json=body)
            assert response.status_code in (404, 422), (field, response.text)
            data = response.json()
            assert data["error"] and "field" in data
            if field is not None:
                assert data["field"] == field, data
        assert env.services.desk.recorder.head() == head

    def test_corrections_need_a_supervisor_and_a_reason(self, desk_env: Any, detainer_json: Body) -> None:
        env = desk_env
        detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json()).json()
        path = f"/v1/detainers/{detainer['id']}/corrections"
        body = {"field": "warrant", "value": "I-205", "reason": "fax page 2 shows an I-205"}
        assert env.call("clerk", "POST", path, json=body).status_code == 403
        fixed = env.call("supervisor", "POST", path, json=body)
        assert fixed.status_code == 200, fixed.text
        assert fixed.json()["warrant"] == "I-205"
        assert fixed.json()["corrections"][0]["old"] == "I-200"
        bad = env.call("supervisor", "POST", path, json={"field": "warrant", "value": "I-999", "reason": "typo"})
        assert bad.status_code == 422 and bad.json()["field"] == "value"
        nope = env.call("supervisor", "POST", path, json={"field": "subject_key", "value": "x", "reason": "nope"})
        assert nope.status_code == 422 and nope.json()["field"] == "field"
        assert env.call("supervisor", "POST", path, json={"field": "warrant", "value": "I-205"}).status_code == 422

    def test_liaison_sees_only_its_office(self, desk_env: Any, detainer_json: Body) -> None:
        env = desk_env
        own = env.call("ice_liaison", "POST", "/v1/detainers", json=detainer_json(office="ERO-HOU"))
        assert own.status_code == 201 and own.json()["office"] == "ERO-LOS"  # forced to the token's office
        other = env.call("clerk", "POST", "/v1/detainers", json=detainer_json(office="ERO-HOU")).json()
        assert env.call("ice_liaison", "GET", f"/v1/detainers/{other['id']}").status_code == 404
        assert env.call("other_liaison", "GET", f"/v1/detainers/{own.json()['id']}").status_code == 404
        assert env.call("other_liaison", "GET", f"/v1/detainers/{other['id']}").status_code == 200
        listing = env.call("ice_liaison", "GET", "/v1/detainers", params={"office": "ERO-HOU"}).json()
        assert {d["office"] for d in listing["items"]} == {"ERO-LOS"} and listing["total"] == 1
        assert env.call("ice_liaison", "GET", "/v1/bookings").status_code == 403

    def test_search_and_paging(self, desk_env: Any, detainer_json: Body) -> None:
        env = desk_env
        for i in range(5):
            office = "ERO-LOS" if i % 2 == 0 else "ERO-HOU"
            env.call(
                "clerk",
                "POST",
                "/v1/detainers",
                json=detainer_json(
                    office=office, subject=None, received_at=f"2024-03-0{i + 1}T10:00:00Z", ice_event_no=f"EVT-{i}"
                ),
            )
        page = env.call("clerk", "GET", "/v1/detainers", params={"limit": 2}).json()
        assert page["total"] == 5 and len(page["items"]) == 2 and page["next_offset"] == 2
        assert page["items"][0]["received_at"] > page["items"][1]["received_at"]
        last = env.call("clerk", "GET", "/v1/detainers", params={"limit": 2, "offset": 4}).json()
        assert len(last["items"]) == 1 and last["next_offset"] is None
        los = env.call("clerk", "GET", "/v1/detainers", params={"office": "ERO-LOS"}).json()
        assert los["total"] == 3
        window = env.call(
            "clerk",
            "GET",
            "/v1/detainers",
            params={"received_from": "2024-03-02T00:00:00Z", "received_to": "2024-03-04T00:00:00Z"},
        ).json()
        assert window["total"] == 2
        assert env.call("clerk", "GET", "/v1/detainers", params={"limit": 0}).status_code == 422


class TestApiSQLite(ApiSuite):
    @pytest.fixture
    def desk_env(self, env: Any) -> Any:
        return env


@pytest.mark.postgres
class TestApiPostgres(ApiSuite):
    @pytest.fixture
    def desk_env(self, pg_env: Any) -> Any:
        return pg_env


def test_personal_data_reads_are_logged_and_erasure_keeps_the_chain(env: Any, detainer_json: Body) -> None:
    detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json()).json()
    key = detainer["subject_key"]
    assert env.call("auditor", "GET", f"/v1/people/{key}").status_code == 422  # purpose is required
    person = env.call("auditor", "GET", f"/v1/people/{key}", params={"purpose": "IG review 2024-07"})
    assert person.status_code == 200 and person.json()["family_name"] == "Zyxwvut"
    log = env.call("auditor", "GET", "/v1/audit/access-log").json()
    assert log[0]["purpose"] == "IG review 2024-07" and log[0]["role"] == "auditor"
    assert env.call("ice_liaison", "GET", f"/v1/people/{key}", params={"purpose": "x" * 5}).status_code == 403
    assert (
        env.call("clerk", "DELETE", f"/v1/people/{key}", json={"order_reference": "o", "reason": "abc"}).status_code
        == 403
    )
    erased = env.call(
        "supervisor",
        "DELETE",
        f"/v1/people/{key}",
        json={"order_reference": "Sup. Ct. 24-EX-9", "reason": "expungement order"},
    )
    assert erased.status_code == 200 and erased.json()["type"] == "personal_data_erased"
    assert env.call("auditor", "GET", f"/v1/people/{key}", params={"purpose": "again"}).status_code == 404
    assert env.call("auditor", "GET", "/v1/audit/verify").json()["ok"] is True
    ledger = json.dumps(env.call("auditor", "GET", "/v1/audit/events", params={"limit": 1000}).json())
    assert "Zyxwvut" not in ledger and "A012345678" not in ledger and "1990-01-02" not in ledger


def test_public_counts_cannot_be_unsuppressed_by_subtraction(env: Any, detainer_json: Body) -> None:
    """The old API hid I-247G (3) but published I-247A (12) and the total (15): 15 - 12 = 3. Every combination a
    caller can request now shares one suppression, zeros are listed, and by=status with by=status&form adds up."""
    for i in range(12):
        env.call("clerk", "POST", "/v1/detainers", json=detainer_json(subject=None, ice_event_no=f"EVT-A{i}"))
    for i in range(3):
        body = detainer_json(subject=None, form="I-247G", ice_event_no=f"EVT-G{i}")
        env.call("clerk", "POST", "/v1/detainers", json=body)

    def table(*by: str) -> dict[tuple[str, ...], Any]:
        answer = env.call("public", "GET", "/v1/public/counts", params={"by": list(by)})
        assert answer.status_code == 200, answer.text
        data = answer.json()
        cells = {tuple(c["group"][b] for b in by): c["count"] for c in data["cells"]}
        assert all((c["count"] is None) == c["suppressed"] for c in data["cells"])
        return {**cells, ("total",): data["total"]}

    by_form = table("form")
    assert by_form[("I-247G",)] is None
    assert len(by_form) == 1 + 8, "every form is listed, the empty ones hidden rather than left out"
    hidden = [k for k, n in by_form.items() if n is None]
    if by_form[("total",)] is not None:
        published = sum(n for k, n in by_form.items() if n is not None and k != ("total",))
        assert len(hidden) >= 2, f"{by_form[('total',)]} - {published} would be the one hidden cell"
    for by in (("status",), ("status", "form"), ("jurisdiction",), ("state", "status", "form")):
        cells = table(*by)
        assert all(n is None or n >= 11 for n in cells.values())
    by_status, by_status_form = table("status"), table("status", "form")
    for (status,), n in by_status.items():
        if n is None or status == "total":
            continue
        row = [v for k, v in by_status_form.items() if k[0] == status]
        assert sum(v is None for v in row) != 1, f"status {status}: its total minus its forms gives the hidden one"
    assert env.call("public", "GET", "/v1/detainers").status_code == 403
    assert env.call("public", "GET", "/v1/public/counts", params={"by": ["name"]}).status_code == 422
    both = env.call("public", "GET", "/v1/public/counts", params={"by": ["state", "jurisdiction"]})
    assert both.status_code == 422 and "not both" in both.json()["error"]


def test_unauthenticated_and_bad_tokens(env: Any) -> None:
    assert env.client.get("/v1/detainers").status_code == 401
    bad = env.client.get("/v1/detainers", headers={"Authorization": "Bearer dtn_00000000_nope"})
    assert bad.status_code == 401 and bad.json()["error"]
    forged = env.tokens["clerk"][:-2] + "xx"
    assert env.client.get("/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert env.client.get("/health").json() == {"status": "ok"}


def test_tokens_are_stored_only_as_keyed_hashes(env: Any) -> None:
    from sqlalchemy import select

    from detainers.ledger._schema import tokens

    with env.services.desk.engine.connect() as conn:
        rows = conn.execute(select(tokens)).all()
    stored = " ".join(f"{r.token_id} {r.hash}" for r in rows)
    for token in env.tokens.values():
        secret = token.split("_", 2)[2]
        assert secret not in stored
    assert all(r.hash.startswith("hmac-sha256$") and len(r.hash) == len("hmac-sha256$") + 64 for r in rows)
    token_id = env.tokens["clerk"].split("_")[1]
    env.services.tokens.revoke(token_id, now=env.clock.now())
    assert env.call("clerk", "GET", "/v1/me").status_code == 401


def test_logs_are_json_lines_without_personal_data(env: Any, detainer_json: Body) -> None:
    stream = io.StringIO()
    configure_logging(stream)
    try:
        detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json()).json()
        env.call("auditor", "GET", f"/v1/people/{detainer['subject_key']}", params={"purpose": "log test"})
    finally:
        logging.getLogger("detainers").handlers.clear()
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(line.get("route") == "/v1/detainers" and line.get("status") == 201 for line in lines)
    assert all({"ts", "level", "event"} <= set(line) for line in lines)
    text = stream.getvalue()
    for secret in ("Zyxwvut", "Synthetica", "A012345678", "1990-01-02", "Nowhere"):
        assert secret not in text


def test_reports_are_stubbed(env: Any) -> None:
    response = env.call("auditor", "GET", "/v1/reports/illinois-ag")
    assert response.status_code == 501 and "not implemented" in response.json()["error"]
    assert env.call("auditor", "GET", "/v1/reports/nope").status_code == 404


def test_attachments_round_trip(env: Any, detainer_json: Body) -> None:
    import base64
    import hashlib

    detainer = env.call("ice_liaison", "POST", "/v1/detainers", json=detainer_json()).json()
    content = b"%PDF-1.4 synthetic I-200"
    added = env.call(
        "ice_liaison",
        "POST",
        f"/v1/detainers/{detainer['id']}/attachments",
        json={"kind": "I-200", "filename": "i200.pdf", "content_base64": base64.b64encode(content).decode()},
    )
    assert added.status_code == 201, added.text
    attachment = added.json()["attachments"][0]
    assert attachment["sha256"] == hashlib.sha256(content).hexdigest()
    got = env.call("clerk", "GET", f"/v1/detainers/{detainer['id']}/attachments/{attachment['attachment_id']}")
    assert got.content == content
    assert (
        env.call(
            "other_liaison",
            "POST",
            f"/v1/detainers/{detainer['id']}/attachments",
            json={"kind": "x", "filename": "x", "content_base64": "eA=="},
        ).status_code
        == 404
    )


def test_booking_zone_defaults_to_the_states(env: Any, booking_json: Body) -> None:
    body = booking_json(jurisdiction="us/tx/harris")
    del body["timezone"]
    made = env.call("clerk", "POST", "/v1/bookings", json=body)
    assert made.status_code == 201 and made.json()["timezone"] == "America/Chicago"
    body = booking_json(jurisdiction="zz/nowhere")
    del body["timezone"]
    refused = env.call("clerk", "POST", "/v1/bookings", json=body)
    assert refused.status_code == 422 and "unknown jurisdiction 'zz/nowhere'" in refused.json()["error"]
