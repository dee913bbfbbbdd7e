from datetime import UTC, datetime, timedelta, timezone

import pytest

from detainers.clock import Clock, FrozenClock, SystemClock


def test_system_clock_is_aware_utc() -> None:
    clock: Clock = SystemClock()
    now = clock.now()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_frozen_clock_advance_and_set() -> None:
    start = datetime(2024, 3, 8, 14, tzinfo=timezone(timedelta(hours=-5)))
    clock = FrozenClock(start)
    assert isinstance(clock, Clock)
    assert clock.now() == start
    assert clock.now().tzinfo is UTC
    assert clock.advance(timedelta(hours=48)) == datetime(2024, 3, 10, 19, tzinfo=UTC)
    assert clock.now() == datetime(2024, 3, 10, 19, tzinfo=UTC)
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)


def test_frozen_clock_rejects_naive() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FrozenClock(datetime(2024, 1, 1))
    clock = FrozenClock(datetime(2024, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set(datetime(2024, 1, 1))
