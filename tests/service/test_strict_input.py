"""Strict input: each case here was accepted (or answered 500) before issue #15; now it is refused with the field."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import pytest

Body = Callable[..., dict[str, Any]]


def _refused(response: Any, field: str, status: int = 422) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]
    assert field in (body.get("field") or "") or any(field in (d.get("field") or "") for d in body.get("details", []))


@pytest.mark.parametrize(
    "received_at",
    [
        "9999-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "1989-12-31T23:59:59Z",
        1e-05,
        1709900000,
        True,
        "2024-03-08T03:00:00",
    ],
)
def test_implausible_or_non_string_or_naive_received_at_is_refused(
    env: Any, detainer_json: Body, received_at: Any
) -> None:
    _refused(env.call("clerk", "POST", "/v1/detainers", json=detainer_json(received_at=received_at)), "received_at")


def test_order_at_intake_issued_received_served(env: Any, detainer_json: Body) -> None:
    early = env.call("clerk", "POST", "/v1/detainers", json=detainer_json(served_at="2024-03-08T10:00:00Z"))
    _refused(early, "served_at")  # received 2024-03-08T11:00Z
    issued_later = env.call("clerk", "POST", "/v1/detainers", json=detainer_json(issued_on="2024-03-12"))
    _refused(issued_later, "issued_on")
    fine = env.call(
        "clerk", "POST", "/v1/detainers", json=detainer_json(issued_on="2024-03-07", served_at="2024-03-08T11:30:00Z")
    )
    assert fine.status_code == 201, fine.text


def test_service_and_lift_before_receipt_are_refused(env: Any, detainer_json: Body) -> None:
    detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json()).json()
    base = f"/v1/detainers/{detainer['id']}"
    _refused(env.call("clerk", "POST", f"{base}/service", json={"served_at": "2024-03-01T00:00:00Z"}), "served_at")
    _refused(env.call("clerk", "POST", f"{base}/service", json={"served_at": 1e-05}), "served_at")
    lift = {"lifted_at": "2024-03-08T10:59:00Z", "reason": "Prosecutorial discretion"}
    _refused(env.call("supervisor", "POST", f"{base}/lift", json=lift), "lifted_at")
    assert env.call("clerk", "GET", base).json()["version"] == 1  # nothing was written


@pytest.mark.parametrize("born", ["2099-01-01", "1850-05-05", 19900102, "1990-1-2"])
def test_implausible_date_of_birth_is_refused(env: Any, detainer_json: Body, born: Any) -> None:
    body = detainer_json()
    body["subject"]["date_of_birth"] = born
    _refused(env.call("clerk", "POST", "/v1/detainers", json=body), "date_of_birth")


def test_birth_after_booking_is_refused(env: Any, booking_json: Body) -> None:
    body = booking_json(subject={"family_name": "Qxzvyw", "date_of_birth": "2024-03-09"})
    _refused(env.call("clerk", "POST", "/v1/bookings", json=body), "date_of_birth")


@pytest.mark.parametrize("version", [True, "1", 1.0, -1, 2**63])
def test_expected_version_is_a_strict_non_negative_int(env: Any, detainer_json: Body, version: Any) -> None:
    detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json()).json()
    answer = env.call(
        "clerk",
        "POST",
        f"/v1/detainers/{detainer['id']}/service",
        json={"served_at": "2024-03-08T12:00:00Z", "expected_version": version},
    )
    _refused(answer, "expected_version")


def test_lists_are_bounded(env: Any, detainer_json: Body) -> None:
    body = detainer_json()
    body["subject"]["aliases"] = ["Synthetic Alias"] * 1000
    _refused(env.call("clerk", "POST", "/v1/detainers", json=body), "aliases")


def test_channel_is_an_enumeration(env: Any, detainer_json: Body, booking_json: Body) -> None:
    booking = env.call("clerk", "POST", "/v1/bookings", json=booking_json()).json()
    detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json(booking_id=booking["id"])).json()
    body = {"detainer_id": detainer["id"], "channel": "carrier pigeon", "sent_at": "2024-03-08T11:30:00Z"}
    _refused(env.call("clerk", "POST", f"/v1/bookings/{booking['id']}/notifications", json=body), "channel")


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/detainers?offset=100000000000000000000000", "offset"),
        ("/v1/bookings?offset=9223372036854775808", "offset"),
        ("/v1/audit/events?after_seq=100000000000000000000000", "after_seq"),
        ("/v1/detainers?received_from=1e-05", "received_from"),
        ("/v1/detainers?received_from=2024-03-08T00:00:00", "received_from"),
        ("/v1/detainers?status=nonsense", "status"),
    ],
)
def test_huge_or_malformed_query_parameters_are_422_not_500(env: Any, path: str, field: str) -> None:
    role = "auditor" if path.startswith("/v1/audit") else "clerk"
    _refused(env.call(role, "GET", path), field)


def test_stale_version_on_an_action_no_longer_valid_is_409(env: Any, booking_json: Body) -> None:
    booking = env.call("clerk", "POST", "/v1/bookings", json=booking_json()).json()
    path = f"/v1/bookings/{booking['id']}/release"
    first = env.call("clerk", "POST", path, json={"released_at": "2024-03-08T09:00:00Z", "expected_version": 1})
    assert first.status_code == 200, first.text
    stale = env.call("clerk", "POST", path, json={"released_at": "2024-03-08T09:30:00Z", "expected_version": 1})
    assert stale.status_code == 409, stale.text
    assert stale.json()["field"] == "expected_version" and stale.json()["current_version"] > 1


def _attach(env: Any, detainer_id: str, media_type: str, content: bytes, filename: str = "w.pdf") -> Any:
    return env.call(
        "clerk",
        "POST",
        f"/v1/detainers/{detainer_id}/attachments",
        json={
            "kind": "I-200",
            "filename": filename,
            "media_type": media_type,
            "content_base64": base64.b64encode(content).decode(),
        },
    )


def test_attachments_allow_listed_types_served_as_downloads_with_nosniff(env: Any, detainer_json: Body) -> None:
    detainer = env.call("clerk", "POST", "/v1/detainers", json=detainer_json()).json()
    _refused(_attach(env, detainer["id"], "text/html", b"<script>alert(1)</script>"), "media_type")
    _refused(_attach(env, detainer["id"], "image/svg+xml", b"<svg/>"), "media_type")
    _refused(_attach(env, detainer["id"], "text/plain", b"x", filename="../../etc/passwd"), "filename")
    added = _attach(env, detainer["id"], "text/plain", b"warrant text", filename="warrant \u00e9.txt")
    assert added.status_code == 201, added.text
    attachment_id = added.json()["attachments"][0]["attachment_id"]
    got = env.call("clerk", "GET", f"/v1/detainers/{detainer['id']}/attachments/{attachment_id}")
    assert got.status_code == 200 and got.content == b"warrant text"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''warrant%20%C3%A9.txt" in got.headers["content-disposition"]
    assert got.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/health", "/v1/me", "/v1/detainers/nope", "/openapi.json"])
def test_every_response_carries_nosniff(env: Any, path: str) -> None:
    assert env.call("clerk", "GET", path).headers["x-content-type-options"] == "nosniff"


def test_a_body_over_the_limit_is_413_with_the_error_body(env: Any) -> None:
    big = b'{"kind": "I-200", "filename": "a.pdf", "content_base64": "' + b"A" * 8_100_000 + b'"}'
    answer = env.client.post(
        "/v1/detainers/x/attachments", content=big, headers={**env.headers("clerk"), "Content-Type": "application/json"}
    )
    assert answer.status_code == 413 and "larger than" in answer.json()["error"]


def test_every_operation_documents_its_errors_with_one_error_model(env: Any) -> None:
    document = env.client.get("/openapi.json").json()
    assert set(document["paths"]["/health"]["get"]["responses"]) == {"200"}  # no token, no input: only 200
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            for status in ("401", "403", "404", "409", "413", "422", "429"):
                if path == "/health":
                    continue
                assert status in operation["responses"], (method, path, status)
                schema = operation["responses"][status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path, status)
