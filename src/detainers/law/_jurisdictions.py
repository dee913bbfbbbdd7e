"""Jurisdiction paths (``us/ca/los-angeles/lasd``) and the layers they stand for."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Layer", "default_zone", "layers_of", "parse_jurisdiction"]

_PATH = re.compile(r"^[a-z]{2}(/[a-z0-9]+(-[a-z0-9]+)*)*$")
_LEVELS = ("federal", "state", "county", "agency")

# The zone most of each state's people live in. Multi-zone states (TX El Paso, FL panhandle, ...)
# need the case or the facility to name its own zone; the explanation says when this default was used.
_STATE_ZONES = {
    "al": "America/Chicago", "ak": "America/Anchorage", "az": "America/Phoenix", "ar": "America/Chicago",
    "ca": "America/Los_Angeles", "co": "America/Denver", "ct": "America/New_York", "dc": "America/New_York",
    "de": "America/New_York", "fl": "America/New_York", "ga": "America/New_York", "gu": "Pacific/Guam",
    "hi": "Pacific/Honolulu", "ia": "America/Chicago", "id": "America/Boise", "il": "America/Chicago",
    "in": "America/Indiana/Indianapolis", "ks": "America/Chicago", "ky": "America/New_York",
    "la": "America/Chicago", "ma": "America/New_York", "md": "America/New_York", "me": "America/New_York",
    "mi": "America/Detroit", "mn": "America/Chicago", "mo": "America/Chicago", "mp": "Pacific/Saipan",
    "ms": "America/Chicago", "mt": "America/Denver", "nc": "America/New_York", "nd": "America/Chicago",
    "ne": "America/Chicago", "nh": "America/New_York", "nj": "America/New_York", "nm": "America/Denver",
    "nv": "America/Los_Angeles", "ny": "America/New_York", "oh": "America/New_York", "ok": "America/Chicago",
    "or": "America/Los_Angeles", "pa": "America/New_York", "pr": "America/Puerto_Rico", "ri": "America/New_York",
    "sc": "America/New_York", "sd": "America/Chicago", "tn": "America/Chicago", "tx": "America/Chicago",
    "as": "Pacific/Pago_Pago", "um": "Pacific/Midway",
    "ut": "America/Denver", "va": "America/New_York", "vi": "America/St_Thomas", "vt": "America/New_York",
    "wa": "America/Los_Angeles", "wi": "America/Chicago", "wv": "America/New_York", "wy": "America/Denver",
}  # fmt: skip


@dataclass(frozen=True)
class Layer:
    path: str
    level: str  # federal | state | county | agency


def parse_jurisdiction(path: str) -> str:
    """Validate a lower-case jurisdiction path: country/state/county[/agency], words joined by '-'."""
    cleaned = path.strip().strip("/")
    if not _PATH.match(cleaned):
        raise ValueError(
            f"jurisdiction {path!r} is not a lower-case path like us/ca/los-angeles/lasd (words joined by '-')"
        )
    if len(cleaned.split("/")) > len(_LEVELS):
        raise ValueError(f"jurisdiction {path!r} has more than {len(_LEVELS)} levels")
    return cleaned


def layers_of(path: str) -> tuple[Layer, ...]:
    """``us/ca/orange`` -> federal ``us``, state ``us/ca``, county ``us/ca/orange`` (outermost first)."""
    parts = parse_jurisdiction(path).split("/")
    return tuple(Layer("/".join(parts[: i + 1]), _LEVELS[i]) for i in range(len(parts)))


def default_zone(path: str) -> str | None:
    parts = parse_jurisdiction(path).split("/")
    if parts[0] != "us" or len(parts) < 2:
        return None
    return _STATE_ZONES.get(parts[1])
