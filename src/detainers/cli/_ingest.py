"""``detainers import``: load ICE detainer releases and jail exports into an analysis store, with provenance."""

from __future__ import annotations

import codecs
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from detainers.cli._tables import Table
from detainers.ingest import (
    ImportRejected,
    ImportReport,
    LayoutError,
    Mapping,
    MappingError,
    Part,
    Store,
    TableReadError,
    load_mapping,
)

__all__ = ["charge_parts", "register"]

_DEFAULT_STORE = Path("detainers-store")
_SHOWN_REJECTS = 20

StoreOpt = Annotated[Path, typer.Option("--store", help="Store directory (created when absent).")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Reject the whole file if any row is malformed.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the import report as JSON.")]
EncodingOpt = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="Text encoding of CSV/TXT input (default utf-8; e.g. cp1252, latin-1). For jail exports it overrides "
        "the mapping's encoding:.",
    ),
]
RejectsOpt = Annotated[
    Path | None, typer.Option("--rejects", help="Write malformed rows here (default: STORE/rejects/<id>.csv).")
]

import_app = typer.Typer(
    name="import",
    help="Import ICE detainer releases and jail exports into an analysis store (DuckDB over Parquet).",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def _console() -> Console:
    return Console(highlight=False)


_LABEL = re.compile(r"^([A-Za-z][A-Za-z0-9_\-]*)=(.+)$")


def charge_parts(values: list[str]) -> list[Part]:
    """``--charges FILE`` or ``--charges LABEL=FILE`` (repeatable): the label names the jail's list a file is."""
    parts: list[Part] = []
    for value in values:
        found = _LABEL.match(value)
        if found and not Path(value).exists():
            parts.append((found.group(1), Path(found.group(2))))
        else:
            parts.append((None, Path(value)))
    for _label, path in parts:
        if not path.exists():
            raise TableReadError(f"{path}: no such file")
    return parts


def _print_report(console: Console, report: ImportReport) -> None:
    if report.status == "already_imported":
        console.print(f"[yellow]already imported[/] {report.source} (import {report.import_id[:12]}): nothing to do")
        return
    verb = "[red]rejected[/]" if report.status == "rejected" else "[green]imported[/]"
    layout = f" as {report.layout}" if report.layout else ""
    console.print(
        f"{verb} {escape(report.source)}{layout}: {report.rows_loaded:,} row(s) loaded, "
        f"{len(report.rejects):,} malformed" + (f" in {report.seconds:.2f}s" if report.seconds else ""),
        soft_wrap=True,
    )
    for name, rows in report.tables.items():
        console.print(f"  {name}: {rows:,} row(s)")
    for note in report.notes:
        console.print(f"  note: {escape(note)}", soft_wrap=True)
    for warning in report.warnings:
        console.print(f"  [yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    if report.rejects:
        table = Table("file", "row", "reason", title="malformed rows", title_justify="left")
        for file, reject in report.rejects[:_SHOWN_REJECTS]:
            table.add_row(Path(file).name, str(reject.source_row or "?"), reject.reason)
        console.print(table)
        if len(report.rejects) > _SHOWN_REJECTS:
            console.print(f"  … and {len(report.rejects) - _SHOWN_REJECTS:,} more")
    if report.rejects_file:
        console.print(f"  rejects file: {report.rejects_file}")


def _fail(console: Console, message: str, code: int = 2) -> typer.Exit:
    """One line on stderr, never a traceback."""
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(code)


def _encoding(console: Console, name: str | None) -> str | None:
    if name is None:
        return None
    try:
        codecs.lookup(name)
    except LookupError as exc:
        raise _fail(console, f"--encoding {name!r} is not a text encoding Python knows (e.g. utf-8, cp1252)") from exc
    return name


def _existing_store(console: Console, store: Path) -> Store:
    """A store that is already there: reading one never creates it."""
    if not (store / "catalog.duckdb").is_file():
        raise _fail(console, f"{store} is not a store (no catalog.duckdb); create one with detainers import ...")
    return Store(store)


@contextmanager
def _nothing_left_on_failure(store: Path) -> Iterator[list[ImportReport]]:
    """Remove the store directory again if this command created it and imported nothing into it.

    The block appends each report it gets; a failed or rejected import leaves no directory behind.
    """
    existed = store.exists()
    reports: list[ImportReport] = []
    try:
        yield reports
    except BaseException:
        if not existed and not any(r.status == "imported" for r in reports):
            shutil.rmtree(store, ignore_errors=True)
        raise


@import_app.command("detainers")
def import_detainers(
    files: Annotated[list[Path], typer.Argument(help="CSV, XLSX or Parquet files of ICE detainer rows.")],
    store: StoreOpt = _DEFAULT_STORE,
    fmt: Annotated[str, typer.Option("--format", help="npr, ddp or auto (read the header).")] = "auto",
    sheet: Annotated[str | None, typer.Option("--sheet", help="Sheet of a workbook (default: the first).")] = None,
    skip_rows: Annotated[int, typer.Option("--skip-rows", help="Banner rows above the header.")] = 0,
    strict: StrictOpt = False,
    rejects: RejectsOpt = None,
    encoding: EncodingOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import ICE detainer releases: NPR's six columns or the Deportation Data Project / ICE LESA layouts.

    Redaction markers such as [bold]b(6), b(7)c[/] become empty; detainer-type labels are parsed into form versions
    (the raw label is kept). Every row keeps file, sheet, row number and hashes. Importing the same file again does
    nothing.

    Example:

        detainers import detainers pa_detainers.csv --store store/ --format npr
    """
    console = _console()
    if fmt not in {"npr", "ddp", "auto"}:
        raise _fail(console, f"--format must be npr, ddp or auto, not {fmt!r}")
    text_encoding = _encoding(console, encoding) or "utf-8"
    for path in files:
        if not path.is_file():
            raise _fail(console, f"{path}: no such file")
    with _nothing_left_on_failure(store) as reports:
        failed = _import_detainers_into(
            console, Store(store), reports, files, fmt, sheet, skip_rows, strict, rejects, text_encoding, as_json
        )
        _finish(console, reports, as_json, failed)


def _import_detainers_into(
    console: Console,
    target: Store,
    reports: list[ImportReport],
    files: list[Path],
    fmt: str,
    sheet: str | None,
    skip_rows: int,
    strict: bool,
    rejects: Path | None,
    encoding: str,
    as_json: bool,
) -> bool:
    failed = False
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=as_json,
    ) as progress:
        task = progress.add_task("importing", total=len(files))
        for path in files:
            progress.update(task, description=f"importing {path.name}")
            try:
                report = target.import_detainers(
                    path,
                    fmt=fmt,
                    sheet=sheet,
                    skip_rows=skip_rows,
                    strict=strict,
                    rejects_path=rejects if len(files) == 1 else None,
                    encoding=encoding,
                )
            except ImportRejected as exc:
                report = exc.report
                failed = True
            except (LayoutError, TableReadError) as exc:
                raise _fail(console, str(exc)) from exc
            reports.append(report)
            progress.advance(task)
    return failed


@import_app.command("jail")
def import_jail(
    mapping: Annotated[Path, typer.Option("--mapping", help="The YAML mapping file for this export.")],
    charges: Annotated[
        list[str],
        typer.Option(
            "--charges",
            help="The file with one row per charge (or booking blocks). Repeat for several files; LABEL=FILE names "
            "the jail's list a file is (decisions.from_label in the mapping).",
        ),
    ],
    bookings: Annotated[
        Path | None, typer.Option("--bookings", help="The file with one row per booking, if the export has one.")
    ] = None,
    store: StoreOpt = _DEFAULT_STORE,
    strict: StrictOpt = False,
    rejects: RejectsOpt = None,
    encoding: EncodingOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a jail export (bookings and charges) through a mapping file you write (see docs/importing.md).

    Example:

        detainers import jail --mapping examples/mappings/travis_county_tx.yaml
            --bookings travis_ice_detainer_bookings.csv --charges travis_ice_detainer_charges.csv --store store/
    """
    console = _console()
    text_encoding = _encoding(console, encoding)
    try:
        spec = load_mapping(mapping)
        parts = charge_parts(charges)
        if bookings is not None and not bookings.is_file():
            raise TableReadError(f"{bookings}: no such file")
    except (MappingError, TableReadError) as exc:
        raise _fail(console, str(exc)) from exc
    if text_encoding is not None:
        spec = _with_encoding(spec, text_encoding)
    failed = False
    with _nothing_left_on_failure(store) as reports:
        with console.status("importing jail export", spinner="dots") if not as_json else _null():
            try:
                report = Store(store).import_jail(
                    spec, charges=parts, bookings=bookings, strict=strict, rejects_path=rejects
                )
            except ImportRejected as exc:
                report, failed = exc.report, True
            except (MappingError, TableReadError, ValueError) as exc:
                raise _fail(console, str(exc)) from exc
        reports.append(report)
        _finish(console, [report], as_json, failed)


def _with_encoding(spec: Mapping, encoding: str) -> Mapping:
    """``spec`` with every file of the export read as ``encoding`` (``--encoding`` wins over the mapping)."""
    files = spec.files
    update: dict[str, object] = {"charges": files.charges.model_copy(update={"encoding": encoding})}
    if files.bookings is not None:
        update["bookings"] = files.bookings.model_copy(update={"encoding": encoding})
    return spec.model_copy(update={"files": files.model_copy(update=update)})


@import_app.command("check-mapping")
def check_mapping(mapping: Annotated[Path, typer.Argument(help="The YAML mapping file.")]) -> None:
    """Check a mapping file without importing anything; unknown keys are named.

    Example:

        detainers import check-mapping examples/mappings/travis_county_tx.yaml
    """
    console = _console()
    try:
        spec = load_mapping(mapping)
    except MappingError as exc:
        raise _fail(console, str(exc), code=1) from exc
    console.print(
        f"[green]ok[/] {spec.name}: {len(spec.files.charges.columns)} charge field(s), "
        f"{len(spec.dispositions)} disposition(s), {len(spec.holds.immigration)} immigration-hold rule(s)"
    )


@import_app.command("list")
def list_imports(store: StoreOpt = _DEFAULT_STORE, as_json: JsonOpt = False) -> None:
    """List what a store holds, one line per imported file.

    Example:

        detainers import list --store store/
    """
    records = _existing_store(_console(), store).imports()
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "import_id": r.import_id,
                        "kind": r.kind,
                        "source_files": r.source_files,
                        "sheet": r.source_sheet,
                        "layout": r.layout,
                        "rows_loaded": r.rows_loaded,
                        "rows_rejected": r.rows_rejected,
                        "imported_at": r.imported_at.isoformat(),
                    }
                    for r in records
                ],
                indent=2,
            )
        )
        return
    table = Table("import", "kind", "files", "layout", "rows", "malformed", "imported (UTC)")
    for r in records:
        table.add_row(
            r.import_id[:12],
            r.kind,
            "\n".join(Path(f).name for f in r.source_files),
            r.layout or "",
            f"{r.rows_loaded:,}",
            f"{r.rows_rejected:,}",
            r.imported_at.strftime("%Y-%m-%d %H:%M"),
        )
    _console().print(table)


@import_app.command("repair")
def repair(store: StoreOpt = _DEFAULT_STORE) -> None:
    """Delete files a killed import left behind (never anything a finished import recorded).

    Example:

        detainers import repair --store store/
    """
    console = _console()
    removed = _existing_store(console, store).repair()
    for path in removed:
        console.print(f"removed {path}")
    console.print(f"{len(removed)} orphaned file(s) removed")


class _null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def _finish(console: Console, reports: list[ImportReport], as_json: bool, failed: bool) -> None:
    if as_json:
        payload = [report.as_dict() for report in reports]
        typer.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2, default=str))
    else:
        for report in reports:
            _print_report(console, report)
    if failed:
        if not as_json:
            console.print("[red]strict import: the file(s) above were rejected and nothing of them was written[/]")
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``detainers import ...`` to app."""
    app.add_typer(import_app, name="import")
