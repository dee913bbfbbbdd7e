"""Replay on an imported jail store: the store's bookings, charges and hold lines as the four bulk case tables.

One case per booking with an immigration hold line. The case's charges are its other lines with a level
(felony, misdemeanor, infraction), each under the crosswalk's statute where the import gave one, else the jail's
own charge code or text (which no statute table knows: the answer then says it rests on an unknown statute).
Release eligibility is the latest release of those lines when every one is closed; a booking still held on a
charge is decided at ``as_of`` (default: the last day the data show). The detainer's form is the one ICE used on
the booking date, received at booking, lifted when the hold line closed as lifted — the same assumptions as the
concordance report. Bookings that cannot become a case are counted by reason, never dropped in silence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from detainers.analytics import form_in_use
from detainers.domain import EligibilityReason
from detainers.ingest import Store
from detainers.law.bulk import SCHEMAS
from detainers.replay._data import DataError

__all__ = ["StoreData", "open_store"]

_LEVELS = ("felony", "misdemeanor", "infraction")
_NOT_OTHER = ("error", "not_a_release")
_REASONS = {r.value for r in EligibilityReason}


@dataclass
class StoreData:
    """What was read from the store: the connection with the case views, and the bookings left out and why."""

    con: duckdb.DuckDBPyConnection
    bookings: int  # bookings in the store
    cases: int  # bookings with an immigration hold that became cases
    excluded: dict[str, int] = field(default_factory=dict)  # bookings with a hold that could not, by reason
    left_out_charges: int = 0  # charge lines with no level (not offences, or the export gives none)
    as_of: date | None = None


def _local_midnight(day: date | None, zone: str) -> datetime | None:
    return None if day is None else datetime.combine(day, time(0, 0), ZoneInfo(zone))


def open_store(root: Path, con: duckdb.DuckDBPyConnection | None = None, *, as_of: date | None = None) -> StoreData:
    """Views ``bookings``, ``detainers``, ``convictions``, ``charges`` and ``facilities`` over the store's jail data."""
    from detainers.law import default_zone

    if not (root / "catalog.duckdb").exists():
        raise DataError(f"{root}: not a store (no catalog.duckdb); import a jail export with detainers import jail")
    store = Store(root)
    bookings, charges = store.table("jail_bookings"), store.table("jail_charges")
    if bookings.height == 0:
        raise DataError(f"store {root} holds no jail data; run detainers import jail first")
    con = con or duckdb.connect()
    last = max(
        (d for d in (charges["released_on"].max(), bookings["released_on"].max(), bookings["booked_on"].max()) if d),
        default=None,
    )
    as_of = as_of or (last if isinstance(last, date) else None)
    out = StoreData(con, bookings.height, 0, as_of=as_of)
    holds = charges.filter(pl.col("hold") == "immigration")
    hold_ids = set(holds["booking_id"].to_list())
    lines = charges.filter(pl.col("hold").is_null() & ~pl.col("release_reason").fill_null("").is_in(list(_NOT_OTHER)))
    offences = lines.filter(pl.col("level").is_in(list(_LEVELS)))
    out.left_out_charges = lines.height - offences.height
    rows: dict[str, list[object]] = {f.name: [] for f in SCHEMAS["bookings"]}
    detainers: dict[str, list[object]] = {f.name: [] for f in SCHEMAS["detainers"]}
    per_booking = {
        key: part
        for (key,), part in lines.sort("charge_seq").group_by("booking_id", maintain_order=True)
        if key in hold_ids
    }
    hold_by = {key: part for (key,), part in holds.group_by("booking_id")}

    def exclude(why: str) -> None:
        out.excluded[why] = out.excluded.get(why, 0) + 1

    for b in bookings.filter(pl.col("booking_id").is_in(list(hold_ids))).iter_rows(named=True):
        key = str(b["booking_id"])
        zone = b.get("timezone") or default_zone(b["jurisdiction"] or "")
        if not zone or not b["jurisdiction"]:
            exclude("no jurisdiction or time zone")
            continue
        booked = b["booked_at"] or _local_midnight(b["booked_on"], zone)
        if booked is None:
            exclude("no booking time")
            continue
        mine = per_booking.get(key)
        eligible, reason = None, None
        if mine is not None and mine.height and mine["released_on"].null_count() == 0:
            last_line = mine.sort(["released_on", "released_at"], nulls_last=True).tail(1).row(0, named=True)
            eligible = last_line["released_at"] or _local_midnight(last_line["released_on"], zone)
            reason = last_line["release_reason"] if last_line["release_reason"] in _REASONS else "other"
        if eligible is not None and eligible < booked:
            exclude("a charge released before the booking")
            continue
        released = b["released_at"] or _local_midnight(b["released_on"], zone)
        to = {"released_to_ice": "ice", "transferred": "other_agency"}.get(b["release_reason"] or "", "public")
        case_as_of = None if eligible is not None else _local_midnight(as_of, zone)
        if case_as_of is not None and case_as_of < booked:
            case_as_of = booked
        values: dict[str, object] = {
            "booking_id": key,
            "person_id": b.get("person_id"),
            "facility_id": b.get("facility") or "(facility not given)",
            "jurisdiction": b["jurisdiction"],
            "timezone": zone,
            "booked_at": booked,
            "eligible_at": eligible,
            "eligibility_reason": reason,
            "release_reason": b["release_reason"],
            "released_at": released if released is not None and released >= booked else None,
            "released_to": to if released is not None else None,
            "bail_refused_at": None,
            "as_of": case_as_of,
            "status_proof": "none",
            "status_proof_at": None,
            "person_tags": [],
            "agreements": [],
        }
        for name in rows:
            rows[name].append(values[name])
        hold = hold_by[key].sort("charge_seq").row(0, named=True)
        lifted = hold["release_reason"] == "hold_lifted" and hold["released_on"] is not None
        dvalues: dict[str, object] = {
            "booking_id": key,
            "seq": 0,
            "detainer_id": f"{key}/0",
            "form": form_in_use(booked.astimezone(ZoneInfo(zone)).date()).name,
            "received_at": booked,
            "issued_on": None,
            "requests": None,
            "warrant": "none",
            "pc_basis": [],
            "box2": False,
            "served_at": None,
            "issuing_office": None,
            "lifted_at": (hold["released_at"] or _local_midnight(hold["released_on"], zone)) if lifted else None,
            "lift_reason": "hold line closed as lifted" if lifted else None,
        }
        for name in detainers:
            detainers[name].append(dvalues[name])
        out.cases += 1
    import pyarrow as pa

    tables = {
        "bookings": pa.Table.from_pydict(rows, schema=SCHEMAS["bookings"]),
        "detainers": pa.Table.from_pydict(detainers, schema=SCHEMAS["detainers"]),
        "convictions": pa.Table.from_pylist([], schema=SCHEMAS["convictions"]),
        "charges": pa.Table.from_pydict(
            {
                "booking_id": offences["booking_id"].to_list(),
                "seq": offences["charge_seq"].cast(pl.Int32).to_list(),
                "statute": offences.select(
                    pl.coalesce("statute", "charge_code", "charge_text").fill_null("(no statute)")
                )
                .to_series()
                .to_list(),
                "level": offences["level"].to_list(),
                "magistrate_pc_at": [None] * offences.height,
                "tags": [[] for _ in range(offences.height)],
            },
            schema=SCHEMAS["charges"],
        ),
    }
    for name, table in tables.items():
        con.register(f"__store_{name}", table)
        con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM __store_{name}")
    con.execute(
        "CREATE OR REPLACE TEMP VIEW facilities AS SELECT DISTINCT facility_id, facility_id AS name FROM bookings"
    )
    return out
