"""Notice templates and their translations: shipped files, overridden file by file by a county's certified ones.

Layout (the same under the shipped ``templates/`` and under a county's directory)::

    _common/<lang>.yaml              labels and phrases every form of that language uses
    <pack>/<kind>/<lang>.yaml        one form in one language, e.g. us/ca/truth_act_copy/es.yaml

Every file carries its review status. A county's file takes precedence over the shipped one at the same path;
each file used is recorded by its sha256 with the rendered notice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import string
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

__all__ = [
    "DRAFT_STATUS",
    "LANGUAGE_NAMES",
    "Block",
    "Catalog",
    "Common",
    "FormText",
    "NoticeError",
    "Translation",
    "TranslationUsed",
    "load_catalog",
    "satisfies",
    "shipped_templates",
]

DRAFT_STATUS = "drafted — not reviewed by a certified translator"

# The languages shipped, by BCP 47 tag, with their names in English (for clerks) — the law's "Chinese" is met by
# either script.
LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "zh-Hans": "Chinese (Simplified)",
    "zh-Hant": "Chinese (Traditional)",
    "tl": "Tagalog",
    "vi": "Vietnamese",
    "ko": "Korean",
}

LABELS = (
    "name",
    "booking",
    "facility",
    "booked_at",
    "detainer",
    "form",
    "issued_on",
    "received_at",
    "office",
    "requests",
    "answer",
    "basis",
    "release_at",
    "recipient",
    "served_by",
    "served_at",
    "signature",
    "date",
    "not_given",
    "copy_attached",
    "copy_for_counsel",
    "this_agency",
)
ANSWERS = ("will", "will_not", "open", "open_will", "open_will_not")
REQUESTS = ("notify", "hold", "transfer")
# Placeholders a paragraph may use; the renderer fills each (or prints the language's "not given").
FIELDS = frozenset({"name", "booking", "facility", "release_at", "citation", "agency"})


class NoticeError(ValueError):
    """A template, translation or render request that cannot be used; the message names the file or the notice."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Reviewed(_Strict):
    language: str = Field(pattern=r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-[A-Z]{2})?$")
    status: Literal["drafted", "reviewed"]
    reviewed_by: str | None = None
    reviewed_on: dt.date | None = None

    @model_validator(mode="after")
    def _review_named(self) -> _Reviewed:
        if self.status == "reviewed" and not (self.reviewed_by and self.reviewed_on):
            raise ValueError("a reviewed translation names reviewed_by and reviewed_on")
        return self


class Common(_Reviewed):
    """What every form in one language shares: its name, labels, request and answer phrases, the draft footer."""

    name: str = Field(min_length=1)  # the language's own name for itself
    labels: dict[str, str]
    requests: dict[str, str]
    answers: dict[str, str]
    choices: dict[str, str]  # consent answers: consented, declined, asked_for_counsel
    draft_footer: str = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> Common:
        for group, keys in (
            ("labels", LABELS),
            ("requests", REQUESTS),
            ("answers", ANSWERS),
            ("choices", ("consented", "declined", "asked_for_counsel")),
        ):
            have = getattr(self, group)
            missing = [k for k in keys if k not in have]
            if missing:
                raise ValueError(f"{group}: missing {', '.join(missing)}")
            extra = sorted(set(have) - set(keys))
            if extra:
                raise ValueError(f"{group}: unknown {', '.join(extra)}")
        return self


class Block(_Strict):
    """One part of a form's body. Exactly one key: a heading, a paragraph, or a part the renderer builds."""

    heading: str | None = None
    p: str | None = None
    part: Literal["detainers", "answer", "release", "choices", "signature", "recipient"] | None = None

    @model_validator(mode="after")
    def _one(self) -> Block:
        if sum(x is not None for x in (self.heading, self.p, self.part)) != 1:
            raise ValueError("a block has exactly one of heading, p, part")
        text = self.heading or self.p or ""
        for _literal, name, _spec, _conv in string.Formatter().parse(text):
            if name is not None and name not in FIELDS:
                raise ValueError(f"unknown placeholder {{{name}}} (known: {', '.join(sorted(FIELDS))})")
        return self


class FormText(_Reviewed):
    """One form in one language."""

    title: str = Field(min_length=1)
    key_phrase: str = Field(min_length=3)  # a phrase of this text that must appear in the rendered PDF
    blocks: tuple[Block, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _phrase_in_text(self) -> FormText:
        body = " ".join([self.title, *(b.heading or b.p or "" for b in self.blocks)])
        if self.key_phrase not in body:
            raise ValueError(f"key_phrase {self.key_phrase!r} is not in the text")
        return self


class TranslationUsed(_Strict):
    """A translation file a rendered notice used: where from, its hash, its review status."""

    path: str  # relative to the templates root, e.g. us/ca/truth_act_copy/es.yaml
    source: Literal["shipped", "county"]
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    status: Literal["drafted", "reviewed"]
    reviewed_by: str | None = None
    reviewed_on: dt.date | None = None


@dataclass(frozen=True)
class Translation:
    """A form in one language with the shared phrases it uses, and the files both came from."""

    template: str
    language: str
    common: Common
    form: FormText
    used: tuple[TranslationUsed, ...]

    @property
    def reviewed(self) -> bool:
        return all(u.status == "reviewed" for u in self.used)


_TEMPLATE_KEY = re.compile(r"^[a-z]{2}(/[a-z0-9-]+)*/[a-z0-9_]+$")


def _read(path: Path, relative: str, model: type[_Reviewed], source: str) -> tuple[Any, bytes]:
    data = path.read_bytes()
    where = f"{source}:{relative}"
    try:
        raw = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise NoticeError(f"{where}: {' '.join(str(exc).split())}") from None
    try:
        parsed = model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "file"
        message = "unknown key" if first["type"] == "extra_forbidden" else first["msg"].removeprefix("Value error, ")
        raise NoticeError(f"{where}: {key}: {message}") from None
    expected = Path(relative).stem
    if parsed.language != expected:
        raise NoticeError(f"{where}: language: {parsed.language!r} must match the file name {expected!r}")
    return parsed, data


class Catalog:
    """The templates available, shipped and county-supplied, read and checked when loaded."""

    def __init__(self, shipped: Path, county: Path | None = None) -> None:
        self.shipped = shipped
        self.county = county
        self._files: dict[str, tuple[Path, str]] = {}  # relative path -> (file, source)
        for root, source in ((shipped, "shipped"), (county, "county")):
            if root is None:
                continue
            if not root.is_dir():
                raise NoticeError(f"{root}: translations directory not found")
            for path in sorted(root.rglob("*.yaml")):
                self._files[path.relative_to(root).as_posix()] = (path, source)
        self._cache: dict[str, tuple[Any, TranslationUsed]] = {}
        for relative in self._files:  # read everything now: a bad file is an error at load, not at service time
            self._load(relative)

    def _load(self, relative: str) -> tuple[Any, TranslationUsed]:
        if relative not in self._cache:
            path, source = self._files[relative]
            if relative.startswith("_common/"):
                model: type[_Reviewed] = Common
            else:
                template = relative.rsplit("/", 1)[0]
                if not _TEMPLATE_KEY.match(template):
                    raise NoticeError(f"{source}:{relative}: not a <pack>/<kind>/<language>.yaml path")
                model = FormText
            parsed, data = _read(path, relative, model, source)
            used = TranslationUsed(
                path=relative,
                source="county" if source == "county" else "shipped",
                sha256=hashlib.sha256(data).hexdigest(),
                status=parsed.status,
                reviewed_by=parsed.reviewed_by,
                reviewed_on=parsed.reviewed_on,
            )
            self._cache[relative] = (parsed, used)
        return self._cache[relative]

    def templates(self) -> list[str]:
        return sorted({r.rsplit("/", 1)[0] for r in self._files if not r.startswith("_common/")})

    def languages(self, template: str) -> list[str]:
        found = [r.rsplit("/", 1)[1].removesuffix(".yaml") for r in self._files if r.rsplit("/", 1)[0] == template]
        return sorted(found, key=lambda lang: (lang != "en", lang))

    def has(self, template: str) -> bool:
        return bool(self.languages(template))

    def translation(self, template: str, language: str) -> Translation:
        relative = f"{template}/{language}.yaml"
        if relative not in self._files:
            have = ", ".join(self.languages(template)) or "none"
            raise NoticeError(f"no {language} translation of {template} (available: {have})")
        common_path = f"_common/{language}.yaml"
        if common_path not in self._files:
            raise NoticeError(f"no _common/{language}.yaml: labels for {language} are missing")
        form, form_used = self._load(relative)
        common, common_used = self._load(common_path)
        return Translation(template, language, common, form, (form_used, common_used))

    def __iter__(self) -> Iterator[tuple[str, str]]:
        for template in self.templates():
            for language in self.languages(template):
                yield template, language


def shipped_templates() -> Path:
    return Path(str(resources.files("detainers.notices") / "templates"))


def load_catalog(county: Path | None = None) -> Catalog:
    """The shipped templates, with a county's certified translation files (same layout) taking precedence."""
    return Catalog(shipped_templates(), county)


def satisfies(languages: Iterable[str], required: str) -> bool:
    """Whether the languages available meet a language the law names (``zh`` is met by ``zh-Hans`` or ``zh-Hant``)."""
    return any(lang == required or lang.startswith(required + "-") for lang in languages)
