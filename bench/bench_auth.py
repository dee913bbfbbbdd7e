"""Authentication under attack: a signed-in clerk's list request while 32 clients send wrong secrets for its id.

Token ids are not secret (they are the actors in the ledger), so anyone can send a real id with a wrong secret.
Before issue #15 each such guess cost ~108 ms of argon2 and eight attackers took a clerk's median from 5 ms to
289 ms. Here one uvicorn process on SQLite (a temporary file) serves a clerk who lists detainers one request after
another, first alone (the baseline, same process, same server), then while ``BENCH_ATTACKERS`` (32) keep-alive
connections send ``GET /v1/me`` with the clerk's token id and a wrong secret as fast as they are answered. Three
servers: the defaults (failures answered after a 1 s delay, and per client and per token id limited with 429);
without the delay (a client over its limit is turned away before FastAPI parses the request); and with neither,
which measures what a flood of wrong guesses costs when only the HMAC check stands in its way. Knobs:
``BENCH_AUTH_SECONDS`` (8 per phase), ``BENCH_ATTACKERS`` (32). Loopback only.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.bench_service import _free_port, _quantile, machine

SECONDS = float(os.environ.get("BENCH_AUTH_SECONDS", "8"))
ATTACKERS = int(os.environ.get("BENCH_ATTACKERS", "32"))
DETAINERS = 50  # on the clerk's list page


def prepare(url: str) -> str:
    from detainers.ledger import make_engine, upgrade
    from detainers.service import Desk, Office, Role, TokenStore

    engine = make_engine(url)
    upgrade(engine)
    Desk(engine).register_office(Office("ERO-BENCH", "ERO Bench"))
    token, _ = TokenStore(engine).create(Role.CLERK, label="bench clerk", now=datetime.now(UTC))
    engine.dispose()
    return token


SETUPS = {  # name: the server's environment
    "defaults (limits, 1 s failure delay)": {},
    "no failure delay (limits only)": {"DETAINERS_AUTH_FAILURE_DELAY": "0"},
    "no delay, no limits (HMAC only)": {
        "DETAINERS_AUTH_FAILURE_DELAY": "0",
        "DETAINERS_AUTH_FAILURES_PER_CLIENT": str(10**9),
        "DETAINERS_AUTH_FAILURES_PER_TOKEN": str(10**9),
    },
}


def start_server(url: str, port: int, setup: dict[str, str]) -> Any:
    import subprocess
    import sys

    env = {
        **os.environ,
        "DETAINERS_DATABASE_URL": url,
        "DETAINERS_MIGRATE": "0",
        "DETAINERS_WORKER": "0",
        "DETAINERS_LOG": "0",
        **setup,
    }
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "detainers.service._asgi:app_from_env",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--log-level", "warning", "--no-access-log",
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


def seed(port: int, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
        for n in range(DETAINERS):
            answer = client.post(
                "/v1/detainers",
                json={
                    "form": "I-247A",
                    "office": "ERO-BENCH",
                    "received_at": "2024-03-08T03:00:00-08:00",
                    "ice_event_no": f"BENCH-{n:05d}",
                    "subject": {"family_name": f"Synthetic{n:05d}", "given_names": "Bench Person"},
                },
            )
            answer.raise_for_status()


class _Get:
    """A bare HTTP/1.1 keep-alive connection sending one GET at a time (cheap for a small machine)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> int:
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {self.token}\r\n\r\n".encode())
        status = int((await reader.readline()).split()[1])
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        if length:
            await reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()


async def _phase(port: int, token: str, attackers: int) -> dict[str, Any]:
    prefix, token_id, secret = token.split("_", 2)
    wrong = f"{prefix}_{token_id}_{'A' * len(secret)}"
    stop = asyncio.Event()
    statuses: Counter[int] = Counter()

    async def attack() -> None:
        connection = _Get(port, wrong)
        try:
            while not stop.is_set():
                statuses[await connection.get("/v1/me")] += 1
        finally:
            connection.close()

    async def clerk() -> list[float]:
        connection = _Get(port, token)
        latencies = []
        try:
            await connection.get("/v1/detainers?limit=50")  # the token verified once, as a signed-in clerk's is
            ends = time.perf_counter() + SECONDS
            while time.perf_counter() < ends:
                started = time.perf_counter()
                status = await connection.get("/v1/detainers?limit=50")
                latencies.append(time.perf_counter() - started)
                assert status == 200, status
        finally:
            connection.close()
            stop.set()
        return latencies

    tasks = [asyncio.create_task(attack()) for _ in range(attackers)]
    await asyncio.sleep(0.5 if attackers else 0)  # the attack is under way before the clerk is measured
    latencies = sorted(await clerk())
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"latencies": latencies, "statuses": dict(statuses)}


def _row(name: str, result: dict[str, Any]) -> str:
    values = result["latencies"]
    guesses = sum(result["statuses"].values())
    mix = ", ".join(f"{n}×{s}" for s, n in sorted(result["statuses"].items())) or "none"
    return (
        f"{name:<30} clerk {len(values):>5} requests  p50 {_quantile(values, 0.5):6.2f} ms  "
        f"p99 {_quantile(values, 0.99):6.2f} ms  max {_quantile(values, 1.0):6.2f} ms;  "
        f"wrong guesses answered {guesses} ({guesses / (SECONDS + 0.5):.0f}/s: {mix})"
    )


def main() -> None:
    print(f"machine: {machine()}")
    print(f"SQLite, one uvicorn process; {SECONDS:.0f} s per phase; {ATTACKERS} attacking connections")
    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    with tempfile.TemporaryDirectory() as folder:
        for n, (label, setup) in enumerate(SETUPS.items()):
            url = f"sqlite:///{Path(folder) / f'auth-{n}.db'}"
            token = prepare(url)
            port = _free_port()
            server = start_server(url, port, setup)
            try:
                seed(port, token)
                print(label)
                print(_row("  clerk alone (baseline)", asyncio.run(_phase(port, token, 0))))
                print(_row(f"  clerk + {ATTACKERS} attackers", asyncio.run(_phase(port, token, ATTACKERS))))
            finally:
                server.terminate()
                server.wait(timeout=30)
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
