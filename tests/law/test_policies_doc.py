"""docs/policies.md is generated from the packs; this fails when someone changes a pack and forgets it."""

from __future__ import annotations

from pathlib import Path

from detainers.law import default_packs
from detainers.law._policies_doc import render_policies, rule_anchor

DOC = Path(__file__).parents[2] / "docs" / "policies.md"


def test_policies_md_is_up_to_date() -> None:
    expected = render_policies(default_packs())
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/policies.md is stale: run `detainers docs policies --write`"
    )


def test_every_rule_has_an_anchor_citation_and_evidence_in_the_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    for pack in default_packs():
        assert pack.title in text
        for version in pack.versions:
            assert f"`{pack.pack}@{version.version}`" in text
            for rule in version.rules:
                assert f'<a id="{rule_anchor(rule.id)}"></a>' in text
                assert f"**[{rule.evidence}]**" in text
