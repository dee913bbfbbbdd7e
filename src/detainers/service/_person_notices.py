"""Notices to the person on the desk: which a detainer's decision owes (TRUTH Act copies and consent forms, Texas
notices, ...), when each is due, rendering one to PDF for print, and recording one as served.

These are the person's notices, not the outbox's notices to ICE (``/v1/detainers/{id}/notices``). What each role sees:

* clerks, supervisors and auditors: every notice with its deadline and every service record (who, when, language,
  delivery, the PDF's sha256, the translation files' hashes, a consent form's answer);
* an ICE liaison: only on its own office's detainers, and only where the decision lets the jail share release
  information with ICE (sight ``shared``): which notices are owed and whether and when each was served, with a
  consent form's answer (ICE may interview the person only as the answer allows, Gov. Code 7283.1(a)) — never the
  PDF (it carries the person's name and booking number), who served it, the language or the hashes. Where notice to
  ICE is not allowed, or nothing is decided, the list is empty, exactly as for a detainer without notices, so it
  cannot tell ICE that the person is in custody;
* the public role: nothing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from detainers.desk import (
    Actor,
    BookingState,
    Desk,
    DeskError,
    DetainerState,
    ExtraRows,
    InvalidCommand,
    NotFound,
    PersonalDataErasedError,
    PersonNoticeServed,
    TranslationFile,
    effective_decision,
    parse_utc,
)
from detainers.law import Decision, PackSet, default_packs
from detainers.notices import (
    Catalog,
    ConsentAnswer,
    Delivery,
    NoticeError,
    OwedNotice,
    RenderedNotice,
    Subject,
    load_catalog,
    notices_owed,
    render_notice,
)

__all__ = [
    "TRANSLATIONS_ENV",
    "NoticeChanged",
    "PersonNotice",
    "PersonNoticeServedIn",
    "ServedRecord",
    "decision_of",
    "find_notice",
    "liaison_view",
    "notice_catalog",
    "person_notices",
    "render_person_notice",
    "serve_person_notice",
    "staff_view",
]

# A county's own certified translation files (same layout as the shipped ones); they take precedence.
TRANSLATIONS_ENV = "DETAINERS_NOTICE_TRANSLATIONS"

# How far ahead of the desk's clock a recorded service time may be (clocks on two machines differ a little).
_FUTURE_SLACK = timedelta(minutes=5)

Status = Literal["served", "due", "owed", "pending"]


class NoticeChanged(DeskError):
    """The notice as rendered now is not the one printed (the facts or the translation changed meanwhile)."""

    status = 409


@cache
def _catalog(county: str | None) -> Catalog:
    return load_catalog(Path(county) if county else None)


def notice_catalog() -> Catalog:
    """The templates: the shipped ones, with the county's files from ``$DETAINERS_NOTICE_TRANSLATIONS`` first."""
    return _catalog(os.environ.get(TRANSLATIONS_ENV) or None)


def _instant(text: str | None) -> datetime | None:
    return parse_utc(text) if text else None


@dataclass(frozen=True)
class ServedRecord:
    seq: int
    by: str
    served_at: datetime
    recorded_at: str
    language: str
    delivered: str
    answer: str | None
    pdf_sha256: str
    translations: tuple[dict[str, Any], ...]

    @property
    def county_translation(self) -> bool:
        return any(t.get("source") == "county" for t in self.translations)


@dataclass(frozen=True)
class PersonNotice:
    """One notice a detainer's decision owes the person or their attorney or designee, and what became of it."""

    owed: OwedNotice
    languages: tuple[str, ...]  # the languages the templates have (county files included)
    status: Status
    due_at: datetime | None  # the law's moment has come (on receipt; when ICE was told the release date)
    expected_at: datetime | None  # a release notice before ICE is told: when the notice to ICE is due
    served: tuple[ServedRecord, ...] = field(default=())

    @property
    def kind(self) -> str:
        return self.owed.spec.kind

    @property
    def recipient(self) -> str:
        return self.owed.spec.to

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.recipient}"

    @property
    def form(self) -> str:
        return self.owed.spec.form

    @property
    def deadline(self) -> str | None:
        return self.owed.spec.deadline.value if self.owed.spec.deadline else None

    @property
    def has_template(self) -> bool:
        return bool(self.languages)


def decision_of(booking: BookingState) -> Decision | None:
    """The effective decision (a supervisor's override applied) as the engine's record, for the notices' answers."""
    if booking.decision is None:
        return None
    effective = effective_decision(booking)
    return Decision.model_validate({k: v for k, v in effective.items() if k in Decision.model_fields})


def _release_told(detainer: DetainerState) -> datetime | None:
    """When ICE was first told the release date on this detainer (a sent notice), if it was."""
    times = [_instant(n.get("sent_at") or n.get("at")) for n in detainer.notices if n.get("status") == "sent"]
    known = [t for t in times if t is not None]
    return min(known) if known else None


def _served(detainer: DetainerState, key: str) -> tuple[ServedRecord, ...]:
    out = []
    for item in detainer.person_notices:
        if f"{item['kind']}:{item['recipient']}" != key:
            continue
        served_at = _instant(item["served_at"])
        assert served_at is not None
        out.append(
            ServedRecord(
                seq=int(item["seq"]),
                by=str(item["by"]),
                served_at=served_at,
                recorded_at=str(item["recorded_at"]),
                language=str(item["language"]),
                delivered=str(item["delivered"]),
                answer=item.get("answer"),
                pdf_sha256=str(item["pdf_sha256"]),
                translations=tuple(item.get("translations", ())),
            )
        )
    return tuple(out)


def person_notices(
    detainer: DetainerState,
    booking: BookingState | None,
    now: datetime,
    *,
    packs: PackSet | None = None,
    catalog: Catalog | None = None,
) -> list[PersonNotice]:
    """The notices the booking's effective decision owes the person, as they stand for this detainer at ``now``."""
    if booking is None:
        return []
    decision = decision_of(booking)
    if decision is None:
        return []
    catalog = catalog or notice_catalog()
    try:
        owed = notices_owed(decision, packs or default_packs())
    except NoticeError:
        return []  # decided under packs this desk does not hold (a test's own decider): nothing to render from
    out: list[PersonNotice] = []
    seen: set[str] = set()
    for item in owed:
        key = f"{item.spec.kind}:{item.spec.to}"
        if key in seen:
            continue
        seen.add(key)
        served = _served(detainer, key)
        deadline = item.spec.deadline.value if item.spec.deadline else None
        due_at = expected_at = None
        if deadline == "on_receipt":
            due_at = _instant(detainer.received_at)
        elif deadline == "with_release_notification":
            due_at = _release_told(detainer)
            expected_at = decision.notify_target if due_at is None else None
        status: Status
        if served:
            status = "served"
        elif due_at is not None:
            status = "due"
        elif deadline == "with_release_notification":
            status = "pending"
        else:
            status = "owed"
        languages = tuple(catalog.languages(item.template)) if catalog.has(item.template) else ()
        out.append(PersonNotice(item, languages, status, due_at, expected_at, served))
    return out


def find_notice(notices: list[PersonNotice], kind: str, recipient: str) -> PersonNotice:
    found = next((n for n in notices if n.kind == kind and n.recipient == recipient), None)
    if found is None:
        owed = ", ".join(n.key for n in notices) or "none"
        raise NotFound(f"no notice {kind} to {recipient} is owed on this detainer (owed: {owed})", field="kind")
    return found


def _subject(desk: Desk, booking: BookingState, detainer: DetainerState, actor: Actor, purpose: str) -> Subject:
    """The name and booking number the form prints, read from the personal-data store (the read is logged)."""
    key = booking.subject_key or detainer.subject_key
    name = None
    if key:
        try:
            person = desk.personal.read(key, actor=actor.name, role=actor.role, purpose=purpose, now=desk.now())
            name = " ".join(p for p in (person.given_names, person.family_name) if p) or None
        except PersonalDataErasedError:
            name = None
    return Subject(name=name, booking=booking.booking_number)


def render_person_notice(
    desk: Desk,
    detainer: DetainerState,
    notice: PersonNotice,
    language: str,
    actor: Actor,
    *,
    purpose: str,
    catalog: Catalog | None = None,
) -> RenderedNotice:
    """The notice for this detainer's booking as decided, in ``language`` (one the templates have), as PDF."""
    if not notice.has_template:
        raise NotFound(f"{notice.owed.template}: no template yet, so it cannot be printed here", field="kind")
    if language not in notice.languages:
        raise InvalidCommand(
            f"no {language!r} translation of {notice.owed.template}; it has: {', '.join(notice.languages)}",
            field="language",
        )
    booking = desk.booking(detainer.booking_id or "")
    decision = decision_of(booking)
    case = desk.case_for(booking)
    if decision is None or case is None:
        raise NotFound("the detainer's booking has no decision yet", field="booking_id")
    subject = _subject(desk, booking, detainer, actor, purpose)
    try:
        return render_notice(notice.owed, case, decision, catalog or notice_catalog(), language, subject=subject)
    except NoticeError as error:
        raise InvalidCommand(str(error), field="kind") from error


class PersonNoticeServedIn(BaseModel):
    """A notice or consent form handed to the person (or sent to their attorney or designee)."""

    model_config = ConfigDict(extra="forbid")

    recipient: Literal["subject", "attorney_or_designee"] = "subject"
    language: str = Field(min_length=2, max_length=20, description="The language of the copy served, e.g. es.")
    delivered: Delivery = Field(description="in_person, mail, email, fax or attorney_visit.")
    served_at: AwareDatetime | None = Field(default=None, description="When it was served (default: now).")
    answer: ConsentAnswer | None = Field(
        default=None, description="A consent form's answer: consented, declined or asked_for_counsel."
    )
    pdf_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="The sha256 of the PDF printed (header X-Notice-SHA256): refused (409) if the notice rendered "
        "now differs, so the record always names the paper served.",
    )
    expected_version: int | None = Field(default=None, description="The detainer's version you last saw.")


def serve_person_notice(
    desk: Desk,
    detainer_id: str,
    kind: str,
    body: PersonNoticeServedIn,
    actor: Actor,
    *,
    extra_rows: ExtraRows = None,
) -> tuple[DetainerState, PersonNotice]:
    """Record ``kind`` as served: render it as the clerk printed it (same inputs, same bytes) and record its hash.
    ``extra_rows``: written with the event (the request's Idempotency-Key)."""
    detainer, booking, notice = current_notice(desk, detainer_id, kind, body.recipient)
    now = desk.now()
    if notice.form == "consent" and body.answer is None:
        raise InvalidCommand(
            "a consent form is recorded with the person's answer: consented, declined or asked_for_counsel",
            field="answer",
        )
    if notice.form == "notice" and body.answer is not None:
        raise InvalidCommand("only a consent form records an answer; this is a notice", field="answer")
    served_at = body.served_at or now
    if served_at > now + _FUTURE_SLACK:
        raise InvalidCommand("served_at is in the future", field="served_at")
    assert booking is not None  # a notice is owed only on a booking's decision
    rendered = render_person_notice(
        desk, detainer, notice, body.language, actor, purpose=f"record service of notice {kind} ({body.language})"
    )
    if body.pdf_sha256 is not None and body.pdf_sha256 != rendered.sha256:
        raise NoticeChanged(
            f"the notice rendered now (sha256 {rendered.sha256[:12]}…) is not the one printed "
            f"({body.pdf_sha256[:12]}…): the facts or the translation changed; print it again and serve that",
            field="pdf_sha256",
        )
    payload = PersonNoticeServed(
        kind=notice.kind,
        recipient=notice.recipient,
        rule=notice.owed.rule.id,
        template=notice.owed.template,
        form=notice.form,
        deadline=notice.deadline,
        language=rendered.language,
        pdf_sha256=rendered.sha256,
        translations=tuple(TranslationFile.model_validate(t.model_dump()) for t in rendered.translations),
        served_at=served_at,
        delivered=body.delivered.value,
        answer=body.answer.value if body.answer else None,
    )
    state = desk.record_person_notice(detainer_id, payload, body.expected_version, actor, extra_rows=extra_rows)
    after = find_notice(person_notices(state, booking, desk.now()), kind, body.recipient)
    return state, after


def current_notice(
    desk: Desk, detainer_id: str, kind: str, recipient: str
) -> tuple[DetainerState, BookingState | None, PersonNotice]:
    """The detainer, its booking and its notice ``kind`` for ``recipient`` as they stand now (404 when the decision
    owes no such notice)."""
    detainer = desk.detainer(detainer_id)
    booking = desk.booking(detainer.booking_id) if detainer.booking_id else None
    return detainer, booking, find_notice(person_notices(detainer, booking, desk.now()), kind, recipient)


def _when(instant: datetime | None) -> str | None:
    return instant.isoformat() if instant else None


def staff_view(notice: PersonNotice, detainer_id: str, now: datetime) -> dict[str, Any]:
    """A notice as clerks, supervisors and auditors see it (the API's ``PersonNoticeOut``)."""
    clock = notice.due_at or notice.expected_at
    return {
        "kind": notice.kind,
        "recipient": notice.recipient,
        "form": notice.form,
        "template": notice.owed.template,
        "rule": notice.owed.rule.id,
        "citation": notice.owed.citation,
        "text": notice.owed.notice.text,
        "deadline": notice.deadline,
        "status": notice.status,
        "due_at": _when(notice.due_at),
        "expected_at": _when(notice.expected_at),
        "seconds_to_due": (clock - now).total_seconds() if clock and notice.status != "served" else None,
        "languages": list(notice.languages),
        "required_languages": list(notice.owed.spec.languages),
        "pdf": f"/v1/detainers/{detainer_id}/person-notices/{notice.kind}.pdf?recipient={notice.recipient}"
        if notice.has_template
        else None,
        "served": [
            {
                "seq": s.seq,
                "by": s.by,
                "served_at": s.served_at.isoformat(),
                "recorded_at": s.recorded_at,
                "language": s.language,
                "delivered": s.delivered,
                "answer": s.answer,
                "pdf_sha256": s.pdf_sha256,
                "translations": list(s.translations),
            }
            for s in notice.served
        ],
        "withheld": [],
    }


_LIAISON_WITHHELD = ["pdf", "served.seq", "served.by", "served.language", "served.pdf_sha256", "served.translations"]


def liaison_view(notice: PersonNotice, now: datetime) -> dict[str, Any]:
    """A notice as an ICE liaison sees it (own office, shared sight only): whether and when it was served, and a
    consent form's answer; never the PDF, who served it, the language or the hashes (the staff view, redacted)."""
    view = staff_view(notice, "", now)
    view["pdf"] = None
    empty: dict[str, Any] = {"seq": None, "by": None, "language": None, "pdf_sha256": None, "translations": []}
    view["served"] = [{**served, **empty} for served in view["served"]]
    view["withheld"] = list(_LIAISON_WITHHELD)
    return view
