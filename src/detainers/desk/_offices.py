"""The ICE offices the desk knows: where each office's notices go (webhook, email)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from detainers.desk._unit_of_work import UnitOfWork
from detainers.ledger import (
    offices,
)

__all__ = ["Office", "Offices"]


@dataclass(frozen=True)
class Office:
    code: str
    name: str
    webhook_url: str | None = None
    email: str | None = None


class Offices(UnitOfWork):
    """The desk's register of ICE offices (cached per process)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._offices: dict[str, Office | None] = {}

    def register_office(self, office: Office) -> None:
        self._offices.pop(office.code, None)
        with self.engine.begin() as conn:
            exists = conn.execute(select(offices.c.code).where(offices.c.code == office.code)).first()
            values = {"name": office.name, "webhook_url": office.webhook_url, "email": office.email}
            if exists:
                conn.execute(offices.update().where(offices.c.code == office.code).values(**values))
            else:
                conn.execute(insert(offices).values(code=office.code, **values))

    def office(self, code: str) -> Office | None:
        if code in self._offices:
            return self._offices[code]
        with self.engine.connect() as conn:
            row = conn.execute(select(offices).where(offices.c.code == code)).first()
        found = Office(row.code, row.name, row.webhook_url, row.email) if row else None
        if found is not None:
            self._offices[code] = found
        return found

    def offices(self) -> list[Office]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(offices).order_by(offices.c.code)).all()
        return [Office(r.code, r.name, r.webhook_url, r.email) for r in rows]
