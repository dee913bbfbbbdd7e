"""The public counts: one suppression pattern (``detainers.law.suppress_counts``) for every table the API and the
public page can show, computed once per state of the data."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping

from sqlalchemy import func, select

from detainers.desk._desk import Desk
from detainers.domain import DetainerForm
from detainers.law import SUPPRESS_BELOW, Dimension, SuppressedCounts, suppress_counts
from detainers.ledger import booking_view, detainer_view

__all__ = ["GROUPINGS", "STATUSES", "UNLINKED", "public_counts", "state_of"]

STATUSES = ("received", "active", "lifted", "released", "transferred")
UNLINKED = "unlinked"  # a detainer not linked to a booking has no jurisdiction yet
GROUPINGS = ("jurisdiction", "state", "status", "form")  # what a reader may group by (state: of the jurisdiction)

_lock = threading.Lock()
_last: weakref.WeakKeyDictionary[Desk, tuple[object, SuppressedCounts]] = weakref.WeakKeyDictionary()


def state_of(jurisdiction: str) -> str:
    """``us/ca/los-angeles`` → ``CA``; an unlinked detainer → ``unlinked``; anywhere else, its jurisdiction."""
    parts = jurisdiction.split("/")
    if parts[0] == "us" and len(parts) > 1:
        return parts[1].upper()
    return jurisdiction


def _dimensions(jurisdictions: tuple[str, ...]) -> list[Dimension]:
    return [
        Dimension("jurisdiction", jurisdictions, {"state": {j: state_of(j) for j in jurisdictions}}),
        Dimension("status", STATUSES),
        Dimension("form", tuple(f.value for f in DetainerForm)),
    ]


def _counts(desk: Desk) -> tuple[tuple[str, ...], Mapping[tuple[str, ...], int]]:
    """Detainers by (jurisdiction, status, form), and every jurisdiction the desk has bookings in (listed even
    where no detainer is, so that an empty group is hidden like a small one instead of left out)."""
    columns = (detainer_view.c.jurisdiction, detainer_view.c.status, detainer_view.c.form)
    with desk.engine.connect() as conn:
        rows = conn.execute(select(*columns, func.count()).group_by(*columns)).all()
        places = {str(r[0]) for r in conn.execute(select(booking_view.c.jurisdiction).distinct())}
    counts: dict[tuple[str, ...], int] = {}
    for jurisdiction, status, form, n in rows:
        key = (str(jurisdiction) if jurisdiction else UNLINKED, str(status), str(form))
        counts[key] = counts.get(key, 0) + int(n)
        places.add(key[0])
    places.add(UNLINKED)
    return tuple(sorted(places)), counts


def public_counts(desk: Desk, *, threshold: int = SUPPRESS_BELOW) -> SuppressedCounts:
    """Every public table of the desk's detainers, small cells and their complements hidden across all of them."""
    jurisdictions, counts = _counts(desk)
    unknown = {k for k in counts if k[1] not in STATUSES or k[2] not in {f.value for f in DetainerForm}}
    if unknown:  # pragma: no cover - the views only hold statuses and forms the domain defines
        raise ValueError(f"counts with an unknown status or form: {sorted(unknown)[:3]}")
    fingerprint = (jurisdictions, tuple(sorted(counts.items())), threshold)
    with _lock:
        hit = _last.get(desk)
        if hit is not None and hit[0] == fingerprint:
            return hit[1]
    result = suppress_counts(counts, _dimensions(jurisdictions), threshold=threshold)
    with _lock:
        _last[desk] = (fingerprint, result)
    return result
