"""The registry of real US jurisdictions that jurisdiction ids are checked against.

Every state, DC and territory, every county and county-equivalent of the Census Bureau's county list, and the
cities and agencies the packs and scenarios name (law/data, provenance in law/data/SOURCE.md). An id that names
no real place is an error with a "did you mean …" suggestion, so a typo never silently becomes a different law.

Slug rule (docs/jurisdictions.md): the Census name without its county-type word (County, Parish, Borough,
Census Area, City and Borough, Municipality, Municipio, District, Island), accents folded to ASCII, apostrophes
and periods dropped, other runs of non-alphanumerics joined by '-', lower case. Independent cities keep the
Census's lower-case "city" ("Richmond city" -> ``richmond-city``, beside "Richmond County" -> ``richmond``).

The fourth level (agencies) is open: an agency the registry knows is accepted; an unknown slug that is a
near miss of a known agency of the same county is an error with the suggestion; any other well-formed agency
slug under a real county is accepted, and the decision's coverage names its layer as not encoded.
"""

from __future__ import annotations

import csv
import difflib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from detainers.law._jurisdictions import parse_jurisdiction

__all__ = [
    "DATA_DIR",
    "JurisdictionError",
    "Place",
    "Registry",
    "check_jurisdiction",
    "jurisdiction_registry",
    "slug_of",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
_COUNTRY = "us"
_TYPE_WORD = re.compile(
    r"\s+(County|Parish|Borough|Census Area|City and Borough|Municipality|Municipio|District|Island)$"
)
# Words people add to a county slug that the slug rule leaves out: tried before fuzzy matching.
_EXTRA_SUFFIX = re.compile(r"-(county|parish|borough|census-area|city-and-borough|municipality|municipio|co)$")
_NEAR_AGENCY = 0.8  # difflib ratio at or above which an unknown agency slug is taken for a typo of a known one


def slug_of(name: str) -> str:
    """The slug of a Census county name (the rule in the module docstring)."""
    base = _TYPE_WORD.sub("", name.strip())
    base = unicodedata.normalize("NFKD", base).encode("ascii", "ignore").decode("ascii")
    base = base.lower().replace("'", "").replace(".", "")
    return re.sub(r"[^a-z0-9]+", "-", base).strip("-")


class JurisdictionError(ValueError):
    """An id that names no real jurisdiction (or is not a well-formed path); carries the suggestions made."""

    def __init__(self, given: str, reason: str, suggestions: Iterable[str] = ()) -> None:
        self.given = given
        self.reason = reason
        self.suggestions = tuple(dict.fromkeys(suggestions))
        hint = ""
        if self.suggestions:
            hint = "; did you mean " + " or ".join(self.suggestions) + "?"
        super().__init__(f"unknown jurisdiction {given!r}: {reason}{hint}")


@dataclass(frozen=True)
class Place:
    path: str
    level: str  # country | state | county | city | agency
    name: str  # the official name (Census name for states and counties)
    fips: str | None = None
    kind: str = ""  # state | district | territory | county | parish | independent city | ... | agency

    @property
    def label(self) -> str:
        return f"{self.name} ({self.path})"


def _read(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _county_kind(name: str) -> str:
    if name.endswith(" city"):
        return "independent city"
    found = _TYPE_WORD.search(name)
    return found.group(1).lower() if found else "county-equivalent"


def _pick(word: str, options: Iterable[str], *, n: int = 3, cutoff: float = 0.75) -> list[str]:
    pool = list(options)
    return difflib.get_close_matches(word, pool, n=n, cutoff=cutoff) if pool else []


class Registry:
    """Real jurisdictions by path; :meth:`check` turns user input into a canonical id or a clear error."""

    def __init__(
        self, states: list[dict[str, str]], counties: list[dict[str, str]], places: list[dict[str, str]]
    ) -> None:
        self.by_path: dict[str, Place] = {_COUNTRY: Place(_COUNTRY, "country", "United States")}
        self.state_names: dict[str, str] = {}  # slug of the state's name -> postal code (lower case)
        self.county_rows = len(counties)
        for row in states:
            code = row["postal"].lower()
            self.by_path[f"{_COUNTRY}/{code}"] = Place(
                f"{_COUNTRY}/{code}", "state", row["name"], row["fips"], row["kind"]
            )
            self.state_names[slug_of(row["name"])] = code
        self.local: dict[str, dict[str, Place]] = {}  # state path -> slug -> county, county-equivalent or city
        for row in counties:
            state = f"{_COUNTRY}/{row['state'].lower()}"
            if state not in self.by_path:
                raise ValueError(f"us_counties.csv: {row['fips']}: state {row['state']} is not in us_states.csv")
            if slug_of(row["name"]) != row["slug"]:
                raise ValueError(f"us_counties.csv: {row['fips']}: slug {row['slug']!r} breaks the slug rule")
            self._add(Place(f"{state}/{row['slug']}", "county", row["name"], row["fips"], _county_kind(row["name"])))
        self.agencies: dict[str, dict[str, Place]] = {}  # county or city path -> slug -> agency
        self.aliases: dict[str, str] = {}  # common abbreviation (us/ny/nyc) -> id; only ever suggested
        for row in places:
            parent, _, _slug = row["path"].rpartition("/")
            if parent not in self.by_path:
                raise ValueError(f"us_places.csv: {row['path']}: {parent} is not a registered jurisdiction")
            self._add(Place(row["path"], row["level"], row["name"], row.get("fips") or None, row["level"]))
            for alias in (row.get("aliases") or "").split():
                self.aliases[f"{parent}/{alias}"] = row["path"]

    def _add(self, place: Place) -> None:
        if place.path in self.by_path:
            raise ValueError(f"jurisdiction registry: {place.path} is listed twice")
        parse_jurisdiction(place.path)
        self.by_path[place.path] = place
        parent, _, slug = place.path.rpartition("/")
        table = self.agencies if place.level == "agency" else self.local
        table.setdefault(parent, {})[slug] = place

    # ------------------------------------------------------------------ look-ups

    def get(self, path: str) -> Place | None:
        return self.by_path.get(path)

    @property
    def states(self) -> list[Place]:
        return [p for p in self.by_path.values() if p.level == "state"]

    @property
    def counties(self) -> list[Place]:
        return [p for p in self.by_path.values() if p.level == "county"]

    def describe(self, path: str) -> str:
        """``Fulton County, Georgia`` for a registered id; the id itself otherwise."""
        place = self.by_path.get(path)
        if place is None:
            return path
        state = self.by_path.get("/".join(path.split("/")[:2]))
        if place.level in ("county", "city") and state is not None:
            return f"{place.name}, {state.name}"
        return place.name

    # ------------------------------------------------------------------ checking

    def check(self, text: str) -> str:
        """The canonical id for ``text``, or :class:`JurisdictionError` naming the problem and a suggestion.

        Case, surrounding blanks, blanks around '/', doubled '/' and leading or trailing '/' are normalised
        (they cannot change which place is meant); anything else that names no real place is an error.
        """
        given = str(text)
        parts = [p.strip() for p in given.strip().lower().split("/") if p.strip()]
        if not parts:
            raise JurisdictionError(given, "empty; give a path like us/ca/los-angeles/lasd")
        path = "/".join(parts)
        if len(parts) > 4:
            raise JurisdictionError(given, "more than 4 levels (country/state/county/agency)")
        try:
            parse_jurisdiction(path)
        except ValueError:
            fixed = "/".join(slug_of(p) for p in parts)
            guess: list[str] = []
            if fixed != path:
                try:
                    guess = [self.check(fixed)]
                except JurisdictionError as again:  # us/ga/fulton county -> us/ga/fulton-county -> us/ga/fulton
                    guess = list(again.suggestions)
            reason = "not a path like us/ca/los-angeles/lasd (lower case, words joined by '-')"
            raise JurisdictionError(given, reason, guess) from None
        if parts[0] != _COUNTRY:
            guess = [f"{_COUNTRY}/{'/'.join(parts[1:])}"] if len(parts) > 1 else []
            raise JurisdictionError(given, f"country {parts[0]!r}: only {_COUNTRY} is registered", self._valid(guess))
        if len(parts) == 1:
            return path
        state = f"{_COUNTRY}/{parts[1]}"
        if state not in self.by_path:
            raise JurisdictionError(given, f"no US state, DC or territory {parts[1]!r}", self._state_suggestions(parts))
        if len(parts) == 2:
            return path
        county = f"{state}/{parts[2]}"
        if county not in self.by_path:
            name = self.by_path[state].name
            raise JurisdictionError(
                given,
                f"no county, county-equivalent or registered city {parts[2]!r} in {name} ({state})",
                self._county_suggestions(parts),
            )
        if len(parts) == 3:
            return path
        known = self.agencies.get(county, {})
        if parts[3] in known:
            return path
        near = self._near_agency(parts[3], known)
        if near:
            raise JurisdictionError(
                given, f"no agency {parts[3]!r} is registered under {county}", [f"{county}/{n}" for n in near]
            )
        return path  # a well-formed agency of a real county: accepted; coverage names it as not encoded

    def is_registered(self, path: str) -> bool:
        return path in self.by_path

    def _valid(self, candidates: Iterable[str]) -> list[str]:
        """Only suggest ids that pass :meth:`check` themselves (and say them in canonical form)."""
        good = []
        for candidate in candidates:
            try:
                good.append(self.check(candidate))
            except JurisdictionError:
                continue
        return list(dict.fromkeys(good))[:3]

    def _state_suggestions(self, parts: list[str]) -> list[str]:
        word, rest = parts[1], parts[2:]
        codes = [p.path.split("/")[1] for p in self.states]
        states: list[str] = []
        if word in self.state_names:  # us/georgia/fulton: the state's name where its code belongs
            return self._valid(["/".join([_COUNTRY, self.state_names[word], *rest])])
        states += [self.state_names[n] for n in _pick(word, self.state_names, cutoff=0.8)]
        if rest:
            # A real county under another state: prefer states whose code is close, then any that has it.
            holders = [c for c in codes if f"{_COUNTRY}/{c}/{rest[0]}" in self.by_path]
            states += _pick(word, holders, n=max(len(holders), 1), cutoff=0.5) + holders
        else:
            states += _pick(word, codes, cutoff=0.5)
        return self._valid("/".join([_COUNTRY, code, *rest]) for code in dict.fromkeys(states))

    def _county_suggestions(self, parts: list[str]) -> list[str]:
        state, word, rest = f"{_COUNTRY}/{parts[1]}", parts[2], parts[3:]
        local = self.local.get(state, {})
        words = [word, _EXTRA_SUFFIX.sub("", word)]
        words += [re.sub(r"^saint-", "st-", w) for w in words] + [re.sub(r"^sainte-", "ste-", w) for w in words]
        words += [re.sub(r"^city-of-(.+)$", r"\1-city", w) for w in words]
        found = [w for w in dict.fromkeys(words) if w in local]
        if f"{state}/{word}" in self.aliases:
            found.insert(0, self.aliases[f"{state}/{word}"].rsplit("/", 1)[1])
        squashed = {k.replace("-", ""): k for k in local}  # elpaso -> el-paso
        for w in dict.fromkeys(words):
            found += _pick(w, local)
            found += [squashed[k] for k in _pick(w.replace("-", ""), squashed)]
        slugs = found
        candidates = [f"{state}/{s}" for s in dict.fromkeys(slugs)]
        if not candidates:  # the county exists, but in another state (us/ca/cook -> us/il/cook)
            candidates = [p.path for p in self.counties if p.path.endswith(f"/{word}")]
        return self._valid("/".join([c, *rest]) for c in candidates)

    @staticmethod
    def _near_agency(word: str, known: dict[str, Place]) -> list[str]:
        squashed = word.replace("-", "")
        near = [k for k in known if k.replace("-", "") == squashed]
        near += [k for k in known if len(k) == len(word) and _one_swap(k, word)]
        near += _pick(word, known, cutoff=_NEAR_AGENCY)
        return list(dict.fromkeys(near))


def _one_swap(a: str, b: str) -> bool:
    """True when ``b`` is ``a`` with two adjacent letters swapped (``lsad`` for ``lasd``)."""
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


@lru_cache(maxsize=1)
def jurisdiction_registry() -> Registry:
    """The registry shipped in law/data (read once)."""
    return Registry(_read("us_states.csv"), _read("us_counties.csv"), _read("us_places.csv"))


def check_jurisdiction(text: str) -> str:
    """The canonical id of a real jurisdiction, or :class:`JurisdictionError` with a "did you mean …"."""
    return jurisdiction_registry().check(text)
