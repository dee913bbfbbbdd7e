"""Rebuild the vendored font subsets from Debian's Noto packages (``make notice-fonts``).

Run only when a template gains characters the subsets lack (a test says so). Needs ``fonts-noto-core`` and
``fonts-noto-cjk`` (apt-get) and fontTools (a dependency of fpdf2). The subsets keep whole everyday character sets
(GB 2312, Big5 level 1, every Hangul syllable, all Latin with Vietnamese), not just the shipped translations, so a
county's certified translation renders without rebuilding anything.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterable
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection, TTFont

__all__ = ["build", "main"]

NOTO_CORE = Path("/usr/share/fonts/truetype/noto")
NOTO_CJK = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
OUT = Path(__file__).parent / "fonts"
TEMPLATES = Path(__file__).parent / "templates"

# Index of each face in NotoSansCJK-Regular.ttc (Debian 1:20220127): JP, KR, SC, TC, HK, then the Mono faces.
_CJK_FACES = {"NotoSansCJKkr-Regular-subset.otf": 1, "NotoSansCJKsc-Regular-subset.otf": 2}
_CJK_FACES["NotoSansCJKtc-Regular-subset.otf"] = 3


def _ranges(*spans: tuple[int, int]) -> set[int]:
    return {c for lo, hi in spans for c in range(lo, hi + 1)}


_COMMON = _ranges(
    (0x20, 0x7E),
    (0xA0, 0x24F),  # Latin-1, Latin Extended-A and -B
    (0x300, 0x36F),  # combining diacritics
    (0x1E00, 0x1EFF),  # Latin Extended Additional (Vietnamese)
    (0x2000, 0x206F),  # general punctuation
    (0x20A0, 0x20CF),  # currency signs
    (0x2100, 0x214F),  # letterlike symbols (No.)
)
_CJK_PUNCT = _ranges((0x3000, 0x303F), (0xFF00, 0xFFEF))


def _double_byte(codec: str, leads: Iterable[int], trails: Iterable[int]) -> set[int]:
    found: set[int] = set()
    trail_list = list(trails)
    for lead in leads:
        for trail in trail_list:
            try:
                found.add(ord(bytes([lead, trail]).decode(codec)))
            except (UnicodeDecodeError, TypeError):
                continue
    return found


def _template_chars() -> set[int]:
    return {ord(ch) for path in TEMPLATES.rglob("*.yaml") for ch in path.read_text(encoding="utf-8")}


def _subset(font: TTFont, unicodes: set[int], out: Path) -> None:
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted(unicodes))
    subsetter.subset(font)
    font.save(str(out))
    print(f"{out.name}: {out.stat().st_size} bytes")  # noqa: T201 - a build tool reports what it wrote


def build() -> None:
    OUT.mkdir(exist_ok=True)
    own = _template_chars()
    latin = _COMMON | {c for c in own if c < 0x2E80}
    for style in ("Regular", "Bold"):
        _subset(TTFont(str(NOTO_CORE / f"NotoSans-{style}.ttf")), latin, OUT / f"NotoSans-{style}-subset.ttf")
    cjk_own = {c for c in own if c >= 0x2E80}
    sets = {
        "NotoSansCJKsc-Regular-subset.otf": _double_byte("gb2312", range(0xA1, 0xF8), range(0xA1, 0xFF)),
        "NotoSansCJKtc-Regular-subset.otf": _double_byte(
            "big5", range(0xA1, 0xC7), [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
        ),
        "NotoSansCJKkr-Regular-subset.otf": _ranges((0xAC00, 0xD7A3), (0x1100, 0x11FF), (0x3130, 0x318F)),
    }
    collection = TTCollection(str(NOTO_CJK))
    for name, index in _CJK_FACES.items():
        buffer = io.BytesIO()
        collection.fonts[index].save(buffer)
        buffer.seek(0)
        _subset(TTFont(buffer), sets[name] | _COMMON | _CJK_PUNCT | cjk_own, OUT / name)


def main() -> None:
    missing = [str(p) for p in (NOTO_CORE / "NotoSans-Regular.ttf", NOTO_CJK) if not p.exists()]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: apt-get install fonts-noto-core fonts-noto-cjk")
    build()


if __name__ == "__main__":
    main()
