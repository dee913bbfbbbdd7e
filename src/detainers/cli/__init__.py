"""The ``detainers`` command line. Each command group lives in its own module with a ``register`` hook."""

from __future__ import annotations

import typer

from detainers.cli import (
    _agreements,
    _audit,
    _demo,
    _docs,
    _ingest,
    _map,
    _notices,
    _replay,
    _report,
    _scenarios,
    _serve,
    _synth,
)
from detainers.cli._errors import HandlingGroup

__all__ = ["app", "main"]

app = typer.Typer(
    name="detainers",
    cls=HandlingGroup,
    help="Immigration detainers: the lawful answer with its citation, a tamper-evident record, honest numbers.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

for _module in (
    _scenarios,
    _docs,
    _demo,
    _serve,
    _audit,
    _ingest,
    _report,
    _synth,
    _replay,
    _agreements,
    _map,
    _notices,
):
    _module.register(app)


def main() -> None:
    app()
