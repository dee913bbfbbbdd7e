"""``detainers audit verify``: recompute the ledger's hash chain and name the first event that does not match."""

from __future__ import annotations

import json
from typing import Annotated

import typer

__all__ = ["register"]

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite path (default: $DETAINERS_DATABASE_URL, then ./detainers.db)."),
]


def verify(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
) -> None:
    """Recompute the SHA-256 chain over every event; exit 1 and name the first event that does not match.

    Example: detainers audit verify --db postgresql://auditor@db.example/detainers --json
    """
    from detainers.ledger import Recorder, database_url, make_engine, redact_url

    url = database_url(db)
    engine = make_engine(url)
    try:
        report = Recorder(engine).verify()
    finally:
        engine.dispose()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "checked": report.checked,
                    "head_seq": report.head_seq,
                    "head_hash": report.head_hash,
                    "first_break": None
                    if report.first_break is None
                    else {
                        "seq": report.first_break.seq,
                        "stream_id": report.first_break.stream_id,
                        "version": report.first_break.version,
                        "type": report.first_break.type,
                        "reason": report.first_break.reason,
                    },
                }
            )
        )
    elif report.ok:
        typer.echo(
            f"chain OK: {report.checked} events in {redact_url(url)}; head #{report.head_seq} {report.head_hash}"
        )
    else:
        assert report.first_break is not None
        typer.echo(f"chain BROKEN at {report.first_break.describe()}", err=True)
        typer.echo(f"{report.checked} events verified before it", err=True)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``audit verify`` to app."""
    audit = typer.Typer(help="Audit the tamper-evident ledger.", no_args_is_help=True)
    audit.command("verify")(verify)
    app.add_typer(audit, name="audit")
