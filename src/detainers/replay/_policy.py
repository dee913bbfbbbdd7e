"""``PACK[@DATE]``: which jurisdiction's packs to apply, and whether to pin their versions to one date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from detainers.law import PackSet, check_jurisdiction

__all__ = ["ACTUAL", "AS_RECORDED", "Policy", "PolicyError", "parse_policy"]

AS_RECORDED = "recorded"
ACTUAL = "actual"  # an alias of "recorded": every case under its own jurisdiction's law on its own date


class PolicyError(ValueError):
    """A policy argument that names no pack or no date."""


@dataclass(frozen=True)
class Policy:
    """``jurisdiction`` None: each case under its own jurisdiction; ``versions_on`` None: each case's own date."""

    jurisdiction: str | None
    versions_on: date | None = None
    name: str = AS_RECORDED  # what the user called "each case's own jurisdiction" (recorded or actual)

    @property
    def label(self) -> str:
        base = self.jurisdiction or self.name
        return f"{base}@{self.versions_on}" if self.versions_on else base


def parse_policy(text: str, packs: PackSet) -> Policy:
    """``us/ca/los-angeles/lasd@2021-01-01``, ``us/tx/travis``, or ``recorded`` / ``actual`` (each case under its
    own jurisdiction's law; ``actual`` is an alias)."""
    path, _, day = text.strip().partition("@")
    pinned = None
    if day:
        try:
            pinned = date.fromisoformat(day)
        except ValueError:
            raise PolicyError(f"{text!r}: the part after @ must be a date like 2021-01-01") from None
    if path in (AS_RECORDED, ""):
        return Policy(None, pinned)
    if path == ACTUAL:
        return Policy(None, pinned, ACTUAL)
    try:
        path = check_jurisdiction(path)  # a real place, or "did you mean …"
    except ValueError as exc:
        raise PolicyError(str(exc)) from None
    if packs.get(path) is None:
        known = ", ".join(p.pack for p in packs)
        raise PolicyError(f"no pack is encoded for {path!r} (packs: {known})")
    return Policy(path, pinned)
