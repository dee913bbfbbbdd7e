"""The California DOJ CJIS offense-code table as a statute dictionary (see `law/data/SOURCE.md`)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from detainers.law.offenses._statute import StatuteRef, parse_statute

DOJ_TABLE_PATH = Path(__file__).resolve().parents[1] / "data" / "ca_doj_offense_table.csv"


@dataclass(frozen=True, slots=True)
class DojRow:
    ref: StatuteRef
    statute: str  # as written in the table, e.g. "245(A)(1)"
    charge_type: str  # F / M / I / X
    is_default: bool
    literal: str
    enacted: date | None
    repealed: date | None


def _day(text: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text) if "-" in text else date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return None


def read_doj_rows(path: Path = DOJ_TABLE_PATH) -> list[DojRow]:
    """Rows whose statute reads as a California code section; compound cells (`23152(A)/23152(B)`) give one row each."""
    rows: list[DojRow] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for rec in csv.DictReader(fh):
            code = rec["Offense Type of Statute CD"].strip().upper()
            for part in rec["Offense Statute"].split("/"):
                ref = parse_statute(f"{code} {part.strip()}", default_state="CA")
                if ref is None or ref.code != code:
                    continue  # codes the parser does not know (FA, US, ...) are not needed as dictionary keys
                rows.append(
                    DojRow(
                        ref=ref,
                        statute=part.strip(),
                        charge_type=rec["Offense Type of Charge"].strip().upper(),
                        is_default=rec["Offense Default Type of Charge"].strip() == "*",
                        literal=rec["Statute Literal 25"].strip(),
                        enacted=_day(rec["Offense Enacted"]),
                        repealed=_day(rec["Offense Repealed"]),
                    )
                )
    return rows


@cache
def doj_rows() -> tuple[DojRow, ...]:
    return tuple(read_doj_rows())


@cache
def doj_known_sections() -> frozenset[tuple[str | None, str | None, str]]:
    """(state, code, section) keys, subdivisions ignored: "is this a real California statute?"."""
    return frozenset(r.ref.key for r in doj_rows())


def _overlap(a: DojRow, b: DojRow) -> bool:
    lo_a, lo_b = a.enacted or date.min, b.enacted or date.min
    hi_a, hi_b = a.repealed or date.max, b.repealed or date.max
    return lo_a <= hi_b and lo_b <= hi_a


def wobbler_candidates(rows: Iterable[DojRow]) -> dict[StatuteRef, tuple[DojRow, ...]]:
    """Statutes with a felony row and a misdemeanor row in force at the same time: wobbler candidates [I].

    Overlap is required because a statute that was reclassified (felony until a date, misdemeanor after) is not a
    wobbler, just a changed offense.
    """
    by_ref: dict[StatuteRef, list[DojRow]] = {}
    for row in rows:
        by_ref.setdefault(row.ref, []).append(row)
    out: dict[StatuteRef, tuple[DojRow, ...]] = {}
    for ref, group in by_ref.items():
        felonies = [r for r in group if r.charge_type == "F"]
        misdemeanors = [r for r in group if r.charge_type == "M"]
        if any(_overlap(f, m) for f in felonies for m in misdemeanors):
            out[ref] = tuple(group)
    return out
