"""A stored decision (the engine's answer, with any override applied) in plain words with its rule citations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from detainers.law import coverage_note
from detainers.web._format import EVIDENCE, as_instant, label, local_time, rule_href

__all__ = ["Answer", "Citation", "DecisionView", "Step", "decision_view", "holds_past_release"]


def holds_past_release(decision: dict[str, Any], eligible_at: str | None) -> bool:
    """Whether custody may go on after release eligibility (``hold_until`` equals eligibility when it may not)."""
    if not decision.get("custody_basis"):
        return False
    hold_until, eligible = as_instant(decision.get("hold_until")), as_instant(eligible_at)
    return hold_until is None or eligible is None or hold_until > eligible


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    tone: str  # go | stop | caution
    detail: str = ""


@dataclass(frozen=True)
class Citation:
    rule: str
    version: str
    citation: str
    url: str | None
    evidence: str
    href: str

    @property
    def evidence_text(self) -> str:
        return EVIDENCE.get(self.evidence, "")


@dataclass(frozen=True)
class Step:
    kind: str
    text: str
    rule: str | None
    href: str | None


@dataclass
class DecisionView:
    headline: str
    answers: list[Answer]
    steps: list[Step]
    citations: list[Citation]
    notices: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown_statutes: list[str] = field(default_factory=list)
    layers: list[dict[str, Any]] = field(default_factory=list)
    decided_at: str = ""
    engine_version: str = ""
    trigger: str = ""
    override: dict[str, Any] | None = None
    coverage: str | None = None  # a sentence naming the layers not encoded; None when every layer is


def decision_view(
    effective: dict[str, Any], override: dict[str, Any] | None, zone: str, eligible_at: str | None
) -> DecisionView:
    """``effective`` is :func:`detainers.service.effective_decision` of the booking."""
    holds = holds_past_release(effective, eligible_at)
    notify, required = bool(effective.get("notify")), bool(effective.get("notify_required"))
    target = effective.get("notify_target")
    hold_until = effective.get("hold_until")
    transfer = str(effective.get("transfer") or "not_allowed")
    answers = [
        Answer(
            "Tell ICE when the person will be released?",
            "Required" if required else "Allowed" if notify else "No — not allowed",
            "go" if notify else "stop",
            f"by {local_time(target, zone)}" if notify and target else "",
        ),
        Answer(
            "Keep the person in custody past release?",
            (f"Up to {local_time(hold_until, zone)}" if hold_until else "Allowed; the limit follows the release date")
            if holds
            else "No — release when eligible",
            "caution" if holds else "stop",
            "the law requires the hold"
            if holds and effective.get("hold_required")
            else f"release is due {local_time(hold_until, zone)}"
            if hold_until and not holds
            else "",
        ),
        Answer(
            "Hand the person to ICE at release?",
            label(transfer).capitalize(),
            "go" if transfer in ("allowed", "required") else "stop",
        ),
    ]
    if effective.get("inform_subject"):
        answers.append(Answer("Tell the person about the request?", "Yes", "caution", "see the notices below"))
    if effective.get("custody_basis"):
        answers.append(Answer("Authority for any custody past release", label(effective["custody_basis"]), "caution"))
    headline = " ".join(
        [
            "A hold past release is lawful, within the limit below." if holds else "Do not hold past release.",
            "ICE must be notified." if required else "Notifying ICE is allowed." if notify else "Do not notify ICE.",
            "Transfer to ICE is " + label(transfer) + ".",
        ]
    )
    steps = [
        Step(
            str(s.get("kind", "")),
            str(s.get("text", "")),
            s.get("rule"),
            rule_href(str(s["rule"])) if s.get("rule") else None,
        )
        for s in effective.get("explanation", ())
    ]
    citations = [
        Citation(
            str(r.get("id")),
            str(r.get("version", "")),
            str(r.get("citation", "")),
            r.get("url"),
            str(r.get("evidence", "")),
            rule_href(str(r.get("id"))),
        )
        for r in effective.get("rules", ())
    ]
    return DecisionView(
        headline=headline,
        answers=answers,
        steps=steps,
        citations=citations,
        notices=list(effective.get("notices", ())),
        warnings=[str(w) for w in effective.get("warnings", ())],
        unknown_statutes=[str(u) for u in effective.get("unknown_statutes", ())],
        layers=list(effective.get("jurisdiction_chain", ())),
        decided_at=str(effective.get("decided_at") or ""),
        engine_version=str(effective.get("engine_version") or ""),
        trigger=str(effective.get("trigger") or ""),
        override=override or None,
        # From the chain, so decisions recorded before coverage was a key show it too.
        coverage=coverage_note(effective.get("jurisdiction_chain", ())),
    )
