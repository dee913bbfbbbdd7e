"""The facts a rule may look at, derived once per case (and, in bulk, once per row)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from detainers.domain import (
    Agreement,
    DetainerForm,
    EligibilityReason,
    Level,
    PCBasis,
    Request,
    StatusProof,
    WarrantKind,
)

__all__ = ["ChargeFacts", "ConvictionFacts", "Facts"]


@dataclass(frozen=True)
class ConvictionFacts:
    statute: str
    level: Level
    date: date
    window_start: dt.date  # the end of the custody part of the sentence when known, else the conviction date
    state_prison: bool | None
    tags: frozenset[str]
    known: bool  # the statute was found in a dictionary or table of its jurisdiction
    classification: str  # how the tags were reached, for the explanation
    possible_tags: frozenset[str] = frozenset()  # tags that need a fact the statute cannot show (degree, value)


@dataclass(frozen=True)
class ChargeFacts:
    statute: str
    level: Level
    tags: frozenset[str]
    known: bool
    magistrate_probable_cause_at: datetime | None
    classification: str
    possible_tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Facts:
    """What the engine knows at the decision instant about one detainer on one booking."""

    form: DetainerForm
    requests: frozenset[Request]
    warrant: WarrantKind
    pc_basis: frozenset[PCBasis]
    box2: bool
    served: bool | None  # None: the case does not say
    lifted: bool  # lifted by ICE at or before the decision instant
    status_proof: StatusProof  # proof shown at or before the decision instant
    eligibility_reason: EligibilityReason | None
    decision_date: date  # local calendar date of the decision instant
    booking_date: date | None
    convictions: tuple[ConvictionFacts, ...]
    charges: tuple[ChargeFacts, ...]
    person_tags: frozenset[str] = frozenset()
    agreements: frozenset[Agreement] = frozenset()
    readings: Mapping[str, str] = field(default_factory=dict)  # declared reading id -> option applied
    jurisdiction: str = ""  # the booking's own jurisdiction path (the holding jail), e.g. us/in/monroe
