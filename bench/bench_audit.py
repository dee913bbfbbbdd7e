"""``audit verify`` on a demo desk's ledger: the chain alone (the baseline) and the fold of every view beside it.

The desk is built with the demo loader (synthetic people; every kind of event the desk writes), untimed; then, in
the same process, three runs each of: the chain verification (``Recorder.verify``, what ``audit verify`` always
did), the view audit (``Recorder.audit_views``: fold every event again in memory and compare every view row), and
``Recorder.rebuild_projections`` (the same fold, written back to the tables) for scale.
Run: ``python -m bench audit`` (``BENCH_AUDIT_BOOKINGS`` to change the size).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from detainers.ledger import Recorder, make_engine

RUNS = 3


def _time(work: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    from detainers.service._demo import load_demo

    size = int(os.environ.get("BENCH_AUDIT_BOOKINGS", "600"))
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as tmp:
        db = Path(tmp) / "desk.db"
        loaded = load_demo(str(db), size=size, seed=2024)
        engine = make_engine(f"sqlite:///{db}")
        recorder = Recorder(engine)
        assert recorder.verify().ok and recorder.audit_views() == []
        load = os.getloadavg()
        chain = _time(recorder.verify)
        views = _time(recorder.audit_views)
        rebuild = _time(recorder.rebuild_projections)
        engine.dispose()
    print(f"load average before the timed runs: {' / '.join(f'{x:.2f}' for x in load)}")
    print(f"{loaded.bookings} bookings, {loaded.detainers} detainers, {loaded.events} events (SQLite)")
    for name, seconds in (("chain (baseline)", chain), ("views fold + compare", views), ("rebuild views", rebuild)):
        print(f"{name:<22} {seconds:8.3f} s  {loaded.events / seconds:10,.0f} events/s  {seconds / chain:5.2f}x chain")


if __name__ == "__main__":
    main()
