"""Over-detention: custody attributable to a detainer and not authorized (8 CFR 287.7(d))."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from detainers.clock._zones import require_aware

__all__ = ["OverDetention", "OverDetentionFlag", "over_detention"]

_HOUR = 3600.0


class OverDetentionFlag(StrEnum):
    BEYOND_RELEASE = "beyond_release"  # held past eligibility where no hold was lawful
    BEYOND_48H = "beyond_48h"  # held past a lawful hold's deadline
    BAIL_REFUSED = "bail_refused"  # constructive: bail refused or not accepted because of the detainer
    # Held past the instant hold authority ended during the hold, on the strength of a detainer that no longer
    # supported it: ICE lifted it, a law or court order forbidding the hold took effect, or the person proved status.
    AFTER_LIFT = "after_lift"
    AFTER_LAW_CHANGE = "after_law_change"
    AFTER_STATUS_PROOF = "after_status_proof"
    AFTER_NEW_REQUEST = "after_new_request"  # a later request (e.g. a notification-only form) superseded the hold


@dataclass(frozen=True, slots=True)
class OverDetention:
    hours: float
    flags: tuple[OverDetentionFlag, ...] = ()


def over_detention(
    *,
    eligible_at: datetime,
    hold_until: datetime,
    released_at: datetime | None,
    detainer_in_force: bool,
    bail_refused_at: datetime | None = None,
    ended_by: OverDetentionFlag | None = None,
) -> OverDetention:
    """Hours of unauthorized custody and why.

    ``hold_until`` is the latest lawful custody instant (``eligible_at`` itself when no hold was lawful). Time after it
    counts only when the detainer was in force, i.e. the custody is attributable to it. ``ended_by`` names why a hold
    window was cut short during the hold (a lift, a law taking effect, proof of status): custody after the cut is
    flagged with it. A ``bail_refused_at`` earlier than ``eligible_at`` adds the constructive period between them,
    whether or not the person is released yet.
    """
    # Datetimes sharing a ZoneInfo compare and subtract by wall clock, which is wrong across DST: work in UTC.
    eligible_at = require_aware(eligible_at, "eligible_at").astimezone(UTC)
    hold_until = require_aware(hold_until, "hold_until").astimezone(UTC)
    if hold_until < eligible_at:
        raise ValueError(f"hold_until {hold_until.isoformat()} precedes eligible_at {eligible_at.isoformat()}")
    hours = 0.0
    flags: list[OverDetentionFlag] = []
    if released_at is not None and detainer_in_force:
        beyond = (require_aware(released_at, "released_at").astimezone(UTC) - hold_until).total_seconds() / _HOUR
        if beyond > 0:
            hours += beyond
            if ended_by is not None:
                flags.append(ended_by)
            else:
                flags.append(
                    OverDetentionFlag.BEYOND_RELEASE if hold_until == eligible_at else OverDetentionFlag.BEYOND_48H
                )
    if bail_refused_at is not None:
        refused = require_aware(bail_refused_at, "bail_refused_at").astimezone(UTC)
        if refused < eligible_at:
            hours += (eligible_at - refused).total_seconds() / _HOUR
            flags.append(OverDetentionFlag.BAIL_REFUSED)
    return OverDetention(hours=hours, flags=tuple(flags))
