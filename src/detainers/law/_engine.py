"""The evaluator: facts of one case + the layers of its jurisdiction -> one explained :class:`Decision`.

Per layer, rules apply in file order and a later rule overrides an earlier one on what it sets (the
default-then-exception shape of statutes). Across layers, outermost first, the most restrictive
permission wins, except where an outer layer preempts local restriction (Texas SB 4).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache

import detainers
from detainers.clock import (
    HoldClockKind,
    OverDetentionFlag,
    calendar_by_name,
    format_instant,
    hold_deadline,
    local_date,
    notify_target,
    over_detention,
)
from detainers.domain import Case, Detainer, StatusProof
from detainers.law._decision import Coverage, Decision, LayerRef, Notice, RuleRef, Step, Transfer
from detainers.law._facts import ChargeFacts, ConvictionFacts, Facts
from detainers.law._jurisdictions import layers_of
from detainers.law._packs import CustodyBasis, Effects, Pack, PackSet, PackVersion, Permission, Rule, load_packs
from detainers.law._tri import Tri
from detainers.law.offenses import Classification, classify

__all__ = ["DecisionError", "decide", "default_packs", "engine_version"]

_DIMENSIONS = ("notify", "hold", "transfer")
_RANK = {Permission.FORBID: 0, Permission.ALLOW: 1, Permission.REQUIRE: 2}


class DecisionError(ValueError):
    """The case lacks what any decision needs (e.g. no instant to decide at)."""


@lru_cache(maxsize=1)
def default_packs() -> PackSet:
    return load_packs()


def engine_version(packs: PackSet | None = None) -> str:
    packs = packs or default_packs()
    return f"detainers {detainers.__version__}; packs {packs.digest}"


@dataclass
class _HoldClock:
    """How long a hold may last, as the layers' rules set it: the last clock kind set, the shortest hours."""

    kind: HoldClockKind = HoldClockKind.NONE
    hours: float | None = None  # None: no rule set it (48 is used)
    basis: CustodyBasis | None = None


@dataclass
class _Run:
    steps: list[Step] = field(default_factory=list)
    rules: list[RuleRef] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    inform_subject: bool = False
    unknown_statutes: set[str] = field(default_factory=set)
    fired_keys: set[tuple[str, str]] = field(default_factory=set)  # (rule id, pack@version) already in ``rules``

    def step(self, kind: str, text: str, rule: str | None = None) -> None:
        self.steps.append(Step(kind=kind, text=text, rule=rule))

    def fired(self, rule: Rule, pack: Pack, version: PackVersion) -> None:
        key = (rule.id, f"{pack.pack}@{version.version}")
        if key in self.fired_keys:
            return
        self.fired_keys.add(key)
        self.rules.append(
            RuleRef(
                id=key[0], version=key[1], citation=rule.citation.text(), evidence=rule.evidence, url=rule.citation.url
            )
        )


def _operative_detainer(case: Case, instant: datetime) -> tuple[Detainer, list[Detainer]]:
    """The latest detainer not lifted by the decision instant (later forms supersede earlier ones)."""
    epoch = datetime.min.replace(tzinfo=instant.tzinfo)
    ordered = sorted(case.detainers, key=lambda d: d.received_at or epoch)
    active = [d for d in ordered if d.lifted_at is None or d.lifted_at > instant]
    chosen = active[-1] if active else ordered[-1]
    return chosen, [d for d in ordered if d is not chosen]


def _how(found: Classification) -> str:
    parts = [f"{m.citation}{' — ' + m.note if m.note and m.table_id != 'ca_wobblers' else ''}" for m in found.matches]
    parts += [f"{m.citation} only if {m.when_tag.replace('_', ' ')}" for m in found.conditional if m.when_tag]
    if not found.known:
        parts.append(f"unknown statute: {found.reason}")
    return "; ".join(parts) or "no table lists it"


def _possible(found: Classification) -> frozenset[str]:
    tags: set[str] = set()
    for m in (*found.conditional, *found.needs_level):
        tags |= m.tags
    return frozenset(tags)


def _facts(case: Case, detainer: Detainer, instant: datetime, zone: str, run: _Run) -> Facts:
    day = local_date(instant, zone)
    jurisdiction = case.jurisdiction
    convictions = []
    for c in case.person.convictions:
        if c.date > day:
            run.step("fact", f"conviction {c.statute} of {c.date} is after the decision date {day}: not counted")
            continue
        # Lists apply as in force on the decision date; the dictionary knows statutes repealed since.
        found = classify(c.statute, level=c.level, jurisdiction=jurisdiction, on=day, extra_tags=c.tags)
        tags = frozenset(found.tags)
        how = _how(found)
        if not found.known and not c.tags:
            run.unknown_statutes.add(c.statute)
            run.warnings.append(f"statute {c.statute!r} is unknown ({found.reason}); rules that depend on it say so")
        convictions.append(
            ConvictionFacts(
                statute=c.statute,
                level=c.level,
                date=c.date,
                window_start=max(c.date, c.sentence_end) if c.sentence_end else c.date,
                state_prison=c.punishable_by_state_prison,
                tags=tags,
                known=found.known or bool(c.tags),
                classification=how,
                possible_tags=_possible(found),
            )
        )
        shown = ", ".join(sorted(tags)) or "none"
        run.step("fact", f"prior conviction {c.statute} ({c.level.value}, {c.date}): tags {shown}; {how}")
    charges = []
    for ch in case.booking.charges:
        found = classify(ch.statute, level=ch.level, jurisdiction=jurisdiction, on=day, extra_tags=ch.tags)
        if not found.known and not ch.tags:
            run.unknown_statutes.add(ch.statute)
        charges.append(
            ChargeFacts(
                statute=ch.statute,
                level=ch.level,
                tags=frozenset(found.tags),
                known=found.known or bool(ch.tags),
                # a holding order made after the decision instant cannot ground the decision yet
                magistrate_probable_cause_at=(
                    ch.magistrate_probable_cause_at
                    if ch.magistrate_probable_cause_at is not None and ch.magistrate_probable_cause_at <= instant
                    else None
                ),
                classification=_how(found),
                possible_tags=_possible(found),
            )
        )
    proof = case.person.status_proof
    if proof is not StatusProof.NONE and case.person.status_proof_at and case.person.status_proof_at > instant:
        run.step("fact", f"proof of status ({proof.value}) was shown only after the decision instant; not counted")
        proof = StatusProof.NONE
    lifted = detainer.lifted_at is not None and detainer.lifted_at <= instant
    served = None if detainer.served_on_subject_at is None else detainer.served_on_subject_at <= instant
    return Facts(
        form=detainer.form,
        requests=detainer.effective_requests,
        warrant=detainer.warrant,
        pc_basis=detainer.pc_basis,
        box2=detainer.box2_transferred_for_proceeding,
        served=served,
        lifted=lifted,
        status_proof=proof,
        eligibility_reason=case.booking.eligibility_reason,
        decision_date=day,
        booking_date=local_date(case.booking.booked_at, zone) if case.booking.booked_at else None,
        convictions=tuple(convictions),
        charges=tuple(charges),
        person_tags=frozenset(case.person.tags),
        agreements=case.booking.agreements,
    )


def _apply(
    effects: Effects,
    layer: dict[str, tuple[Permission, Rule, bool]],
    rule: Rule,
    clock: _HoldClock,
    *,
    applies: bool,
) -> None:
    for dim, permission in effects.permissions().items():
        # Only a rule that applies preempts local restriction; its `otherwise` branch never does.
        layer[dim] = (permission, rule, applies and dim in rule.preempts_local)
    if effects.hold_clock is not None:
        clock.kind = effects.hold_clock
    if effects.hold_hours is not None:
        clock.hours = effects.hold_hours if clock.hours is None else min(effects.hold_hours, clock.hours)
    if effects.custody_basis is not None:
        clock.basis = effects.custody_basis


def _evaluate_layer(
    pack: Pack, version: PackVersion, facts: Facts, run: _Run, clock: _HoldClock
) -> dict[str, tuple[Permission, Rule, bool]]:
    said: dict[str, tuple[Permission, Rule, bool]] = {}
    for rule in version.rules:
        if rule.on_outcome is not None:
            continue
        why: list[str] = []
        result = rule.condition.evaluate(facts, why)
        detail = f" ({'; '.join(why)})" if why else ""
        if result is Tri.TRUE and rule.warn:
            run.warnings.append(f"{rule.id}: {rule.warn}")
            run.fired(rule, pack, version)
        if result is Tri.TRUE:
            effects: Effects | None = rule.sets
            verb = "applies"
        else:
            effects = rule.otherwise
            verb = "does not apply" if result is Tri.FALSE else "cannot be decided"
        if result is Tri.UNKNOWN:
            run.warnings.append(
                f"{rule.id}: whether it applies depends on facts the tables cannot establish{detail}; "
                "treated as not met — check by hand"
            )
        if effects is None:
            if result is Tri.UNKNOWN:
                run.step("rule", f"{rule.title}: {verb}{detail}", rule.id)
            continue
        run.fired(rule, pack, version)
        _apply(effects, said, rule, clock, applies=result is Tri.TRUE)
        if effects.inform_subject:
            run.inform_subject = True
        if result is Tri.TRUE:
            run.notices.extend(Notice(kind=n.kind, to=n.to, rule=rule.id, text=n.text) for n in rule.notices)
        run.step(
            "rule",
            f"{rule.title}: {verb}{detail} → {effects.describe()} [{rule.citation.text()}; {rule.evidence}]",
            rule.id,
        )
    return said


def _compose(
    layers: Iterable[tuple[Pack, PackVersion, dict[str, tuple[Permission, Rule, bool]]]], run: _Run
) -> dict[str, Permission]:
    final: dict[str, Permission] = {}
    locked: dict[str, str] = {}
    for pack, _version, said in layers:
        for dim in _DIMENSIONS:
            if dim not in said:
                continue
            permission, rule, preempts = said[dim]
            current = final.get(dim)
            if current is None:
                final[dim] = permission
            elif dim in locked and _RANK[permission] < _RANK[current]:
                run.step(
                    "layer",
                    f"{pack.pack} would make {dim} '{permission.value}' ({rule.id}), but {locked[dim]} preempts "
                    f"local restriction; {dim} stays '{current.value}'",
                    rule.id,
                )
                continue
            elif Permission.FORBID in (permission, current):
                if current is not Permission.FORBID:
                    run.step("layer", f"{pack.pack} is more restrictive on {dim}: '{permission.value}'", rule.id)
                final[dim] = Permission.FORBID
            elif Permission.REQUIRE in (permission, current):
                final[dim] = Permission.REQUIRE
            else:
                final[dim] = Permission.ALLOW
            if preempts:
                locked[dim] = f"{pack.pack} ({rule.id})"
    return final


def _outcome_rules(
    chosen: list[tuple[Pack, PackVersion, dict[str, tuple[Permission, Rule, bool]]]],
    facts: Facts,
    final: dict[str, Permission],
    run: _Run,
) -> None:
    for pack, version, _said in chosen:
        for rule in version.rules:
            if rule.on_outcome is None or final.get(rule.on_outcome, Permission.FORBID) is Permission.FORBID:
                continue
            if rule.condition.evaluate(facts, []) is not Tri.TRUE:
                continue
            run.fired(rule, pack, version)
            if rule.sets.inform_subject:
                run.inform_subject = True
            run.notices.extend(Notice(kind=n.kind, to=n.to, rule=rule.id, text=n.text) for n in rule.notices)
            run.step("rule", f"{rule.title}: applies because {rule.on_outcome} is permitted", rule.id)


def _coverage(chain: list[LayerRef]) -> Coverage:
    encoded = tuple(layer.jurisdiction for layer in chain if layer.pack is not None and layer.version is not None)
    fell_back = tuple(layer.jurisdiction for layer in chain if layer.pack is None or layer.version is None)
    if not fell_back:
        summary = "every layer encoded: " + " → ".join(encoded)
    else:
        summary = (
            f"not encoded: {', '.join(fell_back)} — the answer is the law of {', '.join(encoded) or 'no layer'} only"
        )
    return Coverage(encoded=encoded, fell_back=fell_back, complete=not fell_back, summary=summary)


def decide(
    case: Case,
    *,
    packs: PackSet | None = None,
    jurisdiction: str | None = None,
    versions_on: date | None = None,
) -> Decision:
    """Decide one case under the law in force at its legally relevant instant.

    What-if replay may apply another ``jurisdiction``'s packs to the same facts, and pin the pack versions
    to those in force on ``versions_on`` instead of the case's own date.
    """
    packs = packs or default_packs()
    if jurisdiction is not None and jurisdiction != case.jurisdiction:
        case = case.model_copy(update={"booking": case.booking.model_copy(update={"jurisdiction": jurisdiction})})
    run = _Run()
    zone = case.booking.timezone
    booking = case.booking
    eligible = booking.eligible_for_release_at
    instant = case.as_of or eligible
    if instant is None:
        received = [d.received_at for d in case.detainers if d.received_at is not None]
        if not received:
            raise DecisionError(f"case {case.name!r}: give as_of, eligible_for_release_at or a detainer received_at")
        instant = max(received)
        run.step(
            "fact", f"no release eligibility yet: deciding as of the detainer's receipt {format_instant(instant, zone)}"
        )
    else:
        source = "as_of" if case.as_of else f"release eligibility ({booking.eligibility_reason or 'reason not given'})"
        run.step("fact", f"decision instant {format_instant(instant, zone)} ({source}); facility zone {zone}")
    day = local_date(instant, zone)
    version_day = versions_on or day
    if versions_on is not None:
        run.step("note", f"pack versions pinned to those in force on {versions_on} (what-if replay)")

    detainer, others = _operative_detainer(case, instant)
    requests = "+".join(sorted(r.value for r in detainer.effective_requests)) or "nothing"
    run.step(
        "fact",
        f"detainer {detainer.form.value} received "
        f"{format_instant(detainer.received_at, zone) if detainer.received_at else '(time not given)'}: "
        f"requests {requests}; warrant {detainer.warrant.value}; probable cause "
        f"{', '.join(sorted(b.value for b in detainer.pc_basis)) or 'not stated'}",
    )
    for other in others:
        run.step("note", f"earlier or lifted detainer {other.form.value} is not the operative one")
    facts = _facts(case, detainer, instant, zone, run)
    if facts.lifted and detainer.lifted_at is not None:
        reason = detainer.lift_reason or "no reason given"
        run.step("fact", f"ICE lifted the detainer at {format_instant(detainer.lifted_at, zone)} ({reason})")

    chain: list[LayerRef] = []
    chosen: list[tuple[Pack, PackVersion, dict[str, tuple[Permission, Rule, bool]]]] = []
    clock = _HoldClock()
    calendar_name = "us-federal"
    for layer in layers_of(case.jurisdiction):
        pack = packs.get(layer.path)
        if pack is None:
            chain.append(LayerRef(level=layer.level, jurisdiction=layer.path, pack=None, version=None))
            above = "the federal baseline" if layer.level == "state" else "the layers above"
            run.step("layer", f"no policy pack is encoded for {layer.path} ({layer.level}): {above} decide")
            continue
        version = pack.version_on(version_day)
        chain.append(
            LayerRef(
                level=pack.level,
                jurisdiction=layer.path,
                pack=pack.pack,
                version=version.version if version else None,
                effective_from=version.effective_from.isoformat() if version else None,
                effective_to=version.effective_to.isoformat() if version and version.effective_to else None,
            )
        )
        if version is None:
            if layer.level == "federal":
                raise DecisionError(
                    f"case {case.name!r}: no version of the federal baseline is in force on {version_day}"
                )
            run.step("layer", f"{pack.title}: no version in force on {version_day}; this layer adds nothing")
            continue
        span = f"{version.effective_from} – {version.effective_to or 'today'}"
        run.step("layer", f"{pack.title} ({pack.pack}), version {version.version} in force {span}: {version.title}")
        if pack.holiday_calendar:
            calendar_name = pack.holiday_calendar
        said = _evaluate_layer(pack, version, facts, run, clock)
        chosen.append((pack, version, said))

    final = _compose(chosen, run)
    for dim in _DIMENSIONS:
        if dim not in final:
            final[dim] = Permission.FORBID
            run.step("note", f"no layer said anything about {dim}: treated as not allowed")
    _outcome_rules(chosen, facts, final, run)

    hold = final["hold"]
    kind, hours = clock.kind, 48.0 if clock.hours is None else clock.hours
    hold_until: datetime | None
    if eligible is None:
        hold_until = None
        run.step("clock", "release eligibility is not known yet: no hold deadline")
    elif hold is Permission.FORBID or kind is HoldClockKind.NONE:
        hold_until = eligible
        run.step("clock", f"no custody beyond release eligibility: hold until {format_instant(eligible, zone)}")
    else:
        calendar = calendar_by_name(calendar_name)
        deadline = hold_deadline(kind, eligible, hours=hours, zone=zone, calendar=calendar)
        assert deadline is not None
        # UTC like every stored instant: Python compares a time in a DST fold with another zone's as unequal.
        hold_until = deadline.astimezone(UTC)
        if kind is HoldClockKind.SAME_DAY:
            span = "until 11:59 p.m. of the local day of release eligibility"
        elif kind is HoldClockKind.ELAPSED:
            span = f"for {hours:g} elapsed hours"
        else:
            span = f"for {hours:g} hours excluding Saturdays, Sundays and holidays ({calendar.name})"
        run.step(
            "clock",
            f"hold allowed {span} from {format_instant(eligible, zone)}: until {format_instant(deadline, zone)}",
        )

    notify = final["notify"] is not Permission.FORBID
    target = None
    if notify and eligible is not None:
        target = notify_target(eligible, now=detainer.received_at).astimezone(UTC)
        run.step("clock", f"notify ICE by {format_instant(target, zone)} (48 hours before release, if possible)")

    transfer = {
        Permission.FORBID: Transfer.NOT_ALLOWED,
        Permission.ALLOW: Transfer.ALLOWED,
        Permission.REQUIRE: Transfer.REQUIRED,
    }[final["transfer"]]
    judicial_custody = detainer.warrant.judicial and transfer is not Transfer.NOT_ALLOWED
    if judicial_custody:
        run.step(
            "note",
            "a judicial warrant is a criminal warrant, not a detainer: custody on it follows warrant process, "
            "not the 48-hour clock",
        )
    od_hours = 0.0
    flags: tuple[OverDetentionFlag, ...] = ()
    if eligible is not None and hold_until is not None:
        od = over_detention(
            eligible_at=eligible,
            hold_until=hold_until,
            released_at=booking.released_at,
            detainer_in_force=not facts.lifted and not judicial_custody,
            bail_refused_at=booking.bail_refused_at,
        )
        od_hours, flags = od.hours, od.flags
        if od.hours > 0:
            run.step("clock", f"over-detention {od.hours:.2f} h ({', '.join(str(f) for f in od.flags)})")
    basis: str | None = None
    if clock.basis is not None and hold is not Permission.FORBID:
        basis = clock.basis.value
    elif judicial_custody:
        basis = CustodyBasis.JUDICIAL_WARRANT.value
    elif hold_until is not None and eligible is not None and hold_until > eligible:
        basis = CustodyBasis.DETAINER.value
    for dim in _DIMENSIONS:
        run.step("fact", f"result: {dim} {final[dim].value}")

    return Decision(
        coverage=_coverage(chain),
        case=case.name,
        jurisdiction=case.jurisdiction,
        timezone=zone,
        decided_at=instant,
        jurisdiction_chain=tuple(chain),
        notify=notify,
        notify_required=final["notify"] is Permission.REQUIRE,
        notify_target=target,
        hold_until=hold_until,
        hold_required=hold is Permission.REQUIRE and hold_until is not None and hold_until != eligible,
        transfer=transfer,
        inform_subject=run.inform_subject,
        custody_basis=basis,
        notices=tuple(run.notices),
        over_detention_hours=round(od_hours, 4),
        over_detention_flags=tuple(flags),
        rules=tuple(run.rules),
        explanation=tuple(run.steps),
        unknown_statutes=tuple(sorted(run.unknown_statutes)),
        warnings=tuple(dict.fromkeys(run.warnings)),
        engine_version=engine_version(packs),
    )
