"""Compliance report views: California TRUTH Act annual figures, Illinois 5 ILCS 805/25 annual report rows.

Both are built from the jail's own records (imported through a mapping). Neither contains names, booking numbers,
A-numbers or dates of birth: 805/25 forbids personally identifiable information, and rows are numbered instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

__all__ = ["TRUTH_ACT_ANSWERS", "illinois_805_25_rows", "truth_act_annual", "truth_act_notices"]

# The consent form's answers (Gov. Code 7283.1(a)): every one is counted, zeros included.
TRUTH_ACT_ANSWERS = ("consented", "declined", "asked_for_counsel")


def truth_act_annual(bookings: pl.DataFrame, charges: pl.DataFrame) -> list[dict[str, object]]:
    """Per calendar year of release: ICE access by hold request, transfer and notification, with sex and race.

    Notification requests are not in jail charge exports; the column is reported as not available unless a charge
    line is an immigration hold with the disposition mapped to ``hold_lifted`` after notice (not inferable): it
    stays ``None`` so nobody reads a zero that was never measured.
    """
    hold = bookings.filter(pl.col("immigration_hold")).with_columns(
        pl.coalesce(pl.col("released_on"), pl.col("booked_on")).dt.year().alias("year")
    )

    def known(column: str) -> bool:  # a column the export never filled is "not available", not zeros
        return hold.height > 0 and hold.get_column(column).null_count() < hold.height

    reasons, sexes, races = known("release_reason"), known("sex"), known("race")
    out: list[dict[str, object]] = []
    for (year,), part in sorted(hold.group_by("year"), key=lambda item: item[0][0] or 0):
        transferred = part.filter(pl.col("release_reason") == "released_to_ice")
        out.append(
            {
                "year": year,
                "hold_requests": part.height,
                "transfers_to_ice": transferred.height if reasons else None,
                "notification_requests": None,
                "transfers_by_sex": dict(
                    sorted((str(k), int(v)) for k, v in transferred.group_by("sex").len().iter_rows())
                )
                if reasons and sexes
                else None,
                "transfers_by_race": dict(
                    sorted((str(k), int(v)) for k, v in transferred.group_by("race").len().iter_rows())
                )
                if reasons and races
                else None,
            }
        )
    return out


def truth_act_notices(served: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per calendar year: TRUTH Act notices served to the person, by kind and recipient, and consent forms by the
    person's answer, from the desk's ledger (``person_notice_served`` events, as the detainer projection keeps them).

    Each item: the event's payload fields ``rule``, ``kind``, ``recipient``, ``form``, ``answer``, ``language``,
    ``served_at`` (an aware ISO instant), and ``zone``, the facility's IANA zone: the year is the calendar year of
    service in the facility's local time. Only the TRUTH Act's own rules count (``ca.truth.*``); a notice served
    twice (another language, a second copy) counts each time it was served, and ``served_notices`` says so.
    """
    years: dict[int, dict[str, Any]] = {}
    for item in served:
        if not str(item.get("rule", "")).startswith("ca.truth."):
            continue
        instant = datetime.fromisoformat(str(item["served_at"]))  # Python 3.11 reads "Z"
        if instant.tzinfo is None:
            raise ValueError(f"served_at {item['served_at']!r} has no UTC offset")
        year = instant.astimezone(ZoneInfo(str(item.get("zone") or "UTC"))).year
        row = years.setdefault(
            year,
            {
                "year": year,
                "served_notices": 0,
                "by_kind": Counter(),
                "by_language": Counter(),
                "consent_forms": 0,
                "consents_by_answer": dict.fromkeys(TRUTH_ACT_ANSWERS, 0),
            },
        )
        row["served_notices"] += 1
        row["by_kind"][f"{item['kind']}:{item['recipient']}"] += 1
        row["by_language"][str(item.get("language"))] += 1
        if item.get("form") == "consent":
            row["consent_forms"] += 1
            answer = str(item.get("answer"))
            if answer not in row["consents_by_answer"]:
                raise ValueError(f"consent form with unknown answer {answer!r}")
            row["consents_by_answer"][answer] += 1
    out: list[dict[str, Any]] = []
    for year in sorted(years):
        row = years[year]
        out.append(
            {
                **row,
                "by_kind": dict(sorted(row["by_kind"].items())),
                "by_language": dict(sorted(row["by_language"].items())),
            }
        )
    return out


def illinois_805_25_rows(
    bookings: pl.DataFrame, charges: pl.DataFrame, *, year: int | None = None
) -> list[dict[str, object]]:
    """One row per detainer (hold line) received: the five fields of 5 ILCS 805/25(a)(2)(A)-(E).

    (A) date received — the hold line's booking time if the export carries it, else the booking date;
    (B) date/time the person posted criminal bail — release of a line closed as ``bond_posted``;
    (C) released or transferred; (D) date/time released or transferred; (E) receiving agency.
    """
    holds = charges.filter(pl.col("hold") == "immigration").select(
        "booking_id", pl.col("booked_on").alias("line_booked_on")
    )
    bail = (
        charges.filter(pl.col("release_reason") == "bond_posted")
        .group_by("booking_id")
        .agg(pl.col("released_at").min().alias("bail_at"), pl.col("released_on").min().alias("bail_on"))
    )
    rows = (
        holds.join(bookings, on="booking_id", how="left")
        .join(bail, on="booking_id", how="left")
        .with_columns(pl.coalesce("line_booked_on", "booked_on").alias("received_on"))
        .sort("received_on", "booking_id")
    )
    if year is not None:
        rows = rows.filter(pl.col("received_on").dt.year() == year)
    out: list[dict[str, object]] = []
    for number, row in enumerate(rows.iter_rows(named=True), start=1):
        reason = row["release_reason"]
        status = (
            "transferred"
            if reason in ("released_to_ice", "transferred")
            else ("released" if row["released_on"] is not None else "in custody")
        )
        agency = {"released_to_ice": "ICE", "transferred": "other agency"}.get(reason or "", None)
        out.append(
            {
                "row": number,
                "A_date_received": str(row["received_on"]) if row["received_on"] else None,
                "B_bail_posted": str(row["bail_at"] or row["bail_on"]) if (row["bail_at"] or row["bail_on"]) else None,
                "C_released_or_transferred": status,
                "D_released_or_transferred_at": str(row["released_at"] or row["released_on"])
                if row["released_on"]
                else None,
                "E_receiving_agency": agency,
            }
        )
    return out
