"""Injectable sources of "now", so deadlines and workers can be tested against a fixed instant."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable

from detainers.clock._zones import require_aware

__all__ = ["Clock", "FrozenClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...


class SystemClock:
    """Real time."""

    __slots__ = ()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


class FrozenClock:
    """A clock that only moves when told to; safe to share with a worker thread."""

    def __init__(self, instant: datetime) -> None:
        self._now = require_aware(instant).astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward (or back, for a negative delta) by ``delta`` of real time; returns the new now."""
        with self._lock:
            self._now = self._now + delta
            return self._now

    def set(self, instant: datetime) -> None:
        new = require_aware(instant).astimezone(UTC)
        with self._lock:
            self._now = new

    def __repr__(self) -> str:
        return f"FrozenClock({self.now().isoformat()!r})"
