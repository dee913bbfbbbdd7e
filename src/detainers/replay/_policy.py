"""``PACK[@DATE]``: which jurisdiction's packs to apply, and whether to pin their versions to one date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from detainers.law import PackSet, check_jurisdiction

__all__ = ["AS_RECORDED", "Policy", "PolicyError", "parse_policy"]

AS_RECORDED = "recorded"


class PolicyError(ValueError):
    """A policy argument that names no pack or no date."""


@dataclass(frozen=True)
class Policy:
    """``jurisdiction`` None: each case under its own jurisdiction; ``versions_on`` None: each case's own date."""

    jurisdiction: str | None
    versions_on: date | None = None

    @property
    def label(self) -> str:
        base = self.jurisdiction or AS_RECORDED
        return f"{base}@{self.versions_on}" if self.versions_on else base


def parse_policy(text: str, packs: PackSet) -> Policy:
    """``us/ca/los-angeles/lasd@2021-01-01``, ``us/tx/travis`` or ``recorded`` (each case's own jurisdiction)."""
    path, _, day = text.strip().partition("@")
    pinned = None
    if day:
        try:
            pinned = date.fromisoformat(day)
        except ValueError:
            raise PolicyError(f"{text!r}: the part after @ must be a date like 2021-01-01") from None
    if path in (AS_RECORDED, ""):
        return Policy(None, pinned)
    try:
        path = check_jurisdiction(path)  # a real place, or "did you mean …"
    except ValueError as exc:
        raise PolicyError(str(exc)) from None
    if packs.get(path) is None:
        known = ", ".join(p.pack for p in packs)
        raise PolicyError(f"no pack is encoded for {path!r} (packs: {known})")
    return Policy(path, pinned)
