"""The checked-in OpenAPI document is current; the CLI commands work end to end on a fresh database."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from detainers.cli import app as cli
from detainers.service.openapi_doc import DOC_PATH, render


def test_checked_in_openapi_is_current() -> None:
    assert DOC_PATH.exists(), "docs/openapi.json is missing: python -m detainers.service.openapi_doc --write"
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/openapi.json is stale: run python -m detainers.service.openapi_doc --write"
    )


def test_every_endpoint_is_in_docs_api_md() -> None:
    document = json.loads(render())
    text = (DOC_PATH.parent / "api.md").read_text(encoding="utf-8")
    missing = [
        f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops if f"`{m.upper()} {p}`" not in text
    ]
    assert missing == []


def test_db_upgrade_token_and_audit_commands(tmp_path: Path) -> None:
    db = str(tmp_path / "desk.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "upgrade", "--db", db]).exit_code == 0
    made = runner.invoke(cli, ["token", "create", "--role", "auditor", "--label", "IG", "--db", db])
    assert made.exit_code == 0, made.output
    assert made.stdout.strip().startswith("dtn_")
    bad = runner.invoke(cli, ["token", "create", "--role", "ice_liaison", "--db", db])
    assert bad.exit_code != 0  # a liaison token needs its office
    listed = runner.invoke(cli, ["token", "list", "--db", db])
    secret = made.stdout.strip().split("_", 2)[2]  # dtn_<id>_<secret>; the secret itself may contain "_"
    assert "auditor" in listed.stdout and secret not in listed.stdout
    assert runner.invoke(cli, ["office", "add", "--code", "ERO-X", "--name", "X", "--db", db]).exit_code == 0
    verify = runner.invoke(cli, ["audit", "verify", "--db", db])
    assert verify.exit_code == 0 and "chain OK: 0 events" in verify.stdout


def test_demo_builds_a_live_jail_and_prints_working_tokens(tmp_path: Path) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Starlette's notice about httpx2
        from fastapi.testclient import TestClient

    from detainers.service import Settings, build_services, create_app

    db = tmp_path / "detainers-demo.db"
    runner = CliRunner()
    result = runner.invoke(cli, ["demo", "--no-serve", "--db", str(db), "--size", "30"])
    assert result.exit_code == 0, result.output
    tokens = dict(line.split() for line in result.stdout.splitlines() if line.startswith("  "))
    assert set(tokens) == {"clerk", "supervisor", "ice_liaison", "auditor", "public"}
    services = build_services(Settings(database_url=f"sqlite:///{db}", worker=False), notifiers={})
    try:
        with TestClient(create_app(services)) as client:
            listing = client.get("/v1/detainers", headers={"Authorization": f"Bearer {tokens['clerk']}"}).json()
            assert listing["total"] > 10
            assert {d["jurisdiction"] for d in listing["items"]} & {"us/tx/harris", "us/ca/orange", "us/il/cook"}
            verify = client.get("/v1/audit/verify", headers={"Authorization": f"Bearer {tokens['auditor']}"}).json()
            assert verify["ok"] and verify["checked"] > 100
            worker = services.worker.run_once()
            assert worker.over_limit + worker.queued + worker.warned > 0  # deadlines are coming due
    finally:
        services.close()
