"""Offense tables and the statute matcher (detainers.law.offenses)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from detainers.domain import Level
from detainers.law.offenses import (
    OffenseTableError,
    StatuteRef,
    classify,
    load_offense_tables,
    load_offense_tables_from,
    parse_statute,
)
from detainers.law.offenses._tables import load_table

FIXTURES = Path(__file__).parent / "fixtures" / "offenses"
CA = "us/ca"
F, M = Level.FELONY, Level.MISDEMEANOR


@pytest.mark.parametrize(
    ("text", "default_state", "expected", "rendered"),
    [
        ("CA PC 245(a)(1)", None, StatuteRef("CA", "PC", "245", ("a", "1")), "CA PC 245(a)(1)"),
        ("PC 245(a)(1)", "CA", StatuteRef("CA", "PC", "245", ("a", "1")), "CA PC 245(a)(1)"),
        ("Penal Code § 245(a)(1)", "CA", StatuteRef("CA", "PC", "245", ("a", "1")), "CA PC 245(a)(1)"),
        ("245 PC", "CA", StatuteRef("CA", "PC", "245"), "CA PC 245"),
        ("245(A)(1) PC ADW NOT FIREARM", "CA", StatuteRef("CA", "PC", "245", ("a", "1")), "CA PC 245(a)(1)"),
        ("CA VC 23152(a)", None, StatuteRef("CA", "VC", "23152", ("a",)), "CA VC 23152(a)"),
        ("HS 11350", "CA", StatuteRef("CA", "HS", "11350"), "CA HS 11350"),
        ("H&S 11377", "CA", StatuteRef("CA", "HS", "11377"), "CA HS 11377"),
        ("Health and Safety Code 11350(a)", "CA", StatuteRef("CA", "HS", "11350", ("a",)), "CA HS 11350(a)"),
        ("W&I 707(b)", "CA", StatuteRef("CA", "WI", "707", ("b",)), "CA WI 707(b)"),
        ("P.C. 476a(b)", "CA", StatuteRef("CA", "PC", "476a", ("b",)), "CA PC 476a(b)"),
        ("TX PC 19.03", None, StatuteRef("TX", "PC", "19.03"), "TX PC 19.03"),
        ("NY PL 160.15", None, StatuteRef("NY", "PL", "160.15"), "NY PL 160.15"),
        ("720 ILCS 5/16-25", None, StatuteRef("IL", "ILCS", "16-25", (), "720/5"), "IL 720 ILCS 5/16-25"),
        ("RCW 9A.56.050", None, StatuteRef("WA", "RCW", "9A.56.050"), "WA RCW 9A.56.050"),
        ("ORS 164.055", None, StatuteRef("OR", "ORS", "164.055"), "OR ORS 164.055"),
        ("CRS 18-4-401", None, StatuteRef("CO", "CRS", "18-4-401"), "CO CRS 18-4-401"),
        ("GA 40-6-48", None, StatuteRef("GA", "OCGA", "40-6-48"), "GA OCGA 40-6-48"),
        ("8 USC 1326", None, StatuteRef("US", "USC", "1326", (), "8"), "8 USC 1326"),
        ("Cal. Penal Code § 211", None, StatuteRef("CA", "PC", "211"), "CA PC 211"),
    ],
)
def test_parse_statute(text: str, default_state: str | None, expected: StatuteRef, rendered: str) -> None:
    ref = parse_statute(text, default_state=default_state)
    assert ref == expected
    assert str(ref) == rendered
    assert parse_statute(str(ref)) == ref  # canonical form reads back


@pytest.mark.parametrize("text", ["", "   ", "hello", "PC", "AB 123", "CA 245", "ROBBERY", "12/01/2020"])
def test_parse_statute_rejects_free_text(text: str) -> None:
    assert parse_statute(text, default_state="CA") is None


def test_parse_statute_never_raises_on_odd_input() -> None:
    for text in ["((((", "PC 245(", "§§§", "\u00a0PC\u00a0211", "245 PC PC PC", "x" * 5000]:
        parse_statute(text, default_state="CA")


def test_subdivision_tree() -> None:
    broad, narrow = parse_statute("PC 245", default_state="CA"), parse_statute("PC 245(a)(1)", default_state="CA")
    assert broad and narrow and narrow.is_within(broad) and not broad.is_within(narrow)
    a2, a3 = parse_statute("PC 261(a)(2)", default_state="CA"), parse_statute("PC 261(a)(3)", default_state="CA")
    assert a2 and a3 and not a3.is_within(a2)


def test_every_table_loads() -> None:
    tables = load_offense_tables()
    expected = {
        "ca_pc_1192_7c",
        "ca_pc_667_5c",
        "ca_gov_7282_5_a3",
        "ca_prop47",
        "tx_travis_2017",
        "ny_nyc_violent_or_serious",
    }
    assert {t.id for t in tables} == expected
    for table in tables:
        assert table.entries, table.id
        assert table.evidence in {"V", "V3", "I", "R"}
        assert table.reviewed_by == "unreviewed (helper draft)"


def test_7282_5_list_has_every_letter() -> None:
    table = load_offense_tables()["ca_gov_7282_5_a3"]
    letters = {tag.rsplit("_", 1)[1] for e in table.entries for tag in e.tags if tag.startswith("ca_7282_5_a3_")}
    letters |= {tag.rsplit("_", 1)[1] for c in table.conduct_items for tag in c.tags}
    expected = {chr(c) for c in range(ord("A"), ord("Z") + 1)} | {"AA", "AB", "AC", "AD", "AE"}
    assert letters == expected


def test_robbery_is_serious_and_violent() -> None:
    c = classify("PC 211", level=F, jurisdiction=CA)
    assert {"ca_serious", "ca_violent", "ca_7282_5_a3", "ca_7282_5_a3_F"} <= c.tags
    assert c.known and c.reason is None
    assert any(m.table_id == "ca_pc_1192_7c" and m.item == "(c)(19)" for m in c.matches)


def test_serious_needs_a_felony_level() -> None:
    assert "ca_serious" not in classify("PC 211", level=M, jurisdiction=CA).tags
    unknown_level = classify("PC 211", level=None, jurisdiction=CA)
    assert "ca_serious" not in unknown_level.tags
    assert {m.table_id for m in unknown_level.needs_level} >= {"ca_pc_1192_7c", "ca_pc_667_5c"}


def test_burglary_degree_is_conditional() -> None:
    # Design choice: PC 459 is serious only as first-degree burglary, which the statute cannot show. The entry
    # carries when_tag burglary_first_degree; without it the match is reported as conditional, not applied.
    plain = classify("PC 459", level=F, jurisdiction=CA)
    assert "ca_serious" not in plain.tags
    assert [m.when_tag for m in plain.conditional if m.table_id == "ca_pc_1192_7c"] == ["burglary_first_degree"]
    assert "ca_7282_5_a3_F" in plain.tags  # burglary is listed in 7282.5(a)(3)(F) without a degree
    first = classify("PC 459", level=F, jurisdiction=CA, extra_tags=["burglary_first_degree"])
    assert "ca_serious" in first.tags
    explicit = classify("PC 459", level=F, jurisdiction=CA, extra_tags=["serious"])
    assert "ca_serious" in explicit.tags


def test_adw_is_listed_assault_and_wobbler() -> None:
    c = classify("PC 245(a)(1)", level=M, jurisdiction=CA)
    assert {"ca_7282_5_a3", "ca_7282_5_a3_A", "ca_wobbler"} <= c.tags
    assert "ca_serious" not in c.tags  # a misdemeanor conviction is not a serious felony
    assert "ca_serious" in classify("CA PC 245(a)(1)", level=F, jurisdiction=CA).tags


def test_receiving_stolen_property() -> None:
    c = classify("PC 496(a)", level=F, jurisdiction=CA)
    assert {"ca_7282_5_a3", "ca_7282_5_a3_F"} <= c.tags
    assert "ca_prop47" not in c.tags  # only when worth $950 or less
    assert any(m.when_tag == "value_950_or_less" for m in c.conditional)
    assert "ca_prop47" in classify("PC 496(a)", level=M, jurisdiction=CA, extra_tags=["value_950_or_less"]).tags


def test_shoplifting_is_prop47() -> None:
    c = classify("PC 459.5", level=M, jurisdiction=CA)
    assert "ca_prop47" in c.tags
    assert "ca_7282_5_a3" not in c.tags  # 459.5 is not 459: sections are not prefixes of each other


def test_dui_counts_only_as_felony() -> None:
    misdemeanor = classify("CA VC 23152(a)", level=M, jurisdiction=CA)
    assert "ca_7282_5_a3_G" not in misdemeanor.tags
    felony = classify("CA VC 23152(a)", level=F, jurisdiction=CA)
    assert {"ca_7282_5_a3", "ca_7282_5_a3_G"} <= felony.tags
    assert "ca_7282_5_a3_G" not in classify("VC 23152(a)", level=None, jurisdiction=CA).tags


def test_subdivision_limited_entry() -> None:
    assert "ca_7282_5_a3_AC" in classify("PC 261(a)(2)", level=F, jurisdiction=CA).tags
    assert "ca_7282_5_a3_AC" not in classify("PC 261(a)(3)", level=F, jurisdiction=CA).tags


def test_unknown_statutes_are_reported() -> None:
    made_up = classify("PC 99999", level=F, jurisdiction=CA)
    assert not made_up.known and made_up.reason and "DOJ" in made_up.reason and not made_up.tags
    real_unlisted = classify("VC 12500(a)", level=M, jurisdiction=CA)  # driving without a licence
    assert real_unlisted.known and not real_unlisted.tags
    unread = classify("ROBBERY", level=F, jurisdiction=CA)
    assert unread.ref is None and not unread.known and unread.reason
    other_state = classify("RCW 9A.56.050", level=M, jurisdiction="us/wa")
    assert not other_state.known and other_state.reason == "no statute dictionary for us/wa"
    tx_unlisted = classify("TX PC 42.01", level=M, jurisdiction="us/tx")  # not (yet) in the Texas dictionary
    assert not tx_unlisted.known and "us/tx" in (tx_unlisted.reason or "")


def test_texas_travis_and_dates() -> None:
    on = date(2017, 3, 1)
    c = classify("TX PC 19.03", level=F, jurisdiction="us/tx/travis", on=on)
    assert {"tx_capital_murder", "tx_travis_2017_listed"} <= c.tags and c.known
    assert "tx_murder" not in c.tags  # 19.03 is not 19.02
    assert (
        "tx_travis_2017_listed" not in classify("TX PC 19.02", level=F, jurisdiction="us/tx", on=date(2018, 1, 1)).tags
    )
    assert "tx_continuous_smuggling" in classify("PC 20.06", level=F, jurisdiction="us/tx", on=on).tags


def test_nyc_robbery_first_degree() -> None:
    c = classify("NY PL 160.15", level=F, jurisdiction="us/ny/nyc", on=date(2016, 6, 1))
    assert "nyc_violent_or_serious" in c.tags
    assert any(m.evidence == "V" for m in c.matches)


def test_plain_tags_only_map_in_california() -> None:
    assert "ca_violent" in classify("PC 12500", level=F, jurisdiction=CA, extra_tags=["violent"]).tags
    assert classify("NY PL 120.00", level=M, jurisdiction="us/ny", extra_tags=["violent"]).tags == {"violent"}


def test_rows_for_bulk_join() -> None:
    rows = list(load_offense_tables().rows())
    assert len(rows) >= sum(len(t.entries) for t in load_offense_tables())
    # 1192.7(c)(31) names the 245 forms with a weapon or on an officer, so its rows are per subdivision (not 245(a)(4))
    adw = [
        r for r in rows if r.table_id == "ca_pc_1192_7c" and r.section == "245" and r.subdivisions_prefix == "(a)(1)"
    ]
    assert not [r for r in rows if r.table_id == "ca_pc_1192_7c" and r.subdivisions_prefix == "(a)(4)"]
    assert adw and adw[0].state == "CA" and adw[0].code == "PC" and adw[0].level_limit == "felony"
    assert {r.tag for r in rows if r.table_id == "tx_travis_2017"} >= {"tx_murder", "tx_travis_2017_listed"}
    travis = next(r for r in rows if r.table_id == "tx_travis_2017")
    assert travis.effective_from == date(2017, 2, 1) and travis.effective_to == date(2017, 8, 31)


def test_table_effective_dates(tmp_path: Path) -> None:
    tables = load_offense_tables_from(FIXTURES / "good")
    inside = tables.classify("PC 261(a)(2)", level=F, jurisdiction=CA, on=date(2020, 6, 1))
    assert "tiny_rape" in inside.tags
    assert "tiny_rape" not in tables.classify("PC 261(a)(2)", level=F, jurisdiction=CA, on=date(2021, 1, 1)).tags
    assert "tiny_rape" in tables.classify("PC 261(a)(2)", level=F, jurisdiction=CA).tags  # no date: all versions


@pytest.mark.parametrize(
    ("folder", "needles"),
    [
        ("bad_duplicate", ["dup.yaml", "entry 1", "'statute'", "duplicate"]),
        ("bad_unknown", ["unk.yaml", "entry 2", "'tag'", "unknown key"]),
        ("bad_statute", ["stat.yaml", "entry 0", "'statute'"]),
    ],
)
def test_malformed_tables_are_rejected(folder: str, needles: list[str]) -> None:
    with pytest.raises(OffenseTableError) as info:
        load_offense_tables_from(FIXTURES / folder)
    for needle in needles:
        assert needle in str(info.value)


def test_table_id_must_match_file_name(tmp_path: Path) -> None:
    bad = tmp_path / "other_name.yaml"
    shutil.copy(FIXTURES / "good" / "tiny.yaml", bad)
    with pytest.raises(OffenseTableError, match="other_name.yaml: table: key 'id'"):
        load_table(bad)


# --- offense classes from the statute text (law/data/ca_offense_classes.yaml) ---------------------------------------


@pytest.mark.parametrize(
    ("plain", "aggravated"),
    [
        ("PC 242", "PC 243(d)"),  # simple battery (243(a)) beside battery with serious bodily injury
        ("PC 243.4(e)(1)", "PC 243.4(a)"),  # misdemeanor sexual battery beside sexual battery while restrained
        ("PC 241(a)", "PC 245(a)(4)"),  # simple assault beside assault by force likely to produce great bodily injury
        ("PC 490.2", "PC 487(c)"),  # petty theft (Prop 47) beside grand theft from the person
        ("PC 192(c)(2)", "PC 192(c)(1)"),  # vehicular manslaughter without / with gross negligence (193(c))
        ("PC 530.5(c)(1)", "PC 530.5(c)(2)"),  # possessing identifying information, without / with a prior
        ("PC 192.5(d)", "PC 192.5(c)"),  # vessel manslaughter without / with gross negligence (193.5)
    ],
)
def test_straight_misdemeanor_beside_its_wobbler(plain: str, aggravated: str) -> None:
    low = classify(plain, level=M, jurisdiction=CA)
    high = classify(aggravated, level=M, jurisdiction=CA)
    assert low.offense_class is not None and low.offense_class.kind == "misdemeanor"
    assert "ca_wobbler" not in low.tags and not any("ca_wobbler" in m.tags for m in low.conditional)
    assert high.offense_class is not None and high.offense_class.kind == "wobbler"
    assert "ca_wobbler" in high.tags
    assert high.offense_class.source.source == "statute" and high.offense_class.quote


def test_battery_is_not_a_wobbler_because_the_doj_table_mixes_forms() -> None:
    # The CA DOJ table lists felony rows under 242 ("BATT W/SERIOUS BODILY INJ"): those are 243(d), not 242.
    c = classify("CA PC 242", level=M, jurisdiction=CA)
    assert c.offense_class is not None and c.offense_class.punished_by == "PC 243(a)"
    assert {"ca_7282_5_a3_B"} <= c.tags and "ca_wobbler" not in c.tags
    assert "ca_7282_5_a3_B" in classify("PC 243(d)", level=M, jurisdiction=CA).tags  # battery under (B) [I]


def test_section_without_subdivision_depends_on_the_subdivision() -> None:
    c = classify("PC 243", level=M, jurisdiction=CA)
    assert c.offense_class is None and "depends on the subdivision" in (c.class_reason or "")
    assert "ca_wobbler" not in c.tags
    possible = [m for m in c.conditional if "ca_wobbler" in m.tags]
    assert possible and "243(d)" in (possible[0].when_tag or "")
    assert {str(x.ref) for x in c.class_candidates} >= {"CA PC 243(a)", "CA PC 243(d)"}


def test_the_level_settles_a_section_when_only_one_class_fits() -> None:
    # 245(a)(3), (b), (c), (d) are felony-only: a misdemeanor conviction under 245 is under a wobbler subdivision.
    misdemeanor = classify("PC 245", level=M, jurisdiction=CA)
    assert misdemeanor.offense_class is not None and misdemeanor.offense_class.kind == "wobbler"
    assert "ca_wobbler" in misdemeanor.tags and misdemeanor.offense_class.evidence == "I"
    felony = classify("PC 245", level=F, jurisdiction=CA)
    assert felony.offense_class is None and "depends on the subdivision" in (felony.class_reason or "")
    burglary = classify("PC 459", level=M, jurisdiction=CA)
    assert burglary.offense_class is not None and burglary.offense_class.kind == "wobbler"


def test_a_fact_decides_between_classes_and_a_tag_settles_it() -> None:
    open_ = classify("PC 243.3", level=M, jurisdiction=CA)
    assert open_.offense_class is None and "ca_wobbler" not in open_.tags
    assert any("injury_inflicted" in (m.when_tag or "") for m in open_.conditional)
    hurt = classify("PC 243.3", level=M, jurisdiction=CA, extra_tags=["injury_inflicted"])
    assert hurt.offense_class is not None and hurt.offense_class.kind == "wobbler" and "ca_wobbler" in hurt.tags
    first = classify("PC 459", level=F, jurisdiction=CA, extra_tags=["burglary_first_degree"])
    assert first.offense_class is not None and first.offense_class.kind == "felony"


@pytest.mark.parametrize(
    ("statute", "kind"),
    [
        ("PC 211", "felony"),
        ("PC 459.5", "misdemeanor"),
        ("PC 488", "misdemeanor"),
        ("PC 487(a)", "wobbler"),
        ("PC 487(d)(2)", "felony"),
        ("PC 245(a)(1)", "wobbler"),
        ("PC 245(c)", "felony"),
        ("PC 246", "wobbler"),
        ("PC 243.83(a)", "infraction"),
        ("PC 490.1", "wobblette"),
        ("PC 191.5(b)", "wobbler"),
        ("PC 192(b)", "felony"),
        ("PC 217.1(a)", "wobbler"),
        ("PC 219.2", "wobbler"),
        ("PC 451(e)", "felony"),  # (e) only makes a sentence consecutive; every arson form is a felony
        ("PC 520", "felony"),
        ("PC 521", "misdemeanor"),
        ("PC 550(a)(1)", "felony"),
        ("PC 550(b)(3)", "wobbler"),
        ("PC 71(a)(2)", "felony"),
        ("PC 368(b)(1)", "wobbler"),
        ("PC 417(a)(2)", "misdemeanor"),
    ],
)
def test_classes_read_from_the_text(statute: str, kind: str) -> None:
    c = classify(statute, jurisdiction=CA, level=None)
    assert c.offense_class is not None and c.offense_class.kind == kind
    assert c.offense_class.source.read_at


def test_impossible_level_is_reported_not_hidden() -> None:
    c = classify("PC 211", level=M, jurisdiction=CA)
    assert c.offense_class is not None and c.offense_class.kind == "felony"
    assert "record says misdemeanor" in (c.class_reason or "")


def test_unread_doj_candidate_is_possible_not_certain() -> None:
    # Not in the class dictionary: the DOJ table's felony and misdemeanor rows make a wobbler possible only.
    c = classify("PC 4532(a)(1)", level=M, jurisdiction=CA)
    assert "ca_wobbler" not in c.tags
    hint = [m for m in c.conditional if m.table_id == "ca_doj_offense_table"]
    assert hint and "ca_wobbler" in hint[0].tags and "not read" in (hint[0].when_tag or "")


def test_prop47_sections_start_on_their_effective_date() -> None:
    assert classify("PC 459.5", level=M, jurisdiction=CA, on=date(2014, 11, 4)).offense_class is None
    assert classify("PC 459.5", level=M, jurisdiction=CA, on=date(2014, 11, 5)).offense_class is not None


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ("  - {statute: PC 1, class: felon, source: s}\n", ["entry 0", "'class'", "felon"]),
        ("  - {statute: PC 1, class: felony, source: nope}\n", ["entry 0", "'source'", "nope"]),
        ("  - {statute: PC 1, source: s}\n", ["entry 0", "'class'", "missing"]),
        ("  - {statute: PC 1, class: felony, by_tag: {x: felony}, source: s}\n", ["entry 0", "'by_tag'"]),
        (
            "  - {statute: PC 1, class: felony, source: s}\n  - {statute: PC 1, class: wobbler, source: s}\n",
            ["entry 1"],
        ),
    ],
)
def test_malformed_class_dictionary_is_rejected(tmp_path: Path, body: str, needles: list[str]) -> None:
    from detainers.law.offenses._classes import load_class_dictionary

    path = tmp_path / "zz_offense_classes.yaml"
    path.write_text(
        "id: zz_offense_classes\ntitle: t\njurisdiction: us/ca\nas_of: 2026-01-01\nevidence: V\n"
        "reviewed_by: x\nsources:\n  s: {title: T, section: '1', read_at: here, source: statute}\nentries:\n" + body,
        encoding="utf-8",
    )
    with pytest.raises(OffenseTableError) as info:
        load_class_dictionary(path)
    for needle in ["zz_offense_classes.yaml", *needles]:
        assert needle in str(info.value)


# --- Texas Penal Code dictionary (law/data/tx_offense_classes.yaml) -------------------------------------------------


@pytest.mark.parametrize(
    ("statute", "title", "grades"),
    [
        ("TX PC 22.02", "AGGRAVATED ASSAULT", ("felony_2", "felony_1")),
        ("TX PC 22.021", "AGGRAVATED SEXUAL ASSAULT", ("felony_1",)),
        ("TX PC 29.02", "ROBBERY", ("felony_2",)),
        ("TX PC 19.03", "CAPITAL MURDER", ("capital_felony",)),
    ],
)
def test_texas_sections_are_known_with_title_and_grade(statute: str, title: str, grades: tuple[str, ...]) -> None:
    c = classify(statute, level=None, jurisdiction="us/tx/travis")
    assert c.known and c.reason is None and c.title == title
    assert c.offense_class is not None and c.offense_class.grades == grades
    assert c.offense_class.source.read_at


def test_texas_level_narrows_the_grades() -> None:
    felony = classify("TX PC 22.02", level=F, jurisdiction="us/tx")
    assert felony.offense_class is not None and felony.offense_class.kind == "felony"
    unknown_level = classify("TX PC 49.04", level=None, jurisdiction="us/tx")
    assert unknown_level.title == "DRIVING WHILE INTOXICATED" and unknown_level.offense_class is None
    assert unknown_level.class_candidates[0].grades == ("misdemeanor_b", "misdemeanor_a", "felony_3")
    dwi = classify("TX PC 49.04", level=M, jurisdiction="us/tx")
    assert dwi.offense_class is not None and dwi.offense_class.grades == ("misdemeanor_b", "misdemeanor_a")
    assault = classify("TX PC 22.01(a)(1)", level=M, jurisdiction="us/tx")
    assert assault.offense_class is not None and assault.offense_class.grade == "misdemeanor_a"
    theft = classify("TX PC 31.03", level=None, jurisdiction="us/tx")
    assert theft.known and theft.offense_class is None and "depends on facts" in (theft.class_reason or "")
    burglary = classify("TX PC 30.02", level=F, jurisdiction="us/tx", extra_tags=["habitation"])
    assert burglary.offense_class is not None and burglary.offense_class.grade == "felony_2"


def test_texas_dictionary_keeps_the_travis_list() -> None:
    c = classify("TX PC 22.021", level=F, jurisdiction="us/tx/travis", on=date(2017, 3, 1))
    assert {"tx_aggravated_sexual_assault", "tx_travis_2017_listed"} <= c.tags and c.title


def test_force_likely_assault_is_not_a_serious_felony_by_section_number() -> None:
    # 1192.7(c)(31) names assault with a deadly weapon/firearm or on an officer; 245(a)(4) (force likely to produce
    # great bodily injury) is not among them (Williams v. Superior Court (2001) 92 Cal.App.4th 612).
    assert "ca_serious" not in classify("PC 245(a)(4)", level=F, jurisdiction=CA).tags
    assert "ca_serious" in classify("PC 245(a)(1)", level=F, jurisdiction=CA).tags
    section_only = classify("PC 245", level=F, jurisdiction=CA)
    assert "ca_serious" not in section_only.tags


def test_level_leaves_one_class_for_a_first_or_prior_conviction_form() -> None:
    # 71(a)(1) (first conviction) is a wobbler, 71(a)(2) (with a prior) 1170(h) only: a misdemeanor is under (a)(1).
    c = classify("PC 71", level=M, jurisdiction=CA)
    assert c.offense_class is not None and c.offense_class.kind == "wobbler" and "ca_wobbler" in c.tags
    assert {"ca_7282_5_a3_C"} <= c.tags
    felony = classify("PC 71", level=F, jurisdiction=CA)
    assert felony.offense_class is None and "depends on the subdivision" in (felony.class_reason or "")


def test_annoying_a_child_is_a_straight_misdemeanor_beside_the_dwelling_wobbler() -> None:
    plain = classify("PC 647.6(a)(1)", level=M, jurisdiction=CA)
    assert plain.offense_class is not None and plain.offense_class.kind == "misdemeanor"
    assert "ca_wobbler" not in plain.tags and plain.offense_class.evidence == "V3"
    section = classify("PC 647.6", level=M, jurisdiction=CA)
    assert section.offense_class is None and "ca_wobbler" not in section.tags
    assert any("ca_wobbler" in m.tags for m in section.conditional)


@pytest.mark.parametrize("statute", ["PC 503", "PC 532(a)"])
def test_theft_like_offenses_take_the_class_of_the_theft(statute: str) -> None:
    open_ = classify(statute, level=M, jurisdiction=CA)
    assert open_.offense_class is None and "ca_wobbler" not in open_.tags
    grand = classify(statute, level=M, jurisdiction=CA, extra_tags=["grand_theft"])
    assert grand.offense_class is not None and grand.offense_class.kind == "wobbler"
    petty = classify(statute, level=M, jurisdiction=CA, extra_tags=["petty_theft"])
    assert petty.offense_class is not None and petty.offense_class.kind == "misdemeanor"


def test_value_decides_insurance_health_care_claims() -> None:
    assert classify("PC 550(a)(8)", level=M, jurisdiction=CA).offense_class is None
    high = classify("PC 550(a)(8)", level=M, jurisdiction=CA, extra_tags=["value_over_950"])
    assert high.offense_class is not None and high.offense_class.kind == "wobbler"
    low = classify("PC 550(a)(8)", level=M, jurisdiction=CA, extra_tags=["value_950_or_less"])
    assert low.offense_class is not None and low.offense_class.kind == "misdemeanor"


def test_looting_follows_the_text_in_force() -> None:
    # 463 was repealed and re-enacted by AB 468 (2025) from 2026-01-01: (a) became definitions.
    before = classify("PC 463(a)", level=M, jurisdiction=CA, on=date(2019, 6, 10))
    assert before.offense_class is not None and before.offense_class.kind == "wobbler"
    assert classify("PC 463(a)", level=M, jurisdiction=CA, on=date(2026, 2, 1)).offense_class is None
    after = classify("PC 463(b)(1)", level=M, jurisdiction=CA, on=date(2026, 2, 1))
    assert after.offense_class is not None and after.offense_class.kind == "wobbler"
    firearm = classify("PC 463(b)", level=F, jurisdiction=CA, on=date(2019, 6, 10), extra_tags=["grand_theft_firearm"])
    assert firearm.offense_class is not None and firearm.offense_class.kind == "felony"
