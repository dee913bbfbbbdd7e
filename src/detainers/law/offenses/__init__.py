"""Offense tables as data (YAML in `tables/`) and the statute matcher.

Tables list statutes with tags (`ca_serious`, `ca_7282_5_a3`, ...), provenance and evidence tags; `classify` turns a
free-text statute into the tags that apply, and says when a statute is unknown rather than treating it as a non-match.
See docs/offenses.md.
"""

from detainers.law.offenses._classify import (
    TABLES_DIR,
    Classification,
    Match,
    OffenseRow,
    OffenseTables,
    classify,
    load_offense_tables,
    load_offense_tables_from,
)
from detainers.law.offenses._doj import doj_known_sections, read_doj_rows
from detainers.law.offenses._statute import StatuteRef, parse_statute
from detainers.law.offenses._tables import Citation, ConductItem, OffenseEntry, OffenseTable, OffenseTableError

__all__ = [
    "Citation",
    "Classification",
    "ConductItem",
    "Match",
    "OffenseEntry",
    "OffenseRow",
    "OffenseTable",
    "OffenseTableError",
    "OffenseTables",
    "StatuteRef",
    "TABLES_DIR",
    "classify",
    "doj_known_sections",
    "load_offense_tables",
    "load_offense_tables_from",
    "parse_statute",
    "read_doj_rows",
]
