"""Issue 14: 287(g) agreements as data, imported from ICE's published list layout, applied by the booking's
jurisdiction on the decision date — on both sides of an agreement's start, on both paths."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detainers.cli import app
from detainers.domain import Agreement, Booking, Case, Detainer, DetainerForm, WarrantKind
from detainers.ingest import AgreementImportError, read_agreement_lists
from detainers.law import AgreementRegistry, decide
from detainers.law.bulk import tables_from_cases

from ..bulk._compare import disagreements

DATA = Path(__file__).parents[1] / "data" / "287g"
SNAPSHOTS = [DATA / "participatingAgencies03012025am.csv", DATA / "participatingAgencies06012025am.csv"]


@pytest.fixture(scope="module")
def registry() -> AgreementRegistry:
    return read_agreement_lists(SNAPSHOTS).registry


def test_the_published_layout_reads_maps_counties_and_reports_the_rest() -> None:
    result = read_agreement_lists(SNAPSHOTS)
    reg = result.registry
    assert [d for _, d in result.snapshots] == [date(2025, 3, 1), date(2025, 6, 1)]
    by = {(r.jurisdiction, r.model): r for r in reg}
    # COUNTY column, a county named in the agency's name (a parish), and a sheriff named for its city
    assert (("us/ga/cobb", Agreement.WARRANT_SERVICE)) in by
    assert ("us/la/lafourche", Agreement.WARRANT_SERVICE) in by
    assert by[("us/fl/duval", Agreement.TASK_FORCE)].signed == date(2025, 4, 1)
    # listed in March, gone in June: ended on the last snapshot that listed it
    assert by[("us/ga/cobb", Agreement.JAIL_ENFORCEMENT)].ended == date(2025, 3, 1)
    assert by[("us/ga/cobb", Agreement.WARRANT_SERVICE)].ended is None
    # a municipal police department and a state agency are kept, not mapped to a county jail
    assert result.unmapped == {"Municipality": 1, "State Agency": 1}
    assert {r.agency for r in reg.unmapped} == {"Arcadia Police Department", "Alaska Department of Corrections"}
    (rejected,) = result.rejected
    assert "row 8" in rejected and "SUPPORT TYPE 'Super Model'" in rejected and "SIGNED 'not a date'" in rejected


def test_a_registry_round_trips_through_its_csv(tmp_path: Path, registry: AgreementRegistry) -> None:
    path = tmp_path / "287g.csv"
    path.write_text(registry.to_csv(), encoding="utf-8")
    assert sorted(AgreementRegistry.from_csv(path).records, key=repr) == sorted(registry.records, key=repr)


def test_a_file_in_another_layout_is_refused_by_name(tmp_path: Path) -> None:
    other = tmp_path / "list03012025.csv"
    other.write_text("agency,kind\nX,y\n", encoding="utf-8")
    with pytest.raises(AgreementImportError, match="missing column.*LAW ENFORCEMENT AGENCY"):
        read_agreement_lists([other])
    with pytest.raises(AgreementImportError, match="no publication date"):
        read_agreement_lists([tmp_path / "list.csv"])


def _cobb(eligible: datetime) -> Case:
    # a notification-only I-247G with a served I-205: custody past release rests on a 287(g) arrest or nothing
    return Case(
        name=f"cobb {eligible.date()}",
        booking=Booking(
            jurisdiction="us/ga/cobb",
            timezone="America/New_York",
            booked_at=eligible - timedelta(days=2),
            eligible_for_release_at=eligible,
        ),
        detainers=(
            Detainer(
                form=DetainerForm.I247G_2025,
                received_at=eligible - timedelta(days=1),
                served_on_subject_at=eligible - timedelta(hours=20),
                warrant=WarrantKind.I205,
            ),
        ),
    )


def test_the_overlay_changes_decisions_from_the_agreements_start(registry: AgreementRegistry) -> None:
    before = _cobb(datetime(2025, 2, 19, 15, tzinfo=UTC))  # WSO signed 2025-02-20; a JEM (2020) listed until March
    after = _cobb(datetime(2025, 6, 10, 15, tzinfo=UTC))  # only the WSO still listed
    start_eve = _cobb(datetime(2025, 2, 20, 4, 30, tzinfo=UTC))  # 2025-02-19 23:30 in Atlanta: before the start
    for case in (before, after, start_eve):
        plain = decide(case)
        assert not plain.hold_allowed and plain.custody_basis is None  # the I-247G alone asks for no custody
    # the March list also had a JEM (signed 2020), so in February the agency already had an agreement
    assert decide(before, agreements=registry).custody_basis == "federal_admin_warrant_287g"
    overlaid = decide(after, agreements=registry)
    assert overlaid.hold_allowed and overlaid.custody_basis == "federal_admin_warrant_287g"
    assert any("287(g) agreement on the published list" in s.text for s in overlaid.explanation)
    # both paths agree with the registry applied
    tables = tables_from_cases([before, after, start_eve])
    n, problems, _ = disagreements(tables, agreements=registry)
    assert n == 3 and not problems, problems


def test_an_agreement_applies_from_its_signing_day_not_before() -> None:
    only_wso = AgreementRegistry(
        tuple(r for r in read_agreement_lists(SNAPSHOTS[1:]).registry if r.jurisdiction == "us/ga/cobb")
    )
    day_before = decide(_cobb(datetime(2025, 2, 19, 20, tzinfo=UTC)), agreements=only_wso)
    day_of = decide(_cobb(datetime(2025, 2, 20, 15, tzinfo=UTC)), agreements=only_wso)
    assert not day_before.hold_allowed
    assert day_of.hold_allowed and day_of.custody_basis == "federal_admin_warrant_287g"


def test_import_command_writes_the_registry_and_counts(tmp_path: Path) -> None:
    out = tmp_path / "287g.csv"
    result = CliRunner().invoke(app, ["agreements", "import", *map(str, SNAPSHOTS), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "7 agreements from 2 snapshot(s): 5 mapped" in result.output
    assert "not mapped: 1 of type Municipality" in result.output
    shown = CliRunner().invoke(app, ["agreements", "show", "us/fl/duval", "--registry", str(out), "--on", "2025-03-15"])
    assert shown.exit_code == 0 and "Jail Enforcement Model" not in shown.output and "287g_jem" in shown.output
    assert "287g_tfm" not in shown.output  # the task-force agreement was signed 2025-04-01
