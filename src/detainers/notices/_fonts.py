"""The fonts embedded in every notice: vendored subsets of Noto (SIL Open Font License 1.1), no system fonts needed.

Noto Sans covers Latin with Vietnamese diacritics; Noto Sans CJK SC / TC / KR cover Chinese (simplified and
traditional) and Korean. Each language prefers its own CJK face (Korean glyph forms for Korean, and so on); a face is
added to a PDF only when its text needs it, and a character no face covers is an error, never a blank box.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from fontTools.ttLib import TTFont

from detainers.notices._catalog import NoticeError

__all__ = ["FACES", "Face", "faces_for", "font_dir"]


@dataclass(frozen=True)
class Face:
    family: str  # the name fpdf2 registers it under
    regular: str
    bold: str | None = None


FACES = {
    "latin": Face("NotoSans", "NotoSans-Regular-subset.ttf", "NotoSans-Bold-subset.ttf"),
    "sc": Face("NotoSansCJKsc", "NotoSansCJKsc-Regular-subset.otf"),
    "tc": Face("NotoSansCJKtc", "NotoSansCJKtc-Regular-subset.otf"),
    "kr": Face("NotoSansCJKkr", "NotoSansCJKkr-Regular-subset.otf"),
}
_PREFERENCE = {"zh-Hans": ("sc", "tc", "kr"), "zh-Hant": ("tc", "sc", "kr"), "ko": ("kr", "sc", "tc")}
_DEFAULT_PREFERENCE = ("sc", "tc", "kr")
_IGNORED = frozenset(map(ord, "\n\r\t"))


def font_dir() -> Path:
    return Path(str(resources.files("detainers.notices") / "fonts"))


@cache
def _coverage(file: str) -> frozenset[int]:
    font = TTFont(str(font_dir() / file), lazy=True)
    try:
        return frozenset(font.getBestCmap())
    finally:
        font.close()


def faces_for(language: str, texts: Iterable[str]) -> tuple[str, ...]:
    """The CJK faces (in the language's order of preference) a PDF needs besides Latin for ``texts``.

    Raises NoticeError naming every character no vendored face covers.
    """
    needed = {ord(ch) for text in texts for ch in text} - _IGNORED
    latin = _coverage(FACES["latin"].regular)
    missing = needed - latin
    chosen: list[str] = []
    preference = _PREFERENCE.get(language, _DEFAULT_PREFERENCE)
    if language in _PREFERENCE:
        chosen.append(preference[0])  # a CJK language always embeds its own face, for its own glyph forms
        missing -= _coverage(FACES[preference[0]].regular)
    for key in preference:
        if not missing:
            break
        covered = missing & _coverage(FACES[key].regular)
        if covered and key not in chosen:
            chosen.append(key)
            missing -= covered
    if missing:
        shown = ", ".join(f"U+{c:04X} {chr(c)!r}" for c in sorted(missing)[:12])
        raise NoticeError(f"no embedded font covers {len(missing)} character(s): {shown}")
    return tuple(chosen)
