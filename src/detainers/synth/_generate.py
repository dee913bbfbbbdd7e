"""The generator: seeded, chunked, vectorized (numpy), so ten million bookings stream in bounded memory.

Each chunk has its own random stream derived from (seed, chunk index), so the output does not depend on the
machine or on how many chunks a reader asks for. Nothing here names a person: ids are ``SYN-00000001``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from detainers.law import PackSet, default_packs
from detainers.law.bulk import BOOKINGS, CHARGES, CONVICTIONS, DETAINERS
from detainers.synth._calibration import (
    ADMISSIONS_MILLIONS,
    CONVICTION_COUNT_WEIGHTS,
    ELIGIBILITY_MIX,
    FORM_ERAS,
    GONZALEZ_FROM,
    GONZALEZ_STATES,
    LIFT_REASONS,
    LOS_DAYS,
    NO_CONVICTION_SHARE,
    OUTCOMES_BY_ERA,
    detainer_share,
    fiscal_year,
)
from detainers.synth._facilities import Facility, facilities_for
from detainers.synth._national import national_facilities, state_weights
from detainers.synth._vocab import pack_tags, vocabulary

__all__ = ["DETAINERS_EXTRA", "SynthConfig", "facilities_of", "facilities_table", "generate"]

Profile = Literal["calibrated", "coverage"]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

_US = 1_000_000
_HOUR = 3600 * _US
_DAY = 24 * _HOUR
_EPOCH = date(1970, 1, 1)
_TS = pa.timestamp("us", tz="UTC")
_WARRANTS = ("none", "I-200", "I-203", "I-205", "judicial_warrant", "judicial_probable_cause")
_PC = ("final_order", "pending_proceedings", "biometric_records", "statements_evidence")
_REQUESTS = ("hold", "notify", "transfer")
_PROOFS = ("none", "us_citizen", "lawful_status")
_OUTCOMES = tuple(OUTCOMES_BY_ERA[0][1])
DETAINERS_EXTRA = pa.schema([("outcome", pa.string())])


@dataclass(frozen=True)
class SynthConfig:
    """What to generate. ``end`` is inclusive; ``detainer_share`` overrides the calibrated per-year share."""

    scale: int
    seed: int = 0
    start: date = date(2012, 10, 1)
    end: date = date(2025, 9, 30)
    detainer_share: float | None = None
    profile: Profile = "calibrated"
    chunk: int = 250_000
    facilities: tuple[Facility, ...] = field(default_factory=tuple)
    # Every state and DC in proportion to a per-state table of detainer shares (docs/synth.md, "National").
    national: bool = False
    volumes: Path | None = None  # that table; None: the shipped TRAC table

    def __post_init__(self) -> None:
        if self.scale < 1:
            raise ValueError("scale must be at least 1 booking")
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.detainer_share is not None and not 0 <= self.detainer_share <= 1:
            raise ValueError("detainer share must be between 0 and 1")


def _days(d: date) -> int:
    return (d - _EPOCH).days


def _ts(values: I64, null: B | None = None) -> pa.Array:
    return pa.array(values // _US * _US, _TS, mask=null)  # whole seconds, as jail systems record them


def _strings(vocab: list[str], index: npt.NDArray[np.int32], null: B | None = None) -> pa.Array:
    idx = pa.array(index, pa.int32(), mask=null)
    return pa.DictionaryArray.from_arrays(idx, pa.array(vocab, pa.string())).cast(pa.string())


def _lists(matrix: B, values: tuple[str, ...], null: B | None = None) -> pa.Array:
    """Rows of a boolean (rows x values) matrix as list<string> (null rows where ``null``)."""
    if null is not None:
        matrix = matrix & ~null[:, None]
    counts = matrix.sum(axis=1).astype(np.int32)
    offsets = np.zeros(len(counts) + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    flat = np.nonzero(matrix)[1].astype(np.int32)
    items = _strings(list(values), flat) if values else pa.array([], pa.string())
    mask = None if null is None else pa.array(null, pa.bool_())
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), items, mask=mask)


def _choice(rng: np.random.Generator, n: int, weights: list[float] | tuple[float, ...]) -> npt.NDArray[np.int32]:
    p = np.asarray(weights, float)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int32)


def _lognormal_days(rng: np.random.Generator, n: int, median: float, mean: float) -> F64:
    sigma = float(np.sqrt(2 * np.log(mean / median)))
    return rng.lognormal(np.log(median), sigma, n)


def _era_index(days: I64, eras: tuple[tuple[date, dict[str, float]], ...]) -> npt.NDArray[np.intp]:
    starts = np.array([_days(d) for d, _ in eras])
    return np.clip(np.searchsorted(starts, days, side="right") - 1, 0, len(eras) - 1)


def facilities_of(config: SynthConfig, packs: PackSet) -> list[Facility]:
    """The facilities a population is drawn over: given, national (weighted by state shares) or the default list."""
    if config.facilities:
        return list(config.facilities)
    if config.national:
        return national_facilities(packs, state_weights(config.volumes))
    return facilities_for(packs)


def facilities_table(facilities: list[Facility]) -> pa.Table:
    return pa.table(
        {
            "facility_id": [f.facility_id for f in facilities],
            "name": [f.name for f in facilities],
            "jurisdiction": [f.jurisdiction for f in facilities],
            "timezone": [f.timezone for f in facilities],
            "booking_weight": [f.weight for f in facilities],
            "detainer_rate": [f.detainer_rate for f in facilities],
            "agreements": [list(f.agreements) for f in facilities],
        }
    )


@dataclass
class _Context:
    config: SynthConfig
    packs: PackSet
    facilities: list[Facility]
    day_values: I64
    day_weights: F64
    coverage: bool

    def p(self, calibrated: float, coverage: float) -> float:
        return coverage if self.coverage else calibrated


def _context(config: SynthConfig, packs: PackSet) -> _Context:
    facilities = facilities_of(config, packs)
    first, last = _days(config.start), _days(config.end)
    days = np.arange(first, last + 1, dtype=np.int64)
    weights = np.array(
        [ADMISSIONS_MILLIONS.get(fiscal_year(_EPOCH + timedelta(days=int(d))), 7.6) for d in days], float
    )
    return _Context(config, packs, facilities, days, weights / weights.sum(), config.profile == "coverage")


def generate(config: SynthConfig, packs: PackSet | None = None) -> Iterator[dict[str, pa.Table]]:
    """Yield the four tables (bookings, detainers, convictions, charges) chunk by chunk."""
    ctx = _context(config, packs or default_packs())
    for index, offset in enumerate(range(0, config.scale, config.chunk)):
        n = min(config.chunk, config.scale - offset)
        rng = np.random.default_rng(np.random.SeedSequence([config.seed, index]))
        yield _chunk(ctx, rng, offset, n)


def _chunk(ctx: _Context, rng: np.random.Generator, offset: int, n: int) -> dict[str, pa.Table]:
    cfg = ctx.config
    facs = ctx.facilities
    weights = [1.0] * len(facs) if ctx.coverage else [f.weight for f in facs]
    fac = _choice(rng, n, weights)
    day = ctx.day_values[_choice(rng, n, list(ctx.day_weights))] if n else np.zeros(0, np.int64)
    booked = day * _DAY + rng.integers(0, 86_400, n) * _US

    # Who draws a detainer: the calibrated national share for the FY times the facility's multiplier.
    if cfg.detainer_share is not None:
        share = np.full(n, cfg.detainer_share)
    elif ctx.coverage:
        share = np.ones(n)
    else:
        fy_share = {
            fy: detainer_share(fy) for fy in {fiscal_year(_EPOCH + timedelta(days=int(d))) for d in np.unique(day)}
        }
        share = np.array([fy_share[fiscal_year(_EPOCH + timedelta(days=int(d)))] for d in day])
        share = np.minimum(share * np.array([facs[i].detainer_rate for i in fac]), 0.9)
    has_det = rng.random(n) < share

    median_n, mean_n = LOS_DAYS["no_detainer"]
    median_d, mean_d = LOS_DAYS["detainer"]
    los_days = np.where(has_det, _lognormal_days(rng, n, median_d, mean_d), _lognormal_days(rng, n, median_n, mean_n))
    los = np.maximum((los_days * _DAY).astype(np.int64), 30 * 60 * _US)
    eligible = booked + los
    data_end = (_days(cfg.end) + 1) * _DAY
    pending = eligible >= data_end  # still held when the data end: no eligibility yet
    mix = _choice(rng, n, [w for _, _, w in ELIGIBILITY_MIX])
    raw_reasons = [r for r, _, _ in ELIGIBILITY_MIX]
    mapped = sorted({m for _, m, _ in ELIGIBILITY_MIX})
    reason_idx = np.array([mapped.index(m) for _, m, _ in ELIGIBILITY_MIX], np.int32)[mix]

    # Outcomes of the (operative) detainer by era of booking, and what they mean for release.
    era = _era_index(day, OUTCOMES_BY_ERA)
    outcome = np.zeros(n, np.int32)
    for e, (_, shares) in enumerate(OUTCOMES_BY_ERA):
        rows = np.nonzero(era == e)[0]
        probs = [1.0] * len(shares) if ctx.coverage else list(shares.values())
        outcome[rows] = _choice(rng, len(rows), probs)
    to_ice = has_det & (
        (outcome == _OUTCOMES.index("BOOKED_BY_ICE")) | ((outcome == _OUTCOMES.index("OPEN")) & (rng.random(n) < 0.5))
    )
    late = rng.random(n) < ctx.p(0.08, 0.3)  # ICE pickup after the 48 hours [I]
    pickup = np.where(late, rng.uniform(48, 120, n), rng.uniform(0.5, 40, n))
    processing = rng.uniform(0, 6, n)
    released = eligible + (np.where(to_ice, pickup, processing) * _HOUR).astype(np.int64)
    released_null = pending | (rng.random(n) < ctx.p(0.0, 0.1))
    released_to = np.where(to_ice, 1, 0).astype(np.int32)

    bail_refused = has_det & ~pending & (rng.random(n) < ctx.p(0.01, 0.15))
    refused_at = np.maximum(eligible - (rng.uniform(2, 96, n) * _HOUR).astype(np.int64), booked)
    as_of_mask = rng.random(n) < ctx.p(0.0, 0.05)
    as_of = booked + (rng.uniform(0.0, 1.2, n) * (eligible - booked)).astype(np.int64)

    proofs = _choice(rng, n, [0.985, 0.005, 0.01] if not ctx.coverage else [0.6, 0.2, 0.2])
    proof_at_null = (proofs == 0) | (rng.random(n) < 0.2)
    proof_at = booked + (rng.uniform(0, 2, n) * (eligible - booked)).astype(np.int64)

    tags = pack_tags(ctx.packs)
    person_tags = rng.random((n, len(tags.person_tags))) < ctx.p(0.01, 0.12)
    agreement_values = tuple(sorted({*tags.agreements, *(a for f in facs for a in f.agreements)}))
    fac_agree = np.array([[a in facs[i].agreements for a in agreement_values] for i in range(len(facs))], bool)
    agreements = (fac_agree.reshape(len(facs), -1)[fac] & (rng.random((n, len(agreement_values))) < 0.8)) | (
        rng.random((n, len(agreement_values))) < ctx.p(0.005, 0.1)
    )

    ids = np.arange(offset, offset + n)
    booking_ids = [f"SYN-BK-{i + 1:08d}" for i in ids]
    bookings = pa.table(
        {
            "booking_id": pa.array(booking_ids, pa.string()),
            "person_id": pa.array([f"SYN-{i + 1:08d}" for i in ids], pa.string()),
            "facility_id": _strings([f.facility_id for f in facs], fac),
            "jurisdiction": _strings([f.jurisdiction for f in facs], fac),
            "timezone": _strings([f.timezone for f in facs], fac),
            "booked_at": _ts(booked),
            "eligible_at": _ts(eligible, pending),
            "eligibility_reason": _strings(mapped, reason_idx, pending),
            "release_reason": _strings(raw_reasons, mix, pending),
            "released_at": _ts(released, released_null),
            "released_to": _strings(["public", "ice"], released_to, released_null),
            "bail_refused_at": _ts(refused_at, ~bail_refused),
            "as_of": _ts(as_of, ~as_of_mask),
            "status_proof": _strings(list(_PROOFS), proofs),
            "status_proof_at": _ts(proof_at, proof_at_null),
            "person_tags": _lists(person_tags, tags.person_tags),
            "agreements": _lists(agreements, agreement_values),
        },
        schema=BOOKINGS,
    )
    case_rows = np.nonzero(has_det)[0]
    detainers = _detainers(ctx, rng, case_rows, booking_ids, fac, booked, eligible, pending, outcome)
    convictions = _convictions(ctx, rng, booking_ids, fac, day, tags.row_tags)
    charges = _charges(ctx, rng, booking_ids, fac, booked, tags.row_tags)
    return {"bookings": bookings, "detainers": detainers, "convictions": convictions, "charges": charges}


def _form_codes(ctx: _Context, rng: np.random.Generator, received_day: I64, fac: npt.NDArray[np.int32]) -> list[str]:
    era = _era_index(received_day, FORM_ERAS)
    out = np.empty(len(received_day), dtype=object)
    for e, (_, shares) in enumerate(FORM_ERAS):
        rows = np.nonzero(era == e)[0]
        names = list(shares)
        out[rows] = np.array(names, dtype=object)[_choice(rng, len(rows), list(shares.values()))]
    gonzalez = np.array([ctx.facilities[i].jurisdiction.split("/")[1] in GONZALEZ_STATES for i in fac], bool) & (
        received_day >= _days(GONZALEZ_FROM)
    )
    out[gonzalez] = "I247G_2025"
    if ctx.coverage:  # every form in every era, a quarter of the time
        from detainers.domain import DetainerForm

        swap = rng.random(len(out)) < 0.25
        names = [f.name for f in DetainerForm]
        out[swap] = np.array(names, dtype=object)[rng.integers(0, len(names), int(swap.sum()))]
    return [str(x) for x in out]


def _detainers(
    ctx: _Context,
    rng: np.random.Generator,
    rows: npt.NDArray[np.intp],
    booking_ids: list[str],
    fac: npt.NDArray[np.int32],
    booked: I64,
    eligible: I64,
    pending: B,
    outcome: npt.NDArray[np.int32],
) -> pa.Table:
    m = len(rows)
    second = rng.random(m) < ctx.p(0.03, 0.2)
    case = np.concatenate([rows, rows[second]])
    seq = np.concatenate([np.zeros(m, np.int32), np.ones(int(second.sum()), np.int32)])
    k = len(case)
    b, e = booked[case], eligible[case]
    window = np.where(pending[case], 30 * _DAY, np.maximum(e - b, _HOUR))
    lag = np.minimum((rng.exponential(1.5, k) * _DAY).astype(np.int64), (window * 0.9).astype(np.int64))
    first_received = b[:m] + lag[:m]
    received = b + lag
    received[m:] = first_received[second] + (rng.uniform(1, 240, k - m) * _HOUR).astype(np.int64)
    received_null = rng.random(k) < ctx.p(0.0, 0.05)
    received_day = received // _DAY
    forms = _form_codes(ctx, rng, received_day, fac[case])
    a_era = received_day >= _days(date(2017, 4, 2))
    if ctx.coverage:
        warrant = rng.integers(0, len(_WARRANTS), k).astype(np.int32)
    else:
        modern = _choice(rng, k, [0.03, 0.80, 0.0, 0.15, 0.01, 0.01])
        old = _choice(rng, k, [0.85, 0.10, 0.0, 0.03, 0.01, 0.01])
        warrant = np.where(a_era, modern, old).astype(np.int32)
    pc_forms = np.array([f.startswith(("I247A", "I247D")) for f in forms], bool)
    pc = (rng.random((k, len(_PC))) < 0.35) & (pc_forms[:, None] | ctx.coverage)
    explicit = rng.random(k) < ctx.p(0.05, 0.3)
    requests = rng.random((k, len(_REQUESTS))) < 0.6
    box2 = rng.random(k) < ctx.p(0.01, 0.2)
    served_mode = _choice(rng, k, [0.4, 0.6, 0.0] if not ctx.coverage else [0.4, 0.3, 0.3])
    served = received + np.where(
        served_mode == 2, (rng.uniform(50, 2000, k) * _HOUR), rng.uniform(0, 12, k) * _HOUR
    ).astype(np.int64)
    served_null = (served_mode == 0) | ~a_era & ~np.asarray(ctx.coverage)
    out = outcome[case]
    lifted_outcome = out == _OUTCOMES.index("LIFTED_BY_ICE")
    lifted_at = received + (rng.uniform(0, 1.2, k) * np.maximum(e - received, _HOUR)).astype(np.int64)
    lifted_null = ~lifted_outcome
    # The first of two detainers is superseded when the second arrives.
    superseded = np.zeros(k, bool)
    superseded[:m][second] = True
    lifted_at[:m][second] = received[m:]
    lifted_null[:m][second] = False
    out_names = [_OUTCOMES[i] for i in out]
    reasons = []
    choices = rng.random(k)
    for i, name in enumerate(out_names):
        if superseded[i]:
            reasons.append("Superseding - New Form Issued")
            out_names[i] = "ADMIN"
            continue
        options = LIFT_REASONS[name]
        reasons.append(options[int(choices[i] * len(options))])
    states = [ctx.facilities[i].jurisdiction.split("/")[1].upper() for i in fac[case]]
    table = pa.table(
        {
            "booking_id": pa.array([booking_ids[i] for i in case], pa.string()),
            "seq": pa.array(seq, pa.int32()),
            "detainer_id": pa.array([f"{booking_ids[c]}-D{s + 1}" for c, s in zip(case, seq, strict=True)]),
            "form": pa.array(forms, pa.string()),
            "received_at": _ts(received, received_null),
            "issued_on": pa.array(received_day.astype("int32"), pa.date32(), mask=received_null),
            "requests": _lists(requests, _REQUESTS, ~explicit),
            "warrant": _strings(list(_WARRANTS), warrant),
            "pc_basis": _lists(pc, _PC),
            "box2": pa.array(box2, pa.bool_()),
            "served_at": _ts(served, served_null),
            "issuing_office": pa.array([f"SYN-AOR-{s}" for s in states], pa.string()),
            "lifted_at": _ts(lifted_at, lifted_null),
            "lift_reason": pa.array([r or None for r in reasons], pa.string()),
            "outcome": pa.array(out_names, pa.string()),
        },
        schema=pa.unify_schemas([DETAINERS, DETAINERS_EXTRA]),
    )
    return table.sort_by([("booking_id", "ascending"), ("seq", "ascending")])


def _statutes(
    ctx: _Context, rng: np.random.Generator, fac: npt.NDArray[np.int32]
) -> tuple[list[str], npt.NDArray[np.int32], list[str], npt.NDArray[np.int32]]:
    """Statute and level indices (into vocabularies) for rows at facilities ``fac``."""
    vocab = vocabulary()
    states = sorted({f.jurisdiction.split("/")[1].upper() for f in ctx.facilities})
    names: list[str] = []
    levels: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    for state in [*states, "?"]:
        items = vocab.unknown if state == "?" else vocab.for_state(state)
        spans[state] = (len(names), len(items))
        names.extend(s for s, _ in items)
        levels.extend(lv for _, lv in items)
    state_of_fac = np.array([states.index(f.jurisdiction.split("/")[1].upper()) for f in ctx.facilities])
    n = len(fac)
    starts = np.array([spans[s][0] for s in states])[state_of_fac[fac]]
    sizes = np.array([spans[s][1] for s in states])[state_of_fac[fac]]
    index = (starts + (rng.random(n) * sizes).astype(np.int64)).astype(np.int32)
    unknown = rng.random(n) < ctx.p(0.05, 0.15)
    u0, us = spans["?"]
    index[unknown] = u0 + rng.integers(0, us, int(unknown.sum()))
    level_names = ["felony", "misdemeanor", "infraction"]
    level = np.array([level_names.index(levels[i]) for i in range(len(levels))], np.int32)[index]
    flip = rng.random(n) < ctx.p(0.1, 0.3)
    level[flip] = rng.integers(0, 3, int(flip.sum()))
    return names, index, level_names, level


def _row_tags(ctx: _Context, rng: np.random.Generator, n: int, row_tags: tuple[str, ...]) -> pa.Array:
    matrix = np.zeros((n, len(row_tags)), bool)
    if row_tags:
        pick = rng.random(n) < ctx.p(0.02, 0.1)
        matrix[np.nonzero(pick)[0], rng.integers(0, len(row_tags), int(pick.sum()))] = True
    return _lists(matrix, row_tags)


def _convictions(
    ctx: _Context,
    rng: np.random.Generator,
    booking_ids: list[str],
    fac: npt.NDArray[np.int32],
    day: I64,
    row_tags: tuple[str, ...],
) -> pa.Table:
    n = len(booking_ids)
    has_any = rng.random(n) >= NO_CONVICTION_SHARE
    counts = np.where(has_any, _choice(rng, n, CONVICTION_COUNT_WEIGHTS) + 1, 0)
    owner = np.repeat(np.arange(n), counts)
    seq = (np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)).astype(np.int32)
    k = len(owner)
    names, index, level_names, level = _statutes(ctx, rng, fac[owner])
    conv_day = day[owner] - rng.integers(30, 25 * 365, k)
    state_prison = _choice(rng, k, [0.3, 0.5, 0.2])  # null, true, false
    sentence = rng.random(k) < 0.4
    sentence_end = np.minimum(conv_day + rng.integers(0, 4 * 365, k), day[owner] - 1)
    return pa.table(
        {
            "booking_id": pa.array([booking_ids[i] for i in owner], pa.string()),
            "seq": pa.array(seq, pa.int32()),
            "statute": _strings(names, index),
            "level": _strings(level_names, level),
            "date": pa.array(conv_day.astype(np.int32), pa.date32()),
            "state_prison": pa.array(state_prison == 1, pa.bool_(), mask=state_prison == 0),
            "sentence_end": pa.array(sentence_end.astype(np.int32), pa.date32(), mask=~sentence),
            "tags": _row_tags(ctx, rng, k, row_tags),
        },
        schema=CONVICTIONS,
    )


def _charges(
    ctx: _Context,
    rng: np.random.Generator,
    booking_ids: list[str],
    fac: npt.NDArray[np.int32],
    booked: I64,
    row_tags: tuple[str, ...],
) -> pa.Table:
    n = len(booking_ids)
    counts = 1 + np.minimum(rng.poisson(0.8, n), 4)
    owner = np.repeat(np.arange(n), counts)
    seq = (np.arange(len(owner)) - np.repeat(np.cumsum(counts) - counts, counts)).astype(np.int32)
    k = len(owner)
    names, index, level_names, level = _statutes(ctx, rng, fac[owner])
    felony_bump = rng.random(k) < 0.3  # 76% of jail inmates are held on felonies (BJS) [I: per charge]
    level[felony_bump] = 0
    finding = (level == 0) & (rng.random(k) < ctx.p(0.25, 0.4))
    pc_at = booked[owner] + (rng.uniform(12, 120, k) * _HOUR).astype(np.int64)
    return pa.table(
        {
            "booking_id": pa.array([booking_ids[i] for i in owner], pa.string()),
            "seq": pa.array(seq, pa.int32()),
            "statute": _strings(names, index),
            "level": _strings(level_names, level),
            "magistrate_pc_at": _ts(pc_at, ~finding),
            "tags": _row_tags(ctx, rng, k, row_tags),
        },
        schema=CHARGES,
    )
