"""Deadlines with a fake clock: the release notice goes out once (retries idempotent), over-limit at the instant.

Notices travel for real: a webhook to an HTTP receiver on 127.0.0.1 and email to an aiosmtpd server on 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from detainers.service import Office, SmtpNotifier, WebhookNotifier

ELIGIBLE = datetime(2024, 3, 13, 19, 0, tzinfo=UTC)  # 15:00 EDT, Georgia
HOLD_UNTIL = ELIGIBLE + timedelta(hours=48)  # I-247A: 48 elapsed hours (ICE guidance for Form I-247A)


class Receiver:
    """An agency webhook endpoint that drops duplicate idempotency keys; it fails the first delivery on purpose
    (after recording it, as when a response is lost) so the outbox must retry with the same key."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.accepted: dict[str, dict[str, Any]] = {}
        self.fail_first = True
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                key = self.headers["Idempotency-Key"]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.posts.append((key, body))
                duplicate = key in receiver.accepted
                receiver.accepted.setdefault(key, body)
                status = 500 if receiver.fail_first and len(receiver.posts) == 1 else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"duplicate": duplicate}).encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ice/notices"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def desk(
    env_factory: Callable[..., Any],
    receiver: Receiver,
    mailbox: tuple[Mailbox, int],
    detainer_json: Callable[..., dict[str, Any]],
    booking_json: Callable[..., dict[str, Any]],
) -> Iterator[Any]:
    client = httpx.Client(timeout=5)
    env = env_factory(
        notifiers={"webhook": WebhookNotifier(client), "email": SmtpNotifier("127.0.0.1", mailbox[1])},
        offices=[
            Office("ERO-ATL", "ERO Atlanta", webhook_url=receiver.url, email="ero-atl@ice.invalid"),
            Office("ERO-LOS", "ERO Los Angeles"),
        ],
    )
    booking = env.call("clerk", "POST", "/v1/bookings", json=booking_json()).json()
    detainer = env.call(
        "clerk", "POST", "/v1/detainers", json=detainer_json(office="ERO-ATL", booking_id=booking["id"])
    ).json()
    response = env.call(
        "clerk",
        "POST",
        f"/v1/bookings/{booking['id']}/eligibility",
        json={"eligible_at": ELIGIBLE.isoformat(), "reason": "bond_posted"},
    )
    assert response.status_code == 200, response.text
    decision = response.json()["decision"]
    assert decision["notify"] is True
    env.booking_id, env.detainer_id, env.decision = booking["id"], detainer["id"], decision
    yield env
    client.close()


def events_of(env: Any, kind: str) -> list[dict[str, Any]]:
    return [
        e for e in env.call("auditor", "GET", "/v1/audit/events", params={"limit": 1000}).json() if e["type"] == kind
    ]


def test_release_notice_goes_out_once_when_due_and_retries_are_idempotent(
    desk: Any, receiver: Receiver, mailbox: tuple[Mailbox, int]
) -> None:
    env, worker = desk, desk.services.worker
    target = datetime.fromisoformat(env.decision["notify_target"])
    assert target == ELIGIBLE - timedelta(hours=48)  # "at least 48 hours before release"
    assert target > env.clock.now()

    env.clock.set(target - timedelta(microseconds=1))
    assert worker.run_once().queued == 0 and receiver.posts == []
    assert worker.next_wake() == target

    env.clock.set(target)
    first = worker.run_once()
    assert first.queued == 2  # webhook + email
    assert first.sent == 1  # the email; the webhook answered 500 on purpose
    assert len(receiver.posts) == 1 and len(mailbox[0].messages) == 1

    for _ in range(3):  # more passes before the retry is due change nothing
        assert worker.run_once().queued == 0
    assert len(receiver.posts) == 1

    env.clock.advance(timedelta(seconds=30))  # first retry after 30 s
    assert worker.run_once().sent == 1
    env.clock.advance(timedelta(hours=1))
    worker.run_once()

    keys = [key for key, _ in receiver.posts]
    assert len(keys) == 2 and len(set(keys)) == 1  # retried with the same idempotency key
    assert list(receiver.accepted) == keys[:1]  # the agency sees one notice
    body = receiver.accepted[keys[0]]
    assert body["detainer_id"] == env.detainer_id and body["rules"]
    assert "Zyxwvut" not in json.dumps(body) and "A012345678" not in json.dumps(body)
    mail = mailbox[0].messages[0]
    assert str(mail["Idempotency-Key"]).replace(" ", "").endswith(":email")
    assert json.loads(mail.get_content())["detainer_id"] == env.detainer_id

    sent = events_of(env, "notification_sent")
    assert sorted(e["payload"]["channel"] for e in sent) == ["email", "webhook"]
    webhook = next(e for e in sent if e["payload"]["channel"] == "webhook")
    assert webhook["payload"]["attempts"] == 2 and webhook["authority"] == "worker" and webhook["rules"]
    assert len(events_of(env, "notification_queued")) == 2
    notices = env.call("ice_liaison", "GET", f"/v1/detainers/{env.detainer_id}/notices")
    assert notices.status_code == 404  # ERO-LOS liaison; the detainer is ERO-ATL's


def test_warning_then_over_limit_at_the_exact_instant(desk: Any) -> None:
    env, worker = desk, desk.services.worker
    hold_until = datetime.fromisoformat(env.decision["hold_until"])
    assert hold_until == HOLD_UNTIL

    env.clock.set(hold_until - timedelta(hours=4, microseconds=1))
    assert worker.run_once().warned == 0
    env.clock.set(hold_until - timedelta(hours=4))
    assert worker.run_once().warned == 1
    assert worker.run_once().warned == 0  # once
    alerts = env.call("clerk", "GET", "/v1/alerts").json()
    assert alerts[0]["booking_id"] == env.booking_id and alerts[0]["over_limit_at"] is None

    env.clock.set(hold_until - timedelta(microseconds=1))
    assert worker.run_once().over_limit == 0
    assert worker.next_wake() == hold_until

    env.clock.set(hold_until)
    assert worker.run_once().over_limit == 1
    marked = events_of(env, "over_limit_marked")
    assert len(marked) == 1
    assert datetime.fromisoformat(marked[0]["payload"]["at"]) == hold_until
    assert datetime.fromisoformat(marked[0]["recorded_at"]) == hold_until
    assert marked[0]["rules"] == env.decision["rules"]

    env.clock.advance(timedelta(hours=2))
    assert worker.run_once().over_limit == 0
    assert len(events_of(env, "over_limit_marked")) == 1
    assert env.call("auditor", "GET", "/v1/audit/verify").json()["ok"] is True


def test_release_before_the_deadline_stops_the_clock(desk: Any) -> None:
    """Released to the public inside the hold window (the hold is allowed, not required): custody ended, so the
    deadline is never warned of nor marked passed."""
    env, worker = desk, desk.services.worker
    released = env.call(
        "clerk",
        "POST",
        f"/v1/bookings/{env.booking_id}/release",
        json={"released_at": (HOLD_UNTIL - timedelta(hours=1)).isoformat(), "released_to": "public"},
    )
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    env.clock.set(HOLD_UNTIL + timedelta(hours=1))
    report = worker.run_once()
    assert report.over_limit == 0 and report.warned == 0
    assert events_of(env, "person_released") and not events_of(env, "over_limit_marked")


def test_transfer_to_ice_before_the_deadline_stops_the_clock(desk: Any) -> None:
    env, worker = desk, desk.services.worker
    moved = env.call(
        "clerk",
        "POST",
        f"/v1/bookings/{env.booking_id}/transfer",
        json={"transferred_at": (HOLD_UNTIL - timedelta(hours=1)).isoformat(), "to_agency": "ICE ERO Atlanta"},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "transferred"
    env.clock.set(HOLD_UNTIL + timedelta(hours=1))
    report = worker.run_once()
    assert report.over_limit == 0 and report.warned == 0
    assert events_of(env, "transferred") and not events_of(env, "over_limit_marked")


def test_still_in_custody_past_the_deadline_is_marked_over_the_limit(desk: Any) -> None:
    """The control for the two above: the same booking, left in custody, is marked at the deadline."""
    env, worker = desk, desk.services.worker
    env.clock.set(HOLD_UNTIL + timedelta(hours=1))
    assert worker.run_once().over_limit == 1
    assert len(events_of(env, "over_limit_marked")) == 1


def test_a_supervisor_override_with_reason_moves_the_deadline(desk: Any) -> None:
    env, worker = desk, desk.services.worker
    earlier = ELIGIBLE + timedelta(hours=1)
    path = f"/v1/bookings/{env.booking_id}/override"
    assert (
        env.call("clerk", "POST", path, json={"hold_until": earlier.isoformat(), "reason": "county policy"}).status_code
        == 403
    )
    assert env.call("supervisor", "POST", path, json={"hold_until": earlier.isoformat()}).status_code == 422
    done = env.call(
        "supervisor",
        "POST",
        path,
        json={"hold_until": earlier.isoformat(), "reason": "county counsel: no hold past 1 h"},
    )
    assert done.status_code == 200, done.text
    assert datetime.fromisoformat(done.json()["effective"]["hold_until"]) == earlier
    env.clock.set(earlier)
    assert worker.run_once().over_limit == 1
