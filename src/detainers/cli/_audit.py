"""``detainers audit verify|checkpoint|keygen``: the chain, the views it makes, and signed checkpoints of its head."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from detainers.cli._errors import CliError
from detainers.cli._store import open_existing

__all__ = ["register"]

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL or SQLite path (default: $DETAINERS_DATABASE_URL, then ./detainers.db)."),
]


def verify(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    checkpoint: Annotated[
        Path | None,
        typer.Option("--checkpoint", help="A signed checkpoint (audit checkpoint): detects truncation and rewrites."),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="The auditor's public key: the checkpoint must be signed with it."),
    ] = None,
    views: Annotated[
        bool, typer.Option("--views/--chain-only", help="Also fold the events again and compare the view tables.")
    ] = True,
) -> None:
    """Recompute the SHA-256 chain over every event, fold the events again and compare every view table the API
    serves, and (with --checkpoint) check the chain still extends a signed checkpoint. Exit 1 and name what does
    not match: the first event, or each view row and column, or the truncation.

    Example: detainers audit verify --db detainers.db --checkpoint head.json --public-key auditor.key.pub
    """
    from detainers.ledger import Recorder, database_url, redact_url
    from detainers.ledger._checkpoint import check_against, load_checkpoint, load_public_key

    signed = load_checkpoint(checkpoint) if checkpoint is not None else None
    key = load_public_key(public_key) if public_key is not None else None
    if key is not None and signed is None:
        raise CliError("--public-key checks a checkpoint: pass --checkpoint FILE too", code=2)
    if signed is not None:
        signed.verify_signature(key)
    url = database_url(db)
    engine = open_existing(url)
    try:
        recorder = Recorder(engine)
        report = recorder.verify()
        mismatches = recorder.audit_views() if views else []
        truncation: str | None = None
        if signed is not None and report.ok:
            at_seq = recorder.read(after_seq=signed.seq - 1, limit=1) if signed.seq > 0 else []
            stored = at_seq[0].hash if at_seq and at_seq[0].seq == signed.seq else None
            truncation = check_against(signed, table_end=report.head_seq, hash_at_seq=stored)
    finally:
        engine.dispose()
    ok = report.ok and not mismatches and truncation is None
    if as_json:
        out: dict[str, Any] = {
            "ok": ok,
            "chain_ok": report.ok,
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
            "views_checked": views,
            "views": [m.as_json() for m in mismatches],
            "checkpoint": None
            if signed is None
            else {
                "seq": signed.seq,
                "hash": signed.hash,
                "signed_by_public_key": key is not None,
                "problem": truncation,
            },
        }
        typer.echo(json.dumps(out))
    else:
        if report.ok:
            typer.echo(
                f"chain OK: {report.checked} events in {redact_url(url)}; head #{report.head_seq} {report.head_hash}"
            )
        else:
            assert report.first_break is not None
            typer.echo(f"chain BROKEN at {report.first_break.describe()}", err=True)
            typer.echo(f"{report.checked} events verified before it", err=True)
        if views:
            if mismatches:
                typer.echo(f"views DIFFER from the events in {len(mismatches)} place(s):", err=True)
                for mismatch in mismatches:
                    typer.echo(f"  {mismatch.describe()}", err=True)
            else:
                typer.echo("views OK: every detainer_view and booking_view row is what the events make")
        if signed is not None:
            if truncation is not None:
                typer.echo(f"checkpoint FAILED: {truncation}", err=True)
            elif report.ok:
                who = "the given public key" if key is not None else "the key in the file (pass --public-key)"
                typer.echo(f"checkpoint OK: event #{signed.seq} is the one signed with {who}")
    if not ok:
        raise typer.Exit(1)


def checkpoint(
    key: Annotated[Path, typer.Option("--key", help="Ed25519 private key (PEM) from `audit keygen`.")],
    out: Annotated[Path, typer.Option("--out", help="File to write the signed checkpoint to (kept by the auditor).")],
    db: DbOption = None,
) -> None:
    """Sign the chain head (seq, hash, time) with an Ed25519 key after verifying the chain; keep the file outside
    the database (docs/security.md, "Checkpoints").

    Example: detainers audit checkpoint --key ~/auditor.key --out checkpoints/head-$(date +%F).json
    """
    from detainers.ledger import Recorder, database_url
    from detainers.ledger._checkpoint import load_private_key, sign_checkpoint

    private = load_private_key(key)
    if not out.parent.is_dir():
        raise CliError(f"directory {out.parent} does not exist", code=2)
    engine = open_existing(database_url(db))
    try:
        report = Recorder(engine).verify()
    finally:
        engine.dispose()
    if not report.ok:
        assert report.first_break is not None
        raise CliError(f"chain BROKEN at {report.first_break.describe()}: not signing it")
    signed = sign_checkpoint(private, seq=report.head_seq, hash=report.head_hash, at=datetime.now(UTC))
    out.write_text(signed.to_json(), encoding="utf-8")
    typer.echo(f"signed checkpoint of event #{signed.seq} ({signed.hash}) written to {out}")


def keygen(
    out: Annotated[Path, typer.Argument(help="Private key file to create; the public key goes to OUT.pub.")],
) -> None:
    """Create an Ed25519 key pair for signing checkpoints (private key mode 0600; never overwrites).

    Example: detainers audit keygen ~/auditor.key   (then give ~/auditor.key.pub to whoever verifies)
    """
    from detainers.ledger._checkpoint import generate_keys

    public = Path(f"{out}.pub")
    raw = generate_keys(out, public)
    typer.echo(f"private key {out} (keep it off the database server), public key {public}: {raw}")


def register(app: typer.Typer) -> None:
    """Add ``audit verify``, ``audit checkpoint`` and ``audit keygen`` to app."""
    audit = typer.Typer(help="Audit the tamper-evident ledger.", no_args_is_help=True)
    audit.command("verify")(verify)
    audit.command("checkpoint")(checkpoint)
    audit.command("keygen")(keygen)
    app.add_typer(audit, name="audit")
