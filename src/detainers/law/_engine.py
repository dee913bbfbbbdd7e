"""The evaluator: facts of one case + the layers of its jurisdiction -> one explained :class:`Decision`.

A decision runs in named stages, each a function below (the bulk path in ``law/bulk`` mirrors them):

1. **instant** — when the decision is taken (``as_of``, else release eligibility, else the last receipt);
2. **operative detainer** — the latest detainer received by that instant and not lifted by it;
3. **facts** — what was true at that instant (a fact recorded later never counts);
4. **layers** — each layer's pack version in force on the instant's local date, its rules in file order;
5. **composition** — most restrictive wins across layers, except where an outer layer preempts local restriction;
6. **duties** — notices owed after composition, on receipt of each request, and warnings keyed on the issue date;
7. **clock** — the hold window from release eligibility, cut short where a lift, a proof of status or a law
   (or court order) taking effect during the hold ends the authority to hold;
8. **outcome** — over-detention, custody basis, coverage, and the readings of arguable clauses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
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
    start_of_local_day,
)
from detainers.domain import Agreement, Case, Detainer, StatusProof
from detainers.law._agreements import AgreementRegistry
from detainers.law._decision import Coverage, Decision, LayerRef, Notice, RuleRef, Step, Transfer
from detainers.law._facts import ChargeFacts, ConvictionFacts, Facts
from detainers.law._jurisdictions import layers_of
from detainers.law._packs import (
    CustodyBasis,
    Effects,
    Pack,
    PackError,
    PackSet,
    PackVersion,
    Permission,
    Rule,
    load_packs,
)
from detainers.law._predicates import readings_used
from detainers.law._tri import Tri
from detainers.law.offenses import Classification, classify

__all__ = ["DecisionError", "decide", "default_packs", "engine_version"]

_DIMENSIONS = ("notify", "hold", "transfer")
_RANK = {Permission.FORBID: 0, Permission.ALLOW: 1, Permission.REQUIRE: 2}
_EPOCH = datetime.min.replace(tzinfo=UTC)

_Said = dict[str, tuple[Permission, Rule, bool]]  # dimension -> (permission, deciding rule, preempts local)


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
    """What one decision collects as its stages run; a scratch run (``quiet``) records nothing people read."""

    quiet: bool = False
    steps: list[Step] = field(default_factory=list)
    rules: list[RuleRef] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    undecided: list[str] = field(default_factory=list)
    inform_subject: bool = False
    unknown_statutes: set[str] = field(default_factory=set)
    fired_keys: set[tuple[str, str]] = field(default_factory=set)  # (rule id, pack@version) already in ``rules``

    def step(self, kind: str, text: str, rule: str | None = None) -> None:
        if not self.quiet:
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

    def notice(self, rule: Rule) -> None:
        for n in rule.notices:
            owed = Notice(kind=n.kind, to=n.to, rule=rule.id, text=n.text)
            if owed not in self.notices:
                self.notices.append(owed)


@dataclass(frozen=True)
class _Law:
    """What a decision is judged under besides the case: the packs, the readings applied, versions pinned by a
    what-if replay, and the registry of 287(g) agreements (if the deployment has one)."""

    packs: PackSet
    readings: Mapping[str, str]
    versions_on: date | None = None
    agreements: AgreementRegistry | None = None


@dataclass
class _Layers:
    """Stage 4's result: the chain of layers, the versions applied and what each said."""

    chain: list[LayerRef]
    chosen: list[tuple[Pack, PackVersion, _Said]]
    clock: _HoldClock
    calendar: str


# --- stage 1 and 2: the instant and the operative detainer -------------------------------------------------------


def _instant(case: Case, zone: str, run: _Run) -> datetime:
    booking = case.booking
    if case.as_of is not None or booking.eligible_for_release_at is not None:
        instant = case.as_of or booking.eligible_for_release_at
        assert instant is not None
        source = "as_of" if case.as_of else f"release eligibility ({booking.eligibility_reason or 'reason not given'})"
        run.step("fact", f"decision instant {format_instant(instant, zone)} ({source}); facility zone {zone}")
        return instant
    received = [d.received_at for d in case.detainers if d.received_at is not None]
    if not received:
        raise DecisionError(f"case {case.name!r}: give as_of, eligible_for_release_at or a detainer received_at")
    instant = max(received)
    run.step(
        "fact", f"no release eligibility yet: deciding as of the detainer's receipt {format_instant(instant, zone)}"
    )
    return instant


def _operative_detainer(
    case: Case, instant: datetime, zone: str, run: _Run
) -> tuple[Detainer, list[Detainer], datetime]:
    """The latest detainer received by the instant and not lifted by it (later forms supersede earlier ones).

    A detainer received after the instant is not yet a fact. When none had arrived by release eligibility, the
    decision moves to the first receipt: the jail decides when the request reaches it (the hold clock still
    counts from eligibility, "the time he or she would otherwise have been released").
    """
    received = [d for d in case.detainers if d.received_at is None or d.received_at <= instant]
    if not received:
        if case.as_of is not None:
            raise DecisionError(
                f"case {case.name!r}: no detainer had been received by as_of {format_instant(instant, zone)}"
            )
        first = min(case.detainers, key=lambda d: d.received_at or _EPOCH)
        assert first.received_at is not None
        run.step(
            "fact",
            f"no detainer had arrived by release eligibility {format_instant(instant, zone)}: deciding when the first "
            f"one was received, {format_instant(first.received_at, zone)}",
        )
        instant = first.received_at
        received = [d for d in case.detainers if d.received_at is None or d.received_at <= instant]
    ordered = sorted(received, key=lambda d: d.received_at or _EPOCH)
    active = [d for d in ordered if d.lifted_at is None or d.lifted_at > instant]
    chosen = active[-1] if active else ordered[-1]
    for other in ordered:
        if other is not chosen:
            run.step("note", f"earlier or lifted detainer {other.form.value} is not the operative one")
    for later in case.detainers:
        if later.received_at is not None and later.received_at > instant:
            run.step(
                "note",
                f"detainer {later.form.value} received {format_instant(later.received_at, zone)}, after the decision "
                "instant: not counted (a fact counts from its own instant)",
            )
    return chosen, [d for d in ordered if d is not chosen], instant


# --- stage 3: facts ----------------------------------------------------------------------------------------------


def _how(found: Classification) -> str:
    parts = [f"{m.citation}{' — ' + m.note if m.note else ''}" for m in found.matches]
    parts += [f"{m.citation} only if {m.when_tag.replace('_', ' ')}" for m in found.conditional if m.when_tag]
    if not found.known:
        parts.append(f"unknown statute: {found.reason}")
    return "; ".join(parts) or "no table lists it"


def _possible(found: Classification) -> frozenset[str]:
    tags: set[str] = set()
    for m in (*found.conditional, *found.needs_level):
        tags |= m.tags
    return frozenset(tags)


def _agreements(case: Case, day: date, law: _Law, run: _Run) -> frozenset[Agreement]:
    """The booking's own agreements plus those the published list gives its jurisdiction on ``day``."""
    found = set(case.booking.agreements)
    if law.agreements is not None:
        for record in law.agreements.for_jurisdiction(case.jurisdiction, day):
            found.add(record.model)
            run.step("fact", f"287(g) agreement on the published list: {record.describe()}")
    return frozenset(found)


def _facts(case: Case, detainer: Detainer, instant: datetime, zone: str, run: _Run, law: _Law) -> Facts:
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
        agreements=_agreements(case, day, law, run),
        readings=dict(law.readings),
        jurisdiction=jurisdiction,
    )


# --- stage 4 and 5: layers and composition -----------------------------------------------------------------------


def _apply(effects: Effects, layer: _Said, rule: Rule, clock: _HoldClock, *, applies: bool) -> None:
    for dim, permission in effects.permissions().items():
        # Only a rule that applies preempts local restriction; its `otherwise` branch never does.
        layer[dim] = (permission, rule, applies and dim in rule.preempts_local)
    if effects.hold_clock is not None:
        clock.kind = effects.hold_clock
    if effects.hold_hours is not None:
        clock.hours = effects.hold_hours if clock.hours is None else min(effects.hold_hours, clock.hours)
    if effects.custody_basis is not None:
        clock.basis = effects.custody_basis


def _evaluate_layer(pack: Pack, version: PackVersion, facts: Facts, run: _Run, clock: _HoldClock) -> _Said:
    said: _Said = {}
    for rule in version.rules:
        if rule.on_outcome is not None or rule.arises != "decision":
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
            verb = "condition not met" if result is Tri.FALSE else "cannot be decided"
        if result is Tri.UNKNOWN:
            run.warnings.append(
                f"{rule.id}: whether it applies depends on facts the tables cannot establish{detail}; "
                "treated as not met — check by hand"
            )
            if effects is not None or rule.sets.permissions():
                run.undecided.extend(why or [f"{rule.id}: {rule.condition.describe()}"])
        if effects is None:
            if result is Tri.UNKNOWN:
                run.step("rule", f"{rule.title}: {verb}{detail}", rule.id)
            continue
        run.fired(rule, pack, version)
        _apply(effects, said, rule, clock, applies=result is Tri.TRUE)
        if effects.inform_subject:
            run.inform_subject = True
        if result is Tri.TRUE:
            run.notice(rule)
        branch = "" if result is Tri.TRUE else "otherwise "
        run.step(
            "rule",
            f"{rule.title}: {verb}{detail} → {branch}{effects.describe()} [{rule.citation.text()}; {rule.evidence}]",
            rule.id,
        )
    return said


def _layers(case: Case, packs: PackSet, version_day: date, facts: Facts, run: _Run) -> _Layers:
    out = _Layers(chain=[], chosen=[], clock=_HoldClock(), calendar="us-federal")
    for layer in layers_of(case.jurisdiction):
        pack = packs.get(layer.path)
        if pack is None:
            out.chain.append(LayerRef(level=layer.level, jurisdiction=layer.path, pack=None, version=None))
            above = "the federal baseline decides" if layer.level == "state" else "the layers above decide"
            run.step("layer", f"no policy pack is encoded for {layer.path} ({layer.level}): {above}")
            continue
        version = pack.version_on(version_day)
        out.chain.append(
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
        if version.court_order is not None:
            order = version.court_order
            run.step(
                "layer",
                f"this version is a court's {order.kind}: {order.court}, {order.case}"
                f"{', ' + order.docket if order.docket else ''} ({order.date}): {order.scope}",
            )
        if pack.holiday_calendar:
            out.calendar = pack.holiday_calendar
        said = _evaluate_layer(pack, version, facts, run, out.clock)
        out.chosen.append((pack, version, said))
    return out


def _compose(layers: Iterable[tuple[Pack, PackVersion, _Said]], run: _Run) -> dict[str, Permission]:
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
    for dim in _DIMENSIONS:
        if dim not in final:
            final[dim] = Permission.FORBID
            run.step("note", f"no layer said anything about {dim}: treated as not allowed")
    return final


def _permissions(
    case: Case, law: _Law, instant: datetime, zone: str, version_day: date
) -> tuple[dict[str, Permission], _Layers]:
    """Stages 2–5 run quietly at a later instant (to test whether hold authority survives an event)."""
    scratch = _Run(quiet=True)
    detainer, _others, instant = _operative_detainer(case, instant, zone, scratch)
    facts = _facts(case, detainer, instant, zone, scratch, law)
    layers = _layers(case, law.packs, version_day, facts, scratch)
    return _compose(layers.chosen, scratch), layers


# --- stage 6: duties after composition, on receipt, on issue -----------------------------------------------------


def _outcome_rules(
    chosen: list[tuple[Pack, PackVersion, _Said]], facts: Facts, final: dict[str, Permission], run: _Run
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
            run.notice(rule)
            run.step("rule", f"{rule.title}: applies because {rule.on_outcome} is permitted", rule.id)


def _versions_on(case: Case, packs: PackSet, day: date) -> list[tuple[Pack, PackVersion]]:
    found = []
    for layer in layers_of(case.jurisdiction):
        pack = packs.get(layer.path)
        version = pack.version_on(day) if pack is not None else None
        if pack is not None and version is not None:
            found.append((pack, version))
    return found


def _receipt_duties(case: Case, law: _Law, instant: datetime, zone: str, run: _Run) -> None:
    """Duties that arise on receiving a request (a copy to the person) are owed from that instant, whatever follows.

    Each request received by the decision instant is judged under the law in force on its own receipt date, with
    the facts as they stood then: a later lift or a later law does not undo a duty already owed.
    """
    for detainer in case.detainers:
        at = detainer.received_at
        if at is not None and at > instant:
            continue
        when = at or instant
        versions = _versions_on(case, law.packs, law.versions_on or local_date(when, zone))
        rules = [(p, v, r) for p, v in versions for r in v.rules if r.arises == "receipt"]
        if not rules:
            continue
        facts = _facts(case, detainer, when, zone, _Run(quiet=True), law)
        for pack, version, rule in rules:
            if rule.condition.evaluate(facts, []) is not Tri.TRUE:
                continue
            run.fired(rule, pack, version)
            if rule.sets.inform_subject:
                run.inform_subject = True
            run.notice(rule)
            if rule.warn:
                run.warnings.append(f"{rule.id}: {rule.warn}")
            received = format_instant(at, zone) if at else "(time not given: taken as the decision instant)"
            run.step(
                "rule",
                f"{rule.title}: owed on receipt of the {detainer.form.value} {received} "
                f"[{rule.citation.text()}; {rule.evidence}]",
                rule.id,
            )


def _issue_rules(case: Case, law: _Law, detainer: Detainer, facts: Facts, zone: str, run: _Run) -> None:
    """Rules that bind ICE when it issues a detainer are judged under the law of the issue date, not the decision's."""
    if detainer.issued_on is not None:
        day, source = detainer.issued_on, "issued"
    elif detainer.received_at is not None:
        day, source = local_date(detainer.received_at, zone), "received (issue date not given)"
    else:
        day, source = facts.decision_date, "decision date (issue and receipt dates not given)"
    for pack, version in _versions_on(case, law.packs, law.versions_on or day):
        for rule in version.rules:
            if rule.arises != "issue" or rule.condition.evaluate(facts, []) is not Tri.TRUE:
                continue
            run.fired(rule, pack, version)
            if rule.warn:
                run.warnings.append(f"{rule.id}: {rule.warn}")
            run.notice(rule)
            if rule.sets.inform_subject:
                run.inform_subject = True
            run.step("rule", f"{rule.title}: applies to a detainer {source} {day}", rule.id)


# --- stage 7: the hold clock -------------------------------------------------------------------------------------


def _deadline(kind: HoldClockKind, hours: float | None, eligible: datetime, zone: str, calendar: str) -> datetime:
    deadline = hold_deadline(
        kind, eligible, hours=48.0 if hours is None else hours, zone=zone, calendar=calendar_by_name(calendar)
    )
    assert deadline is not None
    # UTC like every stored instant: Python compares a time in a DST fold with another zone's as unequal.
    return deadline.astimezone(UTC)


def _hold_events(
    case: Case, detainer: Detainer, packs: PackSet, after: datetime, until: datetime, zone: str, pinned: bool
) -> list[tuple[datetime, OverDetentionFlag, str]]:
    """Instants inside the hold window (after the decision, before its end) at which the authority to hold may end.

    An event at or before the decision instant is already among its facts; one after the window changes nothing.
    """
    events: list[tuple[datetime, OverDetentionFlag, str]] = []
    eligible = after
    if detainer.lifted_at is not None and eligible < detainer.lifted_at < until:
        reason = detainer.lift_reason or "no reason given"
        events.append((detainer.lifted_at, OverDetentionFlag.AFTER_LIFT, f"ICE lifted the detainer ({reason})"))
    for other in case.detainers:
        if other is not detainer and other.received_at is not None and eligible < other.received_at < until:
            what = f"a new request ({other.form.value}) was received"
            events.append((other.received_at, OverDetentionFlag.AFTER_NEW_REQUEST, what))
    proof_at = case.person.status_proof_at
    if case.person.status_proof is not StatusProof.NONE and proof_at is not None and eligible < proof_at < until:
        events.append(
            (proof_at, OverDetentionFlag.AFTER_STATUS_PROOF, f"the person proved {case.person.status_proof.value}")
        )
    if not pinned:  # what-if replay pins one set of versions for the whole case
        for layer in layers_of(case.jurisdiction):
            pack = packs.get(layer.path)
            if pack is None:
                continue
            for version in pack.versions:
                starts = start_of_local_day(version.effective_from, zone).astimezone(UTC)
                if eligible < starts < until:
                    what = f"{pack.pack}@{version.version} took effect"
                    events.append((starts, OverDetentionFlag.AFTER_LAW_CHANGE, what))
    return sorted(events, key=lambda e: e[0])


def _hold_window(
    case: Case,
    law: _Law,
    detainer: Detainer,
    instant: datetime,
    eligible: datetime,
    until: datetime,
    zone: str,
    run: _Run,
    judged: list[tuple[Pack, PackVersion, _Said]],
) -> tuple[datetime, OverDetentionFlag | None]:
    """Cut the hold window where an event during the hold ends the authority to hold (or shortens it).

    The versions judged at each event are added to ``judged`` (their readings count for the decision too)."""
    ended: OverDetentionFlag | None = None
    after = max(eligible, instant)
    for at, flag, what in _hold_events(case, detainer, law.packs, after, until, zone, law.versions_on is not None):
        if at >= until:
            break
        day = law.versions_on or local_date(at, zone)
        final, layers = _permissions(case, law, at, zone, day)
        clock, calendar = layers.clock, layers.calendar
        judged.extend(layers.chosen)
        if final["hold"] is Permission.FORBID or clock.kind is HoldClockKind.NONE:
            until, ended = at, flag
            run.step("clock", f"at {format_instant(at, zone)} {what}: the hold is no longer allowed — hold ends then")
            break
        shorter = _deadline(clock.kind, clock.hours, eligible, zone, calendar)
        if shorter < until:
            until, ended = max(at, shorter), flag
            run.step(
                "clock",
                f"at {format_instant(at, zone)} {what}: the hold may last only until {format_instant(until, zone)}",
            )
    return until, ended


# --- stage 8: outcome --------------------------------------------------------------------------------------------


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


def _readings_in(packs: PackSet, case: Case, chosen: Iterable[tuple[Pack, PackVersion, _Said]]) -> list[str]:
    """The declared readings that some rule of the applied versions tests."""
    used: list[str] = []
    for _pack, version, _said in chosen:
        for rule in version.rules:
            for test in readings_used(rule.condition):
                if test.reading not in used:
                    used.append(test.reading)
    return used


def _answer(d: Decision) -> tuple[object, ...]:
    return (d.notify, d.notify_required, d.hold_until, d.hold_required, d.transfer, d.inform_subject)


def _plain(d: Decision) -> str:
    hold = "no" if not d.hold_allowed else ("required" if d.hold_required else "allowed")
    if d.hold_allowed and d.hold_until is not None:
        hold += f" until {format_instant(d.hold_until, d.timezone)}"
    return f"notify {'yes' if d.notify else 'no'}, hold {hold}, transfer {d.transfer.value.replace('_', ' ')}"


def decide(
    case: Case,
    *,
    packs: PackSet | None = None,
    jurisdiction: str | None = None,
    versions_on: date | None = None,
    readings: Mapping[str, str] | None = None,
    agreements: AgreementRegistry | None = None,
) -> Decision:
    """Decide one case under the law in force at its legally relevant instant.

    What-if replay may apply another ``jurisdiction``'s packs to the same facts, and pin the pack versions
    to those in force on ``versions_on`` instead of the case's own date. ``readings`` chooses options of the
    packs' declared arguable clauses (a deployment follows its counsel); the packs' defaults otherwise.
    ``agreements`` adds the 287(g) agreements a published list gives the booking's jurisdiction.
    """
    packs = packs or default_packs()
    try:
        applied = packs.choose_readings(readings)
    except PackError as exc:
        raise DecisionError(str(exc)) from None
    law = _Law(packs, applied, versions_on, agreements)
    decision = _decide(case, law, jurisdiction)
    return _with_reading_warnings(case, law, jurisdiction, decision)


def _with_reading_warnings(case: Case, law: _Law, jurisdiction: str | None, decision: Decision) -> Decision:
    """Name every declared reading whose alternative would change this answer."""
    if not decision.readings:
        return decision
    warnings = list(decision.warnings)
    for rid, option in decision.readings.items():
        declared = law.packs.readings[rid]
        for alternative in declared.options:
            if alternative == option:
                continue
            other = _decide(case, replace(law, readings={**law.readings, rid: alternative}), jurisdiction)
            if _answer(other) != _answer(decision):
                warnings.append(
                    f"reading {rid} — {declared.question} This answer reads it as '{option}' "
                    f"({declared.options[option]}); read as '{alternative}' ({declared.options[alternative]}) "
                    f"it would be: {_plain(other)}"
                )
    return decision.model_copy(update={"warnings": tuple(dict.fromkeys(warnings))})


def _decide(case: Case, law: _Law, jurisdiction: str | None) -> Decision:
    packs, versions_on, readings = law.packs, law.versions_on, law.readings
    if jurisdiction is not None and jurisdiction != case.jurisdiction:
        case = case.model_copy(update={"booking": case.booking.model_copy(update={"jurisdiction": jurisdiction})})
    run = _Run()
    zone = case.booking.timezone
    booking = case.booking
    eligible = booking.eligible_for_release_at

    # 1-2. instant and operative detainer
    instant = _instant(case, zone, run)
    detainer, _others, instant = _operative_detainer(case, instant, zone, run)
    day = local_date(instant, zone)
    version_day = versions_on or day
    if versions_on is not None:
        run.step("note", f"pack versions pinned to those in force on {versions_on} (what-if replay)")
    requests = "+".join(sorted(r.value for r in detainer.effective_requests)) or "nothing"
    run.step(
        "fact",
        f"detainer {detainer.form.value} received "
        f"{format_instant(detainer.received_at, zone) if detainer.received_at else '(time not given)'}: "
        f"requests {requests}; warrant {detainer.warrant.value}; probable cause "
        f"{', '.join(sorted(b.value for b in detainer.pc_basis)) or 'not stated'}",
    )

    # 3. facts
    facts = _facts(case, detainer, instant, zone, run, law)
    if facts.lifted and detainer.lifted_at is not None:
        reason = detainer.lift_reason or "no reason given"
        run.step("fact", f"ICE lifted the detainer at {format_instant(detainer.lifted_at, zone)} ({reason})")
    # A request that reached the jail only after the person had left finds no custody to act on.
    after_release = (
        booking.released_at is not None
        and detainer.received_at is not None
        and detainer.received_at > booking.released_at
    )

    # 4-5. layers and composition
    layers = _layers(case, packs, version_day, facts, run)
    final = _compose(layers.chosen, run)

    # 6. duties
    _outcome_rules(layers.chosen, facts, final, run)
    _issue_rules(case, law, detainer, facts, zone, run)
    if not after_release:
        _receipt_duties(case, law, instant, zone, run)
    if after_release:
        assert booking.released_at is not None
        run.step(
            "fact",
            f"the request arrived after the person was released ({format_instant(booking.released_at, zone)}): "
            "there is no custody to notify about, hold or hand over",
        )
        final = dict.fromkeys(_DIMENSIONS, Permission.FORBID)
        run.notices.clear()
        run.inform_subject = False

    # 7. the clock
    judged = list(layers.chosen)  # every version the answer was judged under (more at events inside a hold)
    hold = final["hold"]
    clock = layers.clock
    hold_until: datetime | None
    ended: OverDetentionFlag | None = None
    if eligible is None:
        hold_until = None
        run.step("clock", "release eligibility is not known yet: no hold deadline")
    elif hold is Permission.FORBID or clock.kind is HoldClockKind.NONE:
        hold_until = eligible
        run.step("clock", f"hold: no — release at release eligibility, {format_instant(eligible, zone)}")
    else:
        hold_until = _deadline(clock.kind, clock.hours, eligible, zone, layers.calendar)
        hours = 48.0 if clock.hours is None else clock.hours
        if clock.kind is HoldClockKind.SAME_DAY:
            span = "until 11:59 p.m. of the local day of release eligibility"
        elif clock.kind is HoldClockKind.ELAPSED:
            span = f"for {hours:g} elapsed hours"
        else:
            calendar = calendar_by_name(layers.calendar).name
            span = f"for {hours:g} hours excluding Saturdays, Sundays and holidays ({calendar})"
        run.step(
            "clock",
            f"hold allowed {span} from {format_instant(eligible, zone)}: until {format_instant(hold_until, zone)}",
        )
        hold_until, ended = _hold_window(case, law, detainer, instant, eligible, hold_until, zone, run, judged)

    notify = final["notify"] is not Permission.FORBID
    target = None
    if notify and eligible is not None:
        target = notify_target(eligible, now=detainer.received_at).astimezone(UTC)
        run.step("clock", f"notify ICE by {format_instant(target, zone)} (48 hours before release, if possible)")

    # 8. outcome
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
    if eligible is not None and hold_until is not None and not after_release:
        od = over_detention(
            eligible_at=eligible,
            hold_until=hold_until,
            released_at=booking.released_at,
            # custody past a cut during the hold rested on a detainer that no longer supported it: it is counted
            detainer_in_force=(not facts.lifted or ended is not None) and not judicial_custody,
            bail_refused_at=booking.bail_refused_at,
            ended_by=ended,
        )
        od_hours, flags = od.hours, od.flags
        if od.hours > 0:
            run.step("clock", f"over-detention {od.hours:.2f} h ({', '.join(str(f) for f in od.flags)})")
    hold_allowed = hold_until is not None and eligible is not None and hold_until > eligible
    basis: str | None = None
    if clock.basis is not None and hold is not Permission.FORBID and not after_release:
        basis = clock.basis.value
    elif judicial_custody and not after_release:
        basis = CustodyBasis.JUDICIAL_WARRANT.value
    elif hold_allowed:
        basis = CustodyBasis.DETAINER.value
    for dim in _DIMENSIONS:
        run.step("fact", f"result: {dim} {final[dim].value}")
    for statute in sorted(run.unknown_statutes):
        run.undecided.append(f"statute {statute} is in no offense table of the jurisdiction")
    used = _readings_in(packs, case, judged)

    return Decision(
        coverage=_coverage(layers.chain),
        case=case.name,
        jurisdiction=case.jurisdiction,
        timezone=zone,
        decided_at=instant,
        jurisdiction_chain=tuple(layers.chain),
        notify=notify,
        notify_required=final["notify"] is Permission.REQUIRE,
        notify_target=target,
        hold_until=hold_until,
        hold_required=hold is Permission.REQUIRE and hold_allowed,
        hold_allowed=hold_allowed,
        transfer=transfer,
        inform_subject=run.inform_subject,
        custody_basis=basis,
        notices=tuple(run.notices),
        over_detention_hours=od_hours,
        over_detention_flags=tuple(flags),
        rules=tuple(run.rules),
        explanation=tuple(run.steps),
        unknown_statutes=tuple(sorted(run.unknown_statutes)),
        undecided_facts=tuple(dict.fromkeys(run.undecided)),
        readings={rid: readings[rid] for rid in used},
        warnings=tuple(dict.fromkeys(run.warnings)),
        engine_version=engine_version(packs),
    )
