"""Failed sign-in attempts, counted per client address and per token id in a sliding window (in memory).

Past the limit, further attempts are answered 429 with ``Retry-After`` until the oldest failure in the window
ages out. Each process counts its own (several workers each allow the limit). The per-token-id limit never refuses a
token that verifies: knowing a token id (ids appear in the ledger as actors) must not let anyone lock its owner out.
An address over its own limit is refused before any check, except for tokens verified in the last 30 s.

Every failed attempt is also answered only after ``failure_delay`` seconds (an ``asyncio`` sleep: no thread, no
CPU), so a client that waits for its answers, as most do, sends at most one guess per second per connection,
and a client address already over its limit is turned away before the framework parses the request.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["FailureLimiter"]


class FailureLimiter:
    def __init__(
        self,
        *,
        per_client: int = 20,
        per_token: int = 10,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
        failure_delay: float = 1.0,
    ) -> None:
        self.failure_delay = failure_delay
        self.per_client = per_client
        self.per_token = per_token
        self.window = window_seconds
        self.clock = clock
        self.max_keys = max_keys
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _limit(self, kind: str) -> int:
        return self.per_client if kind == "client" else self.per_token

    def retry_after(self, kind: str, key: str) -> int:
        """Seconds until ``key`` may try again (0: it may now)."""
        now = self.clock()
        with self._lock:
            times = self._failures.get((kind, key))
            if times is None:
                return 0
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) < self._limit(kind):
                return 0
            return max(1, math.ceil(times[0] + self.window - now))

    def fail(self, kind: str, key: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._failures) >= self.max_keys:  # a flood of distinct keys: forget the idle ones
                cutoff = now - self.window
                self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > cutoff}
            times = self._failures.setdefault((kind, key), deque())
            times.append(now)
            while len(times) > self._limit(kind):
                times.popleft()
