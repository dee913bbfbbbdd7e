from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from detainers.ledger import GENESIS, canonical, event_hash
from detainers.ledger._chain import canonical_and_text, event_digest, hash_body


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


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "seq": st.integers(min_value=1, max_value=2**53 - 1),
            "version": st.integers(min_value=1, max_value=2**53 - 1),
            "stream_id": st.text(max_size=12),
            "type": st.text(max_size=12),
            "recorded_at": st.text(max_size=30),
            "actor": st.text(max_size=12),
            "authority": st.text(max_size=8),
            "subject_key": st.none() | st.text(max_size=12),
            "prev_hash": st.text(max_size=64),
        }
    ),
    st.dictionaries(st.text(max_size=6), json_values, max_size=4),
    st.lists(st.dictionaries(st.text(max_size=6), json_values, max_size=3), max_size=3),
)
def test_the_append_path_digest_equals_the_verified_one(
    fields: dict[str, Any], payload: dict[str, Any], rules: list[dict[str, Any]]
) -> None:
    """The recorder hashes from canonical pieces; verify recomputes from the whole body: always the same hash."""
    try:
        expected = event_hash(hash_body(**fields, payload=payload, rules=rules))
    except Exception:  # noqa: BLE001 - what the canonical form refuses, the append path must refuse too
        with pytest.raises(Exception):  # noqa: B017
            event_digest(**fields, payload=canonical_and_text(payload)[0], rules=canonical_and_text(rules)[0])
        return
    payload_bytes, payload_text = canonical_and_text(payload)
    assert event_digest(**fields, payload=payload_bytes, rules=canonical_and_text(rules)[0]) == expected
    # the stored text is what the ledger always stored: the payload as given, keys sorted, floats untouched
    assert payload_text == json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
