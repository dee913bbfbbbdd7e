"""``detainers demo``: a fresh SQLite jail with synthetic people, one token per role, then serve it."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["DEFAULT_DB", "register"]

DEFAULT_DB = Path("demo") / "detainers-demo.db"  # demo/ is git-ignored


def _check_port(host: str, port: int) -> None:
    """Refuse a port another process listens on before anything is built or printed (links to a busy port would
    open somebody else's server)."""
    from detainers.cli._errors import CliError

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as error:
        raise CliError(
            f"cannot listen on {host}:{port} ({error.strerror}): pass another --port "
            f"(make demo DEMO_ARGS='--port {port + 1}')"
        ) from error


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Sink:
    """The demo's stand-in for the ICE offices' mailboxes: accepts every notice and logs its key."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        import logging

        logging.getLogger("detainers.demo").info(
            "demo mailbox received a notice", extra={"to": list(envelope.rcpt_tos), "bytes": len(envelope.content)}
        )
        return "250 OK"


def demo(
    db: Annotated[Path, typer.Option("--db", help="SQLite file to (re)create.")] = DEFAULT_DB,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    size: Annotated[int, typer.Option(help="How many bookings.")] = 120,
    seed: Annotated[int, typer.Option(help="Random seed for the synthetic jail.")] = 2024,
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve after loading.")] = True,
    force: Annotated[bool, typer.Option(help="Overwrite --db even when it is not the default demo file.")] = False,
    arrivals: Annotated[float, typer.Option(help="Seconds between new bookings while serving (0: none).")] = 30.0,
) -> None:
    """Build a live synthetic jail (LA, Orange, Harris, Travis, Cook, Fulton), print tokens, serve the API.

    Example: detainers demo --port 8001   (or --no-serve to build and print only; make demo DEMO_ARGS="--port 8001")
    """
    from detainers.service._demo import load_demo

    if serve:
        _check_port(host, port)
    if db.exists() and db.name != DEFAULT_DB.name and not force:
        raise typer.BadParameter(f"{db} exists; pass --force to overwrite it", param_hint="--db")
    db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    result = load_demo(str(db), size=size, seed=seed)
    base = f"http://{host}:{port}"
    typer.echo(f"demo jail in {db}: {result.bookings} bookings, {result.detainers} detainers, {result.events} events")
    # A one-click link for the demo clerk: a random key in the URL, the token only in this process's environment.
    key = secrets.token_urlsafe(16)
    if serve:
        # Only the serving process learns the key; the token itself never goes into a URL.
        os.environ["DETAINERS_DEMO_SIGNIN"] = f"{key}:{result.tokens['clerk']}"
        typer.echo(f"Desk: {base}/demo/sign-in/{key}  (opens the dashboard as the demo clerk)")
    typer.echo(f"Sign in at {base}/sign-in with any token below.")
    typer.echo(f"API:  {base}/v1   (OpenAPI: {base}/docs)")
    for role, token in result.tokens.items():
        typer.echo(f"  {role:<12} {token}")
    clerk = result.tokens["clerk"]
    typer.echo(f'try: curl -H "Authorization: Bearer {clerk}" {base}/v1/detainers?limit=5')
    if not serve:
        return
    import threading

    from aiosmtpd.controller import Controller

    from detainers.cli._serve import serve as run_server
    from detainers.service._demo import simulate_arrivals

    smtp_port = _free_port()
    sink = Controller(_Sink(), hostname="127.0.0.1", port=smtp_port)
    sink.start()
    typer.echo(f"release notices go by email to a local demo mailbox on 127.0.0.1:{smtp_port}")
    stop = threading.Event()
    if arrivals > 0:
        typer.echo(f"a new booking arrives every {arrivals:g} s")
        threading.Thread(
            target=simulate_arrivals, args=(str(db), stop), kwargs={"every_seconds": arrivals}, daemon=True
        ).start()
    try:
        run_server(db=str(db), host=host, port=port, smtp_host="127.0.0.1", smtp_port=smtp_port)
    finally:
        stop.set()
        sink.stop()


def register(app: typer.Typer) -> None:
    """Add ``demo`` to app."""
    app.command("demo")(demo)
