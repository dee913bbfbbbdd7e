"""What-if replay: one population, two policies, the differences per facility and year.

``PACK[@DATE]`` applies a jurisdiction's packs to every case (the facility's zone and the case's own facts
kept), optionally with the versions in force on one date; ``recorded`` keeps each case's own jurisdiction.
"""

from detainers.replay._compare import MEASURES, Comparison, SampleCase, compare
from detainers.replay._data import DataError, open_data
from detainers.replay._policy import AS_RECORDED, Policy, PolicyError, parse_policy
from detainers.replay._render import render, to_csv, to_json_dict, write_parquet
from detainers.replay._store import open_store

__all__ = [
    "AS_RECORDED",
    "Comparison",
    "DataError",
    "MEASURES",
    "Policy",
    "PolicyError",
    "SampleCase",
    "compare",
    "open_data",
    "open_store",
    "parse_policy",
    "render",
    "to_csv",
    "to_json_dict",
    "write_parquet",
]
