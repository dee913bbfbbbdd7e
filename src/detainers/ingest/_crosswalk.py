"""Charge crosswalk: a jail's own charge codes and texts to statutes, levels and attributes (mapping version 2).

Each distinct (code, text) pair of the export is looked up once: an exact code entry first, then an exact text
entry (case and spacing ignored), then the pattern entries in order; the first that fits wins. What it gives is
joined back onto every charge line. Nothing is guessed: a line no entry fits is *untranslated*, and the import
says how many there are and which texts are the most frequent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from detainers.ingest._mapping_v2 import Crosswalk, CrosswalkEntry

__all__ = ["CrosswalkStats", "apply_crosswalk", "attribute_column"]

_SHOWN = 10


def attribute_column(name: str) -> str:
    """The working column that holds a crosswalk attribute (``crosswalk.<name>`` in filters)."""
    return f"__cw_{name}"


def _norm(text: str | None) -> str | None:
    return " ".join(text.upper().split()) if text is not None else None


@dataclass
class CrosswalkStats:
    lines: int  # charge lines looked up (hold lines not counted)
    translated: int
    untranslated: list[tuple[str, int]] = field(default_factory=list)  # most frequent first
    entries: int = 0
    entries_unused: int = 0
    unranked: list[tuple[str, int]] = field(default_factory=list)  # rank values not in rank.order

    @property
    def share(self) -> float | None:
        return self.translated / self.lines if self.lines else None

    def as_dict(self) -> dict[str, object]:
        return {
            "charge_lines": self.lines,
            "translated": self.translated,
            "translated_share": self.share,
            "most_frequent_untranslated": [{"charge": k, "lines": n} for k, n in self.untranslated],
            "entries": self.entries,
            "entries_matching_no_line": self.entries_unused,
            "rank_values_not_in_order": [{"value": k, "lines": n} for k, n in self.unranked],
        }

    def text(self) -> str:
        share = f"{self.share * 100:.1f}%" if self.share is not None else "n/a"
        line = (
            f"crosswalk: {self.translated:,} of {self.lines:,} charge lines translated ({share}; hold lines "
            "not counted)"
        )
        if self.untranslated:
            line += "; most frequent untranslated: " + ", ".join(f"{k!r} ×{n:,}" for k, n in self.untranslated)
        return line


def apply_crosswalk(ch: pl.DataFrame, crosswalk: Crosswalk) -> tuple[pl.DataFrame, CrosswalkStats]:
    """Add ``statute`` (kept where the export gives one), crosswalk ``level`` (fill/override), ``translated``,
    ``charge_attributes`` (JSON), ``charge_rank`` and one ``__cw_<attribute>`` working column per attribute."""
    entries = crosswalk.entries
    names = sorted({name for e in entries for name in e.attributes})
    # Lookups keyed on each distinct pair (a few thousand at most), joined back on the lines.
    pairs = ch.select("charge_code", "charge_text").unique()
    by_code = {_norm(e.code): (i, e) for i, e in reversed(list(enumerate(entries))) if e.code is not None}
    by_text = {_norm(e.text): (i, e) for i, e in reversed(list(enumerate(entries))) if e.text is not None}
    patterns = [(i, e, re.compile(e.pattern, re.IGNORECASE)) for i, e in enumerate(entries) if e.pattern is not None]
    rank_of = crosswalk.rank.positions() if crosswalk.rank else {}
    rows: dict[str, list[object]] = {
        "charge_code": [],
        "charge_text": [],
        "__cw_entry": [],
        "__cw_statute": [],
        "__cw_level": [],
        "__cw_rank_value": [],
        **{attribute_column(n): [] for n in names},
    }
    for code, text in pairs.iter_rows():
        found: tuple[int, CrosswalkEntry] | None = None
        if code is not None and _norm(code) in by_code:
            found = by_code[_norm(code)]
        elif text is not None and _norm(text) in by_text:
            found = by_text[_norm(text)]
        else:
            subject = text if crosswalk.pattern_field == "charge_text" else code
            if subject is not None:
                found = next(((i, e) for i, e, rx in patterns if rx.search(subject)), None)
        rows["charge_code"].append(code)
        rows["charge_text"].append(text)
        rows["__cw_entry"].append(found[0] if found else None)
        entry = found[1] if found else None
        rows["__cw_statute"].append(entry.statute if entry else None)
        rows["__cw_level"].append(entry.level if entry else None)
        rank_value = None
        if entry is not None and crosswalk.rank is not None:
            by = crosswalk.rank.by
            rank_value = (
                entry.level if by == "level" else entry.statute if by == "statute" else entry.attributes.get(by)
            )
        rows["__cw_rank_value"].append(rank_value)
        for n in names:
            rows[attribute_column(n)].append(entry.attributes.get(n) if entry else None)
    schema = {
        "charge_code": pl.String,
        "charge_text": pl.String,
        "__cw_entry": pl.Int64,
        **{k: pl.String for k in rows if k.startswith("__cw_") and k != "__cw_entry"},
    }
    lookup = pl.DataFrame(rows, schema=schema).with_columns(
        pl.col("__cw_rank_value")
        .str.to_uppercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
        .replace_strict(rank_of, default=None, return_dtype=pl.Int64)
        .alias("charge_rank")
    )
    out = ch.join(lookup, on=["charge_code", "charge_text"], how="left", nulls_equal=True)
    attrs = [pl.col(attribute_column(n)).alias(n) for n in names]
    out = out.with_columns(
        pl.col("__cw_entry").is_not_null().alias("translated"),
        pl.coalesce(pl.col("statute"), pl.col("__cw_statute")).alias("statute"),
        (pl.struct(attrs).struct.json_encode() if attrs else pl.lit(None, dtype=pl.String))
        .alias("charge_attributes")
        .cast(pl.String),
    )
    out = out.with_columns(
        pl.when(pl.col("translated")).then(pl.col("charge_attributes")).otherwise(None).alias("charge_attributes")
    )
    # statistics over the export's offence lines (hold lines are not charges to translate)
    offences = out.filter(pl.col("hold").is_null())
    missing = (
        offences.filter(~pl.col("translated"))
        .select(pl.coalesce(pl.col("charge_text"), pl.col("charge_code")).fill_null("(empty)").alias("k"))
        .get_column("k")
        .value_counts(sort=True)
        .head(_SHOWN)
    )
    unranked: list[tuple[str, int]] = []
    if crosswalk.rank is not None:
        odd = offences.filter(pl.col("__cw_rank_value").is_not_null() & pl.col("charge_rank").is_null())
        unranked = [(str(k), int(n)) for k, n in odd.get_column("__cw_rank_value").value_counts(sort=True).iter_rows()]
    used = set(out.get_column("__cw_entry").drop_nulls().unique().to_list())
    stats = CrosswalkStats(
        lines=offences.height,
        translated=int(offences.get_column("translated").sum()),
        untranslated=[(str(k), int(n)) for k, n in missing.iter_rows()],
        entries=len(entries),
        entries_unused=len(entries) - len(used),
        unranked=unranked,
    )
    return out.drop("__cw_statute", "__cw_rank_value"), stats
