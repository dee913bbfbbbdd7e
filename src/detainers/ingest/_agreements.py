"""ICE's published list of 287(g) participating agencies (CSV or XLSX) -> an :class:`AgreementRegistry`.

The list ICE publishes is a snapshot: one row per agency and model (``STATE``, ``LAW ENFORCEMENT AGENCY``,
``TYPE``, ``COUNTY``, ``SUPPORT TYPE``, ``SIGNED``, ``MOA``), agreements in force on the day it was published and
nothing about agreements that ended. Several snapshots read together give an end: the last snapshot that still
listed an agreement. An agreement is mapped to a jurisdiction id only where the list says which county it is (or
the agency's name does) and the registry knows that county, or where the user's own mapping file names it;
everything else is kept, counted and listed as unmapped, never guessed.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from detainers.domain import Agreement
from detainers.ingest._tabular import ROW, TableReadError, normalize_name, read_table
from detainers.law import AgreementRecord, AgreementRegistry, jurisdiction_registry, slug_of

__all__ = ["AgreementImport", "AgreementImportError", "read_agreement_lists"]

_REQUIRED = ("state", "law_enforcement_agency", "support_type", "signed")
_MODELS = (
    ("jail enforcement", Agreement.JAIL_ENFORCEMENT),
    ("warrant service", Agreement.WARRANT_SERVICE),
    ("task force", Agreement.TASK_FORCE),
)
_COUNTY_IN_NAME = re.compile(r"^(.*?)\s+(County|Parish|Borough)\b", re.IGNORECASE)
_SNAPSHOT_IN_NAME = re.compile(r"(\d{2})(\d{2})(\d{4})")  # participatingAgencies05162025am.xlsx
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y")


class AgreementImportError(ValueError):
    """A list that cannot be read; the message names the file and, where it can, the row and column."""


@dataclass
class AgreementImport:
    """What an import read: the registry, and every row it could not use or map, with why."""

    registry: AgreementRegistry
    snapshots: list[tuple[Path, date]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # "file: row N: reason"
    unmapped: dict[str, int] = field(default_factory=dict)  # agency type -> count of agreements not mapped


def _parse_date(text: str) -> date | None:
    text = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def _model(text: str) -> Agreement | None:
    lowered = text.strip().lower()
    return next((model for words, model in _MODELS if words in lowered), None)


def snapshot_date(path: Path) -> date | None:
    """The publication date in ICE's file names (``participatingAgencies05162025am.xlsx``), if there is one."""
    found = _SNAPSHOT_IN_NAME.search(path.stem)
    if not found:
        return None
    month, day, year = (int(g) for g in found.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _state_code(text: str) -> str | None:
    registry = jurisdiction_registry()
    cleaned = text.strip()
    if len(cleaned) == 2 and registry.get(f"us/{cleaned.lower()}") is not None:
        return cleaned.lower()
    return registry.state_names.get(slug_of(cleaned))


def _jurisdiction(state: str, agency: str, agency_type: str, county: str, overrides: dict[str, str]) -> str | None:
    key = f"{state}|{agency.strip().lower()}"
    if key in overrides:
        return overrides[key]
    if "county" not in agency_type.lower():
        return None
    name = county.strip() if county.strip() and county.strip().upper() != "#N/A" else ""
    if not name:
        found = _COUNTY_IN_NAME.match(agency.strip())
        name = found.group(1) if found else ""
    if not name:
        return None
    path = f"us/{state}/{slug_of(name)}"
    place = jurisdiction_registry().get(path)
    return path if place is not None and place.level == "county" else None


def _overrides(path: Path | None) -> dict[str, str]:
    """A county's own corrections: ``state,agency,jurisdiction`` rows (an agency running its own jail)."""
    if path is None:
        return {}
    try:
        rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        raise AgreementImportError(f"{path}: cannot read: {exc}") from None
    out: dict[str, str] = {}
    registry = jurisdiction_registry()
    for number, row in enumerate(rows, start=2):
        if set(row) != {"state", "agency", "jurisdiction"}:
            raise AgreementImportError(f"{path}: expected the columns state, agency, jurisdiction")
        state = _state_code(row["state"] or "")
        if state is None:
            raise AgreementImportError(f"{path}: row {number}: state: unknown state {row['state']!r}")
        try:
            jurisdiction = registry.check(row["jurisdiction"] or "")
        except ValueError as exc:
            raise AgreementImportError(f"{path}: row {number}: jurisdiction: {exc}") from None
        out[f"{state}|{(row['agency'] or '').strip().lower()}"] = jurisdiction
    return out


def _read_one(path: Path, overrides: dict[str, str], out: AgreementImport) -> list[AgreementRecord]:
    try:
        table = read_table(
            path, header_hint=lambda cells: any(normalize_name(c) == "law_enforcement_agency" for c in cells)
        )
    except TableReadError as exc:
        raise AgreementImportError(str(exc)) from None
    names = {normalize_name(c): c for c in table.columns}
    missing = [c for c in _REQUIRED if c not in names]
    if missing:
        shown = ", ".join(m.upper().replace("_", " ") for m in missing)
        raise AgreementImportError(f"{path}: not ICE's 287(g) list layout: missing column(s) {shown}")
    records = []
    for row in table.frame.iter_rows(named=True):
        cell = {key: (row.get(original) or "") for key, original in names.items()}
        where = f"{path.name}: row {row[ROW]}"
        if not any(cell[c].strip() for c in _REQUIRED):
            continue
        state = _state_code(cell["state"])
        model = _model(cell["support_type"])
        signed = _parse_date(cell["signed"])
        problems = [
            f"STATE {cell['state']!r} is no US state or territory" if state is None else "",
            f"SUPPORT TYPE {cell['support_type']!r} is no 287(g) model" if model is None else "",
            f"SIGNED {cell['signed']!r} is not a date" if signed is None else "",
            "LAW ENFORCEMENT AGENCY is empty" if not cell["law_enforcement_agency"].strip() else "",
        ]
        if any(problems):
            out.rejected.append(f"{where}: " + "; ".join(p for p in problems if p))
            continue
        assert state is not None and model is not None and signed is not None
        agency_type = cell.get("type", "").strip()
        jurisdiction = _jurisdiction(
            state, cell["law_enforcement_agency"], agency_type, cell.get("county", ""), overrides
        )
        records.append(
            AgreementRecord(
                state=state,
                agency=" ".join(cell["law_enforcement_agency"].split()),
                agency_type=agency_type,
                model=model,
                signed=signed,
                jurisdiction=jurisdiction,
                source=path.name,
            )
        )
    return records


def read_agreement_lists(
    paths: Sequence[Path], *, as_of: Sequence[date] = (), mapping: Path | None = None
) -> AgreementImport:
    """Read one or more snapshots of ICE's list (oldest first after sorting by their dates) into one registry.

    Each snapshot's date comes from ``as_of`` (same order as ``paths``) or from ICE's file name. An agreement
    missing from a later snapshot ended on the last snapshot that listed it; one still listed has no end.
    """
    if not paths:
        raise AgreementImportError("give at least one list file")
    if as_of and len(as_of) != len(paths):
        raise AgreementImportError(f"--as-of was given {len(as_of)} time(s) for {len(paths)} file(s)")
    dated: list[tuple[Path, date]] = []
    for i, path in enumerate(paths):
        when = as_of[i] if as_of else snapshot_date(path)
        if when is None:
            raise AgreementImportError(f"{path}: no publication date in the file name; give it with --as-of")
        dated.append((path, when))
    dated.sort(key=lambda item: item[1])
    overrides = _overrides(mapping)
    out = AgreementImport(AgreementRegistry(), snapshots=dated)
    last_seen: dict[tuple[str, str, Agreement, date], tuple[AgreementRecord, date]] = {}
    for path, when in dated:
        for record in _read_one(path, overrides, out):
            key = (record.state, record.agency.lower(), record.model, record.signed)
            last_seen[key] = (record, when)
    latest = dated[-1][1]
    records = []
    for record, seen in last_seen.values():
        ended = None if seen == latest else seen
        source = f"{record.source} ({seen})" if ended is None else f"{record.source} (last listed {seen})"
        records.append(
            AgreementRecord(
                state=record.state,
                agency=record.agency,
                agency_type=record.agency_type,
                model=record.model,
                signed=record.signed,
                jurisdiction=record.jurisdiction,
                ended=ended,
                source=source,
            )
        )
    out.registry = AgreementRegistry(tuple(records))
    for record in out.registry.unmapped:
        kind = record.agency_type or "(no type)"
        out.unmapped[kind] = out.unmapped.get(kind, 0) + 1
    return out
