"""Plain-words formatting for the pages: local times, countdowns, labels. Pure functions, tested directly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from detainers.law import rule_anchor

__all__ = [
    "EVIDENCE",
    "as_instant",
    "countdown",
    "humanize",
    "label",
    "local_input",
    "local_time",
    "rule_href",
]

EVIDENCE = {
    "V": "verified in the named source",
    "V3": "verified only in a third-party summary",
    "I": "inferred from verified material",
    "R": "recalled, not yet confirmed in a source",
}

_LABELS = {
    "received": "Received, not linked",
    "active": "In custody",
    "released": "Released",
    "transferred": "Transferred",
    "lifted": "Lifted by ICE",
    "in_custody": "In custody",
    "not_allowed": "not allowed",
    "allowed": "allowed",
    "required": "required",
    "biometric_records": "Biometric confirmation and records checks",
    "final_order": "A final order of removal",
    "pending_proceedings": "Pending removal proceedings",
    "statements_evidence": "Statements to an immigration officer or other reliable evidence",
    "none": "None",
    "I-200": "I-200 Warrant for Arrest of Alien (administrative)",
    "I-203": "I-203 Order to Detain or Release (administrative)",
    "I-205": "I-205 Warrant of Removal (administrative)",
    "judicial_warrant": "Warrant signed by a judge",
    "judicial_probable_cause": "Judicial determination of probable cause",
    "public": "to the public (walked out)",
    "ice": "to ICE",
    "other_agency": "to another agency",
    "notify": "Notify DHS before release",
    "hold": "Hold up to 48 hours past release",
    "transfer": "Transfer custody to DHS",
}


def label(value: object) -> str:
    text = str(value) if value is not None else ""
    return _LABELS.get(text, text.replace("_", " "))


def humanize(delta: timedelta) -> str:
    """``2 d 3 h``, ``3 h 12 min``, ``12 min`` (the sign is the caller's business)."""
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else "less than a minute"


def countdown(target: datetime | None, now: datetime) -> str:
    if target is None:
        return ""
    delta = target - now
    if delta.total_seconds() < 0:
        return f"{humanize(delta)} overdue"
    return f"in {humanize(delta)}"


def as_instant(value: object) -> datetime | None:
    """An ISO text or a datetime as an aware datetime (None for empty)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except Exception:  # noqa: BLE001 - an unknown zone shows UTC rather than failing the page
        return ZoneInfo("UTC")


def local_time(value: Any, zone: str | None = None, *, with_zone: bool = True) -> str:
    instant = as_instant(value)
    if instant is None:
        return "—"
    local = instant.astimezone(_zone(zone))
    text = f"{local:%a %d %b %Y, %H:%M}"
    return f"{text} {local:%Z}" if with_zone else text


def local_input(value: datetime, zone: str | None) -> str:
    """The value of an ``<input type=datetime-local>`` for ``value`` in ``zone``."""
    return f"{value.astimezone(_zone(zone)):%Y-%m-%dT%H:%M}"


def rule_href(rule_id: str) -> str:
    return f"/policies#{rule_anchor(rule_id)}"
