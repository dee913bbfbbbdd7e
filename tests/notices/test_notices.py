"""Notices to the person: every template in every language renders to PDF with the name, the citation and the
language's own words in its text, every font embedded, and nothing lost between what was drawn and what a reader
extracts (poppler's pdftotext and pdffonts)."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from detainers.cli import app
from detainers.domain import Booking, Case, Detainer, DetainerForm, Request
from detainers.law import (
    PERSON_RECIPIENTS,
    Decision,
    NoticeSpec,
    PackError,
    RuleRef,
    decide,
    default_packs,
    load_packs,
)
from detainers.law._decision import Notice
from detainers.notices import (
    DRAFT_STATUS,
    PLACEHOLDER_NAME,
    ConsentAnswer,
    Delivery,
    NoticeError,
    NoticeServed,
    OwedNotice,
    Subject,
    load_catalog,
    notices_owed,
    render_notice,
    satisfies,
)

# poppler-utils (pdftotext, pdffonts) is required, not optional: .ci/run installs it on a fresh machine.
assert shutil.which("pdftotext") and shutil.which("pdffonts"), "install poppler-utils (apt-get install poppler-utils)"

NAME = "TESTPERSON Nguyễn Thị Ánh"  # synthetic, with Vietnamese diacritics the Latin face must carry
CJK_NAMES = {"zh-Hans": "测试人 甲", "zh-Hant": "測試人 甲", "ko": "테스트 사람"}
ZONES = {"us/ca": "America/Los_Angeles", "us/tx": "America/Chicago", "us/in": "America/Indiana/Indianapolis"}


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _specs() -> dict[str, tuple[str, RuleRef, NoticeSpec, str]]:
    """Every notice to the person any pack version requires: template -> (pack, rule, spec, version name)."""
    packs = default_packs()
    found: dict[str, tuple[str, RuleRef, NoticeSpec, str]] = {}
    for pack in packs:
        for version in pack.versions:
            for rule in version.rules:
                for spec in rule.notices:
                    if spec.to not in PERSON_RECIPIENTS:
                        continue
                    ref = RuleRef(
                        id=rule.id,
                        version=f"{pack.pack}@{version.version}",
                        citation=rule.citation.text(),
                        evidence=rule.evidence,
                        url=rule.citation.url,
                    )
                    found[spec.template or f"{pack.pack}/{spec.kind}"] = (pack.pack, ref, spec, version.version)
    return found


def _case(pack: str) -> Case:
    return Case(
        name="notice test",
        booking=Booking(
            facility="Synthetic County Jail",
            jurisdiction=pack,
            timezone=ZONES.get(pack, "America/New_York"),
            booked_at=datetime(2024, 3, 1, 18, 0, tzinfo=UTC),
            eligible_for_release_at=datetime(2024, 3, 4, 17, 0, tzinfo=UTC),
        ),
        detainers=(
            Detainer(
                form=DetainerForm.I247A_2017,
                received_at=datetime(2024, 3, 2, 16, 30, tzinfo=UTC),
                issued_on=datetime(2024, 3, 2).date(),
                issuing_office="Synthetic Field Office",
            ),
        ),
    )


def _owed(template: str) -> tuple[OwedNotice, Case, Decision]:
    pack, ref, spec, _version = _specs()[template]
    case = _case(pack)
    decision = decide(case, packs=default_packs())
    notice = Notice(kind=spec.kind, to=spec.to, rule=ref.id, text=spec.text)
    return OwedNotice(notice=notice, rule=ref, pack=pack, spec=spec), case, decision


def _pdftotext(path: Path) -> str:
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _pdffonts(path: Path) -> list[list[str]]:
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


CATALOG = load_catalog()
RENDERS = [(t, lang) for t, lang in CATALOG]


def test_every_notice_to_the_person_has_a_template_in_every_language_the_law_names() -> None:
    specs = _specs()
    assert len(specs) >= 10
    missing = [t for t in specs if not CATALOG.has(t)]
    assert not missing, missing
    for template, (_pack, _ref, spec, _v) in specs.items():
        have = CATALOG.languages(template)
        assert "en" in have
        for language in spec.languages:
            assert satisfies(have, language), (template, language, have)
        parts = {b.part for lang in have for b in CATALOG.translation(template, lang).form.blocks}
        assert ("choices" in parts) == (spec.form == "consent"), template


def test_the_truth_act_consent_form_exists_in_the_six_languages_of_7283_1_a() -> None:
    _pack, _ref, spec, _v = _specs()["us/ca/truth_act_interview_consent"]
    assert spec.languages == ("en", "es", "zh", "tl", "vi", "ko")
    assert spec.form == "consent" and spec.deadline is not None and spec.deadline.value == "before_interview"
    assert set(CATALOG.languages("us/ca/truth_act_interview_consent")) >= {"en", "es", "tl", "vi", "ko", "zh-Hans"}


@pytest.mark.parametrize(("template", "language"), RENDERS, ids=[f"{t}:{lang}" for t, lang in RENDERS])
def test_every_template_renders_in_every_language(template: str, language: str, tmp_path: Path) -> None:
    owed, case, decision = _owed(template)
    name = CJK_NAMES.get(language, NAME)
    rendered = render_notice(owed, case, decision, CATALOG, language, subject=Subject(name=name, booking="BK-0001"))
    path = tmp_path / "notice.pdf"
    path.write_bytes(rendered.pdf)
    assert rendered.sha256 == hashlib.sha256(rendered.pdf).hexdigest()
    text = _squash(_pdftotext(path))
    form = CATALOG.translation(template, language).form
    assert _squash(name) in text
    assert _squash(owed.rule.citation) in text
    assert _squash(form.key_phrase) in text
    # every shipped text is a draft, and the footer says so (translations: not reviewed by a certified translator)
    assert _squash(DRAFT_STATUS if language != "en" else "drafted — not reviewed by counsel") in text
    for drawn in rendered.text.splitlines():  # no missing glyph: everything drawn comes back out
        assert _squash(drawn) in text, drawn
    fonts = _pdffonts(path)
    assert fonts and all(row[-5] == "yes" for row in fonts), fonts  # the "emb" column
    families = {row[0].split("+", 1)[1] for row in fonts}
    if language in CJK_NAMES:
        assert any("CJK" in f for f in families), families


def test_the_same_inputs_give_the_same_bytes() -> None:
    owed, case, decision = _owed("us/ca/truth_act_copy")
    first = render_notice(owed, case, decision, CATALOG, "es")
    second = render_notice(owed, case, decision, CATALOG, "es")
    assert first.sha256 == second.sha256
    assert first.language == "es" and first.form == "notice" and not first.reviewed
    assert {u.path for u in first.translations} == {"us/ca/truth_act_copy/es.yaml", "_common/es.yaml"}


def test_a_missing_name_prints_a_synthetic_placeholder(tmp_path: Path) -> None:
    owed, case, decision = _owed("us/tx/texas_detainer_notice")
    rendered = render_notice(owed, case, decision, CATALOG, "en")
    (tmp_path / "n.pdf").write_bytes(rendered.pdf)
    assert _squash(PLACEHOLDER_NAME) in _squash(_pdftotext(tmp_path / "n.pdf"))


def test_the_answer_follows_the_decision_or_the_agencys_stated_intention() -> None:
    owed, case, decision = _owed("us/ca/truth_act_copy")
    assert not decision.notify and not decision.hold_allowed  # SB 54, no qualifying record: neither is allowed
    plain = render_notice(owed, case, decision, CATALOG, "en")
    assert plain.text.count("We do not intend to comply with this request.") == 2
    assert "does not require it" not in plain.text
    federal = decide(_case("us/ga"), packs=default_packs())  # no state pack: federal law allows, requires nothing
    assert federal.notify and not federal.notify_required and federal.hold_allowed and not federal.hold_required
    open_ = render_notice(owed, case, federal, CATALOG, "en")
    assert open_.text.count("does not require it") == 2  # the clerk marks the agency's choice for each request
    stated = render_notice(owed, case, federal, CATALOG, "en", intentions={Request.NOTIFY: True, Request.HOLD: False})
    assert "does not require it" not in stated.text
    assert stated.text.count("We intend to comply with this request.") == 1
    assert stated.text.count("We do not intend to comply with this request.") == 1


def test_a_character_no_font_covers_is_an_error_not_a_blank_box() -> None:
    owed, case, decision = _owed("us/tx/texas_detainer_notice")
    with pytest.raises(NoticeError, match=r"U\+1200"):
        render_notice(owed, case, decision, CATALOG, "en", subject=Subject(name="TESTPERSON \u1200"))


def test_a_missing_language_is_named() -> None:
    owed, case, decision = _owed("us/tx/texas_detainer_notice")
    with pytest.raises(NoticeError, match="no ko translation of us/tx/texas_detainer_notice"):
        render_notice(owed, case, decision, CATALOG, "ko")


def _county(tmp_path: Path, text: str, relative: str = "us/ca/truth_act_copy/es.yaml") -> Path:
    root = tmp_path / "county"
    (root / relative).parent.mkdir(parents=True)
    (root / relative).write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_a_countys_certified_translation_wins_and_is_recorded_by_hash(tmp_path: Path) -> None:
    shipped = (Path(__file__).parents[2] / "src/detainers/notices/templates/us/ca/truth_act_copy/es.yaml").read_text()
    certified = shipped.replace(
        "status: drafted", "status: reviewed\nreviewed_by: Synthetic Certified Translations\nreviewed_on: 2024-01-15"
    )
    certified = certified.replace("Este aviso no es asesoría legal.", "Este aviso no constituye asesoría legal.")
    root = _county(tmp_path, certified)
    catalog = load_catalog(root)
    owed, case, decision = _owed("us/ca/truth_act_copy")
    rendered = render_notice(owed, case, decision, catalog, "es")
    form = next(u for u in rendered.translations if u.path == "us/ca/truth_act_copy/es.yaml")
    assert form.source == "county" and form.status == "reviewed"
    assert form.sha256 == hashlib.sha256((root / "us/ca/truth_act_copy/es.yaml").read_bytes()).hexdigest()
    assert "no constituye" in rendered.text
    common = next(u for u in rendered.translations if u.path == "_common/es.yaml")
    assert common.source == "shipped" and not rendered.reviewed  # the shared labels are still a draft
    assert DRAFT_STATUS in rendered.text


def test_a_bad_county_file_names_file_and_key(tmp_path: Path) -> None:
    root = _county(tmp_path, "language: es\nstatus: certified\ntitle: x\nkey_phrase: xyz\nblocks: [{p: xyz}]\n")
    with pytest.raises(NoticeError, match=r"county:us/ca/truth_act_copy/es.yaml: status"):
        load_catalog(root)
    root2 = _county(
        tmp_path / "b", "language: es\nstatus: drafted\ntitle: x\nkey_phrase: xyz\nblocks: [{p: '{nombre}'}]\n"
    )
    with pytest.raises(NoticeError, match=r"unknown placeholder \{nombre\}"):
        load_catalog(root2)


def test_serving_records_hashes_and_the_consent_answer() -> None:
    owed, case, decision = _owed("us/ca/truth_act_interview_consent")
    rendered = render_notice(owed, case, decision, CATALOG, "ko")
    when = datetime(2024, 3, 2, 18, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="consent form is served with the person's answer"):
        NoticeServed.of(rendered, served_at=when, served_by="u_clerk1", delivered=Delivery.IN_PERSON)
    served = NoticeServed.of(
        rendered, served_at=when, served_by="u_clerk1", delivered=Delivery.IN_PERSON, answer=ConsentAnswer.DECLINED
    )
    assert served.pdf_sha256 == rendered.sha256 and served.language == "ko"
    assert [t.sha256 for t in served.translations] == [t.sha256 for t in rendered.translations]
    assert NAME not in served.model_dump_json()
    copy, case2, decision2 = _owed("us/ca/truth_act_copy")
    notice = render_notice(copy, case2, decision2, CATALOG, "en")
    with pytest.raises(ValueError, match="only a consent form records an answer"):
        NoticeServed.of(notice, served_at=when, served_by="u", delivered=Delivery.MAIL, answer=ConsentAnswer.CONSENTED)


def test_notices_owed_are_the_persons_only() -> None:
    packs = default_packs()
    case = _case("us/ca")
    decision = decide(case, packs=packs)
    owed = notices_owed(decision, packs)
    assert {o.template for o in owed} >= {"us/ca/truth_act_copy", "us/ca/truth_act_interview_consent"}
    assert all(o.spec.to in PERSON_RECIPIENTS for o in owed)
    assert any(n.to not in PERSON_RECIPIENTS for n in decide(_case("us/or"), packs=packs).notices)
    assert not notices_owed(decide(_case("us/or"), packs=packs), packs)


def test_a_notice_deadline_must_fit_when_the_rule_arises(tmp_path: Path) -> None:
    root = tmp_path / "packs"
    root.mkdir()
    (root / "us.yaml").write_text(
        textwrap.dedent(
            """
            pack: us
            level: federal
            title: t
            versions:
              - version: v1
                title: t
                effective_from: 2000-01-01
                reviewed_by: test
                rules:
                  - id: f.copy
                    title: copy
                    notices:
                      - {kind: copy, to: subject, text: give a copy, deadline: on_receipt}
                    citation: {title: test}
                    evidence: I
            """
        )
    )
    with pytest.raises(PackError, match="owed on receipt, but the rule arises on decision"):
        load_packs(root, conditions_file=tmp_path / "none.yaml")


def test_cli_renders_a_scenario_files_notices(tmp_path: Path) -> None:
    scenario = tmp_path / "cases.yaml"
    scenario.write_text(
        textwrap.dedent(
            """
            - name: synthetic TRUTH Act case
              jurisdiction: us/ca
              as_of: 2024-03-03T10:00
              person: {name: TESTPERSON Beta}
              booking:
                facility: Synthetic County Jail
                booked_at: 2024-03-01T10:00
                eligible_for_release_at: 2024-03-04T09:00
              detainers: [{form: I-247A, received_at: 2024-03-02T08:30}]
            - name: synthetic Texas case
              jurisdiction: us/tx
              as_of: 2024-03-03T10:00
              booking: {booked_at: 2024-03-01T10:00}
              detainers: [{form: I-247A, received_at: 2024-03-02T08:30}]
            """
        )
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["notices", "render", str(scenario), "--language", "tl", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pdfs = sorted(out.glob("*.pdf"))
    assert any("truth_act_copy-subject-tl" in p.name for p in pdfs)
    assert any("texas_detainer_notice-subject-en" in p.name for p in pdfs)  # no Tagalog Texas form: English
    assert "no tl translation of us/tx/texas_detainer_notice: rendered in English" in result.output
    tagalog = next(p for p in pdfs if "truth_act_copy-subject-tl" in p.name)
    assert "TESTPERSON Beta" in _pdftotext(tagalog)
    texan = next(p for p in pdfs if "texas" in p.name)
    assert _squash(PLACEHOLDER_NAME) in _squash(_pdftotext(texan))
    bad = CliRunner().invoke(app, ["notices", "render", str(scenario), "--language", "xx", "--out", str(out)])
    assert bad.exit_code == 2 and "no template has 'xx'" in bad.output


def test_docs_list_every_translations_status_and_show_a_page_per_language() -> None:
    from detainers.notices._pages import SAMPLE_TEMPLATE, status_table

    root = Path(__file__).parents[2]
    doc = (root / "docs/notices.md").read_text(encoding="utf-8")
    assert status_table(CATALOG) in doc, "docs/notices.md is stale: run make notice-pages and paste its table"
    for language in CATALOG.languages(SAMPLE_TEMPLATE):
        image = f"screenshots/notices/truth_act_copy-{language}.png"
        assert image in doc and (root / "docs" / image).stat().st_size < 120_000
