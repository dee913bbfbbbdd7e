"""Facts the decision in force does not allow are recorded only with a confirmation naming the rules (409 with the
rules otherwise), and the event carries the flag."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Body = Callable[..., dict[str, Any]]


def _booking(env: Any, booking_json: Body, detainer_json: Body, jurisdiction: str, zone: str, name: str) -> str:
    booking = env.call(
        "clerk",
        "POST",
        "/v1/bookings",
        json=booking_json(booking_number=name, jurisdiction=jurisdiction, timezone=zone),
    ).json()
    made = env.call("clerk", "POST", "/v1/detainers", json=detainer_json(booking_id=booking["id"], ice_event_no=name))
    assert made.status_code == 201, made.text
    eligible = env.call(
        "clerk",
        "POST",
        f"/v1/bookings/{booking['id']}/eligibility",
        json={"eligible_at": "2024-03-08T11:00:00Z", "reason": "bond_posted"},
    )
    assert eligible.status_code == 200, eligible.text
    return str(booking["id"])


def test_a_transfer_to_ice_the_law_forbids(env: Any, booking_json: Body, detainer_json: Body) -> None:
    booking = _booking(env, booking_json, detainer_json, "us/ca/los-angeles/lasd", "America/Los_Angeles", "LA-1")
    body = {"transferred_at": "2024-03-08T11:30:00Z", "to_agency": "ICE ERO"}
    refused = env.call("clerk", "POST", f"/v1/bookings/{booking}/transfer", json=body)
    assert refused.status_code == 409, refused.text
    data = refused.json()
    assert data["field"] == "against_decision_confirmed" and data["dimension"] == "transfer"
    assert "ca.sb54.transfer" in data["rules"] and "Cal. Gov. Code 7284.6(a)(4)" in data["error"]
    assert env.call("clerk", "GET", f"/v1/bookings/{booking}").json()["status"] == "in_custody"
    partial = env.call(
        "clerk", "POST", f"/v1/bookings/{booking}/transfer", json={**body, "against_decision_confirmed": ["x"]}
    )
    assert partial.status_code == 409
    done = env.call(
        "clerk",
        "POST",
        f"/v1/bookings/{booking}/transfer",
        json={**body, "against_decision_confirmed": data["rules"]},
    )
    assert done.status_code == 200, done.text
    assert done.json()["against_decision"][0]["rules"] == data["rules"]
    events = env.call("auditor", "GET", f"/v1/bookings/{booking}/events").json()
    transferred = [e for e in events if e["type"] == "transferred"]
    assert transferred[0]["payload"]["against_decision"]["dimension"] == "transfer"


def test_release_to_ice_and_a_notice_by_hand_where_the_law_forbids(
    env: Any, booking_json: Body, detainer_json: Body
) -> None:
    booking = _booking(env, booking_json, detainer_json, "us/ca/los-angeles/lasd", "America/Los_Angeles", "LA-2")
    release = env.call(
        "clerk",
        "POST",
        f"/v1/bookings/{booking}/release",
        json={"released_at": "2024-03-08T11:30:00Z", "released_to": "ice"},
    )
    assert release.status_code == 409 and release.json()["dimension"] == "transfer"
    detainer = env.call("clerk", "GET", f"/v1/bookings/{booking}").json()["detainer_ids"][0]
    notice = {"detainer_id": detainer, "channel": "phone", "sent_at": "2024-03-08T11:00:00Z"}
    refused = env.call("clerk", "POST", f"/v1/bookings/{booking}/notifications", json=notice)
    assert refused.status_code == 409 and refused.json()["dimension"] == "notify"
    done = env.call(
        "clerk",
        "POST",
        f"/v1/bookings/{booking}/notifications",
        json={**notice, "against_decision_confirmed": refused.json()["rules"]},
    )
    assert done.status_code == 200
    assert done.json()["notices"][-1]["against_decision"]["dimension"] == "notify"
    public = env.call(
        "clerk",
        "POST",
        f"/v1/bookings/{booking}/release",
        json={"released_at": "2024-03-08T11:30:00Z", "released_to": "public"},
    )
    assert public.status_code == 200 and public.json()["against_decision"] == []


def test_a_release_before_a_hold_the_law_requires_has_run(env: Any, booking_json: Body, detainer_json: Body) -> None:
    booking = _booking(env, booking_json, detainer_json, "us/tx/harris", "America/Chicago", "TX-1")
    decision = env.call("clerk", "GET", f"/v1/bookings/{booking}/decision").json()["effective"]
    assert decision["hold_required"] is True
    early = env.call("clerk", "POST", f"/v1/bookings/{booking}/release", json={"released_at": "2024-03-08T12:00:00Z"})
    assert early.status_code == 409 and early.json()["dimension"] == "hold"
    later = env.call("clerk", "POST", f"/v1/bookings/{booking}/release", json={"released_at": decision["hold_until"]})
    assert later.status_code == 200 and later.json()["against_decision"] == []


def test_what_the_decision_allows_needs_no_confirmation(env: Any, booking_json: Body, detainer_json: Body) -> None:
    booking = _booking(env, booking_json, detainer_json, "us/ga/fulton", "America/New_York", "GA-1")
    done = env.call(
        "clerk",
        "POST",
        f"/v1/bookings/{booking}/transfer",
        json={"transferred_at": "2024-03-08T11:30:00Z", "to_agency": "ICE ERO Atlanta"},
    )
    assert done.status_code == 200 and done.json()["against_decision"] == []
