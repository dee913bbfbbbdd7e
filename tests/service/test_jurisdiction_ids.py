"""The API checks jurisdiction ids against the registry and shows each decision's coverage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Body = Callable[..., dict[str, Any]]


def _decided(env: Any, booking: dict[str, Any], detainer_json: Body) -> dict[str, Any]:
    made = env.call("clerk", "POST", "/v1/bookings", json=booking)
    assert made.status_code == 201, made.text
    booking_id = made.json()["id"]
    detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json()).json()
    linked = env.call(
        "clerk", "POST", f"/v1/detainers/{detainer['id']}/link", json={"booking_id": booking_id, "expected_version": 1}
    )
    assert linked.status_code == 200, linked.text
    eligible = env.call(
        "clerk",
        "POST",
        f"/v1/bookings/{booking_id}/eligibility",
        json={"eligible_at": "2024-03-08T14:00:00-05:00", "reason": "bond_posted"},
    )
    assert eligible.status_code == 200, eligible.text
    decision: dict[str, Any] = env.call("clerk", "GET", f"/v1/bookings/{booking_id}/decision").json()
    return decision


def test_a_typo_is_refused_with_the_suggestion(env: Any, booking_json: Body) -> None:
    refused = env.call("clerk", "POST", "/v1/bookings", json=booking_json(jurisdiction="us/ca/los-angles/lasd"))
    assert refused.status_code == 422
    body = refused.json()
    assert body["field"] == "jurisdiction"
    assert "unknown jurisdiction 'us/ca/los-angles/lasd'" in body["error"]
    assert "did you mean us/ca/los-angeles/lasd?" in body["error"]
    assert env.call("clerk", "GET", "/v1/bookings").json()["total"] == 0  # nothing was recorded


def test_ids_are_stored_in_canonical_form(env: Any, booking_json: Body) -> None:
    made = env.call("clerk", "POST", "/v1/bookings", json=booking_json(jurisdiction=" US/GA/Fulton/ "))
    assert made.status_code == 201, made.text
    assert made.json()["jurisdiction"] == "us/ga/fulton"


def test_a_corrected_jurisdiction_is_checked_too(env: Any, booking_json: Body) -> None:
    booking = env.call("clerk", "POST", "/v1/bookings", json=booking_json()).json()
    path = f"/v1/bookings/{booking['id']}/corrections"
    typo = {"field": "jurisdiction", "value": "us/ga/fultn", "reason": "wrong county"}
    refused = env.call("supervisor", "POST", path, json=typo)
    assert refused.status_code == 422 and "did you mean us/ga/fulton?" in refused.json()["error"]
    fixed = env.call("supervisor", "POST", path, json={**typo, "value": "us/ga/cobb"})
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["jurisdiction"] == "us/ga/cobb"


def test_a_real_county_without_a_pack_decides_with_its_coverage(
    env: Any, booking_json: Body, detainer_json: Body
) -> None:
    decision = _decided(env, booking_json(), detainer_json)["decision"]  # us/ga/fulton: a state pack, no county pack
    assert decision["coverage"]["complete"] is False
    assert decision["coverage"]["encoded"] == ["us", "us/ga"]
    assert decision["coverage"]["fell_back"] == ["us/ga/fulton"]


def test_an_encoded_chain_has_complete_coverage(env: Any, booking_json: Body, detainer_json: Body) -> None:
    booking = booking_json(jurisdiction="us/ca/los-angeles/lasd", timezone="America/Los_Angeles")
    decision = _decided(env, booking, detainer_json)["decision"]
    assert decision["coverage"]["complete"] is True
    assert decision["coverage"]["fell_back"] == []
