"""docs/notices.md's material: one rendered page per language (PNG via poppler's pdftoppm) and the status table.

``python -m detainers.notices._pages docs/screenshots/notices`` (``make notice-pages``) writes the images and prints
the table of every template's translations and their review status.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from detainers.domain import Booking, Case, Detainer, DetainerForm
from detainers.law import decide, default_packs
from detainers.notices._catalog import LANGUAGE_NAMES, Catalog, load_catalog
from detainers.notices._owed import notices_owed
from detainers.notices._render import Subject, render_notice

__all__ = ["SAMPLE_TEMPLATE", "main", "sample_case", "status_table"]

SAMPLE_TEMPLATE = "us/ca/truth_act_copy"


def sample_case() -> Case:
    """A synthetic California booking with one I-247A, decided under SB 54."""
    return Case(
        name="docs sample",
        booking=Booking(
            facility="Synthetic County Jail",
            jurisdiction="us/ca",
            timezone="America/Los_Angeles",
            booked_at=datetime(2024, 3, 1, 18, 0, tzinfo=UTC),
            eligible_for_release_at=datetime(2024, 3, 4, 17, 0, tzinfo=UTC),
        ),
        detainers=(
            Detainer(
                form=DetainerForm.I247A_2017,
                received_at=datetime(2024, 3, 2, 16, 30, tzinfo=UTC),
                issued_on=date(2024, 3, 2),
                issuing_office="Synthetic Field Office",
            ),
        ),
        as_of=datetime(2024, 3, 2, 17, 0, tzinfo=UTC),
    )


def status_table(catalog: Catalog) -> str:
    lines = ["| template | language | status | reviewed by |", "| --- | --- | --- | --- |"]
    for template, language in catalog:
        t = catalog.translation(template, language)
        form = next(u for u in t.used if not u.path.startswith("_common/"))
        state = "reviewed" if form.status == "reviewed" else "drafted — not reviewed by a certified translator"
        if language == "en" and form.status != "reviewed":
            state = "drafted — not reviewed by counsel"
        who = f"{form.reviewed_by}, {form.reviewed_on}" if form.reviewed_by else "—"
        lines.append(f"| `{template}` | {language} ({LANGUAGE_NAMES.get(language, language)}) | {state} | {who} |")
    return "\n".join(lines)


def main(out: Path) -> None:
    packs = default_packs()
    catalog = load_catalog()
    case = sample_case()
    decision = decide(case, packs=packs)
    owed = next(o for o in notices_owed(decision, packs) if o.template == SAMPLE_TEMPLATE)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for language in catalog.languages(SAMPLE_TEMPLATE):
            rendered = render_notice(owed, case, decision, catalog, language, subject=Subject(name="TESTPERSON Alpha"))
            pdf = Path(tmp) / f"{language}.pdf"
            pdf.write_bytes(rendered.pdf)
            stem = out / f"truth_act_copy-{language}"
            subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", pdf, stem], check=True)
    sys.stdout.write(status_table(catalog) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots/notices"))
