"""What-if replay: one population, two policies, the differences per facility and year.

``PACK[@DATE]`` applies a jurisdiction's packs to every case (the facility's zone and the case's own facts
kept), optionally with the versions in force on one date; ``recorded`` (alias ``actual``) keeps each case's own
jurisdiction. Results per facility or per state and year; large populations are decided in chunks.
"""

from detainers.replay._chunks import Chunk, plan_chunks
from detainers.replay._compare import GROUPINGS, MEASURES, Comparison, Grouping, SampleCase, compare
from detainers.replay._data import DataError, open_data
from detainers.replay._policy import ACTUAL, AS_RECORDED, Policy, PolicyError, parse_policy
from detainers.replay._render import render, to_csv, to_json_dict, write_parquet
from detainers.replay._store import open_store

__all__ = [
    "ACTUAL",
    "AS_RECORDED",
    "GROUPINGS",
    "MEASURES",
    "Chunk",
    "Comparison",
    "DataError",
    "Grouping",
    "Policy",
    "PolicyError",
    "SampleCase",
    "compare",
    "open_data",
    "open_store",
    "parse_policy",
    "plan_chunks",
    "render",
    "to_csv",
    "to_json_dict",
    "write_parquet",
]
