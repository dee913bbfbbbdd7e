"""The answer the engine gives for one case, with the rules and facts behind it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from detainers.clock import OverDetentionFlag

__all__ = ["Coverage", "Decision", "LayerRef", "Notice", "OverDetentionFlag", "RuleRef", "Step", "Transfer"]


class Transfer(StrEnum):
    NOT_ALLOWED = "not_allowed"
    ALLOWED = "allowed"
    REQUIRED = "required"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RuleRef(_Out):
    """A rule that decided something, as printed in decisions: id, pack version, citation, evidence tag."""

    id: str
    version: str
    citation: str
    evidence: str
    url: str | None = None


class LayerRef(_Out):
    """One policy layer applied to the case, outermost first."""

    level: str  # federal | state | county | agency
    jurisdiction: str
    pack: str | None  # None: no pack encoded for this layer
    version: str | None
    effective_from: str | None = None
    effective_to: str | None = None


class Coverage(_Out):
    """Which layers of the jurisdiction the law is encoded for, and which fell back to the layers above.

    ``complete`` is false whenever a layer the jurisdiction names has no pack (or no version in force on
    the date): the answer is then the law of the layers above only, and every display says so.
    """

    encoded: tuple[str, ...]  # layers decided by a pack version in force
    fell_back: tuple[str, ...]  # layers named by the jurisdiction with no pack or no version in force
    complete: bool
    summary: str


class Notice(_Out):
    """Something the jail owes somebody because of the detainer (TRUTH Act copies, Texas notice, ...)."""

    kind: str
    to: str
    rule: str
    text: str


class Step(_Out):
    """One line of the explanation: a fact used or a rule applied."""

    kind: str  # fact | rule | layer | clock | note
    text: str
    rule: str | None = None


class Decision(_Out):
    """The engine's answer for one case. Keys match ../scenarios/FORMAT.md."""

    case: str
    jurisdiction: str
    timezone: str
    decided_at: datetime | None
    jurisdiction_chain: tuple[LayerRef, ...]
    notify: bool
    notify_required: bool
    notify_target: datetime | None
    hold_until: datetime | None
    hold_required: bool
    transfer: Transfer
    inform_subject: bool
    custody_basis: str | None  # detainer | judicial_warrant | federal_admin_warrant_287g; None: no custody past release
    notices: tuple[Notice, ...]
    over_detention_hours: float
    over_detention_flags: tuple[OverDetentionFlag, ...]
    rules: tuple[RuleRef, ...]
    explanation: tuple[Step, ...]
    unknown_statutes: tuple[str, ...]
    warnings: tuple[str, ...]
    engine_version: str
    # Added keys (the scenario format's keys above keep their meanings):
    coverage: Coverage | None = None
    hold_allowed: bool = False  # true when custody past release eligibility is lawful (hold_until > eligibility)
    undecided_facts: tuple[str, ...] = ()  # facts the answer rests on that could not be established
    readings: dict[str, str] = {}  # declared reading id -> the option applied
