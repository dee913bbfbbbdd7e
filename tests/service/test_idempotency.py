"""Writes that cannot repeat: natural keys (office + ICE event number; jurisdiction + booking number) are unique
with a 409 naming the record that holds them, and an Idempotency-Key makes every create safe to retry (the same
answer, nothing written twice; a different body under the same key is refused). Both databases."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from detainers.ledger._testing import temporary_postgres_schema

from .conftest import Env, booking_body, detainer_body, make_env


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def desk_env(
    request: pytest.FixtureRequest, env_factory: Callable[..., Env], postgres_reason: str | None
) -> Iterator[Env]:
    if request.param == "sqlite":
        yield env_factory()
        return
    if postgres_reason is not None:
        pytest.skip(postgres_reason)
    with temporary_postgres_schema() as url:
        env = make_env(url)
        try:
            yield env
        finally:
            env.client.close()
            env.services.close()


def _count(env: Env, path: str) -> int:
    return int(env.call("auditor", "GET", path, params={"limit": 1}).json()["total"])


def test_the_same_detainer_twice_is_refused_naming_the_first(desk_env: Env) -> None:
    env = desk_env
    first = env.call("clerk", "POST", "/v1/detainers", json=detainer_body(ice_event_no="EVT-7"))
    assert first.status_code == 201
    again = env.call("clerk", "POST", "/v1/detainers", json=detainer_body(ice_event_no="EVT-7"))
    assert again.status_code == 409, again.text
    data = again.json()
    assert data["existing_id"] == first.json()["id"] and first.json()["id"] in data["error"]
    assert data["field"] == "ice_event_no" and "ERO-LOS" in data["error"] and "EVT-7" in data["error"]
    assert _count(env, "/v1/detainers") == 1
    # another office may use the same event number; a detainer without one is never a duplicate
    houston = env.call("clerk", "POST", "/v1/detainers", json=detainer_body(office="ERO-HOU", ice_event_no="EVT-7"))
    assert houston.status_code == 201
    for _ in range(2):
        assert env.call("clerk", "POST", "/v1/detainers", json=detainer_body(ice_event_no=None)).status_code == 201
    assert _count(env, "/v1/detainers") == 4


def test_the_same_booking_twice_is_refused_naming_the_first(desk_env: Env) -> None:
    env = desk_env
    first = env.call("clerk", "POST", "/v1/bookings", json=booking_body())
    assert first.status_code == 201
    again = env.call("clerk", "POST", "/v1/bookings", json=booking_body(facility="Another name"))
    assert again.status_code == 409 and again.json()["existing_id"] == first.json()["id"]
    assert again.json()["field"] == "booking_number" and "24-000123" in again.json()["error"]
    elsewhere = env.call("clerk", "POST", "/v1/bookings", json=booking_body(jurisdiction="us/ga/cobb"))
    assert elsewhere.status_code == 201
    assert _count(env, "/v1/bookings") == 2


def test_an_idempotency_key_replays_the_first_answer(desk_env: Env) -> None:
    env = desk_env
    headers = {**env.headers("clerk"), "Idempotency-Key": "7f1c2d9e-retry-after-timeout"}
    first = env.client.post("/v1/detainers", json=detainer_body(), headers=headers)
    assert first.status_code == 201 and "idempotent-replayed" not in first.headers
    second = env.client.post("/v1/detainers", json=detainer_body(), headers=headers)
    assert second.status_code == 201 and second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert _count(env, "/v1/detainers") == 1
    changed = env.client.post("/v1/detainers", json=detainer_body(warrant="I-205"), headers=headers)
    assert changed.status_code == 422, changed.text
    assert changed.json()["field"] == "Idempotency-Key" and "different request" in changed.json()["error"]
    assert first.json()["id"] in changed.json()["error"]
    # keys belong to their sender: another token's identical key is a new request (here refused as a duplicate)
    other = {**env.headers("supervisor"), "Idempotency-Key": headers["Idempotency-Key"]}
    assert env.client.post("/v1/detainers", json=detainer_body(), headers=other).status_code == 409
    bad = env.client.post(
        "/v1/detainers", json=detainer_body(ice_event_no="X"), headers={**headers, "Idempotency-Key": "a b"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "Idempotency-Key"


def test_idempotent_bookings_and_attachments(desk_env: Env) -> None:
    env = desk_env
    headers = {**env.headers("clerk"), "Idempotency-Key": "booking-1"}
    made = [env.client.post("/v1/bookings", json=booking_body(), headers=headers) for _ in range(3)]
    assert {m.status_code for m in made} == {201} and len({m.json()["id"] for m in made}) == 1
    detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_body()).json()
    attach = {"kind": "I-200", "filename": "a.pdf", "content_base64": "JVBERi0x"}
    path = f"/v1/detainers/{detainer['id']}/attachments"
    key = {**env.headers("clerk"), "Idempotency-Key": "attach-1"}
    answers = [env.client.post(path, json=attach, headers=key) for _ in range(2)]
    assert [a.status_code for a in answers] == [201, 201]
    assert len(env.call("clerk", "GET", f"/v1/detainers/{detainer['id']}").json()["attachments"]) == 1


def test_concurrent_retries_with_one_key_make_one_detainer(desk_env: Env) -> None:
    env = desk_env
    headers = {**env.headers("clerk"), "Idempotency-Key": "burst-1"}
    answers: list[Any] = []
    barrier = threading.Barrier(4)

    def post() -> None:
        barrier.wait()
        answers.append(env.client.post("/v1/detainers", json=detainer_body(ice_event_no="EVT-BURST"), headers=headers))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status_code for a in answers) == [201] * 4, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert _count(env, "/v1/detainers") == 1


def test_corrections_move_the_natural_key(desk_env: Env) -> None:
    env = desk_env
    one = env.call("clerk", "POST", "/v1/detainers", json=detainer_body(ice_event_no="EVT-1")).json()
    two = env.call("clerk", "POST", "/v1/detainers", json=detainer_body(ice_event_no="EVT-2")).json()
    path = f"/v1/detainers/{two['id']}/corrections"
    clash = env.call("supervisor", "POST", path, json={"field": "ice_event_no", "value": "EVT-1", "reason": "typo?"})
    assert clash.status_code == 409 and clash.json()["existing_id"] == one["id"]
    moved = env.call("supervisor", "POST", path, json={"field": "ice_event_no", "value": "EVT-3", "reason": "typo"})
    assert moved.status_code == 200, moved.text
    assert env.call("clerk", "POST", "/v1/detainers", json=detainer_body(ice_event_no="EVT-2")).status_code == 201
    refused = env.call("clerk", "POST", "/v1/detainers", json=detainer_body(ice_event_no="EVT-3"))
    assert refused.status_code == 409 and refused.json()["existing_id"] == two["id"]
    booking = env.call("clerk", "POST", "/v1/bookings", json=booking_body(booking_number="B-1")).json()
    env.call("clerk", "POST", "/v1/bookings", json=booking_body(booking_number="B-2"))
    fix = env.call(
        "supervisor",
        "POST",
        f"/v1/bookings/{booking['id']}/corrections",
        json={"field": "booking_number", "value": "B-2", "reason": "the other one"},
    )
    assert fix.status_code == 409 and fix.json()["field"] == "booking_number"
