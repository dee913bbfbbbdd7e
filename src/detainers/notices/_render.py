"""Render one owed notice for one decision to PDF (fpdf2: pure Python, embedded TrueType/OpenType subsets).

The result carries the PDF's bytes and sha256, the language, and every translation file used with its own hash and
review status, so serving it can be recorded as it is (see :class:`NoticeServed`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos

from detainers.clock import zone_of
from detainers.domain import Case, Request
from detainers.law import Decision, Transfer
from detainers.notices._catalog import DRAFT_STATUS, Block, Catalog, NoticeError, Translation, TranslationUsed
from detainers.notices._fonts import FACES, faces_for, font_dir
from detainers.notices._owed import OwedNotice

__all__ = ["PLACEHOLDER_NAME", "RenderedNotice", "Subject", "render_notice"]

# A name the form prints when none is given: plainly not a person.
PLACEHOLDER_NAME = "SYNTHETIC PERSON (no name given)"

Answer = Literal["will", "will_not", "open"]
_ORDER = (Request.NOTIFY, Request.HOLD, Request.TRANSFER)
_TRANSFER: dict[Transfer, Answer] = {
    Transfer.REQUIRED: "will",
    Transfer.ALLOWED: "open",
    Transfer.NOT_ALLOWED: "will_not",
}


@dataclass(frozen=True)
class Subject:
    """Who the notice is for, as the jail's personal-data store holds it (never part of a decision or an event)."""

    name: str | None = None
    booking: str | None = None  # the jail's booking number
    recipient: str | None = None  # for a copy to the attorney or designee: their name


@dataclass(frozen=True)
class RenderedNotice:
    """A rendered notice: what to print, and what to record when it is served."""

    pdf: bytes
    sha256: str
    template: str
    language: str
    kind: str
    rule: str
    recipient: str
    form: Literal["notice", "consent"]
    citation: str
    translations: tuple[TranslationUsed, ...]
    reviewed: bool  # every translation file used is marked reviewed
    fonts: tuple[str, ...]  # families embedded
    text: str  # every string drawn, in order (for checks: the PDF's extracted text must round-trip it)


def _when(instant: datetime | None, zone: str) -> str | None:
    if instant is None:
        return None
    local = instant.astimezone(zone_of(zone))
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def _answers(decision: Decision, intentions: Mapping[Request, bool]) -> dict[Request, Answer]:
    """The jail's answer to each request: what the law decides, or the agency's stated intention where it may choose."""
    law: dict[Request, Answer] = {
        Request.NOTIFY: "will" if decision.notify_required else ("open" if decision.notify else "will_not"),
        Request.HOLD: "will" if decision.hold_required else ("open" if decision.hold_allowed else "will_not"),
        Request.TRANSFER: _TRANSFER[decision.transfer],
    }
    for request, intends in intentions.items():
        if law[request] == "open":
            law[request] = "will" if intends else "will_not"
    return law


def _font(pdf: FPDF, style: str, size: float) -> None:
    """Select Noto Sans at ``size``, always re-emitting it: after a run drawn in a fallback face fpdf2 may take the
    same family and size as already selected and keep drawing in the fallback's size."""
    pdf.set_font("NotoSans", style=style, size=size + 1)
    pdf.set_font("NotoSans", style=style, size=size)


class _Pdf(FPDF):
    footer_lines: tuple[str, ...] = ()

    def footer(self) -> None:
        self.set_y(-16)
        _font(self, "", 7.5)
        self.set_text_color(90, 90, 90)
        for line in self.footer_lines:
            self.multi_cell(0, 3.6, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(0, 0, 0)


class _Writer:
    """Lays out one form; remembers every string drawn so the caller can check the PDF's text round-trips."""

    def __init__(self, pdf: _Pdf, latin: bool) -> None:
        self.pdf = pdf
        self.bold = "B" if latin else ""  # the CJK faces are vendored in one weight
        self.align = "J" if latin else "L"  # justified CJK or Hangul text spreads its words apart
        self.drawn: list[str] = []

    def text(self, value: str, size: float = 10.5, style: str = "", gap: float = 1.6, grey: bool = False) -> None:
        self.drawn.append(value)
        _font(self.pdf, style, size)
        if grey:
            self.pdf.set_text_color(90, 90, 90)
        self.pdf.multi_cell(0, size * 0.5, value, align=self.align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.set_text_color(0, 0, 0)
        self.pdf.ln(gap)

    def heading(self, value: str, size: float = 12) -> None:
        self.pdf.ln(1.5)
        self.text(value, size=size, style=self.bold, gap=1.2)

    def rows(self, rows: list[tuple[str, str]]) -> None:
        pdf = self.pdf
        width = pdf.epw
        label_w = width * 0.3
        for label, value in rows:
            self.drawn += [label, value]
            _font(pdf, self.bold, 9.5)
            label_lines = self._lines(label_w - 2, label)
            _font(pdf, "", 9.5)
            value_lines = self._lines(width - label_w, value)
            height = 5 * max(label_lines, value_lines, 1)
            if pdf.will_page_break(height):
                pdf.add_page()
            y = pdf.get_y()
            _font(pdf, self.bold, 9.5)
            pdf.multi_cell(label_w - 2, 5, label, border=0, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
            pdf.set_xy(pdf.l_margin + label_w, y)
            _font(pdf, "", 9.5)
            pdf.multi_cell(width - label_w, 5, value, border=0, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            bottom = y + height
            pdf.set_draw_color(200, 200, 200)
            pdf.line(pdf.l_margin, bottom + 0.6, pdf.l_margin + width, bottom + 0.6)
            pdf.set_draw_color(0, 0, 0)
            pdf.set_y(bottom + 1.4)
        pdf.ln(1.5)

    def _lines(self, width: float, value: str) -> int:
        lines = self.pdf.multi_cell(width, 5, value, align="L", dry_run=True, output=MethodReturnValue.LINES)
        assert isinstance(lines, list)
        return len(lines)

    def box(self, value: str, ticked: bool = False) -> None:
        pdf = self.pdf
        self.drawn.append(value)
        x, y = pdf.l_margin, pdf.get_y()
        pdf.rect(x, y + 0.8, 3.6, 3.6)
        if ticked:
            pdf.line(x + 0.6, y + 2.6, x + 1.6, y + 3.8)
            pdf.line(x + 1.6, y + 3.8, x + 3.2, y + 1.2)
        pdf.set_x(x + 6)
        _font(pdf, "", 10.5)
        pdf.multi_cell(pdf.epw - 6, 5.2, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1.4)

    def line_for(self, label: str, value: str | None = None) -> None:
        pdf = self.pdf
        self.drawn.append(label)
        _font(pdf, "", 9.5)
        pdf.ln(3)
        y = pdf.get_y()
        if value:
            self.drawn.append(value)
            pdf.set_x(pdf.l_margin + 2)
            pdf.cell(0, 5, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            pdf.set_y(y + 5)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw * 0.7, pdf.get_y())
        pdf.set_text_color(90, 90, 90)
        _font(pdf, "", 8)
        pdf.cell(0, 4, label, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.set_text_color(0, 0, 0)
        pdf.ln(1.5)


def _fill(text: str, fields: Mapping[str, str]) -> str:
    return text.format_map(fields)


def render_notice(
    owed: OwedNotice,
    case: Case,
    decision: Decision,
    catalog: Catalog,
    language: str,
    *,
    subject: Subject | None = None,
    intentions: Mapping[Request, bool] | None = None,
    rendered_at: datetime | None = None,
) -> RenderedNotice:
    """Render ``owed`` (one of :func:`notices_owed`'s) for ``case`` as decided, in ``language``, to PDF.

    ``intentions``: where the law allows but does not require compliance with a request, whether the agency intends
    to comply; absent, the form leaves boxes for the clerk to mark. ``rendered_at`` (default: the decision instant)
    is the PDF's creation date, so the same inputs give the same bytes and the same hash.
    """
    translation = catalog.translation(owed.template, language)
    subject = subject or Subject()
    zone = decision.timezone
    common = translation.common
    labels = common.labels
    not_given = labels["not_given"]
    english_title = catalog.translation(owed.template, "en").form.title if language != "en" else None
    fields = {
        "name": subject.name or PLACEHOLDER_NAME,
        "booking": subject.booking or not_given,
        "facility": case.booking.facility or not_given,
        "agency": case.booking.facility or labels["this_agency"],
        "release_at": _when(case.booking.eligible_for_release_at or case.booking.released_at, zone) or not_given,
        "citation": owed.citation,
    }
    footer = _footer(translation, owed)
    texts = [
        *fields.values(),
        *footer,
        english_title or "",
        translation.form.title,
        *labels.values(),
        *common.requests.values(),
        *common.answers.values(),
        *common.choices.values(),
        *(b.heading or b.p or "" for b in translation.form.blocks),
        subject.recipient or "",
        owed.rule.id,
    ]
    faces = faces_for(language, texts)

    pdf = _Pdf(format="Letter", unit="mm")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=22)
    pdf.footer_lines = footer
    directory = font_dir()
    pdf.add_font(FACES["latin"].family, "", str(directory / FACES["latin"].regular))
    bold_face = FACES["latin"].bold
    assert bold_face is not None
    pdf.add_font(FACES["latin"].family, "B", str(directory / bold_face))
    for key in faces:
        pdf.add_font(FACES[key].family, "", str(directory / FACES[key].regular))
    pdf.set_fallback_fonts([FACES[k].family for k in faces], exact_match=False)
    pdf.set_lang(language)
    pdf.set_title(translation.form.title)
    pdf.set_subject(f"{owed.template} ({language})")
    pdf.set_creator("detainers")
    when = rendered_at or decision.decided_at or case.as_of or datetime(1970, 1, 1, tzinfo=UTC)
    pdf.set_creation_date(when.astimezone(UTC))
    pdf.add_page()

    w = _Writer(pdf, latin=language not in ("zh-Hans", "zh-Hant", "ko"))
    if case.booking.facility:
        w.text(case.booking.facility, size=8.5, grey=True, gap=0.4)
    w.text(translation.form.title, size=15, style=w.bold, gap=1.0)
    if english_title:
        w.text(f"English: {english_title}", size=8.5, grey=True, gap=1.0)
    pdf.ln(1)
    if owed.spec.to != "subject":
        w.text(labels["copy_for_counsel"], size=10.5, style=w.bold, gap=1.0)
    w.rows([(labels["name"], fields["name"]), (labels["booking"], fields["booking"])])
    answers = _answers(decision, intentions or {})
    basis = [(labels["basis"], f"{owed.citation} [{owed.rule.id}]")]
    for block in translation.form.blocks:
        if block.part == "signature":
            w.rows(basis)
            basis = []
        _block(w, block, fields, translation, case, answers, subject, zone, owed.spec.to == "subject")
    if basis:
        w.rows(basis)
    data = bytes(pdf.output())
    return RenderedNotice(
        pdf=data,
        sha256=hashlib.sha256(data).hexdigest(),
        template=owed.template,
        language=language,
        kind=owed.spec.kind,
        rule=owed.rule.id,
        recipient=owed.spec.to,
        form=owed.spec.form,
        citation=owed.citation,
        translations=translation.used,
        reviewed=translation.reviewed,
        fonts=(FACES["latin"].family, *(FACES[k].family for k in faces)),
        text="\n".join([*w.drawn, *footer]),
    )


def _footer(translation: Translation, owed: OwedNotice) -> tuple[str, ...]:
    if translation.reviewed:
        reviews = "; ".join(f"{u.path}: {u.reviewed_by}, {u.reviewed_on}" for u in translation.used)
        status = f"Translation reviewed — {reviews}"
    else:
        status = f"Translation {DRAFT_STATUS}. {translation.common.draft_footer}"
        if translation.language == "en":
            status = translation.common.draft_footer
    files = ", ".join(f"{u.path} ({u.source}) sha256:{u.sha256[:12]}" for u in translation.used)
    return (status, f"{owed.template} · {translation.language} · {files}")


def _block(
    w: _Writer,
    block: Block,
    fields: Mapping[str, str],
    translation: Translation,
    case: Case,
    answers: Mapping[Request, Answer],
    subject: Subject,
    zone: str,
    to_person: bool,
) -> None:
    common = translation.common
    labels = common.labels
    if block.heading is not None:
        w.heading(_fill(block.heading, fields))
    elif block.p is not None:
        w.text(_fill(block.p, fields))
    elif block.part == "detainers":
        w.text(labels["copy_attached"])
        for detainer in case.detainers:
            requests = "; ".join(common.requests[r.value] for r in _ORDER if r in detainer.effective_requests)
            w.rows(
                [
                    (labels["form"], detainer.form.value),
                    (
                        labels["issued_on"],
                        detainer.issued_on.isoformat() if detainer.issued_on else labels["not_given"],
                    ),
                    (labels["received_at"], _when(detainer.received_at, zone) or labels["not_given"]),
                    (labels["office"], detainer.issuing_office or labels["not_given"]),
                    (labels["requests"], requests),
                ]
            )
    elif block.part == "answer":
        asked = [r for r in _ORDER if any(r in d.effective_requests for d in case.detainers)]
        for request in asked:
            answer = answers[request]
            w.text(f"{common.requests[request.value]}:", style=w.bold, gap=0.6)
            if answer == "open":
                w.text(common.answers["open"], gap=0.8)
                w.box(common.answers["open_will"])
                w.box(common.answers["open_will_not"])
            else:
                w.text(common.answers[answer])
    elif block.part == "release":
        w.rows([(labels["release_at"], fields["release_at"])])
    elif block.part == "recipient":
        w.line_for(labels["recipient"], subject.recipient)
    elif block.part == "choices":
        for key in ("consented", "declined", "asked_for_counsel"):
            w.box(common.choices[key])
    elif block.part == "signature":
        if to_person:
            w.line_for(labels["signature"])
            w.line_for(labels["date"])
        w.line_for(labels["served_by"])
        w.line_for(labels["served_at"])
    else:  # pragma: no cover - the model allows no other part
        raise NoticeError(f"unknown block {block!r}")
