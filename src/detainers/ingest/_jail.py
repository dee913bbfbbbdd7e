"""Jail exports (bookings and charges) read through a :class:`~detainers.ingest.Mapping` into canonical tables."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from detainers.ingest._mapping import BOOKING_FIELDS, CHARGE_FIELDS, FileSpec, HoldRule, Mapping, MappingError
from detainers.ingest._redaction import null_redactions
from detainers.ingest._tabular import ROW, RawReject, RawTable, read_table

__all__ = [
    "BOOKING_COLUMNS",
    "CHARGE_COLUMNS",
    "DEFAULT_VIOLENT_PATTERNS",
    "JailLoad",
    "load_jail",
]

#: The documented violent-offence classification applied to charge text (docs/reports.md). A charge is violent
#: when its text matches any pattern (case-insensitive). Abbreviations are those Texas and Washington jails print.
DEFAULT_VIOLENT_PATTERNS: tuple[str, ...] = (
    r"\bASS(?:AU)?LT\b|\bASSAULT\b|\bASLT\b",  # assault, incl. the ASSLT/ASLT abbreviations
    r"\bROBBERY\b",
    r"\bMURDER\b|\bHOMICIDE\b|\bMANSLAUGHTER\b",
    r"\bKIDNAPP?ING\b|\bUNLAWFUL RESTRAINT\b",
    r"\bSEX(?:UAL)? (?:ASSLT|ASSAULT|ABUSE)\b|\bSEX ASLT\b|\bRAPE\b|\bINDECENCY W/CHILD SEX",
    r"\bINJ(?:URY)? (?:TO )?CHI(?:LD)?\b|\bINJ CHILD\b",
    r"\bSTRANGULATION\b|\bIMPEDE BREATH\b",
    r"\bDEADLY WEAPON\b|\bW/WEAPON\b",
    r"\bARSON CAUSING\b",
    r"\bINTOX(?:ICATION|ICATED)? (?:ASSAULT|ASSLT|MANSLAUGHTER)\b",
    r"\bRENDER AID INJ",
    r"\bDISORDERLY CONDUCT-FIGHTING\b",
    r"\bTAKE WEAPON FROM OFFICER\b",
)
# Text that matches a pattern above but is not force against a person: no-injury assault classes (Texas class C
# "by contact"/"by threat"), identification offences, holds, prior-conviction enhancements, animals.
_NOT_VIOLENT = (
    r"\bBY CONTACT\b|\bBY THREAT\b|\bFAIL TO ID\b|\bWARRANT\b|\bHOLD\b|\bDETAINER\b|\bBOND\b|PREV INTOX|\bOF DOG\b"
)

#: Canonical charge columns (after provenance).
CHARGE_COLUMNS: dict[str, pl.DataType] = {
    "import_id": pl.String(),
    "jurisdiction": pl.String(),
    "facility": pl.String(),
    "booking_id": pl.String(),
    "person_id": pl.String(),
    "charge_seq": pl.Int64(),
    "charge_code": pl.String(),
    "charge_text": pl.String(),
    "level_raw": pl.String(),
    "level": pl.String(),
    "hold": pl.String(),
    "violent": pl.Boolean(),
    "booked_on": pl.Date(),
    "booked_at": pl.Datetime("us", "UTC"),
    "released_on": pl.Date(),
    "released_at": pl.Datetime("us", "UTC"),
    "disposition": pl.String(),
    "release_reason": pl.String(),
}

#: Canonical booking columns (after provenance).
BOOKING_COLUMNS: dict[str, pl.DataType] = {
    "import_id": pl.String(),
    "jurisdiction": pl.String(),
    "facility": pl.String(),
    "booking_id": pl.String(),
    "person_id": pl.String(),
    "booked_on": pl.Date(),
    "booked_at": pl.Datetime("us", "UTC"),
    "released_on": pl.Date(),
    "released_at": pl.Datetime("us", "UTC"),
    "released_from": pl.String(),
    "disposition": pl.String(),
    "release_reason": pl.String(),
    "sex": pl.String(),
    "race": pl.String(),
    "ethnicity": pl.String(),
    "age": pl.Int32(),
    "charges": pl.Int64(),
    "immigration_hold": pl.Boolean(),
}

_TIME_DIRECTIVES = re.compile(r"%[HIMSfpTRXc]")
_PRIORITY = {"released_to_ice": 0, "transferred": 1}


@dataclass
class JailLoad:
    """Bookings and charges read through a mapping, with rejects and what was noticed."""

    bookings: pl.DataFrame
    charges: pl.DataFrame
    booking_source: RawTable | None
    charge_source: RawTable
    rejects: list[tuple[str, RawReject]]  # (file, reject)
    notes: list[str] = field(default_factory=list)
    unmapped_dispositions: dict[str, int] = field(default_factory=dict)
    unknown_levels: dict[str, int] = field(default_factory=dict)


def _read(path: Path, spec: FileSpec, fields: dict[str, str], role: str) -> tuple[RawTable, pl.DataFrame]:
    table = read_table(
        path, sheet=spec.sheet, delimiter=spec.delimiter, skip_rows=spec.skip_rows, encoding=spec.encoding
    )
    missing = [f"{name} -> {column!r}" for name, column in spec.columns.items() if column not in table.columns]
    if missing:
        raise MappingError(
            f"files.{role}.columns: {', '.join(missing)} not in {path.name}; its columns are: "
            + ", ".join(table.columns)
        )
    mapped = sorted(set(spec.columns.values()))
    clean, _ = null_redactions(table.frame.select(mapped), mapped)
    frame = pl.DataFrame({ROW: table.frame[ROW]}).with_columns(
        [clean.get_column(column).alias(name) for name, column in spec.columns.items()]
    )
    for name in fields:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    return table, frame


def _timestamps(frame: pl.DataFrame, name: str, mapping: Mapping) -> pl.DataFrame:
    """``name`` text -> ``name_on`` (local date) and ``name_at`` (UTC instant, null when the export has dates only)."""
    zone = mapping.zone_for(name)
    base = name.removesuffix("_at")
    frame = frame.with_columns(pl.col(name).alias(f"__raw_{name}"))
    raw = pl.col(f"__raw_{name}")
    dates: list[pl.Expr] = []
    instants: list[pl.Expr] = []
    for fmt in mapping.formats_for(name):
        if _TIME_DIRECTIVES.search(fmt):
            local = raw.str.to_datetime(fmt, strict=False, time_unit="us")
            dates.append(local.dt.date())
            instants.append(
                local.dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")
            )
        else:
            dates.append(raw.str.to_date(fmt, strict=False))
            instants.append(pl.lit(None, dtype=pl.Datetime("us", "UTC")))
    # The first format that parses decides both the date and whether a time is known.
    on = pl.coalesce(dates)
    at: pl.Expr = pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    for date_expr, instant in reversed(list(zip(dates, instants, strict=True))):
        at = pl.when(date_expr.is_not_null()).then(instant).otherwise(at)
    return frame.with_columns(on.alias(f"{base}_on"), at.alias(f"{base}_at"))


def _rule(rule: HoldRule) -> pl.Expr:
    column = pl.col(rule.field).fill_null("")
    flags = "" if rule.case_sensitive else "(?i)"
    if rule.equals is not None:
        return (column if rule.case_sensitive else column.str.to_uppercase()) == (
            rule.equals if rule.case_sensitive else rule.equals.upper()
        )
    if rule.contains is not None:
        return column.str.contains(flags + re.escape(rule.contains))
    if rule.starts_with is not None:
        return column.str.contains(flags + "^" + re.escape(rule.starts_with))
    if rule.matches is not None:
        return column.str.contains(flags + rule.matches)
    assert rule.any_of is not None
    values = rule.any_of if rule.case_sensitive else [value.upper() for value in rule.any_of]
    return (column if rule.case_sensitive else column.str.to_uppercase()).is_in(values)


def _any(rules: list[HoldRule]) -> pl.Expr:
    expr = pl.lit(False)
    for rule in rules:
        expr = expr | _rule(rule)
    return expr


def _norm_key(text: str) -> str:
    return " ".join(text.upper().split())


def _reject_rows(
    frame: pl.DataFrame, checks: list[tuple[pl.Expr, pl.Expr]], texts: pl.Expr
) -> tuple[pl.DataFrame, list[RawReject]]:
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    for condition, message in reversed(checks):
        reason = pl.when(condition).then(message).otherwise(reason)
    frame = frame.with_columns(reason.alias("__reject"), texts.alias("__text"))
    bad = frame.filter(pl.col("__reject").is_not_null())
    rejects = [
        RawReject(row, why, text[:500])
        for row, why, text in zip(bad[ROW].to_list(), bad["__reject"].to_list(), bad["__text"].to_list(), strict=True)
    ]
    return frame.filter(pl.col("__reject").is_null()).drop("__reject", "__text"), rejects


def _time_checks(frame: pl.DataFrame, names: list[str]) -> list[tuple[pl.Expr, pl.Expr]]:
    checks = []
    for name in names:
        base = name.removesuffix("_at")
        if f"__raw_{name}" in frame.columns:
            checks.append(
                (
                    pl.col(f"__raw_{name}").is_not_null() & pl.col(f"{base}_on").is_null(),
                    pl.format(f"{name} {{}} matches none of the mapping's timestamp formats", pl.col(f"__raw_{name}")),
                )
            )
    return checks


def load_jail(mapping: Mapping, *, charges: Path, bookings: Path | None = None) -> JailLoad:
    """Read a jail export through ``mapping``. ``bookings`` is required when the mapping has a bookings file."""
    if (mapping.files.bookings is None) != (bookings is None):
        need = "a bookings file" if mapping.files.bookings is not None else "no bookings file"
        raise MappingError(f"mapping {mapping.name!r} expects {need}")
    notes: list[str] = []
    rejects: list[tuple[str, RawReject]] = []

    charge_table, ch = _read(charges, mapping.files.charges, CHARGE_FIELDS, "charges")
    rejects += [(str(charges), reject) for reject in charge_table.rejects]
    notes += [f"{charges.name}: {note}" for note in charge_table.notes]
    if mapping.booking_key != ["booking_id"]:
        ch = ch.with_columns(
            pl.concat_str([pl.col(key).fill_null("") for key in mapping.booking_key], separator="|").alias("booking_id")
        )
    for name in ("booked_at", "released_at"):
        ch = _timestamps(ch, name, mapping)

    # levels
    level_of = mapping.level_of()
    raw_level = pl.col("level").str.strip_chars().str.to_uppercase()
    ch = ch.with_columns(
        pl.col("level").alias("level_raw"),
        pl.when(pl.col("level").is_null())
        .then(None)
        .otherwise(raw_level.replace_strict(level_of, default="unknown", return_dtype=pl.String))
        .alias("level"),
    )
    unknown_levels = ch.filter(pl.col("level") == "unknown").get_column("level_raw").value_counts(sort=True).iter_rows()
    unknown_level_counts = {str(code): int(count) for code, count in unknown_levels}
    if unknown_level_counts:
        notes.append(
            "level codes the mapping's levels: does not list (kept as level 'unknown'): "
            + ", ".join(f"{code!r} ×{count}" for code, count in unknown_level_counts.items())
        )

    # holds and violence
    ch = ch.with_columns(
        pl.when(_any(mapping.holds.immigration))
        .then(pl.lit("immigration"))
        .when(_any(mapping.holds.other) if mapping.holds.other else pl.lit(False))
        .then(pl.lit("other"))
        .otherwise(None)
        .alias("hold")
    )
    patterns = list(DEFAULT_VIOLENT_PATTERNS) if mapping.classification.use_default_violent_patterns else []
    patterns += mapping.classification.violent_patterns
    violent_re = "(?i)" + "|".join(f"(?:{p})" for p in patterns) if patterns else None
    text = pl.col("charge_text").fill_null("")
    violent = (
        (text.str.contains(violent_re) & ~text.str.contains("(?i)" + _NOT_VIOLENT) & pl.col("hold").is_null())
        if violent_re
        else pl.lit(False)
    )
    ch = ch.with_columns(violent.alias("violent"))

    # dispositions
    reasons = {_norm_key(key): value.value for key, value in mapping.dispositions.items()}
    disp_key = pl.col("disposition").str.to_uppercase().str.replace_all(r"\s+", " ").str.strip_chars()
    ch = ch.with_columns(disp_key.replace_strict(reasons, default=None, return_dtype=pl.String).alias("release_reason"))
    unmapped = ch.filter(pl.col("disposition").is_not_null() & pl.col("release_reason").is_null())
    unmapped_counts = {
        str(k): int(v) for k, v in unmapped.get_column("disposition").value_counts(sort=True).iter_rows()
    }

    checks = [(pl.col("booking_id").is_null(), pl.lit("booking_id is empty"))]
    checks += _time_checks(ch, ["booked_at", "released_at"])
    if mapping.unmapped_dispositions == "reject":
        checks.append(
            (
                pl.col("disposition").is_not_null() & pl.col("release_reason").is_null(),
                pl.format("disposition {} is not in the mapping's dispositions:", pl.col("disposition")),
            )
        )
    elif unmapped_counts:
        notes.append(
            "dispositions the mapping does not map (release_reason left empty): "
            + ", ".join(f"{k!r} ×{v}" for k, v in unmapped_counts.items())
        )
    raw_text = pl.concat_str([pl.col(column).fill_null("") for column in mapping.files.charges.columns], separator=",")
    ch, bad = _reject_rows(ch, checks, raw_text)
    rejects += [(str(charges), reject) for reject in bad]

    booking_table: RawTable | None = None
    if bookings is not None and mapping.files.bookings is not None:
        booking_table, bk = _read(bookings, mapping.files.bookings, BOOKING_FIELDS, "bookings")
        rejects += [(str(bookings), reject) for reject in booking_table.rejects]
        notes += [f"{bookings.name}: {note}" for note in booking_table.notes]
        for name in ("booked_at", "released_at"):
            bk = _timestamps(bk, name, mapping)
        bk = bk.with_columns(
            pl.col("disposition")
            .str.to_uppercase()
            .str.replace_all(r"\s+", " ")
            .str.strip_chars()
            .replace_strict(reasons, default=None, return_dtype=pl.String)
            .alias("release_reason"),
            pl.col(ROW).rank("ordinal").over("booking_id").alias("__nth"),
            pl.col(ROW).min().over("booking_id").alias("__first"),
        )
        checks = [
            (pl.col("booking_id").is_null(), pl.lit("booking_id is empty")),
            (pl.col("__nth") > 1, pl.format("booking_id {} repeats the booking on row {}", "booking_id", "__first")),
        ]
        checks += _time_checks(bk, ["booked_at", "released_at"])
        raw_text = pl.concat_str(
            [pl.col(column).fill_null("") for column in mapping.files.bookings.columns], separator=","
        )
        bk, bad = _reject_rows(bk, checks, raw_text)
        rejects += [(str(bookings), reject) for reject in bad]
        bk = bk.drop("__nth", "__first")
        known = bk.select("booking_id")
        orphan_check = [
            (
                ~pl.col("booking_id").is_in(known.get_column("booking_id").implode()),
                pl.format("booking_id {} is not in the bookings file", pl.col("booking_id")),
            )
        ]
        ch, bad = _reject_rows(ch, orphan_check, pl.col("booking_id"))
        rejects += [(str(charges), reject) for reject in bad]
        bk = bk.with_columns(pl.lit("bookings_file").alias("released_from"))
    else:
        bk = _bookings_from_charges(ch)

    ch = (
        ch.with_columns(
            pl.col(ROW).rank("ordinal").over("booking_id").cast(pl.Int64).alias("__seq"),
        )
        .with_columns(
            (pl.col("charge_seq").cast(pl.Int64, strict=False) if "charge_seq" in ch.columns else pl.col("__seq"))
            .fill_null(pl.col("__seq"))
            .alias("charge_seq")
        )
        .drop("__seq")
    )
    # booking fields the charge rows carry (booked_at, demographics) fill gaps in the bookings table
    bk = _complete_bookings(bk, ch)
    rejects.sort(key=lambda item: (item[0], item[1].source_row or 0))
    return JailLoad(
        bookings=bk,
        charges=ch,
        booking_source=booking_table,
        charge_source=charge_table,
        rejects=rejects,
        notes=notes,
        unmapped_dispositions=unmapped_counts,
        unknown_levels=unknown_level_counts,
    )


def _bookings_from_charges(ch: pl.DataFrame) -> pl.DataFrame:
    return ch.group_by("booking_id", maintain_order=True).agg(
        pl.col(ROW).min(),
        pl.col("person_id").drop_nulls().first(),
        pl.lit(None, dtype=pl.String).alias("disposition"),
        pl.lit(None, dtype=pl.String).alias("release_reason"),
        *[pl.col(name).drop_nulls().first() for name in ("sex", "race", "ethnicity", "age")],
        pl.lit("charges").alias("released_from"),
        pl.lit(None, dtype=pl.Date).alias("booked_on"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("booked_at"),
        pl.lit(None, dtype=pl.Date).alias("released_on"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("released_at"),
    )


def _complete_bookings(bk: pl.DataFrame, ch: pl.DataFrame) -> pl.DataFrame:
    """Fill what the bookings table lacks from its charge lines; released = the latest charge release when every line
    is closed (a booking with an open line is still in custody)."""
    per = (
        ch.with_columns(
            pl.col("release_reason").replace_strict(_PRIORITY, default=9, return_dtype=pl.Int32).alias("__p")
        )
        .sort(
            ["booking_id", "released_on", "released_at", "__p", ROW],
            descending=[False, True, True, False, False],
            nulls_last=True,
        )
        .group_by("booking_id", maintain_order=True)
        .agg(
            pl.col("booked_on").min().alias("c_booked_on"),
            pl.col("booked_at").min().alias("c_booked_at"),
            pl.when(pl.col("released_on").is_null().any())
            .then(None)
            .otherwise(pl.col("released_on").max())
            .alias("c_released_on"),
            pl.when(pl.col("released_on").is_null().any())
            .then(None)
            .otherwise(pl.col("released_at").max())
            .alias("c_released_at"),
            pl.col("release_reason").first().alias("c_reason"),
            pl.len().cast(pl.Int64).alias("charges"),
            (pl.col("hold") == "immigration").any().alias("immigration_hold"),
            *[
                pl.col(name).drop_nulls().first().alias(f"c_{name}")
                for name in ("person_id", "sex", "race", "ethnicity", "age")
            ],
        )
    )
    out = bk.join(per, on="booking_id", how="left")
    fills = [
        pl.coalesce(name, f"c_{name}").alias(name)
        for name in (
            "booked_on",
            "booked_at",
            "released_on",
            "released_at",
            "person_id",
            "sex",
            "race",
            "ethnicity",
            "age",
        )
    ]
    out = out.with_columns(
        *fills,
        pl.coalesce("release_reason", "c_reason").alias("release_reason"),
        pl.when(pl.col("released_on").is_null() & pl.col("c_released_on").is_not_null())
        .then(pl.lit("charges"))
        .otherwise(pl.col("released_from"))
        .alias("released_from"),
        pl.col("charges").fill_null(0),
        pl.col("immigration_hold").fill_null(False),
    )
    out = out.with_columns(pl.col("age").cast(pl.Int32, strict=False))
    return out.drop([c for c in out.columns if c.startswith("c_")])
