"""The hash chain: SHA-256 over the RFC 8785 canonical encoding of each event and the hash before it.

Tamper-evident, not tamper-proof: anyone who can rewrite the whole table can rewrite the chain, so publish the
head hash (``detainers audit verify`` prints it) somewhere the database's owner cannot edit.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import rfc8785

__all__ = [
    "GENESIS",
    "ChainBreak",
    "VerifyReport",
    "canonical",
    "canonical_and_text",
    "event_digest",
    "event_hash",
    "hash_body",
    "verify_events",
]

GENESIS = "0" * 64


_SAFE_INT = 2**53


class _NeedsFullCanonicalisation(Exception):
    pass


def _plain(value: Any) -> Any:
    """``value`` with its integral floats as ints (call only after :func:`_integral_floats` accepted it)."""
    kind = type(value)
    if kind is dict:
        return {key: item if type(item) is str else _plain(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [item if type(item) is str else _plain(item) for item in value]
    if kind is float:
        return int(value)
    return value


def _integral_floats(value: Any) -> bool:
    """Whether ``value`` holds integral floats (to be written as ints); raise when only the full RFC 8785
    serialiser gets it right. An iterative walk with exact type checks: the common leaves cost one comparison."""
    found = False
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or item is None or kind is bool:
            continue
        if kind is dict:
            for key, child in item.items():
                if type(key) is not str or not key.isascii():
                    raise _NeedsFullCanonicalisation
                if type(child) is not str:
                    stack.append(child)
        elif kind is list or kind is tuple:
            stack.extend(item)
        elif kind is int:
            if not -_SAFE_INT < item < _SAFE_INT:
                raise _NeedsFullCanonicalisation
        elif kind is float and item.is_integer() and -_SAFE_INT < item < _SAFE_INT:
            found = True
        elif isinstance(item, str | bool) or (isinstance(item, int) and -_SAFE_INT < item < _SAFE_INT):
            continue  # str/int subclasses (enums): json.dumps writes their plain values
        else:
            raise _NeedsFullCanonicalisation
    return found


def canonical(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme) bytes of a JSON value.

    For values whose keys are ASCII and whose numbers are integers (the ledger's usual case), ``json.dumps`` with
    sorted keys and no whitespace yields the same bytes much faster; anything else (fractional floats, non-ASCII
    keys, integers beyond 2**53) goes through the ``rfc8785`` package. A property test checks the two agree.
    """
    try:
        plain = _plain(value) if _integral_floats(value) else value
    except _NeedsFullCanonicalisation:
        data: bytes = rfc8785.dumps(value)
        return data
    return json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def canonical_and_text(value: Any) -> tuple[bytes, str]:
    """(RFC 8785 bytes, the ledger's stored JSON text) of ``value``, serialised once when the two coincide (no
    integral floats, ASCII keys: the usual case). The stored text keeps floats as given; the hash never sees it."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        if not _integral_floats(value):
            return text.encode(), text
    except _NeedsFullCanonicalisation:
        pass
    return canonical(value), text


def _string(value: str | None) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()


def event_digest(
    *,
    seq: int,
    stream_id: str,
    version: int,
    type: str,
    recorded_at: str,
    actor: str,
    authority: str,
    subject_key: str | None,
    payload: bytes,
    rules: bytes,
    prev_hash: str,
) -> str:
    """:func:`event_hash` of :func:`hash_body` from the canonical bytes of ``payload`` and ``rules`` (see
    :func:`canonical_and_text`), assembled in RFC 8785 key order without walking them again. A property test
    checks it against ``event_hash(hash_body(...))``, which :func:`verify_events` uses."""
    if not (-_SAFE_INT < seq < _SAFE_INT and -_SAFE_INT < version < _SAFE_INT):
        raise ValueError("seq and version must be within ±2**53")
    data = b"".join(
        (
            b'{"actor":',
            _string(actor),
            b',"at":',
            _string(recorded_at),
            b',"authority":',
            _string(authority),
            b',"payload":',
            payload,
            b',"prev":',
            _string(prev_hash),
            b',"rules":',
            rules,
            b',"seq":',
            str(seq).encode(),
            b',"stream":',
            _string(stream_id),
            b',"subject":',
            _string(subject_key),
            b',"type":',
            _string(type),
            b',"version":',
            str(version).encode(),
            b"}",
        )
    )
    return hashlib.sha256(data).hexdigest()


def hash_body(
    *,
    seq: int,
    stream_id: str,
    version: int,
    type: str,
    recorded_at: str,
    actor: str,
    authority: str,
    subject_key: str | None,
    payload: dict[str, Any],
    rules: Iterable[dict[str, Any]],
    prev_hash: str,
) -> dict[str, Any]:
    """Everything an event's hash covers, including the previous hash."""
    return {
        "seq": seq,
        "stream": stream_id,
        "version": version,
        "type": type,
        "at": recorded_at,
        "actor": actor,
        "authority": authority,
        "subject": subject_key,
        "payload": payload,
        "rules": list(rules),
        "prev": prev_hash,
    }


def event_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(body)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    """The first event whose stored hash or link does not match what is recomputed."""

    seq: int
    stream_id: str
    version: int
    type: str
    reason: str

    def describe(self) -> str:
        return f"event #{self.seq} ({self.type}, stream {self.stream_id} v{self.version}): {self.reason}"


@dataclass(frozen=True)
class VerifyReport:
    checked: int
    head_hash: str
    head_seq: int
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def verify_events(rows: Iterable[Any], *, head_seq: int | None = None, head_hash: str | None = None) -> VerifyReport:
    """Recompute the chain over ``rows`` (in seq order) and name the first event that does not match.

    ``head_seq``/``head_hash`` are the chain-head record; a missing tail (rows deleted at the end) shows there.
    """
    prev = GENESIS
    expected_seq = 1
    checked = 0
    last: Any = None
    for row in rows:
        last = row
        if row.seq != expected_seq:
            return VerifyReport(
                checked,
                prev,
                expected_seq - 1,
                ChainBreak(row.seq, row.stream_id, row.version, row.type, f"expected event #{expected_seq} here"),
            )
        if row.prev_hash != prev:
            return VerifyReport(
                checked,
                prev,
                row.seq - 1,
                ChainBreak(row.seq, row.stream_id, row.version, row.type, "previous-hash link does not match"),
            )
        body = hash_body(
            seq=row.seq,
            stream_id=row.stream_id,
            version=row.version,
            type=row.type,
            recorded_at=row.recorded_at,
            actor=row.actor,
            authority=row.authority,
            subject_key=row.subject_key,
            payload=row.payload,
            rules=row.rules,
            prev_hash=prev,
        )
        recomputed = event_hash(body)
        if recomputed != row.hash:
            return VerifyReport(
                checked,
                prev,
                row.seq - 1,
                ChainBreak(row.seq, row.stream_id, row.version, row.type, "content does not match its hash (altered)"),
            )
        prev = row.hash
        expected_seq += 1
        checked += 1
    final_seq = expected_seq - 1
    if head_seq is not None and (head_seq != final_seq or (head_hash is not None and head_hash != prev)):
        where = last
        return VerifyReport(
            checked,
            prev,
            final_seq,
            ChainBreak(
                final_seq + 1 if head_seq > final_seq else final_seq,
                where.stream_id if where is not None else "-",
                where.version if where is not None else 0,
                where.type if where is not None else "-",
                f"chain head records event #{head_seq}, the table ends at #{final_seq} (events removed?)",
            ),
        )
    return VerifyReport(checked, prev, final_seq, None)
