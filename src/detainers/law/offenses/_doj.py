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


@cache
def _candidates_by_section() -> dict[
    tuple[str | None, str | None, str], tuple[tuple[StatuteRef, tuple[DojRow, ...]], ...]
]:
    out: dict[tuple[str | None, str | None, str], list[tuple[StatuteRef, tuple[DojRow, ...]]]] = {}
    for ref, rows in wobbler_candidates(doj_rows()).items():
        out.setdefault(ref.key, []).append((ref, rows))
    return {k: tuple(v) for k, v in out.items()}


def doj_wobbler_hint(ref: StatuteRef) -> str | None:
    """Why the DOJ table makes a wobbler *possible* for `ref` (felony and misdemeanor rows at or around it), or None.

    A hint, never a class: the table's rows are charge forms, and a felony row under a section number can belong to an
    aggravated form or another subdivision (PC 242 carries "BATT W/SERIOUS BODILY INJ" felony rows that are 243(d)).
    """
    related = [
        (cand, rows)
        for cand, rows in _candidates_by_section().get(ref.key, ())
        if cand.is_within(ref) or ref.is_within(cand)
    ]
    if not related:
        return None
    shown = "; ".join(
        f"{cand.section}{cand.subdivision_text}: " + ", ".join(sorted({f"{r.charge_type} {r.literal}" for r in rows}))
        for cand, rows in related[:3]
    )
    return f"the CA DOJ charge table has felony and misdemeanor rows ({shown})"
