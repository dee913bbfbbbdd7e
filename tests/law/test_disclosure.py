"""Small-cell suppression across every table a reader can ask for: no hidden cell can be worked out from published
ones (checked by linear algebra over every published cell of every table), zeros are listed and hidden."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from detainers.law import SUPPRESS_BELOW, Dimension, SuppressedCounts, suppress_counts

STATUSES = ("received", "active", "lifted", "released", "transferred")
FORMS = ("I-247A", "I-247G", "I-247D", "I-247N")


def _dimensions(jurisdictions: tuple[str, ...]) -> list[Dimension]:
    states = {j: j.split("/")[1].upper() if j.startswith("us/") else j for j in jurisdictions}
    return [
        Dimension("jurisdiction", jurisdictions, {"state": states}),
        Dimension("status", STATUSES),
        Dimension("form", FORMS),
    ]


def _recoverable(result: SuppressedCounts, dimensions: list[Dimension]) -> list[object]:
    """Hidden cells whose value is a linear combination of published cells (the attack by subtraction, in any
    number of steps across any tables)."""
    base = list(itertools.product(*(d.categories for d in dimensions)))

    def vector(key: tuple[tuple[str | None, ...], tuple[str | None, ...]]) -> np.ndarray:
        spec, cats = key
        return np.array(
            [
                all(
                    level is None or d.at(level, b) == c
                    for d, level, b, c in zip(dimensions, spec, row, cats, strict=True)
                )
                for row in base
            ],
            dtype=float,
        )

    published = np.array([vector(k) for k in result.published()]) if result.published() else np.zeros((0, len(base)))
    rank = np.linalg.matrix_rank(published) if len(published) else 0
    return [k for k in result.hidden if np.linalg.matrix_rank(np.vstack([published, vector(k)])) == rank]


def test_the_leak_by_subtraction_is_closed() -> None:
    """The old API: by=form hid I-247G (3) but showed I-247A (12) and the total (15)."""
    jurisdictions = ("us/ca/los-angeles",)
    counts = {("us/ca/los-angeles", "active", "I-247A"): 12, ("us/ca/los-angeles", "active", "I-247G"): 3}
    result = suppress_counts(counts, _dimensions(jurisdictions))
    table = result.table(["form"])
    shown = {group["form"]: n for group, n in table.cells}
    assert shown["I-247G"] is None
    assert table.total is not None and shown["I-247A"] is not None
    # the hidden cells of the table are never one alone: subtracting leaves a sum over several of them
    assert sum(n is None for n in shown.values()) >= 2
    assert set(shown) == set(FORMS), "empty forms are listed (and hidden), not left out"
    assert _recoverable(result, _dimensions(jurisdictions)) == []


def test_status_and_status_by_form_together_reveal_nothing() -> None:
    """by=status and by=status&by=form: a status row's total minus its published form cells must not pin a cell."""
    jurisdictions = ("us/tx/harris", "us/tx/travis")
    counts = {
        ("us/tx/harris", "active", "I-247A"): 40,
        ("us/tx/harris", "active", "I-247G"): 4,
        ("us/tx/harris", "released", "I-247A"): 25,
        ("us/tx/travis", "released", "I-247D"): 13,
        ("us/tx/travis", "lifted", "I-247A"): 12,
    }
    dims = _dimensions(jurisdictions)
    result = suppress_counts(counts, dims)
    by_status = {g["status"]: n for g, n in result.table(["status"]).cells}
    by_status_form = {(g["status"], g["form"]): n for g, n in result.table(["status", "form"]).cells}
    assert by_status_form[("active", "I-247G")] is None
    if by_status["active"] is not None:
        hidden_in_row = [f for f in FORMS if by_status_form[("active", f)] is None]
        assert len(hidden_in_row) >= 2
    assert len(by_status_form) == len(STATUSES) * len(FORMS), "every combination is listed, zeros included"
    assert _recoverable(result, dims) == []


def test_zero_cells_look_like_small_ones() -> None:
    counts = {("us/ca/orange", "active", "I-247A"): 30, ("us/ca/orange", "released", "I-247A"): 20}
    result = suppress_counts(counts, _dimensions(("us/ca/orange",)))
    by_status = {g["status"]: n for g, n in result.table(["status"]).cells}
    assert by_status == {"received": None, "active": 30, "lifted": None, "released": 20, "transferred": None}


def test_a_total_under_the_threshold_hides_everything() -> None:
    counts = {("us/ca/orange", "active", "I-247A"): 6, ("us/ca/orange", "released", "I-247A"): 4}
    result = suppress_counts(counts, _dimensions(("us/ca/orange",)))
    for by in (["status"], ["form"], ["state"], ["jurisdiction", "status", "form"]):
        table = result.table(by)
        assert table.total is None and all(n is None for _, n in table.cells)


def test_states_and_their_jurisdictions_cannot_be_subtracted() -> None:
    """by=state beside by=jurisdiction: a state's total minus its other jurisdictions must not pin the small one."""
    jurisdictions = ("us/ca/los-angeles", "us/ca/orange", "us/tx/harris")
    counts = {
        ("us/ca/los-angeles", "active", "I-247A"): 50,
        ("us/ca/orange", "active", "I-247A"): 5,
        ("us/tx/harris", "active", "I-247A"): 30,
    }
    dims = _dimensions(jurisdictions)
    result = suppress_counts(counts, dims)
    by_place = {g["jurisdiction"]: n for g, n in result.table(["jurisdiction"]).cells}
    by_state = {g["state"]: n for g, n in result.table(["state"]).cells}
    assert by_place["us/ca/orange"] is None
    assert by_state["CA"] is None or by_place["us/ca/los-angeles"] is None
    assert _recoverable(result, dims) == []


@pytest.mark.parametrize("seed", range(8))
def test_random_desks_leak_nothing_in_any_combination(seed: int) -> None:
    rng = random.Random(seed)
    jurisdictions = ("us/ca/los-angeles", "us/ca/orange", "us/tx/harris", "us/tx/travis", "unlinked")[
        : rng.randint(1, 5)
    ]
    dims = _dimensions(jurisdictions)
    counts: dict[tuple[str, ...], int] = {}
    for _ in range(rng.choice((15, 60, 250, 900))):
        key = (
            rng.choice(jurisdictions),
            rng.choices(STATUSES, (1, 6, 1, 3, 1))[0],
            rng.choices(FORMS, (9, 2, 1, 1))[0],
        )
        counts[key] = counts.get(key, 0) + 1
    result = suppress_counts(counts, dims)
    for (spec, _cats), value in result.values.items():
        if value < SUPPRESS_BELOW:
            assert (spec, _cats) in result.hidden, "every cell under the threshold is hidden"
    assert _recoverable(result, dims) == []
    total = sum(counts.values())
    for by in (["status"], ["state", "form"], ["jurisdiction", "status", "form"]):
        table = result.table(by)
        assert table.total == (total if total >= SUPPRESS_BELOW else None)
        shown = [n for _, n in table.cells if n is not None]
        assert all(n >= SUPPRESS_BELOW for n in shown)


def test_bad_input_is_named() -> None:
    dims = _dimensions(("us/ca/orange",))
    with pytest.raises(ValueError, match="one listed category"):
        suppress_counts({("us/ca/nowhere", "active", "I-247A"): 3}, dims)
    result = suppress_counts({("us/ca/orange", "active", "I-247A"): 30}, dims)
    with pytest.raises(ValueError, match="not both"):
        result.table(["state", "jurisdiction"])
    with pytest.raises(ValueError, match="cannot group by 'name'"):
        result.table(["name"])
