"""The detainer page's "Notices to the person" panel: what the decision owes the person, with countdowns, print
links per language and a "mark served" form; and the served records (who, when, language, PDF hash)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from detainers.ledger import BookingState, DetainerState
from detainers.notices import LANGUAGE_NAMES, ConsentAnswer, Delivery
from detainers.service import Desk, Permission
from detainers.service._person_notices import PersonNotice, ServedRecord, notice_catalog, person_notices
from detainers.web._format import countdown, label, local_input, local_time
from detainers.web._session import Viewer

__all__ = ["ANSWERS", "DELIVERIES", "NoticeRow", "ServedEntry", "context", "panel", "served_entries"]

DELIVERIES = [(d.value, label(d.value)) for d in Delivery]
ANSWERS = [
    (ConsentAnswer.CONSENTED.value, "Consented to the interview"),
    (ConsentAnswer.DECLINED.value, "Declined the interview"),
    (ConsentAnswer.ASKED_FOR_COUNSEL.value, "Only with their attorney present"),
]
_DEADLINES = {
    "on_receipt": "on receipt of the request",
    "before_interview": "before any ICE interview",
    "with_release_notification": "with the release notification to ICE",
    "while_held": "while the person is held",
}


@dataclass(frozen=True)
class NoticeRow:
    notice: PersonNotice
    title: str
    to: str
    deadline: str
    when: str  # the countdown line, in words
    languages: list[tuple[str, str]]  # (tag, name)
    served: list[dict[str, str]]
    default_language: str

    @property
    def key(self) -> str:
        return self.notice.key


def notice_title(template: str, kind: str) -> str:
    """The form's English title (the kind in words when there is no template)."""
    catalog = notice_catalog()
    if catalog.has(template) and "en" in catalog.languages(template):
        return catalog.translation(template, "en").form.title
    return label(kind).capitalize()


def _language_name(tag: str) -> str:
    return LANGUAGE_NAMES.get(tag, tag)


def _when(notice: PersonNotice, now: datetime, zone: str) -> str:
    if notice.status == "served":
        return "Served"
    if notice.due_at is not None:
        return f"Due since {local_time(notice.due_at, zone)} — {countdown(notice.due_at, now)}"
    if notice.status == "pending":
        if notice.expected_at is not None:
            return (
                f"Owed when ICE is told the release date (notice to ICE due {local_time(notice.expected_at, zone)}, "
                f"{countdown(notice.expected_at, now)})"
            )
        return "Owed when ICE is told the release date (not told yet)"
    if notice.deadline == "before_interview":
        return "Owed before any ICE interview (the desk does not record interviews: serve it before one is allowed)"
    return "Owed; the law sets no clock the desk can count"


def _served(record: ServedRecord, zone: str) -> dict[str, str]:
    return {
        "when": local_time(record.served_at, zone),
        "by": record.by,
        "language": _language_name(record.language),
        "delivered": label(record.delivered),
        "answer": dict(ANSWERS).get(record.answer or "", ""),
        "hash": record.pdf_sha256,
        "county": "county's certified translation" if record.county_translation else "",
    }


def panel(
    who: Viewer, detainer: DetainerState, booking: BookingState | None, now: datetime, zone: str
) -> list[NoticeRow] | None:
    """The panel's rows for staff (None: the panel is not shown — liaisons and the public never see it here)."""
    if not who.sees_bookings or not who.can(Permission.DETAINER_READ):
        return None
    catalog = notice_catalog()
    rows = []
    for notice in person_notices(detainer, booking, now, catalog=catalog):
        title = notice_title(notice.owed.template, notice.kind)
        languages = [(tag, _language_name(tag)) for tag in notice.languages]
        rows.append(
            NoticeRow(
                notice=notice,
                title=title,
                to="their attorney or designee" if notice.recipient == "attorney_or_designee" else "the person",
                deadline=_DEADLINES.get(notice.deadline or "", "no deadline named"),
                when=_when(notice, now, zone),
                languages=languages,
                served=[_served(r, zone) for r in notice.served],
                default_language="en" if "en" in notice.languages else next(iter(notice.languages), ""),
            )
        )
    return rows


def context(who: Viewer, now: datetime, zone: str) -> dict[str, Any]:
    """What the panel's links and forms need besides the rows."""
    return {
        "can_print": who.can(Permission.PERSON_READ),
        "can_serve": who.can(Permission.DETAINER_RECORD),
        "deliveries": DELIVERIES,
        "answers": ANSWERS,
        "served_default": local_input(now, zone),
    }


@dataclass(frozen=True)
class ServedEntry:
    """One ``person_notice_served`` ledger entry, for the audit page."""

    seq: int
    recorded_at: str
    by: str
    detainer_id: str
    kind: str
    title: str
    recipient: str
    served_at: str
    language: str
    delivered: str
    answer: str
    pdf_sha256: str
    translations: str  # source and hash of each file


def served_entries(desk: Desk, limit: int = 200) -> list[ServedEntry]:
    """The notices served to people, newest first (from the detainer records the ledger projects)."""
    detainers, _ = desk.list_detainers(limit=1_000_000)
    out = []
    for d in detainers:
        for item in d.person_notices:
            out.append(
                ServedEntry(
                    seq=int(item["seq"]),
                    recorded_at=str(item["recorded_at"]),
                    by=str(item["by"]),
                    detainer_id=d.id,
                    kind=str(item["kind"]),
                    title=notice_title(str(item.get("template", "")), str(item["kind"])),
                    recipient=str(item["recipient"]),
                    served_at=str(item["served_at"]),
                    language=_language_name(str(item["language"])),
                    delivered=label(item["delivered"]),
                    answer=dict(ANSWERS).get(str(item.get("answer")), ""),
                    pdf_sha256=str(item["pdf_sha256"]),
                    translations="; ".join(
                        f"{t.get('path')} ({t.get('source')}, {t.get('status')}) {str(t.get('sha256'))[:12]}…"
                        for t in item.get("translations", ())
                    ),
                )
            )
    return sorted(out, key=lambda e: -e.seq)[:limit]
