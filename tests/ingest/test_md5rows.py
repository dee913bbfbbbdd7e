"""The compiled row hashes (``_md5rows``): hashlib's md5 of the joined cells for every Arrow text layout, with and
without AVX2 lanes, and the same digests as the DuckDB route."""

from __future__ import annotations

import hashlib
import random

import polars as pl
import pyarrow as pa
import pytest

from detainers.ingest import _provenance

_CHARS = 'abc é\x1f,"日本\n'


def _want(columns: list[list[str | None]], rows: int) -> list[bytes]:
    return [hashlib.md5("\x1f".join(column[row] or "" for column in columns).encode()).digest() for row in range(rows)]


def _native(arrays: list[pa.Array], lanes: bool) -> list[bytes]:
    native = _provenance._md5rows
    assert native is not None
    rows = len(arrays[0])
    specs = [_provenance._buffers(array) for array in arrays]
    out = bytearray(16 * rows)
    native.md5_join([spec for spec in specs if spec is not None], rows, b"\x1f", out, lanes)
    return [bytes(out[16 * row : 16 * row + 16]) for row in range(rows)]


def test_the_extension_is_built_in_this_install() -> None:
    """`make install` compiles it (hatch_build.py); without it imports still work, hashing at three times the CPU."""
    assert _provenance._md5rows is not None


@pytest.mark.parametrize("lanes", [True, False])
@pytest.mark.parametrize("kind", [pa.string(), pa.large_string(), pa.string_view()])
def test_digests_equal_hashlib_for_every_layout(kind: pa.DataType, lanes: bool) -> None:
    """Random cells (nulls, empty, multi-byte, the separator itself, rows from 0 to 40 blocks), sliced arrays."""
    rng = random.Random(20151001)
    for _trial in range(120):
        width, rows = rng.randint(1, 6), rng.randint(0, 40)
        columns = [
            [
                None
                if rng.random() < 0.15
                else "".join(rng.choice(_CHARS) for _ in range(rng.choice([0, 1, 11, 12, 13, 55, 56, 64, 200, 2600])))
                for _ in range(rows)
            ]
            for _ in range(width)
        ]
        start = rng.randint(0, rows)
        arrays = [pa.array(column, type=kind).slice(start) for column in columns]
        assert _native(arrays, lanes) == _want(columns, rows)[start:]


def test_native_and_duckdb_routes_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    """row_hash_array gives the same bytes with the extension and through DuckDB (the route without it)."""
    rng = random.Random(7)
    frame = pl.DataFrame(
        {
            "a": [None if rng.random() < 0.2 else f"cell {rng.random()}" * rng.randint(0, 9) for _ in range(3000)],
            "b": [rng.choice(["", "é", None, "(b)(6)", "x" * 70]) for _ in range(3000)],
            "c": [None] * 3000,
        }
    )
    frame = pl.concat([frame.slice(0, 1000), frame.slice(1000)], rechunk=False)  # two chunks
    native = _provenance.row_hash_array(frame, ["a", "b", "c"])
    monkeypatch.setattr(_provenance, "_md5rows", None)
    duck = _provenance.row_hash_array(frame, ["a", "b", "c"])
    assert native.to_pylist() == duck.to_pylist() == _want([frame[c].to_list() for c in "abc"], frame.height)
