"""``detainers serve``, ``worker``, ``db upgrade``, ``token create|list|revoke`` and ``office add``."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

__all__ = ["register"]

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite path (default: $DETAINERS_DATABASE_URL, then ./detainers.db)."),
]
SmtpHost = Annotated[str | None, typer.Option("--smtp-host", help="SMTP server for email notices.")]
SmtpPort = Annotated[int, typer.Option("--smtp-port", help="SMTP port.")]


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes.")] = 1,
    worker: Annotated[bool, typer.Option("--worker/--no-worker", help="Run the deadline worker in-process.")] = True,
    smtp_host: SmtpHost = None,
    smtp_port: SmtpPort = 25,
    access_log: Annotated[bool, typer.Option(help="JSON request log lines on stderr.")] = True,
) -> None:
    """Serve the API (migrating the database first); the deadline worker runs in-process unless --no-worker.

    Example: detainers serve --db postgresql://desk@db.example/detainers --host 0.0.0.0 --workers 2
    """
    import uvicorn

    from detainers.cli._store import writable_location
    from detainers.ledger import database_url, make_engine, redact_url, upgrade

    url = database_url(db)
    writable_location(url)
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    os.environ.update(
        DETAINERS_DATABASE_URL=url,
        DETAINERS_MIGRATE="0",
        DETAINERS_WORKER="1" if worker else "0",
        DETAINERS_SMTP_HOST=smtp_host or "",
        DETAINERS_SMTP_PORT=str(smtp_port),
        DETAINERS_LOG="1" if access_log else "0",
    )
    typer.echo(f"detainer desk on http://{host}:{port}  (database {redact_url(url)}; OpenAPI at /docs)", err=True)
    uvicorn.run(
        "detainers.web:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
    )


def run_worker(
    db: DbOption = None,
    once: Annotated[bool, typer.Option("--once", help="One pass, then exit.")] = False,
    smtp_host: SmtpHost = None,
    smtp_port: SmtpPort = 25,
) -> None:
    """Run the deadline worker alone (notices, warnings, over-limit marks, outbox retries).

    Example: detainers worker --db postgresql://desk@db.example/detainers --smtp-host mail.example
    """
    from detainers.cli._store import writable_location
    from detainers.ledger import database_url
    from detainers.service import Settings, build_services, configure_logging

    writable_location(database_url(db))
    configure_logging()
    services = build_services(Settings(database_url=db, smtp_host=smtp_host, smtp_port=smtp_port))
    try:
        if once:
            report = services.worker.run_once()
            typer.echo(
                f"queued {report.queued}, warned {report.warned}, over limit {report.over_limit}, sent {report.sent}"
            )
            return
        stop = threading.Event()
        try:
            services.worker.run_forever(stop)
        except KeyboardInterrupt:
            stop.set()
    finally:
        services.close()


def db_upgrade(db: DbOption = None) -> None:
    """Create or migrate the database schema (Alembic, shipped in the package).

    Example: detainers db upgrade --db sqlite:///detainers.db
    """
    from detainers.cli._store import writable_location
    from detainers.ledger import database_url, make_engine, redact_url, upgrade

    url = database_url(db)
    writable_location(url)
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    typer.echo(f"database {redact_url(url)} is at the latest schema")


def token_create(
    role: Annotated[str, typer.Option(help="clerk, supervisor, ice_liaison, auditor or public")],
    label: Annotated[str, typer.Option(help="Who holds it (kept with the token id).")] = "",
    office: Annotated[str | None, typer.Option(help="ICE office code (ice_liaison only).")] = None,
    expires: Annotated[str | None, typer.Option(help=_EXPIRES_HELP)] = None,
    db: DbOption = None,
) -> None:
    """Create an API token and print it once; only its HMAC-SHA256 hash is stored.

    Example: detainers token create --role ice_liaison --office ERO-LOS --label "ERO LA liaison" --expires 90d
    """
    from detainers.ledger import database_url, make_engine, upgrade
    from detainers.service import Role, TokenStore

    try:
        chosen = Role(role)
    except ValueError as error:
        raise typer.BadParameter(f"role must be one of {', '.join(r.value for r in Role)}") from error
    from detainers.cli._store import writable_location

    now = datetime.now(UTC)
    until = _expiry(expires, now)
    url = database_url(db)
    writable_location(url)
    engine = make_engine(url)
    try:
        upgrade(engine)
        token, principal = TokenStore(engine).create(
            chosen, label=label or chosen.value, now=now, office=office, expires_at=until
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    finally:
        engine.dispose()
    typer.echo(token)
    ends = f", expires {until.isoformat()}" if until else ", no expiry"
    typer.echo(f"token id {principal.token_id}, role {principal.role.value}{ends}", err=True)


_EXPIRES_HELP = "When it stops working: a duration (90d, 12h, 30m) or an instant with its offset (2027-01-01T00:00Z)."


def _expiry(text: str | None, now: datetime) -> datetime | None:
    if text is None:
        return None
    units = {"d": 86400, "h": 3600, "m": 60}
    value = text.strip()
    if value[:-1].isdigit() and value[-1:] in units:
        if int(value[:-1]) <= 0:
            raise typer.BadParameter("the duration must be positive", param_hint="--expires")
        return now + timedelta(seconds=int(value[:-1]) * units[value[-1]])
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise typer.BadParameter(f"{text!r}: {_EXPIRES_HELP}", param_hint="--expires") from error
    if instant.tzinfo is None:
        raise typer.BadParameter(f"{text!r} has no UTC offset: {_EXPIRES_HELP}", param_hint="--expires")
    if instant <= now:
        raise typer.BadParameter(f"{text!r} is not in the future", param_hint="--expires")
    return instant


def token_rotate(
    token_id: Annotated[str, typer.Argument(help="The token id (8 hex digits) to replace.")],
    expires: Annotated[str | None, typer.Option(help=_EXPIRES_HELP)] = None,
    db: DbOption = None,
) -> None:
    """Replace a token: print a new one with the same role, office and label, and revoke the old one.

    Example: detainers token rotate 1a2b3c4d --expires 90d
    """
    from detainers.ledger import database_url, make_engine, upgrade
    from detainers.service import TokenStore

    now = datetime.now(UTC)
    until = _expiry(expires, now)
    engine = make_engine(database_url(db))
    try:
        upgrade(engine)
        token, principal = TokenStore(engine).rotate(token_id, now=now, expires_at=until)
    except KeyError as error:
        raise typer.BadParameter(f"no token {token_id}") from error
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    finally:
        engine.dispose()
    typer.echo(token)
    typer.echo(f"token id {principal.token_id} replaces {token_id} (revoked)", err=True)


def token_list(db: DbOption = None) -> None:
    """List tokens (ids, roles, offices; never secrets).

    Example: detainers token list --db detainers.db
    """
    from detainers.cli._store import open_existing
    from detainers.ledger import database_url
    from detainers.service import TokenStore

    engine = open_existing(database_url(db))
    try:
        for row in TokenStore(engine).list():
            revoked = f" revoked {row['revoked_at']}" if row["revoked_at"] else ""
            revoked += f" expires {row['expires_at']}" if row["expires_at"] else ""
            typer.echo(f"{row['token_id']}  {row['role']:<12} {row['office'] or '-':<10} {row['label']}{revoked}")
    finally:
        engine.dispose()


def token_revoke(
    token_id: Annotated[str, typer.Argument(help="The token id (8 hex digits).")], db: DbOption = None
) -> None:
    """Revoke a token (a running server notices within 30 seconds; its own revocations and sign-outs at once).

    Example: detainers token revoke 1a2b3c4d
    """
    from detainers.cli._store import open_existing
    from detainers.ledger import database_url
    from detainers.service import TokenStore

    engine = open_existing(database_url(db))
    try:
        if not TokenStore(engine).revoke(token_id, now=datetime.now(UTC)):
            raise typer.BadParameter(f"no token {token_id}")
    finally:
        engine.dispose()
    typer.echo(f"revoked {token_id}")


def office_add(
    code: Annotated[str, typer.Option(help="Office code, e.g. ERO-LOS.")],
    name: Annotated[str, typer.Option(help="Office name.")],
    webhook: Annotated[str | None, typer.Option(help="URL that receives release notices (POST JSON).")] = None,
    email: Annotated[str | None, typer.Option(help="Address that receives release notices.")] = None,
    db: DbOption = None,
) -> None:
    """Register (or update) an ICE office and where its notices go.

    Example: detainers office add --code ERO-LOS --name "ERO Los Angeles" --email ero-los@example.org
    """
    from detainers.cli._store import writable_location
    from detainers.ledger import database_url, make_engine, upgrade
    from detainers.service import Desk, Office

    url = database_url(db)
    writable_location(url)
    engine = make_engine(url)
    try:
        upgrade(engine)
        Desk(engine).register_office(Office(code, name, webhook, email))
    finally:
        engine.dispose()
    typer.echo(f"office {code} registered")


def register(app: typer.Typer) -> None:
    """Add serve, worker, db, token and office commands to app."""
    app.command("serve")(serve)
    app.command("worker")(run_worker)
    db = typer.Typer(help="Database schema.", no_args_is_help=True)
    db.command("upgrade")(db_upgrade)
    app.add_typer(db, name="db")
    tokens = typer.Typer(
        help="API tokens (stored as HMAC-SHA256 hashes), with expiry and rotation.", no_args_is_help=True
    )
    tokens.command("create")(token_create)
    tokens.command("rotate")(token_rotate)
    tokens.command("list")(token_list)
    tokens.command("revoke")(token_revoke)
    app.add_typer(tokens, name="token")
    office = typer.Typer(help="ICE offices and their notice endpoints.", no_args_is_help=True)
    office.command("add")(office_add)
    app.add_typer(office, name="office")
