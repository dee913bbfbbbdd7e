"""Court orders as pack versions, and the declared readings of the encoded packs taken both ways (issue 12)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from detainers.domain import Case
from detainers.law import Decision, decide, default_packs, load_scenarios

CASES = """
- name: tx 2017-09-25 hold request without an administrative warrant
  jurisdiction: us/tx/harris
  booking: {eligible_for_release_at: 2017-09-25T10:00, eligibility_reason: bond_posted}
  detainers:
    - {form: I-247A, received_at: 2017-09-22T09:00}
- name: nyc 2017 terrorist-screening match without a judicial warrant
  jurisdiction: us/ny/new-york-city/doc
  person: {tags: [terrorist_screening_match]}
  booking: {booked_at: 2017-05-01T13:00, eligible_for_release_at: 2017-05-03T10:00, eligibility_reason: dismissed}
  detainers:
    - {form: I-247A, received_at: 2017-05-02T09:00, warrant: I-200}
- name: or 2016 release notice under ORS 181.850
  jurisdiction: us/or/multnomah
  booking: {eligible_for_release_at: 2016-06-01T10:00, eligibility_reason: bond_posted}
  detainers:
    - {form: I-247D, received_at: 2016-05-31T09:00}
"""


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Case]:
    path: Path = tmp_path_factory.mktemp("readings") / "cases.yaml"
    path.write_text(CASES, encoding="utf-8")
    return {s.case.name.split()[0]: s.case for s in load_scenarios(path)}


def _decide(case: Case, readings: dict[str, str] | None = None) -> Decision:
    return decide(case, readings=readings)


def _warned(decision: Decision, reading: str) -> bool:
    return any(w.startswith(f"reading {reading} ") for w in decision.warnings)


def test_texas_mandate_scope_both_ways(cases: dict[str, Case]) -> None:
    default = _decide(cases["tx"])
    assert default.hold_required and default.readings == {"tx.sb4-comply-scope": "every-request"}
    assert _warned(default, "tx.sb4-comply-scope")
    narrow = _decide(cases["tx"], {"tx.sb4-comply-scope": "warrant-backed"})
    assert not narrow.hold_required
    assert narrow.transfer.value == "allowed"  # the federal baseline: voluntary


def test_nyc_release_information_both_ways(cases: dict[str, Case]) -> None:
    default = _decide(cases["nyc"])
    assert default.notify is False and _warned(default, "nyc.9-131-release-information")
    wide = _decide(cases["nyc"], {"nyc.9-131-release-information": "convicted-or-match"})
    assert wide.notify is True and wide.transfer.value == "not_allowed"


def test_oregon_pre_2021_release_notice_both_ways(cases: dict[str, Case]) -> None:
    default = _decide(cases["or"])
    assert default.notify is True and _warned(default, "or.181-850-release-notice")
    barred = _decide(cases["or"], {"or.181-850-release-notice": "barred"})
    assert barred.notify is False


def test_every_court_order_version_starts_on_or_after_its_order() -> None:
    seen = 0
    for pack in default_packs():
        for version in pack.versions:
            order = version.court_order
            if order is None:
                continue
            seen += 1
            assert order.date <= version.effective_from, (
                f"{pack.pack} {version.version}: the {order.kind} of {order.date} cannot make law from "
                f"{version.effective_from}"
            )
    assert seen >= 6  # El Cenizo (3) and Gonzalez (3) at least


@pytest.mark.parametrize(
    ("pack", "day", "version", "kind"),
    [
        ("us/tx", "2017-09-01", "sb4-enjoined-2017", "injunction"),
        ("us/tx", "2017-09-24", "sb4-enjoined-2017", "injunction"),
        ("us/tx", "2017-09-25", "sb4-stay-2017", "stay"),
        ("us/tx", "2018-03-13", "sb4-2018", "opinion"),
        ("us", "2020-02-04", "ice-10074.2", None),
        ("us", "2020-02-05", "gonzalez-judgment-2020", "judgment"),
        ("us", "2020-09-11", "ninth-circuit-2020", "vacatur"),
        ("us", "2025-03-04", "gonzalez-2025", "settlement"),
    ],
)
def test_order_windows(pack: str, day: str, version: str, kind: str | None) -> None:
    found = default_packs().get(pack)
    assert found is not None
    chosen = found.version_on(date.fromisoformat(day))
    assert chosen is not None and chosen.version == version
    assert (chosen.court_order.kind if chosen.court_order else None) == kind
