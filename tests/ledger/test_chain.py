from __future__ import annotations

import hashlib

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from detainers.ledger import GENESIS, canonical, event_hash
from detainers.ledger._chain import hash_body


def body(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "seq": 1,
        "stream_id": "detainer-x",
        "version": 1,
        "type": "detainer_received",
        "recorded_at": "2024-03-08T19:00:00.000000Z",
        "actor": "clerk:a",
        "authority": "form",
        "subject_key": None,
        "payload": {"office": "ERO-LOS", "n": 1.5},
        "rules": [],
        "prev_hash": GENESIS,
    }
    base.update(changes)
    return hash_body(**base)  # type: ignore[arg-type]


def test_canonical_encoding_is_rfc8785() -> None:
    assert canonical({"b": 1, "a": [True, None, 1.0, "é"]}) == b'{"a":[true,null,1,"\xc3\xa9"],"b":1}'


def test_hash_covers_every_field_and_the_previous_hash() -> None:
    reference = event_hash(body())
    assert reference == hashlib.sha256(canonical(body())).hexdigest()
    for change in (
        {"seq": 2},
        {"actor": "clerk:b"},
        {"authority": "api"},
        {"payload": {"office": "ERO-LOS", "n": 1.25}},
        {"rules": [{"id": "r"}]},
        {"prev_hash": "1" * 64},
        {"subject_key": "s_1"},
        {"recorded_at": "2024-03-08T19:00:00.000001Z"},
    ):
        assert event_hash(body(**change)) != reference, change


def test_key_order_does_not_matter() -> None:
    a = body(payload={"x": 1, "y": 2})
    b = body(payload={"y": 2, "x": 1})
    assert event_hash(a) == event_hash(b)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=-(2.0**60), max_value=2.0**60).map(float.__floor__).map(float)  # integral floats
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_fast_canonical_path_equals_rfc8785(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except Exception:  # noqa: BLE001 - values rfc8785 refuses (lone surrogates) must be refused by ours too
        with pytest.raises(Exception):  # noqa: B017
            canonical(value)
        return
    assert canonical(value) == expected
