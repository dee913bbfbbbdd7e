"""Jail exports through mapping files: the shipped Travis mapping, an unseen (synthetic) layout, strict mapping keys."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from detainers.cli import app
from detainers.ingest import ImportRejected, MappingError, Store, load_mapping

TRAVIS = Path("travis_county_tx")

# A made-up county export (CLEARLY SYNTHETIC: no real people, agency or numbers), in a layout unlike Travis's:
# semicolon-separated, two banner lines, one row per booking-charge, no booking number (a booking is a person's
# stay starting at a booking time), US 12-hour clock times in Pacific time, holds coded in the charge text.
SYNTHETIC_EXPORT = """\
SYNTHETIC EXAMPLE COUNTY SHERIFF - JAIL CHARGE EXPORT (made-up data for tests)
Generated;2020-01-01
Inmate Key;Booked (local);Released (local);Chg #;Statute;Offense Description;Class;Chg Released;Release Type
P-001;03/09/2019 11:15 PM;03/12/2019 09:00 AM;1;23152(a);DUI ALCOHOL;M;03/10/2019 02:00 PM;OR RELEASE
P-001;03/09/2019 11:15 PM;03/12/2019 09:00 AM;2;HOLD;HOLD IMMIGRAT;;03/12/2019 09:00 AM;IMMIGRATION
P-002;04/01/2019 08:00 AM;04/01/2019 06:30 PM;1;245(a)(1);ASSAULT W/DEADLY WEAPON;F;04/01/2019 06:30 PM;BAIL BOND
P-003;05/05/2019 01:00 AM;05/07/2019 10:00 AM;1;11350;POSS CONTROLLED SUBST;F;05/06/2019 10:00 AM;CHARGES DISMISSED
P-003;05/05/2019 01:00 AM;05/07/2019 10:00 AM;2;HOLD;HOLD IMMIGRAT;;05/07/2019 10:00 AM;CANCEL DETAINER
P-004;13/45/2019 01:00 AM;;1;484;PETTY THEFT;M;;
P-005;06/01/2019 10:00 AM;06/02/2019 10:00 AM;1;WARR;OUT OF COUNTY WARRANT;;06/02/2019 10:00 AM;RELEASED TO AGENCY
P-006;06/03/2019 10:00 AM
P-001;07/01/2019 02:30 AM;07/01/2019 03:00 PM;1;647(f);PUBLIC INTOX;M;07/01/2019 03:00 PM;TIME SERVED
"""

SYNTHETIC_MAPPING = """\
mapping_version: 1
name: Synthetic Example County (made-up test export)
jurisdiction: us/ca/fresno
facility: SYNTHETIC COUNTY JAIL
timezone: America/Los_Angeles
files:
  charges:
    skip_rows: 2
    delimiter: ";"
    columns:
      person_id: Inmate Key
      booked_at: Booked (local)
      charge_seq: "Chg #"
      charge_code: Statute
      charge_text: Offense Description
      level: Class
      released_at: Chg Released
      disposition: Release Type
booking_key: [person_id, booked_at]
timestamps:
  formats: ["%m/%d/%Y %I:%M %p"]
levels:
  felony: [F]
  misdemeanor: [M]
holds:
  immigration:
    - {field: charge_text, contains: HOLD IMMIGRAT}
  other:
    - {field: charge_text, matches: "WARRANT"}
dispositions:
  OR RELEASE: own_recognizance
  IMMIGRATION: released_to_ice
  BAIL BOND: bond_posted
  CHARGES DISMISSED: dismissed
  CANCEL DETAINER: hold_lifted
  RELEASED TO AGENCY: transferred
  TIME SERVED: time_served
"""


def _synthetic(tmp_path: Path) -> tuple[Path, Path]:
    export = tmp_path / "synthetic_export.txt"
    export.write_text(SYNTHETIC_EXPORT, encoding="utf-8")
    mapping = tmp_path / "synthetic.yaml"
    mapping.write_text(SYNTHETIC_MAPPING, encoding="utf-8")
    return export, mapping


def test_unseen_layout_imports_through_mapping_only(tmp_path: Path) -> None:
    export, mapping_path = _synthetic(tmp_path)
    store = Store(tmp_path / "s")
    report = store.import_jail(load_mapping(mapping_path), charges=export)
    # sheet row 9 has an impossible date, row 11 too few fields (rows 1-2 are banner lines, row 3 the header)
    assert [(r.source_row, r.reason.split(" ")[0]) for _, r in report.rejects] == [(9, "booked_at"), (11, "expected")]
    charges = store.table("jail_charges").sort("source_row")
    bookings = store.table("jail_bookings").sort("source_row")
    assert charges.height == 7 and bookings.height == 5
    assert charges["hold"].to_list() == [None, "immigration", None, None, "immigration", "other", None]
    assert charges["level"].to_list() == ["misdemeanor", None, "felony", "felony", None, None, "misdemeanor"]
    assert charges["violent"].to_list() == [False, False, True, False, False, False, False]
    first = bookings.row(0, named=True)
    # 11:15 PM Pacific daylight time? No: 2019-03-09 is before the 2019-03-10 DST switch, so PST (UTC-8).
    assert str(first["booked_at"]) == "2019-03-10 07:15:00+00:00"
    assert str(first["booked_on"]) == "2019-03-09"
    assert str(first["released_at"]) == "2019-03-12 16:00:00+00:00"  # PDT after the switch: UTC-7
    assert first["release_reason"] == "released_to_ice" and first["immigration_hold"] is True
    assert bookings["person_id"].to_list() == ["P-001", "P-002", "P-003", "P-005", "P-001"]
    assert charges.filter(pl.col("person_id") == "P-001")["booking_id"].n_unique() == 2
    # row_hash: stored as the 16-byte md5 digest, shown as lowercase hex by Store.table and the views
    assert pl.read_parquet(store.files("jail_charges")[0]).schema["row_hash"] == pl.Binary
    assert charges["row_hash"].str.contains("^[0-9a-f]{32}$").all()
    with store.connect() as con:
        viewed = con.execute("SELECT row_hash FROM jail_bookings ORDER BY source_row").fetchall()
    assert [row[0] for row in viewed] == bookings["row_hash"].to_list()


def test_unseen_layout_via_cli(tmp_path: Path) -> None:
    export, mapping_path = _synthetic(tmp_path)
    runner = CliRunner()
    store = str(tmp_path / "s")
    ok = runner.invoke(
        app, ["import", "jail", "--mapping", str(mapping_path), "--charges", str(export), "--store", store]
    )
    assert ok.exit_code == 0, ok.output
    again = runner.invoke(
        app, ["import", "jail", "--mapping", str(mapping_path), "--charges", str(export), "--store", store]
    )
    assert "already imported" in again.output
    strict = runner.invoke(
        app,
        [
            "import",
            "jail",
            "--mapping",
            str(mapping_path),
            "--charges",
            str(export),
            "--store",
            str(tmp_path / "t"),
            "--strict",
        ],
    )
    assert strict.exit_code == 1 and Store(tmp_path / "t").imports() == []


def test_strict_mapping_import_raises(tmp_path: Path) -> None:
    export, mapping_path = _synthetic(tmp_path)
    with pytest.raises(ImportRejected):
        Store(tmp_path / "s").import_jail(load_mapping(mapping_path), charges=export, strict=True)


@pytest.mark.parametrize(
    ("patch", "named"),
    [
        ({"colour": "x"}, "'colour'"),
        ({"files": {"charges": {"colums": {}, "columns": {"booking_id": "b"}}}}, "'files.charges.colums'"),
        ({"holds": {"immigration": [{"field": "charge_text", "equal": "X"}]}}, "'holds.immigration.0.equal'"),
    ],
)
def test_unknown_mapping_keys_are_named(patch: dict[str, object], named: str) -> None:
    import yaml

    data = yaml.safe_load(SYNTHETIC_MAPPING) | patch
    with pytest.raises(MappingError, match=f"unknown key {named}"):
        load_mapping(data)


def test_mapping_naming_a_missing_column_is_an_error(tmp_path: Path) -> None:
    export, _ = _synthetic(tmp_path)
    broken = SYNTHETIC_MAPPING.replace("Offense Description", "Offence Text")
    with pytest.raises(MappingError, match="Offence Text"):
        Store(tmp_path / "s").import_jail(load_mapping(broken), charges=export)


def test_bad_values_in_mapping(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="time zone"):
        load_mapping(SYNTHETIC_MAPPING.replace("America/Los_Angeles", "Pacific/Atlantis"))
    with pytest.raises(MappingError, match="dispositions"):
        load_mapping(SYNTHETIC_MAPPING.replace("time_served\n", "served_time\n"))


def test_travis_mapping_imports_every_row(real: Path, examples: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    report = store.import_jail(
        load_mapping(examples / "travis_county_tx.yaml"),
        bookings=real / TRAVIS / "travis_ice_detainer_bookings.csv",
        charges=real / TRAVIS / "travis_ice_detainer_charges.csv",
    )
    assert not report.rejects and report.tables == {"jail_charges": 24839, "jail_bookings": 9533}
    assert not any("dispositions the mapping does not map" in note for note in report.notes), report.notes
    charges = store.table("jail_charges")
    assert charges.filter(pl.col("hold") == "immigration").height == 9602  # every charge code 4200 row
    bookings = store.table("jail_bookings")
    assert bookings["immigration_hold"].all()
    assert len(report.source_files) == 2
