"""Evidence tags mean what they say, in every pack that loads (issue 12, item 5).

[V] rests on a primary legal text that was read (statute, session law, regulation, form, opinion, court order,
executive order, attorney-general text, an agency's own policy) and says where; [V3] names the kind of secondary
text it rests on; [I] and [R] explain themselves. No citation names a project document: the domain brief is not
a legal source and is not in the repository. Messages name the pack, the version and the rule, so a helper adding
a pack sees exactly what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from detainers.law import PRIMARY_SOURCES, Citation, SourceKind, load_packs
from detainers.law.offenses import load_offense_tables

SECONDARY_KINDS = frozenset({SourceKind.SECONDARY, SourceKind.LEGISLATIVE_RECORD, SourceKind.GOVERNMENT_PAGE})

# A project document is never evidence: the domain brief (domain.md, "domain brief §1.5", "the project brief"),
# the anchors file, or the repository's own docs.
PROJECT_DOCUMENT = re.compile(r"domain\.md|domain brief|project brief|brief §|anchors\.md|/work/shared", re.IGNORECASE)
# A citation may not point at the repository's own documentation either (a note may, as a cross-reference).
CITED_PROJECT_DOCUMENT = re.compile(
    PROJECT_DOCUMENT.pattern + r"|\bdocs/[\w/.-]+\.md|github\.com/[\w.-]+/detainers\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Cited:
    """One thing that carries an evidence tag, with where it lives."""

    where: str  # "packs/us/tx.yaml: version sb4-2017: rule tx.sb4.hold"
    evidence: str
    citation: Citation
    note: str | None
    prose: tuple[str, ...] = ()  # notes and summaries that also state evidence


def _everything() -> Iterator[Cited]:
    packs = load_packs()
    for name, spec in packs.conditions.items():
        yield Cited(f"conditions.yaml: condition {name}", spec.evidence, spec.citation, spec.note, (spec.note or "",))
    for pack in packs:
        source = packs.sources.get(pack.pack, pack.pack)
        for reading in pack.readings:
            where = f"{source}: reading {reading.id}"
            yield Cited(where, reading.evidence, reading.citation, reading.note, (reading.note or "",))
        seen: set[tuple[str, str]] = set()
        for version in pack.versions:
            order = version.court_order
            if order is not None:
                where = f"{source}: version {version.version}: court_order {order.case}"
                yield Cited(where, order.evidence, order.citation, order.scope, (order.scope,))
            for rule in version.rules:
                where = f"{source}: version {version.version}: rule {rule.id}"
                prose = (rule.note or "", version.summary or "", pack.notes or "")
                key = (rule.id, rule.model_dump_json())
                if key in seen:  # the same rule reused through a YAML alias: check it once, name its first version
                    continue
                seen.add(key)
                yield Cited(where, rule.evidence, rule.citation, rule.note, prose)


EVERYTHING = list(_everything())


def _ids() -> list[str]:
    return [c.where for c in EVERYTHING]


def _citation_text(citation: Citation) -> str:
    return " ".join(str(v) for v in (citation.title, citation.section, citation.url, citation.read_at) if v)


def test_there_is_something_to_check() -> None:
    tags = {c.evidence for c in EVERYTHING}
    assert len(EVERYTHING) > 50 and {"V", "I"} <= tags


@pytest.mark.parametrize("cited", EVERYTHING, ids=_ids())
def test_verified_means_a_primary_text_that_was_read(cited: Cited) -> None:
    if cited.evidence != "V":
        return
    kind = cited.citation.source
    assert kind in PRIMARY_SOURCES, (
        f"{cited.where}: [V] needs citation.source, one of {sorted(k.value for k in PRIMARY_SOURCES)} "
        f"(got {kind.value if kind else 'none'}); a third-party summary is [V3]"
    )
    assert cited.citation.read_at or cited.citation.url, f"{cited.where}: [V] needs citation.read_at or url"


@pytest.mark.parametrize("cited", EVERYTHING, ids=_ids())
def test_third_party_evidence_names_its_kind(cited: Cited) -> None:
    if cited.evidence != "V3":
        return
    kind = cited.citation.source
    assert kind in SECONDARY_KINDS, (
        f"{cited.where}: [V3] needs citation.source, one of {sorted(k.value for k in SECONDARY_KINDS)} "
        f"(got {kind.value if kind else 'none'}); a primary text that was read is [V]"
    )
    assert cited.citation.read_at or cited.citation.url, f"{cited.where}: [V3] needs citation.read_at or url"


@pytest.mark.parametrize("cited", EVERYTHING, ids=_ids())
def test_inferred_and_recalled_explain_themselves(cited: Cited) -> None:
    if cited.evidence not in {"I", "R"}:
        return
    label = {"I": "[I] must say in its note what it was inferred from", "R": "[R] must say in its note why"}
    assert cited.note and cited.note.strip(), f"{cited.where}: {label[cited.evidence]}"
    kind = cited.citation.source
    assert kind is not None, f"{cited.where}: [{cited.evidence}] needs citation.source ('none' if nothing was read)"


@pytest.mark.parametrize("cited", EVERYTHING, ids=_ids())
def test_no_project_document_is_cited(cited: Cited) -> None:
    hit = CITED_PROJECT_DOCUMENT.search(_citation_text(cited.citation))
    assert hit is None, f"{cited.where}: the citation names a project document ({hit.group(0)!r}), not a legal source"
    for text in cited.prose:
        hit = PROJECT_DOCUMENT.search(text)
        assert hit is None, f"{cited.where}: a note or summary rests on a project document ({hit.group(0)!r})"


def test_source_none_only_for_inference_or_recall() -> None:
    wrong = [c.where for c in EVERYTHING if c.citation.source is SourceKind.NONE and c.evidence in {"V", "V3"}]
    assert not wrong, f"source 'none' with a [V]/[V3] tag: {wrong}"


def test_court_orders_rest_on_the_court_text() -> None:
    for cited in EVERYTHING:
        if ": court_order " not in cited.where or cited.evidence != "V":
            continue
        assert cited.citation.source in {SourceKind.COURT_ORDER, SourceKind.OPINION}, (
            f"{cited.where}: a [V] court order cites the order or opinion itself (source court_order or opinion)"
        )


def test_offense_tables_cite_no_project_document_and_verified_ones_say_where() -> None:
    for table in load_offense_tables().tables.values():
        where = f"offenses/tables/{table.id}.yaml"
        text = " ".join(str(v) for v in (table.citation.title, table.citation.section, table.citation.url) if v)
        hit = CITED_PROJECT_DOCUMENT.search(text)
        assert hit is None, f"{where}: the citation names a project document ({hit.group(0)!r})"
        verified = table.evidence == "V" or any(e.evidence == "V" for e in table.entries)
        if verified:
            assert table.citation.url or table.citation.source, f"{where}: [V] entries need where the text was read"
        if table.evidence == "R":
            assert table.notes, f"{where}: an [R] table must say in notes why it is unconfirmed"
        # nor may its notes lean on one
        prose = " ".join([table.notes or "", *(e.note or "" for e in table.entries)])
        leaned = PROJECT_DOCUMENT.search(prose)
        assert leaned is None, f"{where}: the notes rest on a project document ({leaned.group(0)!r})"


def test_the_checks_catch_what_they_claim() -> None:
    # The detector itself: a [V] citing the brief, a [V3] without a kind, an [R] without a note.
    brief = Citation(title="ICE detainer lift semantics", section="domain brief §1.5")
    assert CITED_PROJECT_DOCUMENT.search(_citation_text(brief))
    assert CITED_PROJECT_DOCUMENT.search("see docs/jurisdictions.md")
    assert Citation(title="8 CFR", source=SourceKind.SECONDARY).source not in PRIMARY_SOURCES
    assert not PROJECT_DOCUMENT.search("Tex. Code Crim. Proc. art. 2.251 (lawserver.com)")
