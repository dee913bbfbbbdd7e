"""Reading free-text statute citations into a canonical `StatuteRef`.

Jail and court data write the same statute many ways (`PC 245(a)(1)`, `245(A)(1) PC`, `Penal Code § 245(a)(1)`).
The parser accepts those shapes and nothing cleverer: anything it cannot read returns None, so the caller can say
"unknown statute" instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

# Canonical code abbreviations follow the CA DOJ CJIS table ("Offense Type of Statute CD") where one exists,
# so California refs join the DOJ dictionary without a mapping step.
_CODE_ALIASES: dict[str, tuple[str, ...]] = {
    "PC": ("penal code", "pen. code", "pen code", "p.c.", "p. c.", "pc", "cpc", "tpc", "pen"),
    "PL": ("penal law", "pen. law", "p.l.", "pl", "nypl"),
    "HS": (
        "health and safety code",
        "health & safety code",
        "health & saf. code",
        "health and saf. code",
        "h&s code",
        "h & s",
        "h&sc",
        "h&s",
        "hsc",
        "hs",
    ),
    "VC": ("vehicle code", "veh. code", "veh code", "v.c.", "cvc", "vc"),
    "WI": ("welfare and institutions code", "welf. & inst. code", "w&i code", "w & i", "w&i", "wic", "wi"),
    "BP": ("business and professions code", "bus. & prof. code", "b&p code", "b & p", "b&p", "bp"),
    "GC": ("government code", "gov. code", "gov code", "gc"),
    "FG": ("fish and game code", "fish & game code", "fg"),
}
# The other CA DOJ code types, accepted by abbreviation only, so the whole DOJ dictionary is addressable.
for _abbr in ("CC", "CI", "CP", "EC", "EL", "FA", "FC", "HN", "IC", "LC", "PR", "PU", "RT", "SH", "UI", "WC"):
    _CODE_ALIASES[_abbr] = (_abbr.lower(),)
_ALIAS_TO_CODE = {alias: code for code, aliases in _CODE_ALIASES.items() for alias in aliases}

# Codes that only one state uses: the state follows from the code.
_CODE_STATE = {"RCW": "WA", "ORS": "OR", "CRS": "CO", "ILCS": "IL", "OCGA": "GA", "USC": "US"}
# A bare state prefix with no code ("GA 40-6-48") is read with that state's only general code.
_STATE_DEFAULT_CODE = {"GA": "OCGA", "WA": "RCW", "OR": "ORS", "CO": "CRS"}

_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK "
    "OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split()
)
_STATE_NAMES = {
    "california": "CA",
    "calif.": "CA",
    "cal.": "CA",
    "texas": "TX",
    "tex.": "TX",
    "new york": "NY",
    "n.y.": "NY",
    "illinois": "IL",
    "ill.": "IL",
    "washington": "WA",
    "wash.": "WA",
    "oregon": "OR",
    "or.": "OR",
    "colorado": "CO",
    "colo.": "CO",
    "georgia": "GA",
    "ga.": "GA",
}

_SECTION = r"\d+[A-Za-z]{0,2}(?:[.\-]\d+[A-Za-z]?)*"
_SUBS = r"(?:\s*\(\s*[A-Za-z0-9]{1,6}\s*\))*"
_TAIL = r"(?=$|[\s,;:\-–—/])"


def _alt(options: list[str]) -> str:
    # Longest first, so "penal code" wins over "pc"-like prefixes.
    return "|".join(re.escape(o) for o in sorted(options, key=len, reverse=True))


_CODE_RE = _alt(list(_ALIAS_TO_CODE))
_STATE_RE = _alt(list(_STATE_NAMES)) + r"|[A-Za-z]{2}"

_PREFIX = re.compile(
    rf"^(?:(?P<state>{_STATE_RE})\s+)?(?P<code>{_CODE_RE})\s*(?:§+|sec\.|section)?\s*"
    rf"(?P<section>{_SECTION})(?P<subs>{_SUBS}){_TAIL}",
    re.IGNORECASE,
)
_SUFFIX = re.compile(
    rf"^(?:(?P<state>{_STATE_RE})\s+)?(?P<section>{_SECTION})(?P<subs>{_SUBS})\s*(?P<code>{_CODE_RE})"
    rf"(?=$|[\s,;:\-–—])",
    re.IGNORECASE,
)
_ILCS = re.compile(
    rf"^(?:IL\s+)?(?P<chapter>\d+)\s*ILCS\s*(?P<act>\d+)\s*/\s*(?P<section>{_SECTION})(?P<subs>{_SUBS}){_TAIL}",
    re.IGNORECASE,
)
_USC = re.compile(
    rf"^(?P<title>\d+)\s*U\.?\s?S\.?\s?C\.?(?:A\.?)?\s*(?:§+|sec\.)?\s*(?P<section>{_SECTION})(?P<subs>{_SUBS}){_TAIL}",
    re.IGNORECASE,
)
_SINGLE_STATE_CODE = re.compile(
    rf"^(?:(?P<state>[A-Za-z]{{2}})\s+)?(?P<code>RCW|ORS|C\.?R\.?S\.?|O\.?C\.?G\.?A\.?)\s*(?:§+|sec\.)?\s*"
    rf"(?P<section>{_SECTION})(?P<subs>{_SUBS}){_TAIL}",
    re.IGNORECASE,
)
_BARE_STATE = re.compile(
    rf"^(?P<state>GA|WA|OR|CO)\s+(?:§+\s*)?(?P<section>{_SECTION})(?P<subs>{_SUBS}){_TAIL}", re.IGNORECASE
)
_SUB_ITEM = re.compile(r"\(\s*([A-Za-z0-9]{1,6})\s*\)")


@dataclass(frozen=True, slots=True)
class StatuteRef:
    """A statute citation in canonical form.

    `subdivisions` are lower-cased: a position in the tree never holds both `(a)` and `(A)`, and sources disagree on
    case (CA DOJ writes `245(A)(1)`). `title` carries the part of the citation that precedes the section in codes
    that need it (ILCS chapter/act `720/5`, U.S. Code title `8`).
    """

    state: str | None
    code: str | None
    section: str
    subdivisions: tuple[str, ...] = ()
    title: str | None = None

    @property
    def key_section(self) -> str:
        """Section qualified by `title`: the index key, unique within (state, code)."""
        return f"{self.title}:{self.section}" if self.title else self.section

    @property
    def key(self) -> tuple[str | None, str | None, str]:
        return (self.state, self.code, self.key_section)

    @property
    def subdivision_text(self) -> str:
        return "".join(f"({s})" for s in self.subdivisions)

    def is_within(self, other: StatuteRef) -> bool:
        """True if `self` is `other` or below it in the subdivision tree (`PC 245(a)(1)` is within `PC 245`)."""
        return self.key == other.key and self.subdivisions[: len(other.subdivisions)] == other.subdivisions

    def __str__(self) -> str:
        body = f"{self.section}{self.subdivision_text}"
        if self.code == "ILCS" and self.title:
            chapter, _, act = self.title.partition("/")
            cited = f"{chapter} ILCS {act}/{body}"
        elif self.code == "USC" and self.title:
            cited = f"{self.title} USC {body}"
        else:
            cited = f"{self.code} {body}" if self.code else body
        return f"{self.state} {cited}" if self.state and self.state != "US" else cited


def _subs(text: str | None) -> tuple[str, ...]:
    return tuple(m.lower() for m in _SUB_ITEM.findall(text or ""))


def _state(token: str | None, default_state: str | None) -> str | None | Literal[False]:
    """Resolve a state token; returns False when the token is present but not a state."""
    if token is None:
        return default_state
    low = token.lower()
    if low in _STATE_NAMES:
        return _STATE_NAMES[low]
    up = token.upper()
    return up if up in _STATES else False


def _section(section: str, code: str | None) -> str:
    # RCW titles are cited upper-case (9A.56.050); elsewhere letter suffixes are lower-case (496a, 288a).
    return section.upper() if code == "RCW" else section.lower()


@lru_cache(maxsize=65536)
def parse_statute(text: str, *, default_state: str | None = None) -> StatuteRef | None:
    """Read a statute citation from free text; None when it cannot be read. Never raises on strings."""
    if not isinstance(text, str):
        return None
    s = " ".join(text.replace("\u00a0", " ").split()).strip(" .,;")
    if not s:
        return None
    default = default_state.upper() if default_state else None

    if m := _ILCS.match(s):
        return StatuteRef("IL", "ILCS", _section(m["section"], "ILCS"), _subs(m["subs"]), f"{m['chapter']}/{m['act']}")
    if m := _USC.match(s):
        return StatuteRef("US", "USC", _section(m["section"], "USC"), _subs(m["subs"]), m["title"])
    if m := _SINGLE_STATE_CODE.match(s):
        code = m["code"].upper().replace(".", "")
        state = _CODE_STATE[code]
        if m["state"] and m["state"].upper() != state:
            return None
        return StatuteRef(state, code, _section(m["section"], code), _subs(m["subs"]))
    for pattern in (_PREFIX, _SUFFIX):
        if m := pattern.match(s):
            resolved = _state(m["state"], default)
            if resolved is False:
                continue
            code = _ALIAS_TO_CODE[m["code"].lower()]
            return StatuteRef(resolved or None, code, _section(m["section"], code), _subs(m["subs"]))
    if m := _BARE_STATE.match(s):
        state = m["state"].upper()
        code = _STATE_DEFAULT_CODE[state]
        return StatuteRef(state, code, _section(m["section"], code), _subs(m["subs"]))
    return None
