"""ICE detainer releases: NPR's six-column layout and the Deportation Data Project / ICE LESA layouts.

Every layout is read into one canonical table (:data:`DETAINER_COLUMNS`). Columns that would identify a person by
name, A-number or date of birth are never read. Redaction markers become nulls. Detainer-type labels are parsed
with :func:`detainers.domain.parse_form`; the raw label is kept beside the parsed form.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path

import polars as pl

from detainers.domain import FormLabelError, parse_form
from detainers.ingest._redaction import null_redactions
from detainers.ingest._tabular import ROW, RawReject, RawTable, normalize_name, read_table

__all__ = [
    "DETAINER_COLUMNS",
    "DetainerLoad",
    "DetainerSlices",
    "Layout",
    "LayoutError",
    "SENSITIVE_COLUMNS",
    "detect_layout",
    "hashed_columns",
    "load_detainers",
]


class Layout(StrEnum):
    """Which release a detainer file comes from (see docs/importing.md)."""

    NPR = "npr"  # NPR's six columns of the FY2008–2015 FOIA release
    DDP_LATEST = "ddp_latest"  # 2024-ICFO-39357 (§5.2 A)
    DDP_HISTORICAL = "ddp_historical"  # 2025-ICFO-18038 (§5.2 B)
    DDP_2026 = "ddp_2026"  # March 2026 release, FY25/FY26 (§5.2 C)


class LayoutError(ValueError):
    """The file's columns match no known detainer layout (or not the one asked for)."""


#: Canonical columns of an imported detainer row, after the provenance columns.
DETAINER_COLUMNS: dict[str, pl.DataType] = {
    "layout": pl.String(),
    "prepare_date": pl.Date(),
    "lift_date": pl.Date(),
    "lift_reason": pl.String(),
    "lift_reason_code": pl.String(),
    "facility": pl.String(),
    "facility_code": pl.String(),
    "city": pl.String(),
    "state": pl.String(),
    "aor": pl.String(),
    "detainer_type": pl.String(),
    "detainer_form": pl.String(),
    "person_id": pl.String(),
    "detainer_id": pl.String(),
    "departed_date": pl.Date(),
    "gender": pl.String(),
    "race": pl.String(),
    "ethnicity": pl.String(),
    "citizenship_country": pl.String(),
    "birth_year": pl.Int32(),
    "criminality": pl.String(),
    "threat_level": pl.String(),
    "case_status": pl.String(),
}

_DATE_COLUMNS = ("prepare_date", "lift_date", "departed_date")

#: Columns never read from any release (normalized names): names, A-numbers, full dates of birth, places of birth.
SENSITIVE_COLUMNS: frozenset[str] = frozenset(
    {
        "subject_name",
        "name",
        "alien_file_number",
        "a_number",
        "birth_date",
        "date_of_birth",
        "dob",
        "birth_city",
        "birth_state",
    }
)

# canonical column -> accepted source names (normalized), first match wins.
_NPR_ALIASES: dict[str, tuple[str, ...]] = {
    "prepare_date": ("date",),
    "lift_reason": ("lift_reason",),
    "facility": ("det_facility",),
    "city": ("city",),
    "state": ("state",),
    "detainer_type": ("detainer_type",),
}
_DDP_ALIASES: dict[str, tuple[str, ...]] = {
    "prepare_date": ("detainer_prepare_date",),
    "lift_date": ("detainer_lift_date",),
    "lift_reason": ("detainer_lift_reason",),
    "lift_reason_code": ("detainer_lift_reason_code",),
    "facility": ("detention_facility", "detainer_facility", "detainer_detention_facility"),
    "facility_code": ("detention_facility_code", "detainer_facility_code", "detainer_detention_facility_code"),
    "city": ("facility_city",),
    "state": ("facility_state",),
    "aor": ("facility_aor", "detainer_aor"),
    "detainer_type": ("detainer_type",),
    "person_id": ("unique_identifier", "anonymized_identifier", "alien_number_unique_identifier", "eid_subject_id"),
    "detainer_id": ("detainer_id", "eid_dta_id"),
    "departed_date": ("departed_date",),
    "gender": ("gender",),
    "race": ("race",),
    "ethnicity": ("ethnicity",),
    "citizenship_country": ("citizenship_country",),
    "birth_year": ("birth_year",),
    "criminality": ("detainer_prepared_criminality", "detainer_criminality"),
    "threat_level": ("detainer_prep_threat_level", "detainer_threat_level"),
    "case_status": ("case_status",),
}
_NPR_REQUIRED = {"date", "lift_reason", "det_facility", "state"}

# Date text seen in the releases: ISO (with or without time), US month/day/year, compact.
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%d-%b-%Y", "%d-%b-%y", "%Y%m%d")
_EARLIEST, _LATEST = date(1950, 1, 1), date(2100, 1, 1)


@dataclass
class DetainerLoad:
    """A detainer file read into canonical rows, with its rejects and what was noticed on the way."""

    path: Path
    sheet: str | None
    layout: Layout
    frame: pl.DataFrame  # ROW + raw-hash input columns + canonical columns
    raw_columns: list[str]  # positional aliases of the source columns kept (``__src_0`` ...), for row_hash
    source_columns: list[str]  # their names in the file
    rejects: list[RawReject]
    notes: list[str] = field(default_factory=list)
    redacted: dict[str, int] = field(default_factory=dict)
    unknown_forms: dict[str, int] = field(default_factory=dict)


def _header_hint(names: list[str]) -> bool:
    found = set(names)
    return "detainer_prepare_date" in found or _NPR_REQUIRED <= found


def detect_layout(columns: list[str]) -> Layout:
    """Name the layout from a header row."""
    names = {normalize_name(column) for column in columns}
    if _NPR_REQUIRED <= names:
        return Layout.NPR
    if "detainer_prepare_date" in names:
        if "anonymized_identifier" in names or "tod_current_duty_site" in names:
            return Layout.DDP_2026
        if "detainer_lift_date" in names or "detainer_id" in names or "detainer_prepare_fiscal_year" in names:
            return Layout.DDP_HISTORICAL
        return Layout.DDP_LATEST
    raise LayoutError(
        "columns match no detainer layout: NPR needs date, lift_reason, det_facility, state (and city, "
        "detainer_type); the DDP/ICE layouts need 'Detainer Prepare Date'. Found: " + ", ".join(columns[:12])
    )


def parse_dates(values: pl.Series) -> pl.Series:
    """Text to Date under the formats ICE releases use; unparseable text becomes null.

    ISO dates (with or without a time) are tried first on the whole column; the other formats only on what is left.
    """
    out = values.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    left = out.is_null() & values.is_not_null()
    if not left.any():
        return out
    rest = values.filter(left)
    attempts = [rest.str.to_date(fmt, strict=False) for fmt in _DATE_FORMATS[1:]]
    attempts.append(rest.str.split(" ").list.first().str.to_date("%m/%d/%Y", strict=False))
    parsed = pl.select(pl.coalesce(attempts)).to_series()
    return out.scatter(left.arg_true(), parsed)


def load_detainers(
    path: Path,
    *,
    fmt: str = "auto",
    sheet: str | None = None,
    skip_rows: int = 0,
    delimiter: str | None = None,
    encoding: str = "utf-8",
) -> DetainerLoad:
    """Read one ICE detainer file. ``fmt`` is ``npr``, ``ddp`` or ``auto``. (The store adds the row hashes as it
    writes: :class:`DetainerSlices`.)"""
    table, layout = read_detainer_table(
        path, fmt=fmt, sheet=sheet, skip_rows=skip_rows, delimiter=delimiter, encoding=encoding
    )
    return canonical_detainers(table, layout)


def read_detainer_table(
    path: Path,
    *,
    fmt: str = "auto",
    sheet: str | None = None,
    skip_rows: int = 0,
    delimiter: str | None = None,
    encoding: str = "utf-8",
) -> tuple[RawTable, Layout]:
    """The first half of :func:`load_detainers`: the file's cells and its layout (checked against ``fmt``)."""
    table = read_table(
        path, sheet=sheet, skip_rows=skip_rows, delimiter=delimiter, encoding=encoding, header_hint=_header_hint
    )
    layout = detect_layout(table.columns)
    if fmt == "npr" and layout is not Layout.NPR:
        raise LayoutError(f"{path}: --format npr, but the columns are the {layout.value} layout")
    if fmt == "ddp" and layout is Layout.NPR:
        raise LayoutError(f"{path}: --format ddp, but the columns are NPR's six-column layout")
    if fmt not in {"npr", "ddp", "auto"}:
        raise LayoutError(f"unknown format {fmt!r}; use npr, ddp or auto")
    return table, layout


def hashed_columns(table: RawTable) -> list[str]:
    """The source columns a detainer row's ``row_hash`` covers, in file order: all but :data:`SENSITIVE_COLUMNS`."""
    return [column for column in table.columns if normalize_name(column) not in SENSITIVE_COLUMNS]


def canonical_detainers(table: RawTable, layout: Layout) -> DetainerLoad:
    """The second half of :func:`load_detainers`: canonical columns, redactions, forms, row checks."""
    rows = _Rows(table, layout)
    good = rows.derive(rows.raw(table.frame))
    return DetainerLoad(
        path=table.path,
        sheet=table.sheet,
        layout=layout,
        frame=good,
        raw_columns=rows.raw_columns,
        source_columns=rows.kept,
        rejects=rows.rejects,
        notes=rows.notes,
        redacted=rows.redacted,
        unknown_forms=rows.unknown,
    )


class DetainerSlices:
    """:func:`canonical_detainers` one slice of ``size`` rows of the file at a time: what the store writes row group
    by row group, deriving the next slice while the last one is written.

    Iterating yields each slice's accepted rows (ROW + canonical columns; a slice may have none). Every row is
    derived on its own, so the slices together are the rows :func:`canonical_detainers` gives; rejects and notes sum
    over the slices and are complete once the iteration has ended.
    """

    def __init__(self, table: RawTable, layout: Layout, size: int) -> None:
        self._table = table
        self._size = size
        self._rows = _Rows(table, layout)
        self.raw_columns = self._rows.raw_columns
        #: Canonical columns written, fixed before the first slice (see :meth:`_Rows.columns_with_data`).
        self.columns = self._rows.columns_with_data(table.frame)

    def __iter__(self) -> Iterator[pl.DataFrame]:
        frame = self._table.frame
        for start in range(0, max(frame.height, 1), self._size):  # a file with no rows: one empty slice
            yield self._rows.derive(self._rows.raw(frame.slice(start, self._size))).drop(self.raw_columns)

    @property
    def rejects(self) -> list[RawReject]:
        return self._rows.rejects

    @property
    def notes(self) -> list[str]:
        return self._rows.notes


class _Rows:
    """How a detainer file's raw cells become canonical rows, and what was noticed on the way, summed over every
    slice derived."""

    def __init__(self, table: RawTable, layout: Layout) -> None:
        self._table = table
        self._layout = layout
        # Raw columns are carried under positional names (__src_0, ...) so they never collide with canonical names.
        self.kept = hashed_columns(table)
        self.raw_columns = [f"__src_{index}" for index in range(len(self.kept))]
        by_norm: dict[str, str] = {}
        for column, alias in zip(self.kept, self.raw_columns, strict=True):
            by_norm.setdefault(normalize_name(column), alias)
        aliases = _NPR_ALIASES if layout is Layout.NPR else _DDP_ALIASES
        self._sources = {
            target: next((by_norm[name] for name in aliases.get(target, ()) if name in by_norm), None)
            for target in DETAINER_COLUMNS
        }
        self._mapped = sorted({source for source in self._sources.values() if source is not None})
        self._paren_free = {
            alias for column, alias in zip(self.kept, self.raw_columns, strict=True) if column in table.paren_free
        }
        self._forms: dict[str, str | None] = {}  # label -> form code (None: no form matches), each parsed once
        self._refused: list[RawReject] = []
        self.redacted: dict[str, int] = {}
        self.unknown: dict[str, int] = {}

    def raw(self, frame: pl.DataFrame) -> pl.DataFrame:
        """ROW and the kept raw columns of ``frame`` under their positional names."""
        # Series renamed, not ``select``ed: a select would copy every column into one chunk first.
        return pl.DataFrame(
            [
                frame.get_column(ROW),
                *[frame.get_column(c).alias(a) for c, a in zip(self.kept, self.raw_columns, strict=True)],
            ]
        )

    def columns_with_data(self, frame: pl.DataFrame) -> dict[str, pl.DataType]:
        """Canonical columns whose source column has a non-empty cell in ``frame`` (the file's own names; null
        counts are known without a pass), the layout, and the form where the type label has one; in order."""
        source_of = dict(zip(self.raw_columns, self.kept, strict=True))

        def has_data(alias: str | None) -> bool:
            return alias is not None and frame.get_column(source_of[alias]).null_count() < frame.height

        return {
            target: dtype
            for target, dtype in DETAINER_COLUMNS.items()
            if target == "layout" or has_data(self._sources["detainer_type" if target == "detainer_form" else target])
        }

    @property
    def rejects(self) -> list[RawReject]:
        """The file's malformed records and the rows refused so far, by row number."""
        return sorted([*self._table.rejects, *self._refused], key=lambda r: r.source_row or 0)

    @property
    def notes(self) -> list[str]:
        notes = list(self._table.notes)
        if self.redacted:
            notes.append(
                "redaction markers set to null: " + ", ".join(f"{k} {v:,}" for k, v in sorted(self.redacted.items()))
            )
        if self.unknown:
            notes.append(
                "detainer type labels no form matches (raw label kept, form left empty): "
                + "; ".join(f"{label!r} ×{count:,}" for label, count in sorted(self.unknown.items()))
            )
        return notes

    def derive(self, frame: pl.DataFrame) -> pl.DataFrame:
        """The accepted rows of ``frame`` (from :meth:`raw`) with their canonical columns; refused rows, redactions
        and unknown labels are added to this object's counts."""
        layout, sources, mapped, raw_columns = self._layout, self._sources, self._mapped, self.raw_columns
        # Raw columns stay as read (they feed row_hash and the rejects file); canonical columns lose redactions.
        clean, redacted_by_alias = null_redactions(frame.select(mapped), mapped, paren_free=self._paren_free)
        for alias, count in redacted_by_alias.items():
            name = self.kept[raw_columns.index(alias)]
            self.redacted[name] = self.redacted.get(name, 0) + count
        frame = frame.with_columns([clean.get_column(name).alias(f"__clean_{name}") for name in mapped])

        picks: list[pl.Expr] = []
        for target, dtype in DETAINER_COLUMNS.items():
            if target == "layout":
                picks.append(pl.lit(layout.value, dtype=pl.String).alias(target))
                continue
            if target == "detainer_form":
                continue
            source = sources[target]
            if source is None:
                picks.append(pl.lit(None, dtype=dtype).alias(target))
                continue
            value = pl.col(f"__clean_{source}")
            if target in _DATE_COLUMNS:
                picks.append(pl.lit(parse_dates(frame.get_column(f"__clean_{source}"))).alias(target))
                picks.append(value.alias(f"__raw_{target}"))
            elif target == "birth_year":
                picks.append(value.str.slice(0, 4).cast(pl.Int32, strict=False).alias(target))
            else:
                picks.append(value.alias(target))
        out = frame.with_columns(picks)

        # Detainer-type labels: each distinct label parsed once per file.
        labels = out.get_column("detainer_type").drop_nulls().unique().to_list()
        forms = self._forms
        for label in labels:
            if label not in forms:
                try:
                    forms[label] = parse_form(label).code
                except FormLabelError:
                    forms[label] = None
        if any(forms[label] is None for label in labels):  # counted only when some label is unknown
            for label, count in out.get_column("detainer_type").value_counts().iter_rows():
                if label is not None and forms[label] is None:
                    self.unknown[label] = self.unknown.get(label, 0) + int(count)
        out = out.with_columns(
            pl.col("detainer_type")
            .replace_strict({label: forms[label] for label in labels}, default=None, return_dtype=pl.String)
            .alias("detainer_form")
        )

        # Row-level validation: the prepare date is what places a detainer in time; without it the row is malformed.
        reasons = pl.lit(None, dtype=pl.String)
        checks: list[tuple[pl.Expr, pl.Expr]] = []
        raw_prepare = pl.col("__raw_prepare_date") if "__raw_prepare_date" in out.columns else pl.lit(None, pl.String)
        checks.append((raw_prepare.is_null(), pl.lit("prepare date is missing")))
        checks.append(
            (
                pl.col("prepare_date").is_null() & raw_prepare.is_not_null(),
                pl.format("prepare date {} is not a date", raw_prepare),
            )
        )
        checks.append(
            (
                (pl.col("prepare_date") < _EARLIEST) | (pl.col("prepare_date") >= _LATEST),
                pl.format("prepare date {} is outside 1950–2099", pl.col("prepare_date")),
            )
        )
        for target in ("lift_date", "departed_date"):
            raw = f"__raw_{target}"
            if raw in out.columns:
                checks.append(
                    (
                        pl.col(target).is_null() & pl.col(raw).is_not_null(),
                        pl.format(f"{target.replace('_', ' ')} {{}} is not a date", pl.col(raw)),
                    )
                )
        for condition, message in reversed(checks):
            reasons = pl.when(condition).then(message).otherwise(reasons)
        out = out.with_columns(reasons.alias("__reject"))
        bad = out.filter(pl.col("__reject").is_not_null())
        if bad.height:
            texts = bad.select(pl.concat_str([pl.col(c).fill_null("") for c in raw_columns], separator=",").alias("t"))
            for row, reason, text in zip(
                bad[ROW].to_list(), bad["__reject"].to_list(), texts["t"].to_list(), strict=True
            ):
                self._refused.append(RawReject(row, reason, text[:500]))
        return out.filter(pl.col("__reject").is_null()).drop(
            ["__reject", *[c for c in out.columns if c.startswith(("__raw_", "__clean_"))]]
        )
