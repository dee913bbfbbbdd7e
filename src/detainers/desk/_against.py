"""Facts the decision in force did not allow: a transfer (or release) to ICE where transfer is not allowed, a notice
to ICE where notice is not allowed, a release before a hold the law requires has run.

The desk never refuses to record a fact (it happened), but it records such a fact only when the person recording it
confirms, naming the rules it goes against; the event then carries an ``against_decision`` flag that reports count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from detainers.desk._effective import effective_decision
from detainers.desk._errors import DeskError
from detainers.ledger import AgainstDecision, BookingState, parse_utc

__all__ = [
    "NO_RULE",
    "AgainstDecisionRefused",
    "Breach",
    "check_confirmed",
    "notify_breach",
    "release_breach",
    "to_immigration",
    "transfer_breach",
]

NO_RULE = "no-rule-allows-it"  # named when no encoded rule allows the act (the engine's default is "not allowed")
OVERRIDE = "override"  # named when a supervisor's override decided it
_IMMIGRATION = re.compile(r"\b(ice|ero|dhs|cbp|immigration)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Breach:
    """What the decision in force said about an act, and the rules that said it."""

    dimension: str  # transfer | notify | hold
    decision: str  # in words
    rules: tuple[str, ...]  # rule ids (or "override", or NO_RULE): what a confirmation must name
    citations: tuple[str, ...]  # "rule id — citation", for people
    decision_seq: int | None

    def flag(self) -> AgainstDecision:
        return AgainstDecision(
            dimension=self.dimension, decision=self.decision, rules=self.rules, decision_seq=self.decision_seq
        )

    def named(self) -> str:
        return "; ".join(self.citations)


class AgainstDecisionRefused(DeskError):
    """409: the act goes against the decision in force and was not confirmed (naming the rules)."""

    status = 409

    def __init__(self, breach: Breach, field: str) -> None:
        super().__init__(
            f"The decision in force says {breach.decision} ({breach.named()}). Recording it records a violation: "
            f"to record it anyway, send {field} naming those rules: {list(breach.rules)}",
            field=field,
        )
        self.breach = breach
        self.extra = {"rules": list(breach.rules), "decision": breach.decision, "dimension": breach.dimension}


def to_immigration(agency: str | None) -> bool:
    """Whether a receiving agency is the immigration authority (ICE, ERO, DHS, CBP)."""
    return bool(agency) and bool(_IMMIGRATION.search(agency or ""))


def _deciding_rules(effective: dict[str, Any], dimension: str, word: str) -> tuple[str, ...]:
    """The rules that decided ``dimension``: the layer that was most restrictive, else the rules whose effect was
    ``word`` (forbid, require) for it."""
    steps = list(effective.get("explanation", ()))
    chosen = [
        str(s["rule"])
        for s in steps
        if s.get("kind") == "layer" and s.get("rule") and f"more restrictive on {dimension}" in str(s.get("text"))
    ]
    if not chosen:
        chosen = [
            str(s["rule"])
            for s in steps
            if s.get("kind") == "rule" and s.get("rule") and f"{dimension} {word}" in str(s.get("text"))
        ]
    return tuple(dict.fromkeys(chosen))


def _cited(effective: dict[str, Any], rules: Iterable[str]) -> tuple[str, ...]:
    known = {str(r.get("id")): str(r.get("citation", "")) for r in effective.get("rules", ())}
    out = []
    for rule in rules:
        if rule == OVERRIDE:
            out.append("a supervisor's override of the engine's answer")
        elif rule == NO_RULE:
            out.append("no rule encoded for this place allows it")
        else:
            out.append(f"{rule} — {known[rule]}" if known.get(rule) else rule)
    return tuple(out)


def transfer_breach(booking: BookingState) -> Breach | None:
    """A transfer (or release) to ICE where the decision does not allow transfer."""
    if booking.decision is None:
        return None
    effective = effective_decision(booking)
    if str(effective.get("transfer") or "not_allowed") != "not_allowed":
        return None
    rules = _deciding_rules(effective, "transfer", "forbid") or (NO_RULE,)
    return Breach("transfer", "transfer to ICE is not allowed", rules, _cited(effective, rules), booking.decision_seq)


def notify_breach(booking: BookingState) -> Breach | None:
    """A notice to ICE where the decision (or a supervisor's override of it) does not allow notice."""
    if booking.decision is None:
        return None
    effective = effective_decision(booking)
    if effective.get("notify"):
        return None
    override = booking.override or {}
    if override.get("notify") is False:
        rules: tuple[str, ...] = (OVERRIDE,)
        said = f"do not notify ICE (supervisor's override: {override.get('reason', '')})"
    else:
        rules = _deciding_rules(effective, "notify", "forbid") or (NO_RULE,)
        said = "telling ICE about the release is not allowed"
    return Breach("notify", said, rules, _cited(effective, rules), booking.decision_seq)


def release_breach(booking: BookingState, released_at: datetime, released_to: str) -> Breach | None:
    """A release to ICE where transfer is not allowed, or any release before a hold the law requires has run."""
    if released_to == "ice":
        return transfer_breach(booking)
    if booking.decision is None:
        return None
    effective = effective_decision(booking)
    hold_until = effective.get("hold_until")
    if not effective.get("hold_required") or not hold_until or released_at >= parse_utc(str(hold_until)):
        return None
    rules = _deciding_rules(effective, "hold", "require") or (NO_RULE,)
    said = f"the law requires the hold until {hold_until}"
    return Breach("hold", said, rules, _cited(effective, rules), booking.decision_seq)


def check_confirmed(breach: Breach | None, confirmed: Sequence[str] | None, field: str) -> AgainstDecision | None:
    """The flag for the event, or :class:`AgainstDecisionRefused` when ``confirmed`` does not name every rule."""
    if breach is None:
        return None
    if not confirmed or not set(breach.rules) <= set(confirmed):
        raise AgainstDecisionRefused(breach, field)
    return breach.flag()
