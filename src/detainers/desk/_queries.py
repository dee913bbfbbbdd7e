"""Read queries over the desk's views: records by id, pages of records, attachments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, select

from detainers.desk._decisions import case_of
from detainers.desk._errors import NotFound
from detainers.desk._offices import Offices
from detainers.domain import Case
from detainers.ledger import (
    BookingState,
    DetainerState,
    Projector,
    StoredEvent,
    VerifyReport,
    ViewMismatch,
    attachments,
    booking_view,
    detainer_view,
    format_utc,
)

__all__ = ["Queries"]


class Queries(Offices):
    """What the adapters read: records as the views hold them."""

    def detainer(self, detainer_id: str) -> DetainerState:
        with self.engine.connect() as conn:
            return self._load_detainer(conn, detainer_id)

    def booking(self, booking_id: str) -> BookingState:
        with self.engine.connect() as conn:
            return self._load_booking(conn, booking_id)

    def case_for(self, booking: BookingState) -> Case | None:
        """The booking's facts as the policy engine reads them (None without a detainer)."""
        with self.engine.connect() as conn:
            return case_of(conn, booking, self.now())

    def list_detainers(
        self,
        *,
        office: str | None = None,
        status: str | None = None,
        jurisdiction: str | None = None,
        form: str | None = None,
        booking_id: str | None = None,
        received_from: datetime | None = None,
        received_to: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[DetainerState], int]:
        conditions = []
        if office is not None:
            conditions.append(detainer_view.c.office == office)
        if status is not None:
            conditions.append(detainer_view.c.status == status)
        if jurisdiction is not None:
            conditions.append(detainer_view.c.jurisdiction.startswith(jurisdiction, autoescape=True))
        if form is not None:
            conditions.append(detainer_view.c.form == form)
        if booking_id is not None:
            conditions.append(detainer_view.c.booking_id == booking_id)
        if received_from is not None:
            conditions.append(detainer_view.c.received_at >= format_utc(received_from))
        if received_to is not None:
            conditions.append(detainer_view.c.received_at < format_utc(received_to))
        order = (detainer_view.c.received_at.desc(), detainer_view.c.id)
        datas, total = self._page(detainer_view, conditions, order, limit, offset)
        return [DetainerState.model_validate_json(d) for d in datas], total

    def list_bookings(
        self,
        *,
        status: str | None = None,
        jurisdiction: str | None = None,
        booking_number: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[BookingState], int]:
        conditions = []
        if status is not None:
            conditions.append(booking_view.c.status == status)
        if jurisdiction is not None:
            conditions.append(booking_view.c.jurisdiction.startswith(jurisdiction, autoescape=True))
        if booking_number is not None:
            conditions.append(booking_view.c.booking_number == booking_number)
        order = (booking_view.c.booking_number, booking_view.c.id)
        datas, total = self._page(booking_view, conditions, order, limit, offset)
        return [BookingState.model_validate_json(d) for d in datas], total

    def _page(
        self, view: Table, conditions: list[Any], order: tuple[Any, ...], limit: int, offset: int
    ) -> tuple[list[str], int]:
        """One page of a view's stored JSON, and how many rows match in all (for paging)."""
        with self.engine.connect() as conn:
            total = int(conn.execute(select(func.count()).select_from(view).where(*conditions)).scalar() or 0)
            rows = conn.execute(select(view.c.data).where(*conditions).order_by(*order).limit(limit).offset(offset))
            return [r.data for r in rows], total

    def active_bookings(self) -> list[BookingState]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(booking_view.c.data).where(booking_view.c.active.is_(True)))
            return [BookingState.model_validate_json(r.data) for r in rows]

    def detainers_of(self, booking: BookingState) -> list[DetainerState]:
        with self.engine.connect() as conn:
            found = [Projector.load_detainer(conn, d) for d in booking.detainer_ids]
        return [d for d in found if d is not None]

    def attachment(self, detainer_id: str, attachment_id: str) -> tuple[bytes, str]:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(attachments.c.content, attachments.c.sha256).where(
                    attachments.c.id == attachment_id, attachments.c.detainer_id == detainer_id
                )
            ).first()
        if row is None:
            raise NotFound(f"no attachment {attachment_id}", field="attachment_id")
        return bytes(row.content), str(row.sha256)

    # ---------------------------------------------------------------- the ledger, as the adapters read it

    def events_of(self, kind: str, ident: str) -> list[StoredEvent]:
        """Every event of one record (``kind``: detainer or booking), oldest first."""
        return self.recorder.stream(f"{kind}-{ident}")

    def events(self, *, after_seq: int = 0, limit: int = 100) -> list[StoredEvent]:
        """A page of the ledger in chain order."""
        return self.recorder.read(after_seq=after_seq, limit=limit)

    def all_events(self) -> Iterator[StoredEvent]:
        """The whole ledger in chain order, read in batches (the audit export)."""
        return self.recorder.iter_all()

    def ledger_head(self) -> tuple[int, str]:
        """The last event's number and hash."""
        return self.recorder.head()

    def verify_ledger(self) -> VerifyReport:
        """Recompute the hash chain; the report names the first event that does not match."""
        return self.recorder.verify()

    def audit_views(self) -> list[ViewMismatch]:
        """Fold the events again and name each served view cell that differs (an edited view row is caught)."""
        return self.recorder.audit_views()
