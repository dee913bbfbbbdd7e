"""kill -9 of a serving desk in the middle of a write load, on both databases: every write the API acknowledged is
there afterwards, the chain verifies, and the views are exactly what the events make (``audit verify``'s fold).

A real server (``detainers serve``) in its own process, real HTTP clients on loopback, SIGKILL (no shutdown code
runs). All people are obviously synthetic.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from tests.service.conftest import booking_body, detainer_body

from detainers.ledger import Recorder, make_engine
from detainers.ledger._schema import booking_view, detainer_view

DETAINERS = Path(sys.executable).parent / "detainers"
ACKNOWLEDGED_BEFORE_KILL = 40
CLIENTS = 4


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(*args: str) -> str:
    done = subprocess.run([str(DETAINERS), *args], capture_output=True, text=True, timeout=120, check=True)
    return done.stdout


def _token(url: str) -> str:
    """A clerk's token on a fresh desk, with the office the synthetic detainers name."""
    _cli("office", "add", "--code", "ERO-LOS", "--name", "ERO Los Angeles (synthetic)", "--db", url)
    return _cli("token", "create", "--role", "clerk", "--label", "kill test", "--db", url).strip().splitlines()[-1]


def _wait_ready(base: str, token: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"server exited with {server.returncode} before it was ready")
        try:
            if (
                httpx.get(f"{base}/v1/detainers?limit=1", headers={"Authorization": f"Bearer {token}"}).status_code
                == 200
            ):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("server not ready within 120 s")


def _load(
    base: str, token: str, worker: int, acknowledged: list[tuple[str, str]], refused: list[str], stop: threading.Event
) -> None:
    """Create detainers and bookings until the server dies; record each one the server answered 201 for."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        n = 0
        while not stop.is_set():
            n += 1
            kind = "detainers" if n % 2 else "bookings"
            body = (
                detainer_body(ice_event_no=f"EVT-K{worker}-{n:05d}", ice_subject_id=f"SUBJ-K{worker}-{n:05d}")
                if kind == "detainers"
                else booking_body(booking_number=f"K{worker}-{n:05d}")
            )
            try:
                response = client.post(f"/v1/{kind}", json=body)
            except httpx.TransportError:
                return  # the server is gone: this request was never acknowledged
            if response.status_code != 201:
                refused.append(f"{kind}: {response.status_code} {response.text[:300]}")
                return
            acknowledged.append((kind, response.json()["id"]))


def _kill_during_load(url: str) -> None:
    token = _token(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(DETAINERS), "serve", "--db", url, "--port", str(port), "--no-worker", "--no-access-log"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "DETAINERS_LOG": "0"},
    )
    acknowledged: list[tuple[str, str]] = []
    refused: list[str] = []
    stop = threading.Event()
    try:
        _wait_ready(base, token, server)
        threads = [
            threading.Thread(target=_load, args=(base, token, i, acknowledged, refused, stop), daemon=True)
            for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 120
        while len(acknowledged) < ACKNOWLEDGED_BEFORE_KILL and time.monotonic() < deadline and not refused:
            time.sleep(0.01)
        assert not refused, refused[0]
        assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL, "the load never got going"
        os.kill(server.pid, signal.SIGKILL)  # mid-load: the clients are still sending
        server.wait(timeout=30)
        for thread in threads:
            thread.join(timeout=60)
        assert not refused, refused[0]  # a request answered after the kill began is still a 201 or nothing
    finally:
        stop.set()
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == -signal.SIGKILL
    engine = make_engine(url)
    try:
        recorder = Recorder(engine)
        with engine.connect() as conn:
            detainers = set(conn.execute(select(detainer_view.c.id)).scalars())
            bookings = set(conn.execute(select(booking_view.c.id)).scalars())
        lost = [
            (kind, ident)
            for kind, ident in acknowledged
            if ident not in (detainers if kind == "detainers" else bookings)
        ]
        assert lost == [], f"{len(lost)} acknowledged write(s) lost"
        for kind, ident in acknowledged[:: max(1, len(acknowledged) // 10)]:
            stream = ("detainer-" if kind == "detainers" else "booking-") + ident
            assert recorder.stream(stream), f"no events for acknowledged {stream}"
        report = recorder.verify()
        assert report.ok, report.first_break
        assert report.checked >= len(acknowledged)
        assert recorder.audit_views() == []
    finally:
        engine.dispose()


@pytest.mark.slow
def test_kill_during_load_sqlite(tmp_path: Path) -> None:
    _kill_during_load(f"sqlite:///{tmp_path / 'desk.db'}")


@pytest.mark.slow
@pytest.mark.postgres
def test_kill_during_load_postgres(postgres_url: str) -> None:
    _kill_during_load(postgres_url)


@pytest.fixture(autouse=True)
def _no_database_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("DETAINERS_DATABASE_URL", raising=False)
    yield
