"""Load benchmark for the detainer desk: intake and release events over HTTP, 32 concurrent clients.

The server runs as ``BENCH_WORKERS`` processes (``uvicorn --factory detainers.service._asgi:app_from_env``), each on
its own port on 127.0.0.1, and the clients are spread over them round robin, as a reverse proxy in front of them
would: with ``uvicorn --workers`` the processes share one listening socket and the kernel hands keep-alive
connections out unevenly (29 of 32 to one of two processes in one check), which measures the imbalance, not the
desk. This process drives them with bare asyncio HTTP/1.1 keep-alive connections. Each client repeats one
booking's life: open the booking, receive a detainer linked to it (with personal data), record release
eligibility, record the release. Every request appends hash-chained events (plus the policy engine's decision
events). Bounded by time and count; loopback only.

Two phases per backend against the same server: **closed loop** (each client sends its next request as soon as the
last is answered: the saturation rate, where latency is queueing by Little's law, 32 / throughput) and **open
loop** at ``BENCH_RATE`` events/s (default 500, the target; converted to requests/s with the closed phase's events
per request), where each client keeps a fixed schedule and every request is timed from when it was due, so a
server that falls behind shows it in p99 (coordinated omission corrected, as wrk2 does).

Backends: SQLite (a temporary file) always; PostgreSQL when ``DETAINERS_TEST_POSTGRES_URL`` (or
``DETAINERS_BENCH_POSTGRES_URL``) is set, in a throwaway schema. Knobs: ``BENCH_SECONDS`` (default 15),
``BENCH_WARM_UP`` (3 s of closed loop before the phases, shown but not counted), ``BENCH_CLIENTS`` (32),
``BENCH_WORKERS`` (uvicorn processes, default one per core), ``BENCH_MAX_CASES``
(20000 per phase), ``BENCH_RATE`` (events/s of the open-loop phase, 0 to skip it), ``BENCH_BACKENDS``
(``sqlite,postgresql``); ``DETAINERS_THREADS`` passes through to the server (request threads per process,
default 8). Prints the load generator's own CPU and the whole machine's busy cores, so a shared or saturated
machine shows in the figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

SECONDS = float(os.environ.get("BENCH_SECONDS", "15"))
WARM_UP = float(os.environ.get("BENCH_WARM_UP", "3"))  # seconds of closed loop, not counted, before the phases
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "32"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 1)))  # one uvicorn process per core
MAX_CASES = int(os.environ.get("BENCH_MAX_CASES", "20000"))
RATE = float(os.environ.get("BENCH_RATE", "500"))  # events/s offered in the open-loop phase (0: skip it)
BACKENDS = os.environ.get("BENCH_BACKENDS", "sqlite,postgresql").split(",")  # which backends to run


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{mem_kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration):
        ram = "RAM unknown"
    return f"{os.cpu_count()} CPUs ({cpu}), {ram}, Python {platform.python_version()}"


def prepare(url: str) -> str:
    from detainers.ledger import make_engine, upgrade
    from detainers.service import Desk, Office, Role, TokenStore

    engine = make_engine(url)
    upgrade(engine)
    Desk(engine).register_office(Office("ERO-BENCH", "ERO Bench"))
    token, _ = TokenStore(engine).create(Role.CLERK, label="bench", now=datetime.now(UTC))
    engine.dispose()
    return token


def chain_head(url: str) -> tuple[int, float, bool]:
    """(events, seconds to verify, verified) after the run."""
    from detainers.ledger import Recorder, make_engine

    engine = make_engine(url)
    try:
        recorder = Recorder(engine)
        started = time.perf_counter()
        report = recorder.verify()
        return report.checked, time.perf_counter() - started, report.ok
    finally:
        engine.dispose()


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DETAINERS_DATABASE_URL": url,
        "DETAINERS_MIGRATE": "0",
        "DETAINERS_WORKER": "0",
        "DETAINERS_LOG": "0",
    }
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "detainers.service._asgi:app_from_env",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("server did not start")


class _Connection:
    """A bare HTTP/1.1 keep-alive connection (asyncio streams): the load generator must cost the server's CPU
    as little as possible on a small machine, which a full client library does not."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.auth = f"Authorization: Bearer {token}\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n"
        ).encode()
        self.writer.write(head + self.auth + b"\r\n" + data)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        payload = await self.reader.readexactly(length) if length else b"{}"
        return status, json.loads(payload)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def drive(
    ports: list[int], token: str, request_rate: float | None = None, seconds: float = SECONDS
) -> dict[str, Any]:
    """Closed loop (``request_rate`` None: each client sends its next request when the last is answered) or open
    loop at ``request_rate`` requests/s over all clients (each client keeps its own fixed schedule; a request is
    timed from when it was due, not when it could be sent, so a slow server is not hidden — as wrk2 does)."""
    latencies: list[float] = []
    by_command: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    cases = 0
    started_all = time.perf_counter()
    stop_at = started_all + seconds
    interval = CLIENTS / request_rate if request_rate else 0.0

    async def one_client(n: int) -> None:
        nonlocal cases
        connection = _Connection(ports[n % len(ports)], token)  # round robin, as a reverse proxy spreads them
        due = started_all + interval * n / CLIENTS

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any] | None:
            nonlocal due
            if request_rate:
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                started = due
                due += interval
            else:
                started = time.perf_counter()
            status, data = await connection.post(path, body)
            latency = time.perf_counter() - started
            latencies.append(latency)
            by_command.setdefault(_command_of(path), []).append(latency)
            if status >= 300:
                key = f"{path.split('/')[2]} {status}"
                errors[key] = errors.get(key, 0) + 1
                return None
            return data

        i = 0
        try:
            while time.perf_counter() < stop_at and cases < MAX_CASES:
                i += 1
                now = datetime.now(UTC)
                booking = await post(
                    "/v1/bookings",
                    {
                        "booking_number": f"B-{n}-{i}",
                        "facility": "Bench County Jail",
                        "jurisdiction": ("us/ga/fulton", "us/tx/harris", "us/ca/orange")[i % 3],
                        "timezone": "America/Chicago",
                        "booked_at": (now - timedelta(days=1)).isoformat(),
                        "charges": [{"statute": "PC 31.03", "level": "misdemeanor"}],
                    },
                )
                if booking is None:
                    continue
                detainer = await post(
                    "/v1/detainers",
                    {
                        "form": "I-247A",
                        "office": "ERO-BENCH",
                        "received_at": (now - timedelta(hours=20)).isoformat(),
                        "warrant": "I-200",
                        "pc_basis": ["biometric_records"],
                        "booking_id": booking["id"],
                        "subject": {"family_name": f"Benchmark-{n}-{i}", "a_number": "A000000001"},
                        "source": "api",
                    },
                )
                if detainer is None:
                    continue
                await post(
                    f"/v1/bookings/{booking['id']}/eligibility",
                    {"eligible_at": (now - timedelta(hours=1)).isoformat(), "reason": "bond_posted"},
                )
                await post(f"/v1/bookings/{booking['id']}/release", {"released_at": now.isoformat()})
                cases += 1
        finally:
            connection.close()

    await asyncio.gather(*(one_client(n) for n in range(CLIENTS)))
    elapsed = time.perf_counter() - started_all
    return {"latencies": latencies, "by_command": by_command, "errors": errors, "cases": cases, "elapsed": elapsed}


def _command_of(path: str) -> str:
    """``/v1/bookings`` → open, ``/v1/detainers`` → receive, ``/v1/bookings/{id}/release`` → release, …"""
    parts = path.strip("/").split("/")
    return parts[-1] if len(parts) > 2 else {"bookings": "open", "detainers": "receive"}[parts[-1]]


def _quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile of sorted ``values``, in milliseconds."""
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def _busy() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def _head_seq(url: str) -> int:
    from detainers.ledger import Recorder, make_engine

    engine = make_engine(url)
    try:
        return Recorder(engine).head()[0]
    finally:
        engine.dispose()


def _phase(name: str, url: str, ports: list[int], token: str, request_rate: float | None) -> dict[str, Any]:
    """One load phase against a running server; the events it appended are counted from the chain head."""
    before = _head_seq(url)
    client_cpu, machine = time.process_time(), _busy()
    result = asyncio.run(drive(ports, token, request_rate))
    client_cpu, after = time.process_time() - client_cpu, _busy()
    busy_cores = (after[0] - machine[0]) / max(1, after[1] - machine[1]) * (os.cpu_count() or 1)
    appended = _head_seq(url) - before
    latencies = sorted(result["latencies"])
    commands = {name: sorted(values) for name, values in result["by_command"].items()}
    mode = f"open loop at {request_rate:.0f} req/s" if request_rate else "closed loop"
    row = {
        "backend": name,
        "mode": mode,
        "requests": len(latencies),
        "cases": result["cases"],
        "seconds": result["elapsed"],
        "events": appended,
        "events_per_s": appended / result["elapsed"],
        "requests_per_s": len(latencies) / result["elapsed"],
        "p50_ms": _quantile(latencies, 0.50),
        "p99_ms": _quantile(latencies, 0.99),
        "max_ms": _quantile(latencies, 1.0),
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
        "errors": result["errors"],
        "by_command": {c: {"p50_ms": _quantile(v, 0.5), "p99_ms": _quantile(v, 0.99)} for c, v in commands.items()},
        "client_cores": client_cpu / result["elapsed"],
        "machine_busy_cores": busy_cores,
        "load_average": os.getloadavg(),
    }
    print(
        f"{name:<10} {mode:<24} {row['events_per_s']:5.0f} events/s {row['requests_per_s']:5.0f} req/s  "
        f"p50 {row['p50_ms']:6.1f} ms  p99 {row['p99_ms']:6.1f} ms  max {row['max_ms']:6.1f} ms  "
        f"({appended} events, {len(latencies)} requests in {row['seconds']:.1f} s; errors {result['errors'] or 'none'})"
    )
    print(
        f"{'':<10} per command p50/p99: "
        + "; ".join(f"{c} {v['p50_ms']:.0f}/{v['p99_ms']:.0f} ms" for c, v in row["by_command"].items())
    )
    print(
        f"{'':<10} load generator {row['client_cores']:.2f} cores; whole machine busy {busy_cores:.2f} of "
        f"{os.cpu_count()} cores during the phase; load average after "
        + " ".join(f"{x:.2f}" for x in row["load_average"])
    )
    return row


def run_backend(name: str, url: str) -> list[dict[str, Any]]:
    """The closed-loop phase (saturation), then the open-loop phase at ``BENCH_RATE`` events/s, same server."""
    token = prepare(url)
    ports = [_free_port() for _ in range(WORKERS)]
    servers = [start_server(url, port) for port in ports]
    rows = []
    try:
        if WARM_UP > 0:
            # A fresh server's first requests pay one-time costs (statements compiled, database connections
            # opened, 32 clients connecting at once: 200-300 ms for the first request of each client). Measured,
            # shown, not counted.
            warm = asyncio.run(drive(ports, token, None, WARM_UP))
            latencies = sorted(warm["latencies"])
            print(
                f"{name:<10} warm-up (not counted): {len(latencies)} requests in {warm['elapsed']:.1f} s, "
                f"p50 {_quantile(latencies, 0.5):.1f} ms, max {_quantile(latencies, 1.0):.1f} ms; "
                f"errors {warm['errors'] or 'none'}"
            )
        rows.append(_phase(name, url, ports, token, None))
        closed = rows[0]
        if RATE > 0 and closed["requests"]:
            events_per_request = closed["events"] / closed["requests"]
            rows.append(_phase(name, url, ports, token, RATE / events_per_request))
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)
    events, verify_seconds, ok = chain_head(url)
    print(f"{'':<10} chain: {events} events, verified {ok} in {verify_seconds:.2f} s")
    for row in rows:
        row["chain_ok"] = ok
    return rows


def main() -> None:
    print(f"machine: {machine()}")
    print(
        f"{CLIENTS} concurrent clients over {WORKERS} server process(es), {SECONDS:.0f} s per phase; "
        f"open-loop phase at {RATE:.0f} events/s"
        if RATE > 0
        else "no open-loop phase (BENCH_RATE=0)"
    )
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    rows = []
    with ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        if "sqlite" in BACKENDS:
            rows += run_backend("sqlite", f"sqlite:///{Path(folder) / 'bench.db'}")
        if "postgresql" not in BACKENDS:
            return
        if os.environ.get("DETAINERS_BENCH_POSTGRES_URL"):
            os.environ.setdefault("DETAINERS_TEST_POSTGRES_URL", os.environ["DETAINERS_BENCH_POSTGRES_URL"])
        from detainers.ledger._testing import postgres_unavailable, temporary_postgres_schema

        reason = postgres_unavailable()
        if reason is None:
            url = stack.enter_context(temporary_postgres_schema())
            rows += run_backend("postgresql", url)
        else:
            print(f"postgresql skipped: {reason}")


if __name__ == "__main__":
    main()
