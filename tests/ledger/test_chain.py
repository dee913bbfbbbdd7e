from __future__ import annotations

import hashlib

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
