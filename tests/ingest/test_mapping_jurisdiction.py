"""A mapping's jurisdiction is checked against the registry: a typo is refused with the suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from detainers.cli import app
from detainers.ingest import MappingError, load_mapping


def _travis(examples: Path) -> dict[str, object]:
    data = yaml.safe_load((examples / "travis_county_tx.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_a_typo_in_the_mapping_jurisdiction_is_refused(examples: Path) -> None:
    data = _travis(examples) | {"jurisdiction": "us/ca/los-angles/lasd"}
    with pytest.raises(MappingError) as info:
        load_mapping(data)
    message = str(info.value)
    assert "jurisdiction: unknown jurisdiction 'us/ca/los-angles/lasd'" in message
    assert "did you mean us/ca/los-angeles/lasd?" in message and "Value error" not in message


def test_the_mapping_keeps_the_canonical_id(examples: Path) -> None:
    assert load_mapping(_travis(examples) | {"jurisdiction": "US/TX/Travis/"}).jurisdiction == "us/tx/travis"


def test_check_mapping_says_no_to_a_typo(examples: Path, tmp_path: Path) -> None:
    text = (examples / "travis_county_tx.yaml").read_text(encoding="utf-8")
    assert "jurisdiction: us/tx/travis\n" in text
    typo = tmp_path / "typo.yaml"
    typo.write_text(text.replace("jurisdiction: us/tx/travis\n", "jurisdiction: us/tx/travs\n"), encoding="utf-8")
    result = CliRunner().invoke(app, ["import", "check-mapping", str(typo)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "did you mean us/tx/travis?" in " ".join(result.output.split())
    good = CliRunner().invoke(app, ["import", "check-mapping", str(examples / "travis_county_tx.yaml")])
    assert good.exit_code == 0 and good.output.startswith("ok ")


def test_concordance_refuses_a_typo_in_its_jurisdiction(real: Path, examples: Path) -> None:
    travis = real / "travis_county_tx"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "concordance",
            "--mapping",
            str(examples / "travis_county_tx.yaml"),
            "--bookings",
            str(travis / "travis_ice_detainer_bookings.csv"),
            "--charges",
            str(travis / "travis_ice_detainer_charges.csv"),
            "--jurisdiction",
            "us/tx/travs",
        ],
    )
    assert result.exit_code == 2 and "did you mean us/tx/travis?" in " ".join(result.output.split())
