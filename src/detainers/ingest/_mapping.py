"""The mapping file: how a county's jail export maps onto bookings and charges (docs/importing.md).

A mapping is YAML. Unknown keys are errors that name the key, so a typo never silently drops a setting.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from detainers.domain import EligibilityReason
from detainers.law import check_jurisdiction

__all__ = [
    "BOOKING_FIELDS",
    "CHARGE_FIELDS",
    "FileSpec",
    "HoldRule",
    "Mapping",
    "MappingError",
    "ReleaseReason",
    "load_mapping",
]


class MappingError(ValueError):
    """The mapping file is not valid; the message names the key and the file."""


class ReleaseReason(StrEnum):
    """Canonical release reasons: the eligibility reasons plus where the person went and non-releases."""

    BOND_POSTED = EligibilityReason.BOND_POSTED.value
    OWN_RECOGNIZANCE = EligibilityReason.OWN_RECOGNIZANCE.value
    TIME_SERVED = EligibilityReason.TIME_SERVED.value
    DISMISSED = EligibilityReason.DISMISSED.value
    ACQUITTED = EligibilityReason.ACQUITTED.value
    DIVERSION = EligibilityReason.DIVERSION.value
    COURT_ORDER = EligibilityReason.COURT_ORDER.value
    OTHER = EligibilityReason.OTHER.value
    RELEASED_TO_ICE = "released_to_ice"  # handed to immigration custody
    TRANSFERRED = "transferred"  # to another agency, prison or county on their warrant
    HOLD_LIFTED = "hold_lifted"  # the detainer or warrant itself was withdrawn or cancelled
    NOT_A_RELEASE = "not_a_release"  # the line closed but custody went on (case merged, charge refiled or reduced)
    ERROR = "error"  # entered in error, wrong person
    ESCAPE = "escape"
    DIED = "died"

    @property
    def eligibility(self) -> EligibilityReason | None:
        """The domain's eligibility reason, when this release is one."""
        try:
            return EligibilityReason(self.value)
        except ValueError:
            return None


#: Canonical charge-row fields a mapping may name (``columns:`` under ``files.charges``).
CHARGE_FIELDS: dict[str, str] = {
    "booking_id": "the booking the charge belongs to (required unless booking_key says otherwise)",
    "person_id": "a stable person identifier from the jail (never an A-number or name)",
    "charge_seq": "order of the charge within the booking",
    "charge_code": "the jail's charge or statute code",
    "charge_text": "the charge description",
    "level": "the jail's level/degree code (mapped by levels:)",
    "booked_at": "booking time, when charge rows carry it",
    "released_at": "when this charge line was released/closed",
    "disposition": "release disposition of this charge line (mapped by dispositions:)",
    "sex": "sex, when charge rows carry booking fields",
    "race": "race, when charge rows carry booking fields",
    "ethnicity": "ethnicity, when charge rows carry booking fields",
    "age": "age at booking, when charge rows carry booking fields",
}

#: Canonical booking-row fields (``columns:`` under ``files.bookings``).
BOOKING_FIELDS: dict[str, str] = {
    "booking_id": "booking number (required)",
    "person_id": "a stable person identifier from the jail",
    "booked_at": "booking time",
    "released_at": "release time of the booking",
    "disposition": "the booking's final release disposition (mapped by dispositions:)",
    "sex": "sex",
    "race": "race",
    "ethnicity": "ethnicity",
    "age": "age at booking",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileSpec(_Strict):
    """How to read one file of the export and which of its columns mean what."""

    sheet: str | None = None
    skip_rows: int = Field(default=0, ge=0)
    delimiter: str | None = None
    encoding: str = "utf-8"
    columns: dict[str, str]


class HoldRule(_Strict):
    """A test on one charge-row field; a row matching any rule of a list is that kind of hold."""

    field: str
    equals: str | None = None
    contains: str | None = None
    starts_with: str | None = None
    matches: str | None = None
    any_of: list[str] | None = Field(default=None, alias="in")
    case_sensitive: bool = False

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_test(self) -> HoldRule:
        tests = [self.equals, self.contains, self.starts_with, self.matches, self.any_of]
        if sum(test is not None for test in tests) != 1:
            raise ValueError("give exactly one of equals, contains, starts_with, matches, in")
        if self.field not in CHARGE_FIELDS:
            raise ValueError(f"field {self.field!r} is not a charge field; use one of {', '.join(CHARGE_FIELDS)}")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as exc:
                raise ValueError(f"matches: not a regular expression ({exc})") from None
        return self


class Holds(_Strict):
    immigration: list[HoldRule] = Field(min_length=1)
    other: list[HoldRule] = []


class Levels(_Strict):
    felony: list[str] = []
    misdemeanor: list[str] = []
    infraction: list[str] = []
    not_a_charge: list[str] = []  # level codes the jail uses for holds and detainers, not offences


class Timestamp(_Strict):
    formats: list[str] = Field(min_length=1)
    zone: str | None = None


class Timestamps(_Strict):
    formats: list[str] = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]
    zone: str | None = None
    fields: dict[Literal["booked_at", "released_at"], Timestamp] = {}


class Classification(_Strict):
    violent_patterns: list[str] = []
    use_default_violent_patterns: bool = True

    @field_validator("violent_patterns")
    @classmethod
    def _compiles(cls, value: list[str]) -> list[str]:
        for index, pattern in enumerate(value):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"violent_patterns[{index}]: not a regular expression ({exc})") from None
        return value


class Files(_Strict):
    charges: FileSpec
    bookings: FileSpec | None = None


ReasonName = Annotated[ReleaseReason, Field()]


class Mapping(_Strict):
    """A whole mapping file (docs/importing.md documents every key)."""

    mapping_version: Literal[1]
    name: str
    jurisdiction: str
    facility: str | None = None
    timezone: str
    files: Files
    booking_key: list[str] = ["booking_id"]
    timestamps: Timestamps = Timestamps()
    levels: Levels = Levels()
    holds: Holds
    dispositions: dict[str, ReasonName] = {}
    unmapped_dispositions: Literal["report", "reject"] = "report"
    classification: Classification = Classification()
    sha256: str = ""  # filled by load_mapping: the mapping file's own hash, part of the import's identity

    @field_validator("jurisdiction")
    @classmethod
    def _real_place(cls, value: str) -> str:
        return check_jurisdiction(value)  # a real jurisdiction id, or "did you mean …"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _fields_known(self) -> Mapping:
        for field_name in self.files.charges.columns:
            if field_name not in CHARGE_FIELDS:
                raise ValueError(
                    f"files.charges.columns: unknown field {field_name!r}; known: {', '.join(CHARGE_FIELDS)}"
                )
        if self.files.bookings is not None:
            for field_name in self.files.bookings.columns:
                if field_name not in BOOKING_FIELDS:
                    raise ValueError(
                        f"files.bookings.columns: unknown field {field_name!r}; known: {', '.join(BOOKING_FIELDS)}"
                    )
            if "booking_id" not in self.files.bookings.columns:
                raise ValueError("files.bookings.columns must name booking_id")
        for key in self.booking_key:
            if key not in self.files.charges.columns:
                raise ValueError(f"booking_key names {key!r}, which files.charges.columns does not map")
        if self.files.bookings is not None and self.booking_key != ["booking_id"]:
            raise ValueError("with a bookings file, booking_key must be [booking_id]")
        zones = [self.timestamps.zone, *(spec.zone for spec in self.timestamps.fields.values())]
        for zone in zones:
            if zone is not None:
                self._zone(zone)
        return self

    def _spec(self, field_name: str) -> Timestamp | None:
        for key, spec in self.timestamps.fields.items():
            if key == field_name:
                return spec
        return None

    def zone_for(self, field_name: str) -> str:
        spec = self._spec(field_name)
        if spec is not None and spec.zone:
            return spec.zone
        return self.timestamps.zone or self.timezone

    def formats_for(self, field_name: str) -> list[str]:
        spec = self._spec(field_name)
        return list(spec.formats) if spec is not None else list(self.timestamps.formats)

    def level_of(self) -> dict[str, str]:
        table: dict[str, str] = {}
        for level, codes in (
            ("felony", self.levels.felony),
            ("misdemeanor", self.levels.misdemeanor),
            ("infraction", self.levels.infraction),
            ("not_a_charge", self.levels.not_a_charge),
        ):
            for code in codes:
                table[code.strip().upper()] = level
        return table


def _format_error(source: str, error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            lines.append(f"unknown key {where!r}")
        elif item["type"] == "missing":
            lines.append(f"missing key {where!r}")
        else:
            lines.append(f"{where}: {item['msg'].removeprefix('Value error, ')}")
    return f"mapping file {source}: " + "; ".join(lines)


def load_mapping(source: Path | str | dict[str, Any]) -> Mapping:
    """Read and check a mapping (a path to YAML, YAML text, or an already-parsed dict)."""
    name = "<dict>"
    if isinstance(source, Path):
        name = str(source)
        try:
            text = source.read_text(encoding="utf-8")
        except OSError as exc:
            raise MappingError(f"mapping file {source}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise MappingError(
                f"mapping file {source}: not UTF-8 text ({exc.reason} at byte offset {exc.start}); save it as UTF-8"
            ) from exc
    elif isinstance(source, str):
        name, text = "<text>", source
    else:
        text = yaml.safe_dump(source, sort_keys=True)
    try:
        data = yaml.safe_load(text) if not isinstance(source, dict) else source
    except yaml.YAMLError as exc:
        raise MappingError(f"mapping file {name}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise MappingError(f"mapping file {name}: the top level must be a mapping of keys")
    if "sha256" in data:
        raise MappingError(f"mapping file {name}: unknown key 'sha256'")
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if data.get("mapping_version") == 2:  # filters, booking columns, crosswalk, decisions: their own module
        from detainers.ingest._mapping_v2 import load_v2

        return load_v2(data, digest, name, base=source.parent if isinstance(source, Path) else None)
    try:
        return Mapping.model_validate({**data, "sha256": digest})
    except ValidationError as exc:
        raise MappingError(_format_error(name, exc)) from exc
