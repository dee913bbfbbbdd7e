"""Need-to-know by law, over the API: role × decision kind × field. Where notice to ICE is forbidden (or nothing is
decided), an ICE liaison sees that the detainer exists and whether it is lifted — never release timing, custody,
explanation steps, criminal history or another office's detainers; where notice is allowed it sees the timing but
still none of the rest. Staff see everything. Another office's id answers exactly as a made-up one."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from detainers.ledger._testing import temporary_postgres_schema

from .conftest import Env, booking_body, detainer_body, make_env

ELIGIBLE = "2024-03-13T19:47:00Z"  # every release time ends in :47 (nothing else in the records does)
TIMING = re.compile(r"\d\d:47(:00)?")
OTHER_RECEIVED = "2024-03-08T10:13:00-08:00"  # the other office's detainer: received at :13, after ours (operative)
CONVICTION = "PC 187"
STAFF = ("clerk", "supervisor", "auditor")
FIELDS = ("timing", "custody", "explanation", "fact_steps", "criminal_history", "other_office")


@dataclass
class Case:
    kind: str
    detainer_id: str
    markers: dict[str, list[str]]  # field -> strings whose presence shows the field


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


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()
    return data


def _case(env: Env, name: str, jurisdiction: str, zone: str, *, peer: bool = False) -> tuple[str, str, str]:
    """A booking with a conviction, an ERO-LOS detainer on it (and an ERO-HOU one if ``peer``), eligible at :47."""
    booking = _ok(
        env.call(
            "clerk",
            "POST",
            "/v1/bookings",
            json=booking_body(
                booking_number=f"BK-{name}",
                jurisdiction=jurisdiction,
                timezone=zone,
                facility=f"Facility {name}",
                convictions=[{"statute": CONVICTION, "level": "felony", "date": "2015-01-01"}],
            ),
        ),
        201,
    )
    own = _ok(
        env.call(
            "clerk",
            "POST",
            "/v1/detainers",
            json=detainer_body(booking_id=booking["id"], ice_event_no=f"EVT-{name}", subject=None),
        ),
        201,
    )
    other = ""
    if peer:
        other = _ok(
            env.call(
                "clerk",
                "POST",
                "/v1/detainers",
                json=detainer_body(
                    office="ERO-HOU",
                    booking_id=booking["id"],
                    ice_event_no=f"EVT-{name}-HOU",
                    received_at=OTHER_RECEIVED,
                    warrant="I-205",
                    pc_basis=["final_order"],
                    subject=None,
                ),
            ),
            201,
        )["id"]
    _ok(
        env.call(
            "clerk",
            "POST",
            f"/v1/bookings/{booking['id']}/eligibility",
            json={"eligible_at": ELIGIBLE, "reason": "bond_posted"},
        )
    )
    return booking["id"], own["id"], other


def build(env: Env) -> list[Case]:
    """One ERO-LOS detainer per decision kind (and the ledger events that go with it)."""
    cases = []
    custody = ['"in_custody"', "BK-", "Facility "]
    for kind, jurisdiction, zone in (
        ("notify_allowed", "us/ga/fulton", "America/New_York"),
        ("notify_required", "us/tx/harris", "America/Chicago"),
        ("notify_forbidden", "us/ca/los-angeles/lasd", "America/Los_Angeles"),
        # SB 54 allows notice here only because of the conviction: the rule step that says so must not quote it
        ("notify_allowed_by_conviction", "us/ca/orange", "America/Los_Angeles"),
    ):
        _booking, own, _ = _case(env, kind, jurisdiction, zone)
        cases.append(Case(kind, own, {"custody": [*custody, f'"{jurisdiction}"']}))
    # Allowed by the law, then a supervisor overrode it to "do not notify" after the notices were queued.
    booking, flipped, _ = _case(env, "override", "us/ga/fulton", "America/New_York")
    cases.append(Case("notify_forbidden_by_override", flipped, {"custody": [*custody, '"us/ga/fulton"']}))
    # Allowed, with another office's detainer on the same booking.
    _b, shared, other = _case(env, "peer", "us/ga/fulton", "America/New_York", peer=True)
    cases.append(
        Case(
            "notify_allowed_with_other_office",
            shared,
            {
                "custody": [*custody, '"us/ga/fulton"'],
                "other_office": [other, "T18:13:00", "10:13:00", "13:13:00", "I-205"],
            },
        )
    )
    unlinked = _ok(
        env.call("clerk", "POST", "/v1/detainers", json=detainer_body(ice_event_no="EVT-unlinked", subject=None)), 201
    )
    cases.append(Case("none", unlinked["id"], {"custody": custody}))
    # Release notices come due (48 h before release) and are queued: they carry the release time.
    env.clock.set(datetime(2024, 3, 11, 21, 0, tzinfo=UTC))
    assert env.services.worker.run_once().queued >= 2
    overridden = env.call(
        "supervisor",
        "POST",
        f"/v1/bookings/{booking}/override",
        json={"notify": False, "reason": "county counsel: no notice in this case"},
    )
    assert _ok(overridden)["effective"]["notify"] is False
    for case in cases:
        case.markers.setdefault("other_office", [])
        case.markers["explanation"] = ["48 hours before release", "48 elapsed hours", "release at release eligibility"]
        case.markers["fact_steps"] = ["decision instant", "result: notify"]
        case.markers["criminal_history"] = [CONVICTION]
    return cases


def haystack(env: Env, role: str, detainer_id: str) -> str:
    """Everything the role's token can read about one detainer through the API, as text."""
    parts = []
    for suffix in ("", "/events", "/decision", "/notices"):
        response = env.call(role, "GET", f"/v1/detainers/{detainer_id}{suffix}")
        if response.status_code == 200:
            parts.append(response.text)
    listing = _ok(env.call(role, "GET", "/v1/detainers", params={"limit": 200}))
    parts += [json.dumps(d) for d in listing["items"] if d["id"] == detainer_id]
    return "\n".join(parts)


def _present(field: str, text: str, markers: dict[str, list[str]]) -> bool:
    if field == "timing":
        return bool(TIMING.search(text))
    return any(m in text for m in markers[field])


def expected(role: str, kind: str, field: str) -> bool:
    if kind == "none":
        return False  # nothing is decided and the detainer is on no booking
    if role in STAFF:
        return field != "other_office" or kind == "notify_allowed_with_other_office"
    if kind.startswith("notify_forbidden"):
        return False  # the liaison: the detainer exists, and its status; nothing else
    # notice to ICE allowed: timing, custody, the rule and clock steps of the explanation; never the facts behind
    # it (criminal history) nor anything of another office's detainer (then not even the steps, which describe it)
    if field in ("timing", "custody"):
        return True
    if field == "explanation":
        return kind != "notify_allowed_with_other_office"
    return False


def test_role_by_decision_kind_by_field(desk_env: Env) -> None:
    env = desk_env
    cases = build(env)
    kinds = {c.kind for c in cases}
    assert kinds == {
        "none",
        "notify_allowed_by_conviction",
        "notify_forbidden",
        "notify_forbidden_by_override",
        "notify_allowed",
        "notify_required",
        "notify_allowed_with_other_office",
    }
    failures = []
    checked = 0
    for case in cases:
        for role in (*STAFF, "ice_liaison"):
            text = haystack(env, role, case.detainer_id)
            assert case.detainer_id in text, (role, case.kind, "the detainer's existence is always shown")
            for field in FIELDS:
                checked += 1
                shown = _present(field, text, case.markers)
                if shown != expected(role, case.kind, field):
                    failures.append(f"{role} × {case.kind} × {field}: {'shown' if shown else 'hidden'}")
    assert checked == len(cases) * 4 * len(FIELDS)
    assert failures == []


def test_forbidden_and_undecided_look_exactly_alike_to_the_liaison(desk_env: Env) -> None:
    """A liaison cannot tell 'notice forbidden' (so the person is booked here) from 'not linked to any booking'."""
    env = desk_env
    cases = {c.kind: c for c in build(env)}

    def shape(detainer_id: str) -> list[Any]:
        out = []
        for suffix in ("", "/decision", "/notices", "/events"):
            data = _ok(env.call("ice_liaison", "GET", f"/v1/detainers/{detainer_id}{suffix}"))
            text = json.dumps(data, sort_keys=True).replace(detainer_id, "ID")
            text = re.sub(r"EVT-[\w-]+", "EVT", text)
            out.append(json.loads(text))
        return out

    forbidden, overridden, none = (
        shape(cases[k].detainer_id) for k in ("notify_forbidden", "notify_forbidden_by_override", "none")
    )
    for got in (forbidden, overridden, none):
        detainer, decision, notices, events = got
        assert detainer["status"] == "received" and detainer["sight"] == "request_only"
        assert detainer["version"] is None and detainer["jurisdiction"] is None and detainer["booking_id"] is None
        assert decision["effective"] == {"notify": False} and decision["booking_id"] is None
        assert notices == []
        assert [e["type"] for e in events] == ["detainer_received"] and events[0]["version"] is None
    # the bodies differ only in the detainer's own fields and the events' places in the chain
    assert forbidden[1] == overridden[1] == none[1]
    for key in ("status", "sight", "withheld", "version", "served_at", "jurisdiction", "booking_status", "notices"):
        assert forbidden[0][key] == overridden[0][key] == none[0][key], key


def test_liaison_search_filters_what_it_may_see(desk_env: Env) -> None:
    """Filtering by status or jurisdiction must not sort forbidden detainers into 'active' or a place."""
    env = desk_env
    cases = {c.kind: c for c in build(env)}
    hidden = {cases[k].detainer_id for k in ("notify_forbidden", "notify_forbidden_by_override", "none")}
    shared = {
        cases[k].detainer_id
        for k in (
            "notify_allowed",
            "notify_required",
            "notify_allowed_with_other_office",
            "notify_allowed_by_conviction",
        )
    }

    def ids(**params: Any) -> set[str]:
        page = _ok(env.call("ice_liaison", "GET", "/v1/detainers", params={"limit": 200, **params}))
        assert page["total"] == len(page["items"])
        return {d["id"] for d in page["items"]}

    assert ids(status="active") == shared
    assert ids(status="received") == hidden
    assert ids(jurisdiction="us/ca") == {cases["notify_allowed_by_conviction"].detainer_id}
    assert ids(jurisdiction="us/ga") == {
        cases["notify_allowed"].detainer_id,
        cases["notify_allowed_with_other_office"].detainer_id,
    }
    staff_booking = _ok(env.call("clerk", "GET", f"/v1/detainers/{cases['notify_forbidden'].detainer_id}"))[
        "booking_id"
    ]
    assert ids(booking_id=staff_booking) == set()
    assert ids() == hidden | shared


def test_another_offices_id_answers_exactly_as_a_made_up_one(desk_env: Env) -> None:
    env = desk_env
    cases = {c.kind: c for c in build(env)}
    peer = _ok(
        env.call("clerk", "GET", f"/v1/detainers/{cases['notify_allowed_with_other_office'].detainer_id}/decision")
    )
    others = [
        d for d in peer["effective"]["detainer_ids"] if d != cases["notify_allowed_with_other_office"].detainer_id
    ]
    assert len(others) == 1
    real, made_up = others[0], "0" * 32
    attachment = {"kind": "x", "filename": "x.pdf", "content_base64": "eA=="}
    lift = {"lifted_at": "2024-03-09T00:00:00Z", "reason": "x"}
    for method, suffix, body in (
        ("GET", "", None),
        ("GET", "/events", None),
        ("GET", "/decision", None),
        ("GET", "/notices", None),
        ("GET", "/attachments/abc", None),
        ("POST", "/lift", lift),
        ("POST", "/attachments", attachment),
        ("POST", "/lift", {}),
    ):
        answers = []
        for ident in (real, made_up):
            response = env.call("ice_liaison", method, f"/v1/detainers/{ident}{suffix}", json=body)
            answers.append((response.status_code, response.text.replace(ident, "ID")))
        assert answers[0] == answers[1], (method, suffix, answers)
        assert answers[0][0] in (404, 422)
    # naming it as the detainer a new one cancels
    answers = []
    for ident in (real, made_up):
        response = env.call(
            "ice_liaison",
            "POST",
            "/v1/detainers",
            json=detainer_body(cancels_detainer_id=ident, ice_event_no=f"C-{ident[:4]}"),
        )
        answers.append((response.status_code, response.text.replace(ident, "ID")))
    assert answers[0] == answers[1] and answers[0][0] == 404, answers
    assert _ok(
        env.call("clerk", "POST", "/v1/detainers", json=detainer_body(cancels_detainer_id=real, ice_event_no="C-ok")),
        201,
    )


def test_liaison_lift_on_a_not_shared_detainer_needs_no_version(desk_env: Env) -> None:
    """The version is withheld, so a stale one given blindly cannot be refused with a 409 that would reveal it."""
    env = desk_env
    cases = {c.kind: c for c in build(env)}
    ident = cases["notify_forbidden"].detainer_id
    lifted = env.call(
        "ice_liaison",
        "POST",
        f"/v1/detainers/{ident}/lift",
        json={"lifted_at": "2024-03-11T20:00:00Z", "reason": "Prosecutorial Discretion", "expected_version": 1},
    )
    data = _ok(lifted)
    assert data["status"] == "lifted" and data["version"] is None
    again = env.call(
        "ice_liaison", "POST", f"/v1/detainers/{ident}/lift", json={"lifted_at": "2024-03-11T20:00:00Z", "reason": "x"}
    )
    assert again.status_code == 422 and "already lifted" in again.json()["error"]
    assert datetime.fromisoformat(_ok(env.call("clerk", "GET", f"/v1/detainers/{ident}"))["lifted_at"]) == datetime(
        2024, 3, 11, 20, tzinfo=UTC
    ) + timedelta(0)
