"""Every command has --help, and every help text shows an example (Datasette-style doc coverage)."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from detainers.cli import app


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    # Typer vendors its own click; duck-type groups by their ``commands`` mapping.
    found = [(prefix, group)]
    if hasattr(group, "commands"):
        for name, sub in group.commands.items():
            found += _commands(sub, (*prefix, name))
    return found


def test_every_command_has_help_with_an_example() -> None:
    root = typer.main.get_command(app)
    runner = CliRunner()
    leaves = [(path, cmd) for path, cmd in _commands(root) if not hasattr(cmd, "commands")]
    assert len(leaves) >= 5
    missing = []
    for path, _cmd in leaves:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        if "Example" not in result.output:
            missing.append(" ".join(path))
    assert not missing, f"commands without an example in --help: {missing}"
