"""Notices follow the law when they are sent, over real receivers on loopback (an HTTP webhook endpoint and an SMTP
server): with the receivers down a detainer is lifted, a supervisor overrides another to "do not notify", a release
time moves and a person is released; when the receivers come back only the notices still lawful go out, each
cancelled one has a ledger event naming why, the moved time is sent under its own key, a time moved after ICE was
told goes out as an update, and an endpoint that hangs delays no other office's notice. Both databases."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from detainers.ledger._testing import temporary_postgres_schema
from detainers.service import Office, SmtpNotifier, WebhookNotifier

from .conftest import Env, booking_body, detainer_body, make_env

ELIGIBLE = datetime(2024, 3, 13, 19, 0, tzinfo=UTC)
TARGET = ELIGIBLE - timedelta(hours=48)  # Georgia: notify 48 hours before release


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Webhook:
    """An agency endpoint on a fixed loopback port; it can be down (nothing listening) and come up later."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/notices"
        self.posts: list[tuple[float, str, dict[str, Any]]] = []
        self.server: ThreadingHTTPServer | None = None

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                receiver.posts.append((time.monotonic(), self.headers["Idempotency-Key"], body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


class Hanging:
    """An endpoint that accepts the connection, reads the request and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/notices"
        self.held: list[socket.socket] = []
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.held.append(conn)  # keep it open, say nothing

    def close(self) -> None:
        self.stop.set()
        for conn in self.held:
            conn.close()
        self.sock.close()


class Mailbox:
    def __init__(self) -> None:
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        self.raw.append(envelope.content)
        return "250 OK"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Any, postgres_reason: str | None) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'outbox.db'}"
        return
    if postgres_reason is not None:
        pytest.skip(postgres_reason)
    with temporary_postgres_schema() as url:
        yield url


@pytest.fixture
def world(backend: str) -> Iterator[dict[str, Any]]:
    atlanta = Webhook(free_port())
    miami = Webhook(free_port())
    hanging = Hanging()
    smtp_port = free_port()
    mailbox = Mailbox()
    client = httpx.Client(timeout=5)
    env = make_env(
        backend,
        notifiers={"webhook": WebhookNotifier(client), "email": SmtpNotifier("127.0.0.1", smtp_port, timeout=5)},
        offices=[
            Office("ERO-ATL", "ERO Atlanta", webhook_url=atlanta.url, email="ero-atl@ice.invalid"),
            Office("ERO-MIA", "ERO Miami", webhook_url=miami.url),
            Office("ERO-HOU", "ERO Houston", webhook_url=hanging.url),
            Office("ERO-LOS", "ERO Los Angeles"),
        ],
    )
    env.services.outbox.call_deadline = timedelta(seconds=2)
    env.services.outbox.lease = timedelta(seconds=10)
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    made = {"env": env, "atlanta": atlanta, "miami": miami, "hanging": hanging, "mailbox": mailbox, "smtp": controller}
    try:
        yield made
    finally:
        if getattr(controller, "_thread", None) is not None:
            controller.stop()
        for receiver in (atlanta, miami, hanging):
            receiver.close()
        client.close()
        env.client.close()
        env.services.close()


def _ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    data: dict[str, Any] = response.json()
    return data


def _case(env: Env, name: str, office: str = "ERO-ATL", eligible: datetime = ELIGIBLE) -> tuple[str, str]:
    booking = _ok(env.call("clerk", "POST", "/v1/bookings", json=booking_body(booking_number=name)), 201)
    detainer = _ok(
        env.call(
            "clerk",
            "POST",
            "/v1/detainers",
            json=detainer_body(office=office, booking_id=booking["id"], ice_event_no=name, subject=None),
        ),
        201,
    )
    decided = _ok(
        env.call(
            "clerk",
            "POST",
            f"/v1/bookings/{booking['id']}/eligibility",
            json={"eligible_at": eligible.isoformat(), "reason": "bond_posted"},
        )
    )
    assert decided["decision"]["notify"] is True
    return booking["id"], detainer["id"]


def _events(env: Env, kind: str) -> list[dict[str, Any]]:
    everything = env.call("auditor", "GET", "/v1/audit/events", params={"limit": 1000}).json()
    return [e for e in everything if e["type"] == kind]


def _mail_keys(mailbox: Mailbox) -> list[str]:
    return [str(message_from_bytes(raw, policy=policy.default)["Idempotency-Key"]) for raw in mailbox.raw]


def test_queued_notices_follow_the_law_when_the_receivers_come_back(world: dict[str, Any]) -> None:
    env: Env = world["env"]
    atlanta: Webhook = world["atlanta"]
    mailbox: Mailbox = world["mailbox"]
    worker = env.services.worker
    cases = {name: _case(env, name) for name in ("lift", "override", "moved", "released", "lawful")}
    env.clock.set(TARGET)

    # 1. Notices come due with every receiver down: all ten are queued, none gets through.
    first = worker.run_once()
    assert first.queued == 10 and first.sent == 0 and atlanta.posts == [] and mailbox.raw == []
    pending = env.services.outbox.rows(status="pending")
    assert len(pending) == 10 and all(r["attempts"] == 1 and r["last_error"] for r in pending)

    # 2. Meanwhile: ICE lifts one, a supervisor overrides another, a release moves earlier, a person is released.
    env.clock.advance(timedelta(minutes=5))
    lift_booking, lifted = cases["lift"]
    _ok(
        env.call(
            "clerk",
            "POST",
            f"/v1/detainers/{lifted}/lift",
            json={"lifted_at": env.clock.now().isoformat(), "reason": "Prosecutorial Discretion"},
        )
    )
    _ok(
        env.call(
            "supervisor",
            "POST",
            f"/v1/bookings/{cases['override'][0]}/override",
            json={"notify": False, "reason": "county counsel: no notice in this case"},
        )
    )
    moved_to = ELIGIBLE - timedelta(hours=6)
    _ok(
        env.call(
            "clerk",
            "POST",
            f"/v1/bookings/{cases['moved'][0]}/eligibility",
            json={"eligible_at": moved_to.isoformat(), "reason": "bond_posted"},
        )
    )
    _ok(
        env.call(
            "clerk",
            "POST",
            f"/v1/bookings/{cases['released'][0]}/release",
            json={"released_at": env.clock.now().isoformat(), "released_to": "public"},
        )
    )

    # 3. The receivers come back; the retry is due.
    atlanta.up()
    world["smtp"].start()
    env.clock.advance(timedelta(minutes=1))
    second = worker.run_once()
    third = worker.run_once()  # the moved one's new notice, queued in the pass before, goes now at the latest

    delivered = {key for _, key, _ in atlanta.posts} | set(_mail_keys(mailbox))
    lawful = {f"release:{cases['lawful'][0]}:{cases['lawful'][1]}:{c}" for c in ("webhook", "email")}
    moved = {f"release:{cases['moved'][0]}:{cases['moved'][1]}:{c}:2" for c in ("webhook", "email")}
    assert delivered == lawful | moved, sorted(delivered)
    assert second.sent + third.sent == 4
    # the moved notice tells the new time; nothing tells the old one
    for _, key, body in atlanta.posts:
        if key in moved:
            assert datetime.fromisoformat(body["release_eligible_at"].replace("Z", "+00:00")) == moved_to
            assert body["revision"] == 2

    cancelled = {e["payload"]["idempotency_key"]: e["payload"] for e in _events(env, "notification_cancelled")}
    reasons = {key.split(":")[2]: payload["reason"] for key, payload in cancelled.items()}
    assert reasons == {
        cases["lift"][1]: "lifted",
        cases["override"][1]: "not_allowed",
        cases["moved"][1]: "superseded",
        cases["released"][1]: "released",
    }
    assert "county counsel" in cancelled[f"release:{cases['override'][0]}:{cases['override'][1]}:webhook"]["detail"]
    assert len(cancelled) == 8  # two channels each
    # the ledger shows each cancellation after the fact that caused it, and no notice sent for those four
    sent = {e["payload"]["idempotency_key"] for e in _events(env, "notification_sent")}
    assert sent == lawful | moved
    lift_seq = next(e["seq"] for e in _events(env, "detainer_lifted") if e["stream_id"].endswith(lifted))
    assert all(e["seq"] > lift_seq for e in _events(env, "notification_cancelled"))
    assert {r["status"] for r in env.services.outbox.rows(booking_id=lift_booking)} == {"cancelled"}

    # 4. A release time that moves after ICE was told goes out as an update, under its own key, at once.
    later = ELIGIBLE + timedelta(days=1)
    _ok(
        env.call(
            "clerk",
            "POST",
            f"/v1/bookings/{cases['lawful'][0]}/eligibility",
            json={"eligible_at": later.isoformat(), "reason": "bond_posted"},
        )
    )
    env.clock.advance(timedelta(minutes=1))
    update = worker.run_once()
    assert update.queued == 2 and update.sent == 2
    updated = [(key, body) for _, key, body in atlanta.posts if key.startswith(f"release:{cases['lawful'][0]}:")]
    updated = [(key, body) for key, body in updated if key.endswith(":webhook:2")]
    assert len(updated) == 1
    key, body = updated[0]
    assert key == f"release:{cases['lawful'][0]}:{cases['lawful'][1]}:webhook:2"
    assert body["kind"] == "release_notification_update"
    assert body["supersedes"] == f"release:{cases['lawful'][0]}:{cases['lawful'][1]}:webhook"
    assert datetime.fromisoformat(body["release_eligible_at"].replace("Z", "+00:00")) == later
    assert worker.run_once().queued == 0, "told once per change"

    # 5. The same raw key in both channels' headers: the email's is neither RFC 2047-encoded nor folded.
    for raw in mailbox.raw:
        key_line = next(line for line in raw.split(b"\r\n") if line.startswith(b"Idempotency-Key:"))
        key = key_line.split(b": ", 1)[1].decode()
        assert key.startswith("release:") and key.endswith((":email", ":email:2")) and "=?" not in key
        assert len(key_line) > 78, "long enough that the default policy would have folded it"
    webhook_keys = {key.rsplit(":webhook", 1)[0] for _, key, _ in atlanta.posts}
    email_keys = {key.rsplit(":email", 1)[0] for key in _mail_keys(mailbox)}
    assert webhook_keys == email_keys
    assert env.call("auditor", "GET", "/v1/audit/verify").json()["ok"] is True


def test_a_hanging_endpoint_does_not_delay_another_offices_notice(world: dict[str, Any]) -> None:
    env: Env = world["env"]
    miami: Webhook = world["miami"]
    miami.up()
    _case(env, "houston", office="ERO-HOU")
    _b, to_miami = _case(env, "miami", office="ERO-MIA")
    env.clock.set(TARGET)
    started = time.monotonic()
    report = env.services.worker.run_once()
    took = time.monotonic() - started
    assert report.queued == 2 and report.sent == 1
    assert len(miami.posts) == 1 and miami.posts[0][2]["detainer_id"] == to_miami
    arrived = miami.posts[0][0] - started
    deadline = env.services.outbox.call_deadline.total_seconds()
    assert took >= deadline * 0.9, "the pass waited for the hanging call up to its deadline ..."
    assert arrived < deadline / 2, f"... but Miami's notice arrived after {arrived:.2f} s, not after it"
    houston = env.services.outbox.rows(office="ERO-HOU")
    assert houston[0]["status"] == "pending" and "no answer within 2 s" in houston[0]["last_error"]


def test_leases_are_taken_per_row_at_send_time(world: dict[str, Any]) -> None:
    """Two workers (two outboxes on one database) never send one row twice, and a row's lease starts when its
    own send starts, not when a long pass began."""
    env: Env = world["env"]
    miami: Webhook = world["miami"]
    for i in range(6):
        _case(env, f"m{i}", office="ERO-MIA")
    env.clock.set(TARGET)
    worker = env.services.worker
    assert worker.run_once().queued == 6 and miami.posts == []  # queued; Miami is down
    miami.up()
    env.clock.advance(timedelta(seconds=31))  # the retries are due
    from detainers.service import Outbox

    other = Outbox(env.services.desk, env.services.outbox.notifiers, call_deadline=timedelta(seconds=2))
    try:
        results: list[int] = []
        threads = [
            threading.Thread(target=lambda o=o: results.append(o.deliver_due())) for o in (env.services.outbox, other)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    keys = [key for _, key, _ in miami.posts]
    assert len(keys) == len(set(keys)) == 6 and sum(results) == 6
    rows = env.services.outbox.rows(office="ERO-MIA")
    assert {r["status"] for r in rows} == {"sent"} and {r["attempts"] for r in rows} == {2}


def test_the_worker_loop_never_waits_on_a_hanging_endpoint(world: dict[str, Any]) -> None:
    """The loop's passes start deliveries and go on: a hold deadline is marked while a call still hangs."""
    env: Env = world["env"]
    _case(env, "houston-loop", office="ERO-HOU")
    env.clock.set(TARGET)
    started = time.monotonic()
    first = env.services.worker.run_once(wait=False)
    assert first.queued == 1 and time.monotonic() - started < 1.0, "the pass did not wait for the hanging call"
    hold_until = datetime.fromisoformat(
        env.call("clerk", "GET", "/v1/bookings", params={"booking_number": "houston-loop"}).json()["items"][0][
            "decision"
        ]["hold_until"]
    )
    env.clock.set(hold_until)
    started = time.monotonic()
    marked = env.services.worker.run_once(wait=False)
    assert marked.over_limit == 1 and time.monotonic() - started < 1.0
    time.sleep(env.services.outbox.call_deadline.total_seconds() + 0.5)  # the hanging call meets its deadline
    row = env.services.outbox.rows(office="ERO-HOU")[0]
    assert row["status"] == "pending" and "no answer within 2 s" in (row["last_error"] or "")
