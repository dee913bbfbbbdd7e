"""287(g) agreements as data: which agency had which agreement (model, signed, ended), by jurisdiction id.

A booking's own ``agreements`` say what the case records; a registry adds what ICE's published list of
participating agencies says for the booking's jurisdiction on the decision date. An agreement covers the
jurisdiction it was mapped to exactly: a county sheriff's agreement covers bookings at the county id (the county
jail), an agency's agreement covers bookings at that agency's id. Agreements the import could not map to a
registered jurisdiction (most municipal police agreements, state agencies) are kept and reported, never guessed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from detainers.domain import Agreement

__all__ = ["AgreementRecord", "AgreementRegistry", "AgreementRegistryError", "MODEL_NAMES"]

#: ICE's "SUPPORT TYPE" wording for each model.
MODEL_NAMES = {
    Agreement.JAIL_ENFORCEMENT: "Jail Enforcement Model",
    Agreement.WARRANT_SERVICE: "Warrant Service Officer",
    Agreement.TASK_FORCE: "Task Force Model",
}

_COLUMNS = ("jurisdiction", "state", "agency", "agency_type", "model", "signed", "ended", "source")


class AgreementRegistryError(ValueError):
    """A registry file that cannot be read; the message names the file, row and column."""


@dataclass(frozen=True, slots=True)
class AgreementRecord:
    state: str  # postal code, lower case
    agency: str  # the agency's name as published
    agency_type: str  # County | Municipality | State Agency | ... as published
    model: Agreement
    signed: date
    jurisdiction: str | None  # the registry id it covers; None: not mapped (reported by the import)
    ended: date | None = None  # last day listed; None: listed in the latest snapshot read
    source: str = ""  # the published list (file, snapshot date) it was read from

    def in_force(self, day: date) -> bool:
        return self.signed <= day and (self.ended is None or day <= self.ended)

    def describe(self) -> str:
        span = f"signed {self.signed}" + (f", listed until {self.ended}" if self.ended else "")
        return f"{self.agency} ({self.state.upper()}): {MODEL_NAMES[self.model]}, {span} [{self.source}]"


@dataclass
class AgreementRegistry:
    """Every agreement read, indexed by the jurisdiction it covers."""

    records: tuple[AgreementRecord, ...] = ()
    _by_path: dict[str, list[AgreementRecord]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        for record in self.records:
            if record.jurisdiction is not None:
                self._by_path.setdefault(record.jurisdiction, []).append(record)

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[AgreementRecord]:
        return iter(self.records)

    def for_jurisdiction(self, jurisdiction: str, day: date) -> tuple[AgreementRecord, ...]:
        """The agreements covering a booking at ``jurisdiction`` in force on ``day`` (a local calendar date)."""
        return tuple(r for r in self._by_path.get(jurisdiction, ()) if r.in_force(day))

    @property
    def unmapped(self) -> tuple[AgreementRecord, ...]:
        return tuple(r for r in self.records if r.jurisdiction is None)

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(_COLUMNS)
        for r in sorted(self.records, key=lambda r: (r.state, r.agency, r.model.value, r.signed)):
            writer.writerow(
                [
                    r.jurisdiction or "",
                    r.state,
                    r.agency,
                    r.agency_type,
                    r.model.value,
                    r.signed.isoformat(),
                    r.ended.isoformat() if r.ended else "",
                    r.source,
                ]
            )
        return out.getvalue()

    @classmethod
    def from_csv(cls, path: Path) -> AgreementRegistry:
        """Read a registry written by :meth:`to_csv` (``detainers agreements import --out``)."""
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AgreementRegistryError(f"{path}: cannot read: {exc}") from None
        reader = csv.DictReader(io.StringIO(text))
        if tuple(reader.fieldnames or ()) != _COLUMNS:
            raise AgreementRegistryError(f"{path}: expected the columns {', '.join(_COLUMNS)}")
        records = []
        for number, row in enumerate(reader, start=2):
            try:
                records.append(
                    AgreementRecord(
                        state=row["state"],
                        agency=row["agency"],
                        agency_type=row["agency_type"],
                        model=Agreement(row["model"]),
                        signed=date.fromisoformat(row["signed"]),
                        jurisdiction=row["jurisdiction"] or None,
                        ended=date.fromisoformat(row["ended"]) if row["ended"] else None,
                        source=row["source"],
                    )
                )
            except ValueError as exc:
                raise AgreementRegistryError(f"{path}: row {number}: {exc}") from None
        return cls(tuple(records))

    @classmethod
    def merged(cls, registries: Iterable[AgreementRegistry]) -> AgreementRegistry:
        return cls(tuple(r for registry in registries for r in registry.records))
