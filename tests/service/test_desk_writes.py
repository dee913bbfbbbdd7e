"""The deadline worker and the outbox write through the desk's unit of work: after each writes, the desk's next
command is prepared once, on the records as the ledger holds them, and decides on the fresh state.

A writer that appended around the desk (as the worker and the outbox once did, invalidating the desk's cache by
hand) would leave the desk's copy of the record one version behind: the next command would then be prepared twice
(or, with a forgotten invalidation, on a stale record). Notices travel for real, to a webhook on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from detainers.desk import Actor, Desk, LiftIn, StatusProofIn
from detainers.service import Office, WebhookNotifier

ELIGIBLE = datetime(2024, 3, 13, 19, 0, tzinfo=UTC)  # 15:00 EDT, Georgia
CLERK = Actor("clerk:test", "clerk")


class Receiver:
    """An agency webhook endpoint that accepts every notice."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server API
                receiver.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ice/notices"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


class Preparations:
    """Counts how often the desk prepares a command (once when what it read is current)."""

    def __init__(self, desk: Desk) -> None:
        self.count = 0
        original = desk._prepare

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return original(*args, **kwargs)

        desk._prepare = counted  # type: ignore[method-assign]


@pytest.fixture
def env(
    env_factory: Callable[..., Any],
    receiver: Receiver,
    detainer_json: Callable[..., dict[str, Any]],
    booking_json: Callable[..., dict[str, Any]],
) -> Iterator[Any]:
    client = httpx.Client(timeout=5)
    env = env_factory(
        notifiers={"webhook": WebhookNotifier(client)},
        offices=[Office("ERO-ATL", "ERO Atlanta", webhook_url=receiver.url), Office("ERO-LOS", "ERO Los Angeles")],
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
    env.booking_id, env.detainer_id, env.decision = booking["id"], detainer["id"], response.json()["decision"]
    yield env
    client.close()


def test_after_the_outbox_writes_a_notice_the_desk_decides_on_the_fresh_detainer(env: Any, receiver: Receiver) -> None:
    desk: Desk = env.services.desk
    before = desk.detainer(env.detainer_id).version
    env.clock.set(datetime.fromisoformat(env.decision["notify_target"]))
    report = env.services.worker.run_once()
    assert report.queued == 1 and report.sent == 1 and len(receiver.bodies) == 1
    detainer = desk.detainer(env.detainer_id)
    assert detainer.version == before + 2  # notification_queued (the worker), notification_sent (the outbox)

    prepared = Preparations(desk)
    lifted = desk.lift(env.detainer_id, LiftIn(lifted_at=env.clock.now(), reason="test lift"), CLERK)
    assert prepared.count == 1  # prepared once: what the desk remembered was the detainer as the outbox left it
    assert lifted.version == detainer.version + 1 and lifted.lifted_at is not None
    decision = desk.booking(env.booking_id).decision
    assert decision is not None and decision["notify"] is False  # decided afresh: a lifted detainer asks nothing
    assert datetime.fromisoformat(decision["hold_until"]) == ELIGIBLE  # and holds no one past release


def test_after_the_worker_warns_of_a_deadline_the_desk_decides_on_the_fresh_booking(env: Any) -> None:
    desk: Desk = env.services.desk
    hold_until = datetime.fromisoformat(env.decision["hold_until"])
    env.clock.set(hold_until - timedelta(hours=1))  # inside the worker's four-hour warning lead
    before = desk.booking(env.booking_id).version
    assert env.services.worker.run_once().warned == 1
    booking = desk.booking(env.booking_id)
    assert booking.version == before + 1 and booking.warned_hold_until is not None

    prepared = Preparations(desk)
    after = desk.record_status_proof(
        env.booking_id,
        StatusProofIn(expected_version=booking.version, proof="us_citizen", shown_at=env.clock.now()),
        CLERK,
    )
    assert prepared.count == 1  # the version the client read from the ledger matched the desk's own copy
    assert after.version > booking.version and after.status_proof == "us_citizen"
    lifted = desk.lift(env.detainer_id, LiftIn(lifted_at=env.clock.now(), reason="test lift"), CLERK)
    assert prepared.count == 2 and lifted.lifted_at is not None
    decision = desk.booking(env.booking_id).decision
    assert decision is not None and datetime.fromisoformat(decision["hold_until"]) == ELIGIBLE  # no hold left
