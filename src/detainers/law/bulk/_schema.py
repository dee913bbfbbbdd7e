"""The columnar case layout the bulk path reads, and conversion to and from :class:`~detainers.domain.Case`.

Four tables keyed by ``booking_id`` (one booking = one case; the case name is the booking id):

- ``bookings``: the booking, the facility and the person (status proof, person tags, 287(g) agreements);
- ``detainers``: one row per detainer (``seq`` keeps input order; the engine picks the operative one);
- ``convictions`` and ``charges``: one row per prior conviction / current charge, statutes as free text.

Instants are UTC timestamps, zones IANA names, enums their values (forms their code, e.g. ``I247A_2017``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from detainers.domain import (
    Agreement,
    Booking,
    Case,
    Charge,
    Conviction,
    Detainer,
    DetainerForm,
    EligibilityReason,
    Level,
    PCBasis,
    Person,
    ReleasedTo,
    Request,
    StatusProof,
    WarrantKind,
)

__all__ = [
    "BOOKINGS",
    "CHARGES",
    "CONVICTIONS",
    "DETAINERS",
    "SCHEMAS",
    "BulkSource",
    "cases_from_rows",
    "tables_from_cases",
]

_TS = pa.timestamp("us", tz="UTC")
_TAGS = pa.list_(pa.string())

BOOKINGS = pa.schema(
    [
        ("booking_id", pa.string()),
        ("person_id", pa.string()),
        ("facility_id", pa.string()),
        ("jurisdiction", pa.string()),
        ("timezone", pa.string()),
        ("booked_at", _TS),
        ("eligible_at", _TS),
        ("eligibility_reason", pa.string()),
        ("release_reason", pa.string()),
        ("released_at", _TS),
        ("released_to", pa.string()),
        ("bail_refused_at", _TS),
        ("as_of", _TS),
        ("status_proof", pa.string()),
        ("status_proof_at", _TS),
        ("person_tags", _TAGS),
        ("agreements", _TAGS),
    ]
)
DETAINERS = pa.schema(
    [
        ("booking_id", pa.string()),
        ("seq", pa.int32()),
        ("detainer_id", pa.string()),
        ("form", pa.string()),
        ("received_at", _TS),
        ("issued_on", pa.date32()),
        ("requests", _TAGS),  # null: what the form asks by default
        ("warrant", pa.string()),
        ("pc_basis", _TAGS),
        ("box2", pa.bool_()),
        ("served_at", _TS),
        ("issuing_office", pa.string()),
        ("lifted_at", _TS),
        ("lift_reason", pa.string()),
    ]
)
CONVICTIONS = pa.schema(
    [
        ("booking_id", pa.string()),
        ("seq", pa.int32()),
        ("statute", pa.string()),
        ("level", pa.string()),
        ("date", pa.date32()),
        ("state_prison", pa.bool_()),
        ("sentence_end", pa.date32()),
        ("tags", _TAGS),
    ]
)
CHARGES = pa.schema(
    [
        ("booking_id", pa.string()),
        ("seq", pa.int32()),
        ("statute", pa.string()),
        ("level", pa.string()),
        ("magistrate_pc_at", _TS),
        ("tags", _TAGS),
    ]
)
SCHEMAS: dict[str, pa.Schema] = {
    "bookings": BOOKINGS,
    "detainers": DETAINERS,
    "convictions": CONVICTIONS,
    "charges": CHARGES,
}


@dataclass(frozen=True)
class BulkSource:
    """Names of the four tables (or views) in a DuckDB connection that hold the cases."""

    bookings: str = "bookings"
    detainers: str = "detainers"
    convictions: str = "convictions"
    charges: str = "charges"


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def tables_from_cases(cases: Iterable[Case]) -> dict[str, pa.Table]:
    """The four tables for ``cases`` (case names must be unique: they become booking ids)."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMAS}
    seen: set[str] = set()
    for case in cases:
        if case.name in seen:
            raise ValueError(f"case name {case.name!r} appears twice; the bulk tables key cases by name")
        seen.add(case.name)
        b, p = case.booking, case.person
        rows["bookings"].append(
            {
                "booking_id": case.name,
                "person_id": p.ids.booking_person_id,
                "facility_id": b.facility,
                "jurisdiction": b.jurisdiction,
                "timezone": b.timezone,
                "booked_at": _utc(b.booked_at),
                "eligible_at": _utc(b.eligible_for_release_at),
                "eligibility_reason": b.eligibility_reason.value if b.eligibility_reason else None,
                "release_reason": None,
                "released_at": _utc(b.released_at),
                "released_to": b.released_to.value if b.released_to else None,
                "bail_refused_at": _utc(b.bail_refused_at),
                "as_of": _utc(case.as_of),
                "status_proof": p.status_proof.value,
                "status_proof_at": _utc(p.status_proof_at),
                "person_tags": list(p.tags),
                "agreements": sorted(a.value for a in b.agreements),
            }
        )
        for i, d in enumerate(case.detainers):
            rows["detainers"].append(
                {
                    "booking_id": case.name,
                    "seq": i,
                    "detainer_id": f"{case.name}/{i}",
                    "form": d.form.name,
                    "received_at": _utc(d.received_at),
                    "issued_on": d.issued_on,
                    "requests": None if d.requests is None else sorted(r.value for r in d.requests),
                    "warrant": d.warrant.value,
                    "pc_basis": sorted(x.value for x in d.pc_basis),
                    "box2": d.box2_transferred_for_proceeding,
                    "served_at": _utc(d.served_on_subject_at),
                    "issuing_office": d.issuing_office,
                    "lifted_at": _utc(d.lifted_at),
                    "lift_reason": d.lift_reason,
                }
            )
        for i, c in enumerate(p.convictions):
            rows["convictions"].append(
                {
                    "booking_id": case.name,
                    "seq": i,
                    "statute": c.statute,
                    "level": c.level.value,
                    "date": c.date,
                    "state_prison": c.punishable_by_state_prison,
                    "sentence_end": c.sentence_end,
                    "tags": list(c.tags),
                }
            )
        for i, ch in enumerate(b.charges):
            rows["charges"].append(
                {
                    "booking_id": case.name,
                    "seq": i,
                    "statute": ch.statute,
                    "level": ch.level.value,
                    "magistrate_pc_at": _utc(ch.magistrate_probable_cause_at),
                    "tags": list(ch.tags),
                }
            )
    return {name: pa.Table.from_pylist(rows[name], schema=schema) for name, schema in SCHEMAS.items()}


def _opt(value: Any, kind: Any) -> Any:
    return None if value is None else kind(value)


def cases_from_rows(
    bookings: Sequence[Mapping[str, Any]],
    detainers: Sequence[Mapping[str, Any]],
    convictions: Sequence[Mapping[str, Any]],
    charges: Sequence[Mapping[str, Any]],
) -> list[Case]:
    """Rebuild :class:`Case` objects from table rows (dicts as ``pyarrow.Table.to_pylist`` gives them)."""
    by: dict[str, dict[str, list[Mapping[str, Any]]]] = {
        "detainers": defaultdict(list),
        "convictions": defaultdict(list),
        "charges": defaultdict(list),
    }
    for name, items in (("detainers", detainers), ("convictions", convictions), ("charges", charges)):
        for row in items:
            by[name][row["booking_id"]].append(row)
    cases = []
    for b in bookings:
        key = b["booking_id"]
        dets = tuple(
            Detainer(
                form=DetainerForm[d["form"]],
                received_at=d["received_at"],
                issued_on=d["issued_on"],
                requests=None if d["requests"] is None else frozenset(Request(r) for r in d["requests"]),
                warrant=WarrantKind(d["warrant"]),
                pc_basis=frozenset(PCBasis(x) for x in d["pc_basis"] or ()),
                box2_transferred_for_proceeding=bool(d["box2"]),
                served_on_subject_at=d["served_at"],
                issuing_office=d["issuing_office"],
                lifted_at=d["lifted_at"],
                lift_reason=d["lift_reason"],
            )
            for d in sorted(by["detainers"][key], key=lambda r: r["seq"])
        )
        convs = tuple(
            Conviction(
                statute=c["statute"],
                level=Level(c["level"]),
                date=c["date"],
                punishable_by_state_prison=c["state_prison"],
                sentence_end=c["sentence_end"],
                tags=tuple(c["tags"] or ()),
            )
            for c in sorted(by["convictions"][key], key=lambda r: r["seq"])
        )
        chs = tuple(
            Charge(
                statute=c["statute"],
                level=Level(c["level"]),
                magistrate_probable_cause_at=c["magistrate_pc_at"],
                tags=tuple(c["tags"] or ()),
            )
            for c in sorted(by["charges"][key], key=lambda r: r["seq"])
        )
        person = Person(
            status_proof=StatusProof(b["status_proof"] or StatusProof.NONE.value),
            status_proof_at=b["status_proof_at"],
            convictions=convs,
            tags=tuple(b["person_tags"] or ()),
        )
        booking = Booking(
            facility=b["facility_id"],
            jurisdiction=b["jurisdiction"],
            timezone=b["timezone"],
            booked_at=b["booked_at"],
            charges=chs,
            eligible_for_release_at=b["eligible_at"],
            eligibility_reason=_opt(b["eligibility_reason"], EligibilityReason),
            bail_refused_at=b["bail_refused_at"],
            released_at=b["released_at"],
            released_to=_opt(b["released_to"], ReleasedTo),
            agreements=frozenset(Agreement(a) for a in b["agreements"] or ()),
        )
        cases.append(Case(name=key, person=person, booking=booking, detainers=dets, as_of=b["as_of"]))
    return cases
