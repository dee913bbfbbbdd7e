"""Issue 15, item 5: the command line tried as a new user would. Each failure is one line (no traceback), names what
to fix, and leaves nothing behind. All data here are made up (obviously synthetic)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
import typer
from tests.ingest.test_mapping_import import SYNTHETIC_EXPORT, SYNTHETIC_MAPPING
from typer.testing import CliRunner, Result

from detainers.cli import app
from detainers.cli._errors import HandlingGroup

runner = CliRunner()

NPR_CP1252 = (
    "date,lift_reason,det_facility,city,state,detainer_type\n"
    "2014-01-02 00:00:00,Booked into Detention,SYNTHETIC JAIL \u00d1,TOWN,PENNSYLVANIA,\n"
    "2014-01-03 00:00:00,,SYNTHETIC JAIL A,TOWN,PENNSYLVANIA,\n"
).encode("cp1252")


def _one_line(result: Result, *words: str, code: int | None = None) -> str:
    text = result.output.strip()
    assert "Traceback" not in text and len(text.splitlines()) == 1, text
    assert result.exit_code != 0 if code is None else result.exit_code == code, (result.exit_code, text)
    for word in words:
        assert word in text, text
    return text


@pytest.fixture
def empty_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    here = tmp_path / "empty"
    here.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.delenv("DETAINERS_DATABASE_URL", raising=False)
    return here


@pytest.mark.parametrize("command", [["audit", "verify"], ["token", "list"], ["token", "revoke", "1a2b3c4d"]])
def test_read_commands_in_an_empty_directory_name_db_upgrade_and_create_nothing(
    empty_dir: Path, command: list[str]
) -> None:
    _one_line(runner.invoke(app, command), "detainers db upgrade", code=1)
    assert list(empty_dir.iterdir()) == []


def test_an_empty_database_file_is_not_a_traceback(empty_dir: Path) -> None:
    (empty_dir / "detainers.db").write_bytes(b"")
    _one_line(runner.invoke(app, ["audit", "verify"]), "detainers db upgrade", code=1)


@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"], ["token", "create", "--role", "clerk"]])
def test_a_database_in_a_missing_directory_is_one_line(empty_dir: Path, command: list[str]) -> None:
    _one_line(runner.invoke(app, [*command, "--db", "no/such/dir/desk.db"]), "directory no/such/dir does not exist")
    assert list(empty_dir.iterdir()) == []


def test_a_missing_input_file_leaves_no_store(empty_dir: Path) -> None:
    _one_line(runner.invoke(app, ["import", "detainers", "nothere.csv", "--store", "st"]), "nothere.csv", code=2)
    assert not (empty_dir / "st").exists()


def test_a_non_utf8_file_names_file_and_byte_offset_and_encoding_reads_it(empty_dir: Path) -> None:
    (empty_dir / "pa.csv").write_bytes(NPR_CP1252)
    offset = NPR_CP1252.index("\u00d1".encode("cp1252"))
    text = _one_line(runner.invoke(app, ["import", "detainers", "pa.csv", "--store", "st"]), "pa.csv", "--encoding")
    assert f"byte offset {offset}" in text
    assert not (empty_dir / "st").exists()  # a failed import leaves nothing
    done = runner.invoke(app, ["import", "detainers", "pa.csv", "--store", "st", "--encoding", "cp1252"])
    assert done.exit_code == 0, done.output
    assert "2 row(s) loaded" in done.output
    _one_line(
        runner.invoke(app, ["import", "detainers", "pa.csv", "--store", "st2", "--encoding", "klingon"]), "klingon"
    )
    assert not (empty_dir / "st2").exists()


def test_a_jail_import_takes_encoding_too(empty_dir: Path) -> None:
    export = empty_dir / "export.txt"
    export.write_bytes(SYNTHETIC_EXPORT.replace("TOWN", "T\u00c9").replace("PUBLIC", "P\u00daBLIC").encode("cp1252"))
    (empty_dir / "m.yaml").write_text(SYNTHETIC_MAPPING, encoding="utf-8")
    args = ["import", "jail", "--mapping", "m.yaml", "--charges", "export.txt", "--store", "st"]
    _one_line(runner.invoke(app, args), "export.txt", "byte offset", code=2)
    assert not (empty_dir / "st").exists()
    done = runner.invoke(app, [*args, "--encoding", "cp1252"])
    assert done.exit_code == 0, done.output


def test_reading_a_store_that_is_not_there_creates_nothing(empty_dir: Path) -> None:
    for command in (["import", "list", "--store", "nost"], ["import", "repair", "--store", "nost"]):
        _one_line(runner.invoke(app, command), "nost is not a store", code=2)
    assert list(empty_dir.iterdir()) == []


def test_an_unbalanced_regex_in_a_mapping_names_the_field(empty_dir: Path) -> None:
    bad = SYNTHETIC_MAPPING.replace('matches: "WARRANT"', 'matches: "WARRANT(("')
    (empty_dir / "m.yaml").write_text(bad, encoding="utf-8")
    _one_line(runner.invoke(app, ["import", "check-mapping", "m.yaml"]), "holds.other.0", "not a regular expression")
    violent = SYNTHETIC_MAPPING + 'classification:\n  violent_patterns: ["ASSAULT", "ROBB(("]\n'
    (empty_dir / "v.yaml").write_text(violent, encoding="utf-8")
    _one_line(runner.invoke(app, ["import", "check-mapping", "v.yaml"]), "violent_patterns[1]")


def test_a_mapping_that_is_not_utf8_names_file_and_byte_offset(empty_dir: Path) -> None:
    raw = SYNTHETIC_MAPPING.replace("made-up", "made-up \u00e9").encode("cp1252")
    (empty_dir / "m.yaml").write_bytes(raw)
    offset = raw.index("\u00e9".encode("cp1252"))
    _one_line(runner.invoke(app, ["import", "check-mapping", "m.yaml"]), "m.yaml", f"byte offset {offset}")


def test_illinois_refuses_a_year_outside_the_data(empty_dir: Path) -> None:
    clean = "".join(
        line for line in SYNTHETIC_EXPORT.splitlines(keepends=True) if not line.startswith(("P-004", "P-006"))
    )
    (empty_dir / "export.txt").write_text(clean, encoding="utf-8")
    (empty_dir / "m.yaml").write_text(SYNTHETIC_MAPPING.replace("us/ca/fresno", "us/il/cook"), encoding="utf-8")
    args = ["report", "illinois", "--mapping", "m.yaml", "--charges", "export.txt"]
    outside = runner.invoke(app, [*args, "--year", "2031"])
    text = _one_line(outside, "--year 2031 is outside the data", code=2)
    assert "certify" in text and "2019" in text
    inside = runner.invoke(app, [*args, "--year", "2019", "--csv"])
    assert inside.exit_code == 0, inside.output
    assert inside.stdout.startswith("row,A_date_received")
    # California data: refused without --any-jurisdiction (kept from before), warned with it
    (empty_dir / "ca.yaml").write_text(SYNTHETIC_MAPPING, encoding="utf-8")
    ca = ["report", "illinois", "--mapping", "ca.yaml", "--charges", "export.txt", "--year", "2019"]
    _one_line(runner.invoke(app, ca), "Illinois", "us/ca/fresno", code=2)
    anyway = runner.invoke(app, [*ca, "--any-jurisdiction", "--csv"])
    assert anyway.exit_code == 0 and "warning" in anyway.stderr


def test_the_demo_checks_its_port_before_printing_links(empty_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = runner.invoke(app, ["demo", "--db", "demo.db", "--port", str(port), "--size", "4"])
    text = _one_line(result, f"127.0.0.1:{port}", "--port", code=1)
    assert "http://" not in text
    assert not (empty_dir / "demo.db").exists()


def test_make_demo_passes_demo_args() -> None:
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    recipe = re.search(r"^demo:.*\n\t(.+)$", makefile, re.MULTILINE)
    assert recipe is not None and "$(DEMO_ARGS)" in recipe.group(1)


def test_ids_in_tables_are_never_cut() -> None:
    result = runner.invoke(app, ["packs", "list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    versions: list[str] = []
    for line in result.output.splitlines():
        cells = line.split("│")
        if len(cells) < 4:
            continue
        if cells[1].strip():  # a new row (the pack column is empty on a folded row's continuation lines)
            versions.append(cells[3].strip())
        else:
            versions[-1] += cells[3].strip()
    assert "gonzalez-judgment-2020" in versions  # folded onto two lines inside its cell, never ellipsised


def test_an_unexpected_error_is_one_line_naming_its_type(monkeypatch: pytest.MonkeyPatch) -> None:
    probe = typer.Typer(cls=HandlingGroup)

    @probe.command()
    def boom() -> None:
        raise RuntimeError("something nobody foresaw\nsecond line")

    @probe.command()
    def other() -> None:
        pass

    monkeypatch.delenv("DETAINERS_DEBUG", raising=False)
    text = _one_line(runner.invoke(probe, ["boom"]), "RuntimeError", "something nobody foresaw", code=1)
    assert "second line" not in text
    monkeypatch.setenv("DETAINERS_DEBUG", "1")
    assert isinstance(runner.invoke(probe, ["boom"]).exception, RuntimeError)


@pytest.mark.parametrize(
    "command", [["decide"], ["scenarios", "check"], ["notices", "render", "--language", "es", "--out", "out"]]
)
def test_a_scenario_file_that_is_not_utf8_names_file_and_byte_offset(empty_dir: Path, command: list[str]) -> None:
    raw = "cases:\n  - name: caf\u00e9 (synthetic)\n".encode("cp1252")
    (empty_dir / "cases.yaml").write_bytes(raw)
    head, rest = (command[:1], command[1:]) if command[0] == "decide" else (command[:2], command[2:])
    offset = raw.index("\u00e9".encode("cp1252"))
    _one_line(runner.invoke(app, [*head, "cases.yaml", *rest]), "cases.yaml", f"byte offset {offset}", code=2)
    assert sorted(p.name for p in empty_dir.iterdir()) == ["cases.yaml"]


def test_agreements_import_names_a_missing_file_before_anything_else(empty_dir: Path) -> None:
    _one_line(
        runner.invoke(app, ["agreements", "import", "nothere.csv", "--out", "287g.csv"]), "nothere.csv: no such file"
    )
    assert list(empty_dir.iterdir()) == []
