"""Signed checkpoints of the chain head (Ed25519), kept by an auditor outside the database.

The chain alone is tamper-evident, not tamper-proof: whoever can write the tables can delete the last events and
rewrite ``ledger_head`` to match, or rewrite every hash from an altered event on. A checkpoint — the head's
``seq`` and ``hash`` at a time, signed with a key the database's owner does not hold — pins the chain: a later
verification against it finds events removed at or before its ``seq`` (truncation) and any rewrite of an event
up to it (the rewritten hash at ``seq`` no longer matches). Events after the checkpoint are covered by the next one.

A checkpoint file is JSON: ``{"format", "seq", "hash", "at", "public_key", "signature"}``; the signature covers the
RFC 8785 canonical bytes of the other fields. Keys are PEM (PKCS #8 private key, SubjectPublicKeyInfo public key).
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from detainers.ledger._chain import canonical
from detainers.ledger._events import format_utc, parse_utc

__all__ = [
    "FORMAT",
    "Checkpoint",
    "CheckpointError",
    "check_against",
    "generate_keys",
    "load_checkpoint",
    "load_private_key",
    "load_public_key",
    "sign_checkpoint",
]

FORMAT = "detainers-checkpoint/1"


class CheckpointError(ValueError):
    """A key or checkpoint file that cannot be used (unreadable, malformed, or a signature that does not verify)."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: datetime
    public_key: str  # base64 of the raw 32-byte Ed25519 public key
    signature: str  # base64 of the 64-byte signature

    def signed_fields(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seq": self.seq,
            "hash": self.hash,
            "at": format_utc(self.at),
            "public_key": self.public_key,
        }

    def to_json(self) -> str:
        return json.dumps({**self.signed_fields(), "signature": self.signature}, indent=2) + "\n"

    def verify_signature(self, public_key: Ed25519PublicKey | None = None) -> None:
        """Raise :class:`CheckpointError` unless the signature verifies (with ``public_key`` when given: the key
        the auditor holds; else with the key written in the file, which proves integrity but not who signed)."""
        if public_key is not None and _raw_public(public_key) != self.public_key:
            raise CheckpointError("checkpoint was signed with another key than --public-key")
        key = public_key or Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key))
        try:
            key.verify(base64.b64decode(self.signature), canonical(self.signed_fields()))
        except InvalidSignature as error:
            raise CheckpointError("checkpoint signature does not verify (the file was altered)") from error


def _raw_public(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def generate_keys(private_path: Path, public_path: Path) -> str:
    """Write a new Ed25519 key pair (private key readable by its owner only); refuse to overwrite either file.
    Returns the public key (base64, raw)."""
    for path in (private_path, public_path):
        if path.exists():
            raise CheckpointError(f"{path} exists: refusing to overwrite a key")
    if not private_path.parent.is_dir():
        raise CheckpointError(f"{private_path.parent} is not a directory")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(private_pem)
    public = key.public_key()
    public_path.write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return _raw_public(public)


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError as error:
        raise CheckpointError(f"{path}: no such {what}") from error
    except OSError as error:
        raise CheckpointError(f"{path}: cannot read {what} ({error.strerror})") from error


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read(path, "key file"), password=None)
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: not an unencrypted PEM private key") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path}: not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(_read(path, "public key file"))
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: not a PEM public key") from error
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path}: not an Ed25519 public key")
    return key


def sign_checkpoint(key: Ed25519PrivateKey, *, seq: int, hash: str, at: datetime) -> Checkpoint:
    unsigned = Checkpoint(seq, hash, at, _raw_public(key.public_key()), "")
    signature = key.sign(canonical(unsigned.signed_fields()))
    return Checkpoint(seq, hash, at, unsigned.public_key, base64.b64encode(signature).decode())


def load_checkpoint(path: Path) -> Checkpoint:
    """Read and validate a checkpoint file's shape (its signature is checked by :meth:`Checkpoint.verify_signature`)."""
    raw = _read(path, "checkpoint file")
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CheckpointError(f"{path}: not a {FORMAT} file")
        seq, head_hash = data["seq"], data["hash"]
        if type(seq) is not int or seq < 0 or not isinstance(head_hash, str) or len(head_hash) != 64:
            raise CheckpointError(f"{path}: field seq or hash is malformed")
        at = parse_utc(str(data["at"]))
        base64.b64decode(data["public_key"], validate=True)
        base64.b64decode(data["signature"], validate=True)
    except KeyError as error:
        raise CheckpointError(f"{path}: field {error.args[0]} is missing") from error
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        if isinstance(error, CheckpointError):
            raise
        raise CheckpointError(f"{path}: not a valid checkpoint ({error})") from error
    return Checkpoint(seq, head_hash, at, str(data["public_key"]), str(data["signature"]))


def check_against(checkpoint: Checkpoint, *, table_end: int, hash_at_seq: str | None) -> str | None:
    """Why the ledger does not extend ``checkpoint`` (None when it does).

    ``table_end`` is the last ``seq`` in the events table, ``hash_at_seq`` the stored hash of event
    ``checkpoint.seq`` (None when that event is gone). Call it on a chain that verifies: then the stored hash is
    the recomputed one, and a match proves every event up to the checkpoint is the one signed for.
    """
    if checkpoint.seq == 0:
        return None
    if hash_at_seq is None or table_end < checkpoint.seq:
        return (
            f"checkpoint of {format_utc(checkpoint.at)} signed event #{checkpoint.seq}, the ledger ends at "
            f"#{table_end}: events #{table_end + 1}–#{checkpoint.seq} were removed (truncated)"
        )
    if hash_at_seq != checkpoint.hash:
        return (
            f"event #{checkpoint.seq} hashes to {hash_at_seq[:16]}…, the checkpoint of {format_utc(checkpoint.at)} "
            f"signed {checkpoint.hash[:16]}…: the chain was rewritten at or before #{checkpoint.seq}"
        )
    return None
