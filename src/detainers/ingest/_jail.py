"""Jail exports (bookings and charges) read through a :class:`~detainers.ingest.Mapping` into canonical tables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from detainers.ingest._blocks import BOOKING_ROW, read_blocks
from detainers.ingest._crosswalk import apply_crosswalk
from detainers.ingest._filters import FilterCount, apply_booking_filters, apply_charge_filters, most_serious
from detainers.ingest._mapping import BOOKING_FIELDS, CHARGE_FIELDS, FileSpec, HoldRule, Mapping, MappingError
from detainers.ingest._mapping_v2 import BOOKING_FIELDS_V2, CHARGE_FIELDS_V2, FileSpecV2, MappingV2
from detainers.ingest._redaction import null_redactions
from detainers.ingest._tabular import ROW, RawReject, RawTable, read_table

__all__ = [
    "BOOKING_COLUMNS",
    "CHARGE_COLUMNS",
    "DEFAULT_VIOLENT_PATTERNS",
    "JailLoad",
    "Part",
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
    # mapping version 2: the crosswalk's statute, whether a crosswalk entry fitted, its attributes (JSON), the rank
    "statute": pl.String(),
    "translated": pl.Boolean(),
    "charge_attributes": pl.String(),
    "charge_rank": pl.Int64(),
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
    "timezone": pl.String(),
    # mapping version 2: the input file's label, the jail's recorded decision, the most serious charge
    "label": pl.String(),
    "custody": pl.String(),
    "decision_recorded": pl.String(),
    "decision": pl.String(),
    "decided_on": pl.Date(),
    "decided_at": pl.Datetime("us", "UTC"),
    "most_serious_charge": pl.String(),
    "most_serious_statute": pl.String(),
    "most_serious_level": pl.String(),
    "most_serious_rank": pl.Int64(),
    "most_serious_attributes": pl.String(),
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
    # mapping version 2: every input file (several labelled charge files, booking blocks), what each filter
    # removed, the crosswalk's coverage, and warnings (things that may make a number wrong)
    charge_sources: list[RawTable] = field(default_factory=list)
    booking_sources: list[RawTable] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)


#: One charge input: an optional label (the jail's list it is, e.g. ``accepted``) and the file.
Part = tuple[str | None, Path]


def _map(table: RawTable, columns: dict[str, str], fields: dict[str, str], role: str, path: Path) -> pl.DataFrame:
    missing = [f"{name} -> {column!r}" for name, column in columns.items() if column not in table.columns]
    if missing:
        raise MappingError(
            f"{role}: {', '.join(missing)} not in {path.name}; its columns are: " + ", ".join(table.columns)
        )
    mapped = sorted(set(columns.values()))
    clean, _ = null_redactions(table.frame.select(mapped), mapped, paren_free=table.paren_free)
    frame = pl.DataFrame({ROW: table.frame[ROW]}).with_columns(
        [clean.get_column(column).alias(name) for name, column in columns.items()]
    )
    for name in fields:
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    return frame


def _read(path: Path, spec: FileSpec, fields: dict[str, str], role: str) -> tuple[RawTable, pl.DataFrame]:
    table = read_table(
        path, sheet=spec.sheet, delimiter=spec.delimiter, skip_rows=spec.skip_rows, encoding=spec.encoding
    )
    return table, _map(table, spec.columns, fields, f"files.{role}.columns", path)


def _timestamps(frame: pl.DataFrame, name: str, mapping: Mapping) -> pl.DataFrame:
    """``name`` text -> ``name_on`` (local date) and ``name_at`` (UTC instant, null when the export has dates only)."""
    zone = mapping.zone_for(name)
    base = name.removesuffix("_at")
    frame = frame.with_columns(pl.col(name).alias(f"__raw_{name}"))
    if frame.get_column(name).null_count() == frame.height:  # not in this export: nothing to parse
        return frame.with_columns(
            pl.lit(None, dtype=pl.Date).alias(f"{base}_on"), pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias(name)
        )
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
) -> tuple[pl.DataFrame, list[tuple[int, RawReject]]]:
    """Rows failing a check leave the frame as rejects, each with the input file (``__part``) it came from."""
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    for condition, message in reversed(checks):
        reason = pl.when(condition).then(message).otherwise(reason)
    frame = frame.with_columns(reason.alias("__reject"))
    bad = frame.filter(pl.col("__reject").is_not_null()).with_columns(texts.alias("__text"))  # texts of rejects only
    parts = bad["__part"].to_list() if "__part" in bad.columns else [0] * bad.height
    rejects = [
        (int(part), RawReject(row, why, text[:500]))
        for part, row, why, text in zip(
            parts, bad[ROW].to_list(), bad["__reject"].to_list(), bad["__text"].to_list(), strict=True
        )
    ]
    return frame.filter(pl.col("__reject").is_null()).drop("__reject"), rejects


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


def _parts(charges: Path | Sequence[Path | Part]) -> list[Part]:
    if isinstance(charges, Path):
        return [(None, charges)]
    return [item if isinstance(item, tuple) else (None, item) for item in charges]


def _read_parts(
    mapping: Mapping, parts: list[Part], notes: list[str], rejects: list[tuple[str, RawReject]]
) -> tuple[list[RawTable], list[RawTable], pl.DataFrame, pl.DataFrame | None]:
    """Every charge input read and mapped (``__part`` numbers them); with booking blocks, their booking lines too."""
    spec = mapping.files.charges
    blocks = isinstance(spec, FileSpecV2) and spec.layout == "blocks"
    fields = CHARGE_FIELDS_V2 if isinstance(mapping, MappingV2) else CHARGE_FIELDS
    extra = {f"__bf_{name}": column for name, column in _booking_field_columns(mapping).items()}
    sources: list[RawTable] = []
    booking_sources: list[RawTable] = []
    frames: list[pl.DataFrame] = []
    booking_frames: list[pl.DataFrame] = []
    for index, (label, path) in enumerate(parts):
        if blocks:
            assert isinstance(spec, FileSpecV2) and spec.charge_header is not None
            table, lines = read_blocks(
                path,
                charge_header=spec.charge_header,
                sheet=spec.sheet,
                delimiter=spec.delimiter,
                skip_rows=spec.skip_rows,
                encoding=spec.encoding,
            )
            frame = _map(table, {**spec.columns, **extra}, fields, "files.charges.columns", path)
            frame = frame.with_columns(table.frame.get_column(BOOKING_ROW))
            heads = _map(lines, spec.booking_columns, BOOKING_FIELDS_V2, "files.charges.booking_columns", path)
            heads = heads.with_columns(pl.lit(index, dtype=pl.Int32).alias("__part"), pl.lit(label).alias("label"))
            frame = frame.join(
                heads.select(pl.col(ROW).alias(BOOKING_ROW), pl.col("booking_id").alias("__block_id")),
                on=BOOKING_ROW,
                how="left",
            ).with_columns(pl.col("__block_id").alias("booking_id"))
            frame = frame.drop("__block_id", BOOKING_ROW)
            booking_sources.append(lines)
            booking_frames.append(heads)
        else:
            table = read_table(
                path, sheet=spec.sheet, delimiter=spec.delimiter, skip_rows=spec.skip_rows, encoding=spec.encoding
            )
            frame = _map(table, {**spec.columns, **extra}, fields, "files.charges.columns", path)
        rejects += [(str(path), reject) for reject in table.rejects]
        notes += [f"{path.name}: {note}" for note in table.notes]
        sources.append(table)
        frames.append(frame.with_columns(pl.lit(index, dtype=pl.Int32).alias("__part"), pl.lit(label).alias("label")))
    ch = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    heads_all = (
        (pl.concat(booking_frames, how="diagonal_relaxed") if len(booking_frames) > 1 else booking_frames[0])
        if booking_frames
        else None
    )
    return sources, booking_sources, ch, heads_all


def _booking_field_columns(mapping: Mapping) -> dict[str, str]:
    if isinstance(mapping, MappingV2) and mapping.booking_fields is not None:
        return {name: mapping.booking_fields.column_of(name)[0] for name in mapping.booking_fields.columns}
    return {}


def _last_part_wins(
    ch: pl.DataFrame, heads: pl.DataFrame | None, parts: list[Part], warnings: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame | None]:
    """A booking listed in several input files is taken from the last one that lists it (its lines and label)."""
    if len(parts) < 2:
        return ch, heads
    where = ch.group_by("booking_id").agg(pl.col("__part").n_unique().alias("n"), pl.col("__part").max().alias("last"))
    several = where.filter(pl.col("n") > 1)
    if several.height == 0:
        return ch, heads
    shown = ", ".join(sorted(several.get_column("booking_id").head(10).to_list()))
    warnings.append(
        f"{several.height:,} booking(s) appear in more than one input file; each is taken from the last file that "
        f"lists it (its charge lines and label): {shown}{' …' if several.height > 10 else ''}"
    )
    keep = pl.col("__part") == pl.col("last")
    ch = ch.join(where.select("booking_id", "last"), on="booking_id", how="left").filter(keep).drop("last")
    if heads is not None:
        heads = heads.join(where.select("booking_id", "last"), on="booking_id", how="left")
        heads = heads.filter(pl.col("last").is_null() | keep).drop("last")
    return ch, heads


def _booking_level(
    ch: pl.DataFrame, kept: pl.DataFrame, mapping: MappingV2, warnings: list[str], details: dict[str, object]
) -> pl.DataFrame:
    """Booking fields taken from the charge lines that repeat them (first/last/any of the lines the filters
    kept, in file order), with the agreement check over every line of the export (``ch``)."""
    assert mapping.booking_fields is not None
    spec = mapping.booking_fields
    aggs: list[pl.Expr] = [pl.col(ROW).min().alias(ROW)]
    for name in spec.columns:
        column = pl.col(f"__bf_{name}")
        take = spec.column_of(name)[1]
        if take == "first":
            aggs.append(column.first().alias(name))
        elif take == "last":
            aggs.append(column.last().alias(name))
        else:
            aggs.append(column.drop_nulls().first().alias(name))
    disagreements: dict[str, object] = {}
    if spec.check == "agree":
        # Cheap for every booking (the smallest and largest value differ), detailed only for the few that disagree.
        def hashed(n: str) -> pl.Expr:  # integers group faster than text; a null stays null (no value)
            column = pl.col(f"__bf_{n}")
            return pl.when(column.is_not_null()).then(column.hash())

        spans = ch.group_by("booking_id").agg(
            *[hashed(n).min().alias(f"lo_{n}") for n in spec.columns],
            *[hashed(n).max().alias(f"hi_{n}") for n in spec.columns],
        )
        for name in spec.columns:
            take = spec.column_of(name)[1]
            odd_ids = spans.filter(pl.col(f"lo_{name}") != pl.col(f"hi_{name}")).get_column("booking_id")
            if odd_ids.len() == 0:
                continue
            column = pl.col(f"__bf_{name}")
            odd = (
                ch.filter(pl.col("booking_id").is_in(odd_ids.implode()))
                .group_by("booking_id", maintain_order=True)
                .agg(pl.col(ROW).alias("rows"), column.drop_nulls().unique(maintain_order=True).head(3).alias("values"))
                .sort("booking_id")
            )
            examples = [
                f"booking {key}: rows {', '.join(str(r) for r in rows[:8])}{' …' if len(rows) > 8 else ''} "
                f"({' / '.join(repr(v) for v in vals)})"
                for key, rows, vals in odd.head(5).select("booking_id", "rows", "values").iter_rows()
            ]
            warnings.append(
                f"booking_fields {name} ({spec.column_of(name)[0]!r}): the charge lines of {odd.height:,} booking(s) "
                f"disagree; the {take} value is used. " + "; ".join(examples) + (" …" if odd.height > 5 else "")
            )
            disagreements[name] = {
                "bookings": odd.height,
                "take": take,
                "examples": [
                    {"booking_id": key, "rows": rows, "values": vals}
                    for key, rows, vals in odd.head(50).select("booking_id", "rows", "values").iter_rows()
                ],
            }
    details["booking_fields"] = {"take": spec.take, "check": spec.check, "disagreements": disagreements}
    return kept.group_by("booking_id", maintain_order=True).agg(aggs)


def _key_warnings(ch: pl.DataFrame, mapping: Mapping, warnings: list[str]) -> None:
    """A booking key that is not a booking number may merge separate stays into one booking: say how many."""
    if mapping.booking_key == ["booking_id"]:
        return
    date_only = [key for key in mapping.booking_key if key in ("booked_at", "released_at") and not _has_times(ch, key)]
    if date_only:
        warnings.append(
            f"booking_key uses {', '.join(date_only)}, which has dates only: two stays of one person on one day "
            "become one booking"
        )
    if "charge_seq" in ch.columns and ch.get_column("charge_seq").null_count() < ch.height:
        dup = (
            ch.filter(pl.col("charge_seq").is_not_null())
            .group_by("booking_id", "charge_seq")
            .agg(pl.col(ROW).alias("rows"))
            .filter(pl.col("rows").list.len() > 1)
        )
        if dup.height:
            keys = dup.get_column("booking_id").unique()
            shown = "; ".join(
                f"{key} rows {', '.join(str(r) for r in rows[:6])}"
                for key, rows in dup.head(5).select("booking_id", "rows").iter_rows()
            )
            warnings.append(
                f"booking_key merges rows: {keys.len():,} booking(s) repeat a charge number, as if several stays "
                f"were one ({shown}); add a column to booking_key if these are different bookings"
            )
    holds = ch.filter(pl.col("hold") == "immigration").group_by("booking_id").len().filter(pl.col("len") > 1)
    if holds.height:
        warnings.append(
            f"{holds.height:,} booking(s) formed by booking_key carry more than one immigration hold line "
            f"(e.g. {', '.join(holds.get_column('booking_id').head(5).to_list())}): separate stays merged?"
        )


def _has_times(ch: pl.DataFrame, key: str) -> bool:
    base = key.removesuffix("_at")
    return f"{base}_at" in ch.columns and ch.get_column(f"{base}_at").null_count() < ch.height


def _unmatched_rules(ch: pl.DataFrame, mapping: Mapping, warnings: list[str]) -> None:
    """Hold rules and disposition entries no row matched: a typo, or a value the export spells differently."""
    for kind, rules in (("immigration", mapping.holds.immigration), ("other", mapping.holds.other)):
        for rule in rules:
            if ch.height and not ch.select(_rule(rule).any()).item():
                shown = rule.model_dump(exclude_defaults=True, by_alias=True)
                warnings.append(f"holds.{kind} rule {shown} matched no charge line")
    seen = set(
        ch.select(pl.col("disposition").str.to_uppercase().str.replace_all(r"\s+", " ").str.strip_chars())
        .to_series()
        .drop_nulls()
        .to_list()
    )
    unused = [key for key in mapping.dispositions if _norm_key(key) not in seen]
    if unused and seen:
        warnings.append(
            f"{len(unused)} disposition(s) of the mapping matched no charge line: "
            + ", ".join(repr(k) for k in unused[:10])
            + (" …" if len(unused) > 10 else "")
        )


def _decisions(bk: pl.DataFrame, mapping: MappingV2, notes: list[str]) -> pl.DataFrame:
    spec = mapping.decisions
    assert spec is not None
    raw = pl.col("label") if spec.from_label else pl.col(spec.field or "decision")
    table = {_norm_key(k): v.value for k, v in spec.values.items()}
    bk = bk.with_columns(raw.cast(pl.String).alias("decision_recorded"))
    bk = bk.with_columns(
        pl.col("decision_recorded")
        .str.to_uppercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .replace_strict(table, default=None, return_dtype=pl.String)
        .alias("decision")
    )
    odd = bk.filter(pl.col("decision_recorded").is_not_null() & pl.col("decision").is_null())
    if odd.height:
        counts = odd.get_column("decision_recorded").value_counts(sort=True).iter_rows()
        notes.append(
            "decision values decisions.values does not map (decision left empty): "
            + ", ".join(f"{k!r} ×{n:,}" for k, n in counts)
        )
    if spec.at is not None:
        base = spec.at.removesuffix("_at")
        bk = bk.with_columns(pl.col(f"{base}_on").alias("decided_on"), pl.col(f"{base}_at").alias("decided_at"))
    return bk


def load_jail(mapping: Mapping, *, charges: Path | Sequence[Path | Part], bookings: Path | None = None) -> JailLoad:
    """Read a jail export through ``mapping``. ``bookings`` is required when the mapping has a bookings file.

    ``charges`` is one file, or (mapping version 2) several, each optionally labelled with the jail's list it is
    (``("accepted", path)``): ``decisions.from_label`` reads the jail's decision from that label.
    """
    if (mapping.files.bookings is None) != (bookings is None):
        need = "a bookings file" if mapping.files.bookings is not None else "no bookings file"
        raise MappingError(f"mapping {mapping.name!r} expects {need}")
    parts = _parts(charges)
    v2 = mapping if isinstance(mapping, MappingV2) else None
    if v2 is None and (len(parts) > 1 or parts[0][0] is not None):
        raise MappingError("several or labelled charge files need a mapping_version 2 mapping")
    if not parts:
        raise MappingError("no charges file given")
    notes: list[str] = []
    warnings: list[str] = []
    details: dict[str, object] = {}
    rejects: list[tuple[str, RawReject]] = []
    files = {index: str(path) for index, (_label, path) in enumerate(parts)}

    charge_tables, block_tables, ch, heads = _read_parts(mapping, parts, notes, rejects)
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
    # The patterns run once per distinct charge text (a few hundred), not per line.
    texts = ch.select(pl.col("charge_text").unique())
    text = pl.col("charge_text").fill_null("")
    texts = texts.with_columns(
        (text.str.contains(violent_re) & ~text.str.contains("(?i)" + _NOT_VIOLENT)).alias("__violent")
        if violent_re
        else pl.lit(False).alias("__violent")
    )
    ch = ch.join(texts, on="charge_text", how="left", nulls_equal=True).with_columns(
        (pl.col("__violent").fill_null(False) & pl.col("hold").is_null()).alias("violent")
    )
    ch = ch.drop("__violent")

    # the crosswalk: statutes, levels and attributes for the jail's own codes and texts
    if v2 is not None and v2.crosswalk is not None:
        ch, stats = apply_crosswalk(ch, v2.crosswalk)
        if v2.crosswalk.level == "override":
            ch = ch.with_columns(pl.coalesce(pl.col("__cw_level"), pl.col("level")).alias("level"))
        else:
            fill = pl.col("level").is_null() | (pl.col("level") == "unknown")
            ch = ch.with_columns(
                pl.when(fill & pl.col("__cw_level").is_not_null())
                .then(pl.col("__cw_level"))
                .otherwise(pl.col("level"))
                .alias("level")
            )
        notes.append(stats.text())
        if stats.entries_unused:
            notes.append(f"crosswalk: {stats.entries_unused:,} of {stats.entries:,} entries matched no charge line")
        if stats.unranked:
            warnings.append(
                f"crosswalk.rank.by {v2.crosswalk.rank.by if v2.crosswalk.rank else ''!r}: values not in rank.order "
                "(those lines have no rank): " + ", ".join(f"{k!r} ×{n:,}" for k, n in stats.unranked)
            )
        details["crosswalk"] = stats.as_dict()
    else:
        ch = ch.with_columns(pl.lit(False).alias("translated"), pl.lit(None, dtype=pl.Int64).alias("charge_rank"))
    if unknown_level_counts:
        still = ch.filter(pl.col("level") == "unknown").get_column("level_raw").value_counts(sort=True).iter_rows()
        shown = {str(code): int(count) for code, count in still}
        if shown:
            notes.append(
                "level codes the mapping's levels: does not list (kept as level 'unknown'): "
                + ", ".join(f"{code!r} ×{count}" for code, count in shown.items())
            )

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
    rejects += [(files[int(part)], reject) for part, reject in bad]
    if v2 is not None and v2.warn_unmatched_rules:
        _unmatched_rules(ch, mapping, warnings)
    ch, heads = _last_part_wins(ch, heads, parts, warnings)

    # booking-level fields repeated on the charge lines: checked on every line, taken from the lines kept
    lines_before = ch.select("booking_id").unique()
    all_lines = ch
    filter_counts: list[FilterCount] = []
    if v2 is not None and v2.filters.charges:
        ch, counts = apply_charge_filters(ch, v2.filters.charges)
        filter_counts += counts
    fields_frame = (
        _booking_level(all_lines, ch, v2, warnings, details) if v2 is not None and v2.booking_fields else None
    )

    booking_table: RawTable | None = None
    released_given = False
    if bookings is not None and mapping.files.bookings is not None:
        booking_table, bk = _read(
            bookings, mapping.files.bookings, BOOKING_FIELDS_V2 if v2 else BOOKING_FIELDS, "bookings"
        )
        rejects += [(str(bookings), reject) for reject in booking_table.rejects]
        notes += [f"{bookings.name}: {note}" for note in booking_table.notes]
        bk, bad_bookings = _checked_bookings(bk, mapping, reasons, list(mapping.files.bookings.columns))
        rejects += [(str(bookings), reject) for _part, reject in bad_bookings]
        known = bk.select("booking_id")
        orphan_check = [
            (
                ~pl.col("booking_id").is_in(known.get_column("booking_id").implode()),
                pl.format("booking_id {} is not in the bookings file", pl.col("booking_id")),
            )
        ]
        ch, bad = _reject_rows(ch, orphan_check, pl.col("booking_id"))
        rejects += [(files[int(part)], reject) for part, reject in bad]
        bk = bk.with_columns(
            pl.lit("bookings_file").alias("released_from"), pl.lit(None, dtype=pl.String).alias("label")
        )
        released_given = v2 is not None and "released_at" in mapping.files.bookings.columns
    elif heads is not None:
        assert isinstance(mapping.files.charges, FileSpecV2)
        bk, bad_bookings = _checked_bookings(heads, mapping, reasons, list(mapping.files.charges.booking_columns))
        rejects += [(files[int(part)], reject) for part, reject in bad_bookings]
        bk = bk.with_columns(pl.lit("booking_line").alias("released_from"))
        orphan_check = [
            (
                ~pl.col("booking_id").is_in(bk.get_column("booking_id").implode()),
                pl.format("the booking line of booking_id {} was rejected", pl.col("booking_id")),
            )
        ]
        ch, bad = _reject_rows(ch, orphan_check, pl.col("booking_id").fill_null(""))
        rejects += [(files[int(part)], reject) for part, reject in bad]
        assert isinstance(mapping.files.charges, FileSpecV2)
        released_given = "released_at" in mapping.files.charges.booking_columns
    else:
        bk = _bookings_from_charges(ch)
        if fields_frame is not None:
            assert v2 is not None and v2.booking_fields is not None
            given = list(v2.booking_fields.columns)
            bk = bk.drop([c for c in given if c in bk.columns], ROW).join(fields_frame, on="booking_id", how="left")
            for name in ("booked_at", "released_at", "decided_at"):
                if name in given:
                    bk = _timestamps(bk, name, mapping)
            timed = [(n, f"__raw_{n}") for n in ("booked_at", "released_at", "decided_at") if n in given]
            for name, raw in timed:
                base = name.removesuffix("_at")
                odd = bk.filter(pl.col(raw).is_not_null() & pl.col(f"{base}_on").is_null())
                if odd.height:
                    warnings.append(
                        f"booking_fields {name}: {odd.height:,} booking(s) have a value no timestamp format reads "
                        f"(left empty), e.g. {odd.get_column(raw).head(3).to_list()}"
                    )
            disposition = pl.col("disposition").str.to_uppercase().str.replace_all(r"\s+", " ").str.strip_chars()
            bk = bk.with_columns(
                disposition.replace_strict(reasons, default=None, return_dtype=pl.String).alias("release_reason"),
                pl.lit("booking_fields").alias("released_from"),
            )
            released_given = "released_at" in given
    # bookings whose every line a charge filter removed are gone with them
    if filter_counts:
        emptied = lines_before.filter(~pl.col("booking_id").is_in(ch.get_column("booking_id").implode()))
        bk = bk.filter(~pl.col("booking_id").is_in(emptied.get_column("booking_id").implode()))

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
    bk = _complete_bookings(bk, ch, fill_release=not released_given)
    if v2 is not None and v2.decisions is not None:
        bk = _decisions(bk, v2, notes)
    if v2 is not None and v2.crosswalk is not None and v2.crosswalk.rank is not None:
        wanted = sorted(
            {
                f.test.field.removeprefix("most_serious.")
                for f in v2.filters.bookings
                if f.test.field.startswith("most_serious.")
            }
        )
        bk = bk.join(most_serious(ch, wanted), on="booking_id", how="left")
    if v2 is not None and v2.filters.bookings:
        bk, ch, counts = apply_booking_filters(bk, ch, v2.filters.bookings)
        filter_counts += counts
    for count in filter_counts:
        notes.append(count.text())
        if count.lines_removed == 0 and count.bookings_removed == 0:
            warnings.append(f"filter {count.name!r} removed nothing: check its field and value")
    if filter_counts:
        details["filters"] = [count.as_dict() for count in filter_counts]
    _key_warnings(ch, mapping, warnings)
    bk = bk.with_columns(pl.lit(mapping.timezone).alias("timezone"))
    rejects.sort(key=lambda item: (item[0], item[1].source_row or 0))
    details["warnings"] = list(warnings)
    return JailLoad(
        bookings=bk,
        charges=ch,
        booking_source=booking_table if booking_table is not None else (block_tables[0] if block_tables else None),
        charge_source=charge_tables[0],
        rejects=rejects,
        notes=notes,
        unmapped_dispositions=unmapped_counts,
        unknown_levels=unknown_level_counts,
        charge_sources=charge_tables,
        booking_sources=block_tables if block_tables else ([booking_table] if booking_table is not None else []),
        warnings=warnings,
        details=details,
    )


def _checked_bookings(
    bk: pl.DataFrame, mapping: Mapping, reasons: dict[str, str], mapped: list[str]
) -> tuple[pl.DataFrame, list[tuple[int, RawReject]]]:
    """Parse a bookings table (a bookings file, or booking lines of blocks) and reject empty or repeated ids."""
    for name in ("booked_at", "released_at", "decided_at"):
        if name in bk.columns:
            bk = _timestamps(bk, name, mapping)
    if "__part" not in bk.columns:
        bk = bk.with_columns(pl.lit(0, dtype=pl.Int32).alias("__part"))
    bk = bk.with_columns(
        pl.col("disposition")
        .str.to_uppercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .replace_strict(reasons, default=None, return_dtype=pl.String)
        .alias("release_reason"),
        pl.struct("__part", ROW).rank("ordinal").over("booking_id").alias("__nth"),
        pl.col(ROW).min().over("booking_id").alias("__first"),
    )
    checks = [
        (pl.col("booking_id").is_null(), pl.lit("booking_id is empty")),
        (pl.col("__nth") > 1, pl.format("booking_id {} repeats the booking on row {}", "booking_id", "__first")),
    ]
    checks += _time_checks(bk, ["booked_at", "released_at", "decided_at"])
    columns = [f"__raw_{c}" if f"__raw_{c}" in bk.columns else c for c in mapped]
    raw_text = pl.concat_str([pl.col(column).cast(pl.String).fill_null("") for column in columns], separator=",")
    bk, bad = _reject_rows(bk, checks, raw_text)
    return bk.drop("__nth", "__first"), bad


def _bookings_from_charges(ch: pl.DataFrame) -> pl.DataFrame:
    return ch.group_by("booking_id", maintain_order=True).agg(
        pl.col(ROW).min(),
        (pl.col("label").last() if "label" in ch.columns else pl.lit(None, dtype=pl.String)).alias("label"),
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


def _complete_bookings(bk: pl.DataFrame, ch: pl.DataFrame, *, fill_release: bool = True) -> pl.DataFrame:
    """Fill what the bookings table lacks from its charge lines; released = the latest charge release when every line
    is closed (a booking with an open line is still in custody). ``fill_release`` False: the export gives the
    booking's own release (an empty one means still in custody), which the charge lines never replace."""
    needed = ["booking_id", ROW, "booked_on", "booked_at", "released_on", "released_at", "release_reason", "hold"]
    needed += ["person_id", "sex", "race", "ethnicity", "age"]
    per = (
        ch.select(needed)
        .with_columns(pl.col("release_reason").replace_strict(_PRIORITY, default=9, return_dtype=pl.Int32).alias("__p"))
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
    filled = ["booked_on", "booked_at", "person_id", "sex", "race", "ethnicity", "age"]
    if fill_release:
        filled[2:2] = ["released_on", "released_at"]
    fills = [pl.coalesce(name, f"c_{name}").alias(name) for name in filled]
    out = out.with_columns(
        *fills,
        pl.coalesce("release_reason", "c_reason").alias("release_reason"),
        pl.when(pl.col("released_on").is_null() & pl.col("c_released_on").is_not_null() & pl.lit(fill_release))
        .then(pl.lit("charges"))
        .otherwise(pl.col("released_from"))
        .alias("released_from"),
        pl.col("charges").fill_null(0),
        pl.col("immigration_hold").fill_null(False),
    )
    out = out.with_columns(pl.col("age").cast(pl.Int32, strict=False))
    return out.drop([c for c in out.columns if c.startswith("c_")])
