"""The decision the desk acts on: the engine's answer with any supervisor override applied."""

from __future__ import annotations

from typing import Any

from detainers.ledger import BookingState

__all__ = ["effective_decision"]


def effective_decision(booking: BookingState) -> dict[str, Any]:
    """The engine's answer with any supervisor override applied (what the worker acts on)."""
    decision = dict(booking.decision or {})
    override = booking.override or {}
    if override.get("notify") is not None:
        decision["notify"] = override["notify"]
    if override.get("clear_hold"):
        decision["hold_until"] = None
    elif override.get("hold_until"):
        decision["hold_until"] = override["hold_until"]
    decision["overridden"] = bool(override)
    return decision
