"""Synthetic jail populations for replay and benchmarks: seeded, calibrated (docs/synth.md), obviously fake.

``generate`` yields the bulk tables (:mod:`detainers.law.bulk`) chunk by chunk; ``write_population`` streams them
to Parquet with provenance metadata and a README saying the data are synthetic.
"""

from detainers.synth._calibration import detainer_share, fiscal_year
from detainers.synth._facilities import Facility, facilities_for
from detainers.synth._generate import SynthConfig, facilities_table, generate
from detainers.synth._national import state_weights
from detainers.synth._write import NOTICE, SynthSummary, provenance, write_population

__all__ = [
    "NOTICE",
    "Facility",
    "SynthConfig",
    "SynthSummary",
    "detainer_share",
    "facilities_for",
    "facilities_table",
    "fiscal_year",
    "generate",
    "provenance",
    "state_weights",
    "write_population",
]
