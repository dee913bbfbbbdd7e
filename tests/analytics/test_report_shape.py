"""``detainers report``: every command has the one shape — it builds a Report (data, CSV rows, rendering) and hands
it to the one ``_emit``, which alone writes ``--json``, ``--csv`` and the terminal rendering."""

from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from detainers.cli import _report

# the report commands live in one module per area beside _report (which holds the app, the protocol and _emit)
SOURCES = sorted(Path(_report.__file__).parent.glob("_report*.py"))


def _commands() -> list[ast.FunctionDef]:
    return [
        node
        for source in SOURCES
        for node in ast.parse(source.read_text()).body
        if isinstance(node, ast.FunctionDef)
        and any(isinstance(d, ast.Call) and ast.unparse(d.func) == "report_app.command" for d in node.decorator_list)
    ]


def test_every_report_command_ends_in_the_one_emit() -> None:
    commands = _commands()
    assert len(commands) >= 8
    for command in commands:
        calls = [n for n in ast.walk(command) if isinstance(n, ast.Call)]
        emits = [c for c in calls if ast.unparse(c.func) == "_emit"]
        assert len(emits) == 1, command.name
        assert isinstance(emits[0].args[0], ast.Call) and ast.unparse(emits[0].args[0].func) == "Shown", command.name
        written = {ast.unparse(c.func) for c in calls} & {"json.dumps", "csv.DictWriter", "typer.echo"}
        assert not written - {"json.dumps"}, (command.name, written)  # output is _emit's alone


def test_emit_writes_each_form_of_one_report() -> None:
    shown: list[str] = []
    report = _report.Shown(
        {"report": "x", "share": 1 / 3},
        [{"group": "a", "nested": {"k": [1, 2]}}, {"group": "b", "extra": 2}],
        lambda console: shown.append("rendered"),
    )
    runner = CliRunner()
    app = typer.Typer()

    @app.command()
    def run(form: str) -> None:
        _report._emit(report, form == "json", form == "csv")

    as_json = json.loads(runner.invoke(app, ["json"]).output)
    assert as_json == {"report": "x", "share": 1 / 3}  # unrounded
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["csv"]).output)))
    assert [r["group"] for r in rows] == ["a", "b"] and json.loads(rows[0]["nested"]) == {"k": [1, 2]}
    assert rows[1]["extra"] == "2" and rows[0]["extra"] == ""  # every column any row has
    runner.invoke(app, ["text"])
    assert shown == ["rendered"]
