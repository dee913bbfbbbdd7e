"""A detainer's ledger entries (and its booking's, for roles that may see bookings) as a timeline in plain words."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from detainers.ledger import StoredEvent
from detainers.web._format import label, local_time, rule_href

__all__ = ["Entry", "against", "describe", "timeline"]

_TITLES = {
    "detainer_received": "Detainer received",
    "detainer_served": "Served on the person",
    "attachment_added": "Document attached",
    "linked_to_booking": "Linked to a booking",
    "detainer_lifted": "Lifted by ICE",
    "booking_opened": "Booked into the jail",
    "eligibility_recorded": "Release eligibility recorded",
    "status_proof_recorded": "Proof of status recorded",
    "person_released": "Person released",
    "transferred": "Custody transferred",
    "decision_made": "Policy decision",
    "policy_overridden": "Policy overridden by a supervisor",
    "notification_queued": "Release notice queued",
    "notification_sent": "Release notice sent",
    "notification_failed": "Release notice failed",
    "deadline_warning": "Hold deadline warning",
    "over_limit_marked": "Custody past its lawful end",
    "notification_cancelled": "Release notice cancelled",
    "corrected": "Correction",
    "person_notice_served": "Notice served to the person",
    "person_notice_overdue": "Notice to the person overdue",
}


@dataclass(frozen=True)
class Entry:
    seq: int
    when: str
    kind: str
    title: str
    detail: str
    actor: str
    authority: str
    hash: str
    rules: tuple[tuple[str, str], ...]
    tone: str  # normal | alert | decision


def _show(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def describe(kind: str, p: dict[str, Any], zone: str) -> str:
    """One line for an event's payload. Payloads never hold personal data, so nothing here can leak it."""

    def t(key: str) -> str:
        return local_time(p.get(key), zone)

    if kind == "detainer_received":
        box = (
            "Box 2 (transferred for proceedings)"
            if p.get("box2_transferred_for_proceeding")
            else (
                "Box 1: " + ", ".join(label(b) for b in p.get("pc_basis", ())) if p.get("pc_basis") else "no box ticked"
            )
        )
        requests = ", ".join(p["requests"]) if p.get("requests") else "what the form asks"
        return f"{p.get('form')} from {p.get('office')}; requests {requests}; warrant {label(p.get('warrant'))}; {box}"
    if kind == "detainer_served":
        return f"at {t('served_at')} ({label(p.get('manner'))})"
    if kind == "attachment_added":
        return f"{p.get('kind')}: {p.get('filename')} ({p.get('size')} bytes, SHA-256 {str(p.get('sha256'))[:12]}…)"
    if kind == "detainer_lifted":
        return f"at {t('lifted_at')}: {p.get('reason')}"
    if kind == "booking_opened":
        charges = ", ".join(f"{c.get('statute')} ({c.get('level')})" for c in p.get("charges", ())) or "no charges"
        return f"booking {p.get('booking_number')} at {p.get('facility') or p.get('jurisdiction')}; {charges}"
    if kind == "eligibility_recorded":
        return f"would go free at {t('eligible_at')} ({label(p.get('reason'))})"
    if kind == "status_proof_recorded":
        return f"{label(p.get('proof'))}, shown {t('shown_at')}"
    if kind == "person_released":
        return f"at {t('released_at')}, {label(p.get('released_to'))}"
    if kind == "transferred":
        return f"to {p.get('to_agency')} at {t('transferred_at')}" + (f" ({p['basis']})" if p.get("basis") else "")
    if kind == "decision_made":
        d = p.get("decision", {})
        notify = "required" if d.get("notify_required") else "allowed" if d.get("notify") else "not allowed"
        hold = f"hold until {local_time(d.get('hold_until'), zone)}" if d.get("hold_until") else "no hold"
        return f"after {label(p.get('trigger'))}: notify {notify}; {hold}; transfer {label(d.get('transfer'))}"
    if kind == "policy_overridden":
        parts = []
        if p.get("notify") is not None:
            parts.append("notify " + ("allowed" if p["notify"] else "not allowed"))
        if p.get("hold_until"):
            parts.append(f"hold until {t('hold_until')}")
        if p.get("clear_hold"):
            parts.append("no hold")
        return f"{'; '.join(parts)} — reason: {p.get('reason')}"
    if kind == "notification_cancelled":
        return f"{p.get('channel')}: {p.get('detail')}"
    if kind in ("notification_queued", "notification_sent", "notification_failed"):
        how = str(p.get("channel", ""))
        if p.get("manual"):
            how += " (recorded by hand)"
        if kind == "notification_queued":
            told = f"; tells release at {t('release_at')}" if p.get("release_at") else ""
            return f"to {p.get('office')} by {how}, due {t('due_at')}{told}"
        if kind == "notification_failed":
            return f"{how}, attempt {p.get('attempts')}: {p.get('error')}"
        return f"to {p.get('office') or p.get('recipient') or 'ICE'} by {how} at {t('sent_at')}"
    if kind == "deadline_warning":
        return f"hold ends {t('hold_until')} ({p.get('lead_minutes')} minutes' warning)"
    if kind == "over_limit_marked":
        return f"at {t('at')} (custody had to end at {t('hold_until')})"
    if kind == "person_notice_served":
        to = "their attorney or designee" if p.get("recipient") == "attorney_or_designee" else "the person"
        answer = f"; answer: {label(p.get('answer'))}" if p.get("answer") else ""
        county = (
            " (county's translation)" if any(t.get("source") == "county" for t in p.get("translations", ())) else ""
        )
        return (
            f"{label(p.get('kind'))} to {to} at {t('served_at')}, {label(p.get('delivered'))}, in "
            f"{p.get('language')}{county}{answer}; PDF SHA-256 {str(p.get('pdf_sha256'))[:12]}…"
        )
    if kind == "person_notice_overdue":
        return (
            f"{label(p.get('kind'))} ({label(p.get('deadline'))}) was due {t('due_at')} and is not recorded as served"
        )
    if kind == "corrected":
        return f"{p.get('field')}: {_show(p.get('old'))} → {_show(p.get('new'))} — reason: {p.get('reason')}"
    return ""


def against(p: dict[str, Any]) -> str:
    """The flag of a fact recorded against the decision, in words ("" when there is none)."""
    flag = p.get("against_decision")
    if not flag:
        return ""
    return f"RECORDED AGAINST THE DECISION (it said {flag.get('decision')}; {', '.join(flag.get('rules', ()))})"


def timeline(events: Iterable[StoredEvent], zone: str) -> list[Entry]:
    """Newest first."""
    out = []
    for event in sorted(events, key=lambda e: e.seq, reverse=True):
        flagged = against(event.payload)
        tone = (
            "alert"
            if event.type in ("over_limit_marked", "notification_failed", "deadline_warning", "person_notice_overdue")
            or flagged
            else ("decision" if event.type in ("decision_made", "policy_overridden") else "normal")
        )
        detail = describe(event.type, event.payload, zone)
        out.append(
            Entry(
                seq=event.seq,
                when=local_time(event.recorded_at, zone),
                kind=event.type,
                title=_TITLES.get(event.type, label(event.type)),
                detail=f"{detail} — {flagged}" if flagged else detail,
                actor=event.actor,
                authority=event.authority,
                hash=event.hash,
                rules=tuple((str(r.get("id")), rule_href(str(r.get("id")))) for r in event.rules if r.get("id")),
                tone=tone,
            )
        )
    return out
