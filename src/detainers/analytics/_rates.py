"""A rate that cannot be printed without its numerator, denominator and the denominator's name."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DENOMINATORS", "Rate"]

#: The denominators reports use, by key, with the words printed after them.
DENOMINATORS: dict[str, str] = {
    "issued": "of detainers issued",
    "resolved": "of resolved",
    "jail_decisions": "of decisions by the jail",
}


@dataclass(frozen=True)
class Rate:
    numerator: int
    denominator: int
    denominator_name: str

    @property
    def share(self) -> float | None:
        return self.numerator / self.denominator if self.denominator else None

    def text(self) -> str:
        """``"1.0% = 225 / 21,528 of resolved"``; ``"n/a = 0 / 0 of resolved"`` when the denominator is empty."""
        share = self.share
        pct = f"{share * 100:.1f}%" if share is not None else "n/a"
        return f"{pct} = {self.numerator:,} / {self.denominator:,} {self.denominator_name}"

    def as_dict(self) -> dict[str, object]:
        share = self.share
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "denominator_name": self.denominator_name,
            "share": share,
            "percent": share * 100 if share is not None else None,  # unrounded; text() rounds for people
            "text": self.text(),
        }
