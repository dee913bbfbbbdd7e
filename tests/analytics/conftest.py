"""Shared loaders for analytics tests: the real data under tests/data/real, read once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from detainers.ingest import DetainerLoad, JailLoad, load_detainers, load_jail, load_mapping

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
MAPPINGS = Path(__file__).resolve().parents[2] / "examples" / "mappings"
TRAVIS = REAL / "travis_county_tx"
PA = REAL / "ice_detainers_pa_fy2008_2015" / "pa_detainers.csv"
NATIONAL = REAL / "ice_detainers_national_fy2008_2015_aggregates"


@pytest.fixture(scope="session")
def pa() -> DetainerLoad:
    return load_detainers(PA, fmt="npr")


@pytest.fixture(scope="session")
def travis() -> JailLoad:
    return load_jail(
        load_mapping(MAPPINGS / "travis_county_tx.yaml"),
        bookings=TRAVIS / "travis_ice_detainer_bookings.csv",
        charges=TRAVIS / "travis_ice_detainer_charges.csv",
    )
