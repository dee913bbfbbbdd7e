"""Every endpoint × every role: allowed or denied. A new route without a row here fails the first test."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

C, S, L, A, P = "clerk", "supervisor", "ice_liaison", "auditor", "public"
STAFF = {C, S, A}
EVERYONE = {C, S, L, A, P}
OPEN = "anonymous"  # no token needed

# (method, path) -> roles allowed. Anything else must get 403 (and 401 without a token).
MATRIX: dict[tuple[str, str], set[str] | str] = {
    ("POST", "/v1/detainers"): {C, S, L},
    ("GET", "/v1/detainers"): {C, S, L, A},
    ("GET", "/v1/detainers/{detainer_id}"): {C, S, L, A},
    ("GET", "/v1/detainers/{detainer_id}/events"): {C, S, L, A},
    ("GET", "/v1/detainers/{detainer_id}/decision"): {C, S, L, A},
    ("GET", "/v1/detainers/{detainer_id}/notices"): {C, S, L, A},
    # the person's notices: a liaison sees the list (own office, shared sight), never the PDF, never records one
    ("GET", "/v1/detainers/{detainer_id}/person-notices"): {C, S, L, A},
    ("GET", "/v1/detainers/{detainer_id}/person-notices/{kind}.pdf"): STAFF,
    ("POST", "/v1/detainers/{detainer_id}/person-notices/{kind}/served"): {C, S},
    ("POST", "/v1/detainers/{detainer_id}/service"): {C, S},
    ("POST", "/v1/detainers/{detainer_id}/link"): {C, S},
    ("POST", "/v1/detainers/{detainer_id}/lift"): {C, S, L},
    ("POST", "/v1/detainers/{detainer_id}/attachments"): {C, S, L},
    ("GET", "/v1/detainers/{detainer_id}/attachments/{attachment_id}"): {C, S, L, A},
    ("POST", "/v1/detainers/{detainer_id}/corrections"): {S},
    ("POST", "/v1/bookings"): {C, S},
    ("GET", "/v1/bookings"): STAFF,
    ("GET", "/v1/bookings/{booking_id}"): STAFF,
    ("GET", "/v1/bookings/{booking_id}/events"): STAFF,
    ("GET", "/v1/bookings/{booking_id}/decision"): STAFF,
    ("POST", "/v1/bookings/{booking_id}/decision"): {C, S},
    ("POST", "/v1/bookings/{booking_id}/eligibility"): {C, S},
    ("POST", "/v1/bookings/{booking_id}/status-proof"): {C, S},
    ("POST", "/v1/bookings/{booking_id}/release"): {C, S},
    ("POST", "/v1/bookings/{booking_id}/transfer"): {C, S},
    ("POST", "/v1/bookings/{booking_id}/notifications"): {C, S},
    ("POST", "/v1/bookings/{booking_id}/override"): {S},
    ("POST", "/v1/bookings/{booking_id}/corrections"): {S},
    ("GET", "/v1/people/{subject_key}"): STAFF,
    ("DELETE", "/v1/people/{subject_key}"): {S},
    ("GET", "/v1/audit/verify"): {S, A},
    ("GET", "/v1/audit/events"): {A},
    ("GET", "/v1/audit/access-log"): {A},
    ("GET", "/v1/alerts"): STAFF,
    ("GET", "/v1/public/counts"): EVERYONE,
    ("GET", "/v1/me"): EVERYONE,
    ("GET", "/v1/offices"): STAFF,
    ("GET", "/v1/reports/{name}"): {S, A},
    ("GET", "/health"): OPEN,
    ("GET", "/openapi.json"): OPEN,
    ("GET", "/docs"): OPEN,
    ("GET", "/docs/oauth2-redirect"): OPEN,
    ("GET", "/redoc"): OPEN,
}


def routes_of(routes: Any) -> set[tuple[str, str]]:
    """(method, path) of every HTTP route, descending into included routers (FastAPI nests them)."""
    found = set()
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            found |= routes_of(nested.routes)
            continue
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                found.add((method, route.path))
    return found


def test_every_endpoint_has_a_matrix_row(env: Any) -> None:
    app = env.client.app
    routes = routes_of(app.routes)
    documented = {(m.upper(), p) for p, ops in app.openapi()["paths"].items() for m in ops}
    assert documented <= routes and len(routes) > 30
    assert routes - MATRIX.keys() == set(), "new endpoints need a role-matrix row"
    assert MATRIX.keys() - routes == set(), "matrix rows for endpoints that no longer exist"


@pytest.fixture
def filled(env: Any, detainer_json: Callable[..., dict[str, Any]], booking_json: Callable[..., dict[str, Any]]) -> Any:
    booking = env.call(C, "POST", "/v1/bookings", json=booking_json()).json()
    detainer = env.call(L, "POST", "/v1/detainers", json=detainer_json()).json()
    attached = env.call(
        L,
        "POST",
        f"/v1/detainers/{detainer['id']}/attachments",
        json={"kind": "I-200", "filename": "a.pdf", "content_base64": base64.b64encode(b"pdf").decode()},
    ).json()
    env.call(C, "POST", f"/v1/detainers/{detainer['id']}/link", json={"booking_id": booking["id"]})
    params = {
        "detainer_id": detainer["id"],
        "booking_id": booking["id"],
        "subject_key": detainer["subject_key"],
        "attachment_id": attached["attachments"][0]["attachment_id"],
        "name": "illinois-ag",
        "kind": "truth_act_copy",
    }
    return env, params


def test_role_matrix(filled: Any) -> None:
    env, params = filled
    failures = []
    for (method, template), allowed in sorted(MATRIX.items()):
        path = template.format(**params)
        kwargs: dict[str, Any] = {"json": {}} if method in ("POST", "DELETE") else {}
        anonymous = env.client.request(method, path, **kwargs)
        if allowed == OPEN:
            if anonymous.status_code in (401, 403):
                failures.append(f"anonymous {method} {template}: {anonymous.status_code}")
            continue
        if anonymous.status_code != 401:
            failures.append(f"anonymous {method} {template}: expected 401, got {anonymous.status_code}")
        for role in EVERYONE:
            status = env.call(role, method, path, **kwargs).status_code
            if role in allowed and status in (401, 403):
                failures.append(f"{role} {method} {template}: expected allowed, got {status}")
            if role not in allowed and status != 403:
                failures.append(f"{role} {method} {template}: expected 403, got {status}")
    assert failures == []


def test_liaison_cannot_reach_another_offices_detainer_anywhere(filled: Any) -> None:
    env, params = filled
    for (method, template), allowed in MATRIX.items():
        if "{detainer_id}" not in template or allowed == OPEN or L not in allowed:
            continue
        path = template.format(**params)
        kwargs: dict[str, Any] = {"json": {}} if method == "POST" else {}
        response = env.call("other_liaison", method, path, **kwargs)
        assert response.status_code in (404, 422), (method, template, response.status_code)
        if method == "GET":
            assert response.status_code == 404
    listing = env.call("other_liaison", "GET", "/v1/detainers").json()
    assert listing["total"] == 0
