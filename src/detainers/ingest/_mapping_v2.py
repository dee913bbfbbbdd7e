"""Mapping version 2: which rows belong to the analysis, booking columns carried on charge lines, a charge
crosswalk, booking-block (report) layouts and the jail's recorded decision per detainer (docs/importing.md).

Version 1 files keep working unchanged; a version 2 file is a version 1 file plus the keys below. Every key is
checked when the file is loaded, and unknown keys are errors that name the key.
"""

from __future__ import annotations

import csv
import hashlib
import re
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError, model_validator

from detainers.ingest._mapping import (
    BOOKING_FIELDS,
    CHARGE_FIELDS,
    Files,
    FileSpec,
    Mapping,
    MappingError,
    _format_error,
    _Strict,
)

__all__ = [
    "BOOKING_FIELDS_V2",
    "CHARGE_FIELDS_V2",
    "BookingFields",
    "Crosswalk",
    "CrosswalkEntry",
    "Decisions",
    "FileSpecV2",
    "Filter",
    "Filters",
    "JailDecision",
    "MappingV2",
    "Rank",
    "ValueTest",
    "load_v2",
    "read_crosswalk_file",
]

#: Charge fields a version 2 mapping may also name.
CHARGE_FIELDS_V2: dict[str, str] = {
    **CHARGE_FIELDS,
    "statute": "the statute as the export writes it (else the crosswalk gives it)",
}

#: Booking fields a version 2 mapping may also name (bookings file, booking blocks or booking_fields).
BOOKING_FIELDS_V2: dict[str, str] = {
    **BOOKING_FIELDS,
    "decision": "the jail's recorded decision on the detainer (mapped by decisions.values)",
    "decided_at": "when the jail decided (the instant concordance judges the booking at)",
    "custody": "the jail's custody status text (e.g. IN CUSTODY / RELEASED)",
}

#: Crosswalk entry keys with a meaning of their own; any other key is an attribute (e.g. category, type).
_ENTRY_KEYS = ("code", "text", "pattern", "statute", "level")
_LEVELS = ("felony", "misdemeanor", "infraction", "not_a_charge")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class JailDecision(StrEnum):
    """What the jail recorded it did with a detainer."""

    ACCEPTED = "accepted"  # honoured: held for or handed to ICE
    DECLINED = "declined"  # not honoured: released without regard to the detainer
    RELEASED_TO_ICE = "released_to_ice"  # honoured: handed to ICE
    REINSTATED = "reinstated"  # first declined, then honoured again (e.g. ICE came back with a warrant)

    @property
    def honoured(self) -> bool:
        return self is not JailDecision.DECLINED


class ValueTest(_Strict):
    """One test on one field: exactly one of equals, in, contains, starts_with, matches, empty."""

    field: str
    equals: str | None = None
    any_of: list[str] | None = Field(default=None, alias="in")
    contains: str | None = None
    starts_with: str | None = None
    matches: str | None = None
    empty: bool | None = None
    case_sensitive: bool = False

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_test(self) -> ValueTest:
        tests = [self.equals, self.any_of, self.contains, self.starts_with, self.matches, self.empty]
        if sum(test is not None for test in tests) != 1:
            raise ValueError("give exactly one of equals, in, contains, starts_with, matches, empty")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                raise ValueError(f"matches: not a regular expression ({exc})") from None
        return self

    def describe(self) -> str:
        if self.equals is not None:
            return f"{self.field} = {self.equals!r}"
        if self.any_of is not None:
            return f"{self.field} in {self.any_of!r}"
        if self.contains is not None:
            return f"{self.field} contains {self.contains!r}"
        if self.starts_with is not None:
            return f"{self.field} starts with {self.starts_with!r}"
        if self.matches is not None:
            return f"{self.field} matches {self.matches!r}"
        return f"{self.field} is {'empty' if self.empty else 'not empty'}"


class Filter(_Strict):
    """Keep or drop the rows (charge lines) or bookings a test selects; ``name`` is what the import prints."""

    name: str | None = None
    keep: ValueTest | None = None
    drop: ValueTest | None = None

    @model_validator(mode="after")
    def _one(self) -> Filter:
        if (self.keep is None) == (self.drop is None):
            raise ValueError("give exactly one of keep, drop")
        return self

    @property
    def test(self) -> ValueTest:
        test = self.keep or self.drop
        assert test is not None
        return test

    @property
    def label(self) -> str:
        return self.name or f"{'keep' if self.keep else 'drop'} {self.test.describe()}"


class Filters(_Strict):
    charges: list[Filter] = []
    bookings: list[Filter] = []


class BookingColumn(_Strict):
    column: str
    take: Literal["first", "last", "any"] | None = None


class BookingFields(_Strict):
    """Booking-level values repeated on every charge line (booking time, the booking's own release, ...)."""

    take: Literal["first", "last", "any"] = "first"  # any = the first non-empty value
    check: Literal["agree", "none"] = "agree"  # report bookings whose lines disagree, with row numbers
    columns: dict[str, str | BookingColumn]

    def column_of(self, field: str) -> tuple[str, str]:
        spec = self.columns[field]
        if isinstance(spec, str):
            return spec, self.take
        return spec.column, spec.take or self.take


class CrosswalkEntry(_Strict):
    """A local charge code, charge text or pattern and what it means: a statute, a level, attributes."""

    code: str | None = None
    text: str | None = None
    pattern: str | None = None
    statute: str | None = None
    level: Literal["felony", "misdemeanor", "infraction", "not_a_charge"] | None = None
    attributes: dict[str, str] = {}

    @model_validator(mode="before")
    @classmethod
    def _attributes(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out = {k: v for k, v in data.items() if k in (*_ENTRY_KEYS, "attributes")}
        extra = {str(k): v for k, v in data.items() if k not in out}
        if extra:
            attributes = dict(out.get("attributes") or {})
            for key, value in extra.items():
                if not _NAME.match(key):
                    raise ValueError(f"attribute name {key!r}: use lower-case letters, digits and _")
                if value is not None and str(value).strip() != "":
                    attributes[key] = str(value).strip()
            out["attributes"] = attributes
        for key in _ENTRY_KEYS:
            if isinstance(out.get(key), str) and not out[key].strip():
                out[key] = None
            elif out.get(key) is not None and not isinstance(out[key], str):
                out[key] = str(out[key])
        return out

    @model_validator(mode="after")
    def _one_key(self) -> CrosswalkEntry:
        if sum(v is not None for v in (self.code, self.text, self.pattern)) != 1:
            raise ValueError("give exactly one of code, text, pattern")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern {self.pattern!r}: not a regular expression ({exc})") from None
        if self.statute is None and self.level is None and not self.attributes:
            raise ValueError("an entry must give a statute, a level or an attribute")
        return self

    @property
    def key(self) -> str:
        if self.code is not None:
            return f"code {self.code}"
        if self.text is not None:
            return f"text {self.text}"
        return f"pattern {self.pattern}"


class Rank(_Strict):
    """How serious a translated charge is: the position of one of its attributes (or ``level``) in ``order``.

    ``order`` lists values least serious first; a list in it gives several values the same rank.
    """

    by: str
    order: list[str | list[str]] = Field(min_length=1)

    def positions(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for position, item in enumerate(self.order):
            for value in [item] if isinstance(item, str) else item:
                out[" ".join(value.upper().split())] = position
        return out


class Crosswalk(_Strict):
    """Local charge codes and texts to statutes, levels and attributes (``file`` is read relative to the mapping)."""

    file: str | None = None
    pattern_field: Literal["charge_text", "charge_code"] = "charge_text"
    level: Literal["fill", "override"] = "fill"  # fill: only where the jail's level is empty or unknown
    entries: list[CrosswalkEntry] = []
    rank: Rank | None = None


class Decisions(_Strict):
    """Where the jail's recorded decision per detainer comes from, and what its values mean."""

    field: str | None = None  # a booking field (decision) ...
    from_label: bool = False  # ... or the label each input file was given (--charges accepted=FILE)
    values: dict[str, JailDecision]
    at: Literal["decided_at", "released_at", "booked_at"] | None = None  # the decision instant, when the data give it

    @model_validator(mode="after")
    def _source(self) -> Decisions:
        if (self.field is None) == (not self.from_label):
            raise ValueError("give exactly one of field, from_label: true")
        return self


class FileSpecV2(FileSpec):
    """A file of the export; ``layout: blocks`` reads booking blocks (a booking line, then its charge lines)."""

    layout: Literal["table", "blocks"] = "table"
    # blocks: the booking line's fields (named by the file's first row) and the first cell of each charge header
    booking_columns: dict[str, str] = {}
    charge_header: str | None = None
    compression: Literal["auto", "none", "gzip", "bz2", "xz", "zip"] = "auto"

    @model_validator(mode="after")
    def _blocks(self) -> FileSpecV2:
        if self.layout == "blocks" and not self.charge_header:
            raise ValueError("layout blocks needs charge_header (the first cell of each charge header line)")
        if self.layout == "table" and (self.booking_columns or self.charge_header):
            raise ValueError("booking_columns and charge_header are for layout: blocks")
        return self


class FilesV2(Files):
    charges: FileSpecV2
    bookings: FileSpecV2 | None = None


class MappingV2(Mapping):
    """A version 2 mapping (docs/importing.md documents every key)."""

    mapping_version: Literal[2]  # type: ignore[assignment]
    files: FilesV2
    booking_fields: BookingFields | None = None
    filters: Filters = Filters()
    crosswalk: Crosswalk | None = None
    decisions: Decisions | None = None
    warn_unmatched_rules: bool = True  # name hold rules and dispositions no row matched
    crosswalk_sha256: str = ""  # filled by load: the crosswalk file's hash (part of the import's identity)

    @model_validator(mode="after")
    def _fields_known(self) -> MappingV2:
        charges = self.files.charges
        for name in charges.columns:
            if name not in CHARGE_FIELDS_V2:
                raise ValueError(f"files.charges.columns: unknown field {name!r}; known: {', '.join(CHARGE_FIELDS_V2)}")
        for name in charges.booking_columns:
            if name not in BOOKING_FIELDS_V2:
                raise ValueError(
                    f"files.charges.booking_columns: unknown field {name!r}; known: {', '.join(BOOKING_FIELDS_V2)}"
                )
        if charges.layout == "blocks" and "booking_id" not in charges.booking_columns:
            raise ValueError("files.charges.booking_columns must name booking_id (layout blocks)")
        if self.files.bookings is not None:
            if self.files.bookings.layout != "table":
                raise ValueError("files.bookings: only layout table")
            for name in self.files.bookings.columns:
                if name not in BOOKING_FIELDS_V2:
                    raise ValueError(
                        f"files.bookings.columns: unknown field {name!r}; known: {', '.join(BOOKING_FIELDS_V2)}"
                    )
            if "booking_id" not in self.files.bookings.columns:
                raise ValueError("files.bookings.columns must name booking_id")
            if self.booking_fields is not None:
                raise ValueError("booking_fields is for exports without a bookings file; this mapping has one")
            if charges.layout == "blocks":
                raise ValueError("a blocks file carries its own bookings: give no files.bookings")
        if self.booking_fields is not None:
            for name in self.booking_fields.columns:
                if name not in BOOKING_FIELDS_V2 or name == "booking_id":
                    raise ValueError(
                        f"booking_fields.columns: {name!r} is not a booking field one can take from charge rows; "
                        f"use: {', '.join(n for n in BOOKING_FIELDS_V2 if n != 'booking_id')}"
                    )
        if charges.layout != "blocks":
            for key in self.booking_key:
                if key not in charges.columns:
                    raise ValueError(f"booking_key names {key!r}, which files.charges.columns does not map")
        elif self.booking_key != ["booking_id"]:
            raise ValueError("with layout blocks the booking line names the booking: booking_key must be [booking_id]")
        if self.files.bookings is not None and self.booking_key != ["booking_id"]:
            raise ValueError("with a bookings file, booking_key must be [booking_id]")
        booking_names = set(self.booking_field_names())
        for item in self.filters.charges:
            self._charge_field(item.test.field, "filters.charges")
        for item in self.filters.bookings:
            self._booking_field(item.test.field, booking_names)
        if self.decisions is not None and self.decisions.field is not None:
            if self.decisions.field not in booking_names:
                raise ValueError(
                    f"decisions.field {self.decisions.field!r} is not a booking field this mapping reads "
                    f"(it reads: {', '.join(sorted(booking_names)) or 'none'})"
                )
        if self.decisions is not None and self.decisions.at == "decided_at" and "decided_at" not in booking_names:
            raise ValueError("decisions.at: decided_at is not a booking field this mapping reads")
        if self.crosswalk is not None and self.crosswalk.rank is not None:
            by = self.crosswalk.rank.by
            names = {n for e in self.crosswalk.entries for n in e.attributes} | {"level", "statute"}
            if self.crosswalk.entries and by not in names:
                raise ValueError(f"crosswalk.rank.by: no crosswalk entry has the attribute {by!r}")
        for zone in [self.timestamps.zone, *(spec.zone for spec in self.timestamps.fields.values())]:
            if zone is not None:
                self._zone(zone)
        return self

    def booking_field_names(self) -> list[str]:
        """Booking fields this mapping reads from the export (any source)."""
        names: list[str] = []
        if self.files.bookings is not None:
            names += list(self.files.bookings.columns)
        names += list(self.files.charges.booking_columns)
        if self.booking_fields is not None:
            names += list(self.booking_fields.columns)
        return list(dict.fromkeys(names))

    def _charge_field(self, name: str, where: str) -> None:
        if name in CHARGE_FIELDS_V2 or name in ("release_reason", "hold", "translated"):
            return
        if name.startswith("crosswalk.") and self.crosswalk is not None:
            return
        raise ValueError(
            f"{where}: field {name!r} is not a charge field; use one of {', '.join(CHARGE_FIELDS_V2)}, "
            "release_reason, hold, translated, or crosswalk.<attribute>"
        )

    def _booking_field(self, name: str, booking_names: set[str]) -> None:
        head, _, rest = name.partition(".")
        if head in ("most_serious", "any_charge") and rest:
            self._charge_field(rest, f"filters.bookings ({head}.)")
            if head == "most_serious" and (self.crosswalk is None or self.crosswalk.rank is None):
                raise ValueError("filters.bookings: most_serious.* needs crosswalk.rank (what 'most serious' means)")
            return
        if name in booking_names or name in ("immigration_hold", "release_reason", "charges", "label"):
            return
        raise ValueError(
            f"filters.bookings: field {name!r} is not a booking field this mapping reads; use one of "
            f"{', '.join(sorted(booking_names))}, immigration_hold, release_reason, charges, label, "
            "most_serious.<charge field>, any_charge.<charge field>"
        )

    @property
    def levels_known(self) -> tuple[str, ...]:
        return _LEVELS


def read_crosswalk_file(path: Path) -> tuple[list[dict[str, str]], str]:
    """Rows of a crosswalk CSV (header: code/text/pattern, statute, level, attributes...) and the file's sha256."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MappingError(f"crosswalk file {path}: {exc.strerror}") from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MappingError(f"crosswalk file {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in reader.fieldnames or []]
    if not header or not {"code", "text", "pattern"} & set(header):
        raise MappingError(f"crosswalk file {path}: the header must name code, text or pattern (found: {header})")
    rows = []
    for row in reader:
        cleaned = {str(k).strip(): (v or "").strip() for k, v in row.items() if k is not None and str(k).strip()}
        if any(cleaned.values()):
            rows.append(cleaned)
    return rows, hashlib.sha256(data).hexdigest()


def resolve_v2(data: dict[str, Any], base: Path | None, name: str) -> dict[str, Any]:
    """Read a crosswalk file the mapping names into its entries (file entries first, the mapping's own after)."""
    crosswalk = data.get("crosswalk")
    if not isinstance(crosswalk, dict) or not crosswalk.get("file"):
        return data
    path = Path(str(crosswalk["file"]))
    if not path.is_absolute():
        path = (base or Path.cwd()) / path
    rows, digest = read_crosswalk_file(path)
    entries = []
    for number, row in enumerate(rows, start=2):
        try:
            entries.append(CrosswalkEntry.model_validate(row))
        except ValueError as exc:
            message = str(exc).splitlines()[-1].strip().removeprefix("Value error, ")
            raise MappingError(f"crosswalk file {path}, row {number}: {message}") from None
    own = crosswalk.get("entries") or []
    return {
        **data,
        "crosswalk": {**crosswalk, "entries": [*(e.model_dump() for e in entries), *own]},
        "crosswalk_sha256": digest,
    }


def load_v2(data: dict[str, Any], digest: str, name: str, *, base: Path | None) -> MappingV2:
    """Check a version 2 mapping; its identity covers the crosswalk file it names."""
    if "crosswalk_sha256" in data:
        raise MappingError(f"mapping file {name}: unknown key 'crosswalk_sha256'")
    data = resolve_v2(data, base, name)
    if data.get("crosswalk_sha256"):
        digest = hashlib.sha256(f"{digest}:{data['crosswalk_sha256']}".encode()).hexdigest()
    try:
        return MappingV2.model_validate({**data, "sha256": digest})
    except ValidationError as exc:
        raise MappingError(_format_error(name, exc)) from exc
