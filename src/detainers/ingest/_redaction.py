"""FOIA redaction markers become nulls: ``b(6), b(7)c``, ``(b)(6), (b)(7)(c) (b)(7)(e)`` ..."""

from __future__ import annotations

import re
from collections.abc import Collection

import polars as pl

__all__ = ["REDACTION_PATTERN", "is_redaction", "null_redactions"]

# A cell that is nothing but FOIA exemption citations: b(6), (b)(6), b(7)c, (b)(7)(C), (b)(7)(e) ..., joined by
# commas, semicolons, slashes, "and" or spaces, optionally prefixed by "redacted" / "withheld".
_TOKEN = r"\(?b\)?\s*\(\s*[1-9]\s*\)\s*(?:\(?\s*[a-f]\s*\)?)?"
REDACTION_PATTERN = rf"(?i)^\s*(?:redacted|withheld)?\s*[:\-]?\s*{_TOKEN}(?:\s*(?:,|;|/|&|and)?\s*{_TOKEN})*\s*$"
_COMPILED = re.compile(REDACTION_PATTERN)


def is_redaction(value: str | None) -> bool:
    """True when a cell holds only redaction markers.

    >>> is_redaction("(b)(6), (b)(7)(c) (b)(7)(e)"), is_redaction("b(6), b(7)c"), is_redaction("Lifted")
    (True, True, False)
    """
    return value is not None and bool(_COMPILED.match(value))


def null_redactions(
    frame: pl.DataFrame, columns: list[str], *, paren_free: Collection[str] = ()
) -> tuple[pl.DataFrame, dict[str, int]]:
    """Replace redaction-only cells by null in ``columns``; return the frame and the count per column.

    ``paren_free``: columns the caller knows hold no ``(`` in any cell (every redaction marker has one); they are
    not scanned.
    """
    # Cheap literal pre-check: a redaction cell always contains "b(" or "b)" (any case); run the regex only then.
    scan = [name for name in columns if name not in paren_free]
    maybe = (
        frame.select(
            [
                pl.col(name)
                .str.contains_any(["b(", "b)"], ascii_case_insensitive=True)
                .fill_null(False)
                .any()
                .alias(name)
                for name in scan
            ]
        ).row(0)
        if scan
        else ()
    )
    suspects = [name for name, hit in zip(scan, maybe, strict=True) if hit]
    flags = frame.select(
        [pl.col(name).str.contains(REDACTION_PATTERN).fill_null(False).alias(name) for name in suspects]
    )
    counts = {name: int(flags[name].sum()) for name in suspects}
    hit = [name for name, count in counts.items() if count]
    if hit:
        frame = frame.with_columns(
            [pl.when(flags[name]).then(None).otherwise(pl.col(name)).alias(name) for name in hit]
        )
    return frame, {name: count for name, count in counts.items() if count}
