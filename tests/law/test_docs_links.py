"""Every state pack has its page under docs/jurisdictions/states/ and is linked from docs/jurisdictions.md."""

from __future__ import annotations

from pathlib import Path

from detainers.law import default_packs

DOCS = Path(__file__).parents[2] / "docs"
# Encoded before the per-state pages existed: their sections live in docs/jurisdictions.md itself.
_IN_MAIN_PAGE = {"ca", "co", "il", "ma", "or", "tx", "wa"}


def test_every_state_pack_has_a_linked_page() -> None:
    index = (DOCS / "jurisdictions.md").read_text(encoding="utf-8")
    states = [p.pack.split("/")[1] for p in default_packs() if p.level == "state"]
    assert len(states) >= 20
    missing = []
    for state in states:
        if state in _IN_MAIN_PAGE:
            assert f"(`us/{state}`" in index or f"`us/{state}`" in index, state
            continue
        page = DOCS / "jurisdictions" / "states" / f"{state}.md"
        if not page.is_file() or f"jurisdictions/states/{state}.md" not in index:
            missing.append(state)
    assert not missing, f"state packs without a linked page in docs/jurisdictions/states/: {missing}"
