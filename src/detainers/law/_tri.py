"""Three-valued (Kleene) truth: a fact the engine cannot establish is UNKNOWN, never quietly false.

SQL's NULL follows the same tables, which is what lets the bulk path compile the same predicates.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Tri"]


class Tri(Enum):
    FALSE = 0
    UNKNOWN = 1
    TRUE = 2

    @classmethod
    def of(cls, value: bool | None) -> Tri:
        if value is None:
            return cls.UNKNOWN
        return cls.TRUE if value else cls.FALSE

    def __and__(self, other: Tri) -> Tri:
        return Tri(min(self.value, other.value))

    def __or__(self, other: Tri) -> Tri:
        return Tri(max(self.value, other.value))

    def __invert__(self) -> Tri:
        return Tri(2 - self.value)

    def __bool__(self) -> bool:  # only TRUE grants anything
        return self is Tri.TRUE

    @property
    def label(self) -> str:
        return self.name.lower()
