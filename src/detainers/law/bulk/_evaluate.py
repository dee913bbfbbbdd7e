"""Bulk decisions: the packs' rules and the engine's composition, compiled to one DuckDB plan over case tables.

Stages (each a temporary table in the caller's connection):

1. ``facts``: per booking, the decision instant (``as_of``, else release eligibility, else the last detainer's
   receipt), its local date, the operative detainer, and the scalar facts rules test;
2. statute tags: each distinct (statute, level, explicit tags, state) classified once per table period;
3. ``stage``: row-level conviction/charge conditions aggregated per case, every distinct rule condition as
   a column, each layer's say (pack version chosen by the case's date or the pinned date), and the layers
   composed exactly as :mod:`detainers.law._engine` does;
4. the hold deadline (elapsed hours in SQL; business hours with the clock's own function over distinct
   starting instants), over-detention and custody basis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import duckdb
import pyarrow as pa

from detainers.clock import HoldClockKind, business_deadline, calendar_by_name, hold_deadline, same_day_deadline
from detainers.domain import DetainerForm, Request, default_requests
from detainers.law._agreements import AgreementRegistry
from detainers.law._engine import default_packs
from detainers.law._jurisdictions import layers_of, parse_jurisdiction
from detainers.law._packs import Effects, Pack, PackSet, PackVersion, Permission, Rule
from detainers.law._predicates import Predicate
from detainers.law.bulk._compile import CompileContext, charge_code, compile_condition, conviction_code, literal
from detainers.law.bulk._schema import BulkSource
from detainers.law.bulk._tags import SEPARATOR, classification_table

__all__ = ["RESULT_COLUMNS", "BulkPlan", "bulk_decide", "plan"]

_DIMS = ("notify", "hold", "transfer")
_CODE = {Permission.FORBID: 0, Permission.ALLOW: 1, Permission.REQUIRE: 2}
_LEVELS = 4  # federal, state, county, agency
_JUDICIAL = "('judicial_warrant', 'judicial_probable_cause')"

RESULT_COLUMNS = (
    "booking_id",
    "facility_id",
    "jurisdiction",
    "timezone",
    "decided_at",
    "decision_date",
    "eligible_at",
    "released_at",
    "notify",
    "notify_required",
    "hold_until",
    "hold_required",
    "hold_hours",
    "transfer",
    "inform_subject",
    "over_detention_hours",
    "custody_basis",
    "hold_ended_by",
    "error",
)


@dataclass
class BulkPlan:
    """The compiled pack set: condition columns, row-level sub-conditions and the per-layer SQL.

    ``paths`` and ``between`` narrow it to the packs on some cases' layers and the versions in force on some
    case's date: conditions nobody can reach are not computed (the answers are the same; the plan is smaller).
    """

    packs: PackSet
    ctx: CompileContext = field(default_factory=CompileContext)
    conditions: dict[Predicate, str] = field(default_factory=dict)
    paths: frozenset[str] | None = None
    between: tuple[date, date] | None = None

    def condition(self, node: Predicate) -> str:
        if node not in self.conditions:
            sql = compile_condition(node, self.ctx)
            self.conditions[node] = sql
        return f"c_{list(self.conditions).index(node)}"

    def versions(self, pack: Pack) -> list[PackVersion]:
        if self.between is None:
            return list(pack.versions)
        lo, hi = self.between
        return [v for v in pack.versions if v.effective_from <= hi and (v.effective_to is None or v.effective_to >= lo)]

    def packs_at(self, level: int) -> list[Pack]:
        return [
            p
            for p in self.packs
            if len(p.pack.split("/")) == level + 1 and (self.paths is None or p.pack in self.paths) and self.versions(p)
        ]

    def federal_paths(self) -> list[str]:
        return [p.pack for p in self.packs if "/" not in p.pack]


def _rules(version: PackVersion, arises: str = "decision") -> list[Rule]:
    return [r for r in version.rules if r.on_outcome is None and r.arises == arises]


def _chain(items: list[tuple[str, str | None, str | None]]) -> str:
    """The value of the last rule (file order) whose applied effects set it: sets if TRUE, otherwise if not."""
    expr = "NULL"
    for cond, when_true, when_not in items:
        if when_true is None and when_not is None:
            continue
        if when_true is not None and when_not is not None:
            expr = f"(CASE WHEN {cond} IS TRUE THEN {when_true} ELSE {when_not} END)"
        elif when_true is not None:
            expr = f"(CASE WHEN {cond} IS TRUE THEN {when_true} ELSE {expr} END)"
        else:
            expr = f"(CASE WHEN {cond} IS TRUE THEN {expr} ELSE {when_not} END)"
    return expr


def _perm(effects: Effects | None, dim: str, rule: Rule, *, preempting: bool) -> str | None:
    value = None if effects is None else getattr(effects, dim)
    if value is None:
        return None
    # Only a rule that applies preempts local restriction; its `otherwise` branch never does (as in _engine).
    return str(_CODE[value] + (10 if preempting and dim in rule.preempts_local else 0))


def _version_columns(plan: BulkPlan, version: PackVersion) -> dict[str, str]:
    """What one pack version says, as SQL over the condition columns (NULL: the version does not say)."""
    rules = [(plan.condition(r.condition), r) for r in _rules(version)]
    out: dict[str, str] = {}
    for dim in _DIMS:
        out[dim] = _chain(
            [
                (c, _perm(r.sets, dim, r, preempting=True), _perm(r.otherwise, dim, r, preempting=False))
                for c, r in rules
            ]
        )

    def attr(effects: Effects | None, name: str) -> str | None:
        value = None if effects is None else getattr(effects, name)
        return None if value is None else literal(value)

    out["kind"] = _chain([(c, attr(r.sets, "hold_clock"), attr(r.otherwise, "hold_clock")) for c, r in rules])
    out["basis"] = _chain([(c, attr(r.sets, "custody_basis"), attr(r.otherwise, "custody_basis")) for c, r in rules])
    hours = []
    informs = []
    for c, r in rules:
        h_true, h_not = r.sets.hold_hours, r.otherwise.hold_hours if r.otherwise else None
        if h_true is not None or h_not is not None:
            hours.append(f"(CASE WHEN {c} IS TRUE THEN {_double(h_true)} ELSE {_double(h_not)} END)")
        if r.sets.inform_subject:
            informs.append(f"({c} IS TRUE)")
        if r.otherwise is not None and r.otherwise.inform_subject:
            informs.append(f"({c} IS NOT TRUE)")
    out["hours"] = "NULL" if not hours else hours[0] if len(hours) == 1 else f"LEAST({', '.join(hours)})"
    out["inform"] = " OR ".join(informs) if informs else "FALSE"
    # Duties owed on receipt of a request (the receipt pass evaluates them at each receipt, see _receipt_informs).
    owed = [f"({plan.condition(r.condition)} IS TRUE)" for r in _rules(version, "receipt") if r.sets.inform_subject]
    out["rinform"] = " OR ".join(owed) if owed else "FALSE"
    return out


def _double(value: float | None) -> str:
    return "CAST(NULL AS DOUBLE)" if value is None else f"CAST({float(value)!r} AS DOUBLE)"


def _in_force(version: PackVersion) -> str:
    end = f" AND version_day <= DATE '{version.effective_to}'" if version.effective_to else ""
    return f"(version_day >= DATE '{version.effective_from}'{end})"


def _layer_columns(plan: BulkPlan, level: int) -> dict[str, str]:
    """Per output, a CASE over the packs of this level and their versions."""
    names = ("notify", "hold", "transfer", "kind", "basis", "hours", "inform", "rinform")
    branches: dict[str, list[str]] = {n: [] for n in (*names, "has", "cal")}
    for pack in plan.packs_at(level):
        per_version = [(v, _version_columns(plan, v)) for v in plan.versions(pack)]
        for name in names:
            inner = " ".join(f"WHEN {_in_force(v)} THEN {cols[name]}" for v, cols in per_version)
            branches[name].append(f"WHEN {literal(pack.pack)} THEN (CASE {inner} ELSE NULL END)")
        any_version = " OR ".join(_in_force(v) for v in plan.versions(pack))
        branches["has"].append(f"WHEN {literal(pack.pack)} THEN ({any_version})")
        if pack.holiday_calendar:
            branches["cal"].append(
                f"WHEN {literal(pack.pack)} THEN (CASE WHEN {any_version} THEN {literal(pack.holiday_calendar)} END)"
            )
    out = {}
    for name, items in branches.items():
        default = "FALSE" if name in ("has", "inform", "rinform") else "NULL"
        body = " ".join(items)
        out[f"{name}{level}"] = f"(CASE layer_{level} {body} ELSE {default} END)" if items else default
    return out


def _outcome_informs(plan: BulkPlan) -> str:
    """Rules applied after composition (``on_outcome``) that tell the person when their dimension is permitted."""
    terms = []
    for level in range(_LEVELS):
        for pack in plan.packs_at(level):
            for version in plan.versions(pack):
                for rule in version.rules:
                    if rule.on_outcome is None or not rule.sets.inform_subject:
                        continue
                    cond = plan.condition(rule.condition)
                    terms.append(
                        f"(layer_{level} = {literal(pack.pack)} AND {_in_force(version)} "
                        f"AND COALESCE(f_{rule.on_outcome}, 0) <> 0 AND {cond} IS TRUE)"
                    )
    return " OR ".join(terms) if terms else "FALSE"


def _compose_step(level: int) -> str:
    """One layer of ``_compose``: forbid dominates, require beats allow, preempted dimensions ignore restriction."""
    parts = []
    for dim in _DIMS:
        p, f, lk = f"p{level}_{dim}", f"f_{dim}", f"lk_{dim}"
        perm = f"({p} % 10)"
        parts.append(
            f"(CASE WHEN {p} IS NULL THEN {f} WHEN {f} IS NULL THEN {perm} "
            f"WHEN {lk} AND {perm} < {f} THEN {f} WHEN {perm} = 0 OR {f} = 0 THEN 0 "
            f"WHEN {perm} = 2 OR {f} = 2 THEN 2 ELSE 1 END) AS {f}"
        )
        parts.append(
            f"(CASE WHEN {p} IS NULL THEN {lk} WHEN {f} IS NOT NULL AND {lk} AND {perm} < {f} THEN {lk} "
            f"ELSE {lk} OR {p} >= 10 END) AS {lk}"
        )
    return ", ".join(parts)


def _default_requests_sql(request: Request) -> str:
    forms = [f.name for f in DetainerForm if request in default_requests(f)]
    return f"d.form IN ({', '.join(literal(f) for f in forms)})"


def _facts_sql(
    source: BulkSource, jur_map: str, versions_on: date | None, lists: set[str], registry: str | None = None
) -> str:
    def listed(column: str, table: str) -> str:
        # Columns no reachable condition reads are not even read from storage.
        return f"COALESCE({table}.{column}, [])" if column in lists else "CAST([] AS VARCHAR[])"

    pinned = f"DATE '{versions_on.isoformat()}'" if versions_on else "NULL"
    requests = ",\n      ".join(
        f"CASE WHEN d.requests IS NULL THEN {_default_requests_sql(r)} "
        f"ELSE list_contains(d.requests, {literal(r.value)}) END AS req_{r.value}"
        for r in Request
    )
    layers = ", ".join(f"m.layer_{k}" for k in range(_LEVELS))
    forms = ", ".join(literal(f.name) for f in DetainerForm)
    cols = "booking_id, seq, form, received_at, requests, warrant, box2, served_at, lifted_at"
    if "pc_basis" in lists:
        cols += ", pc_basis"
    return f"""
WITH r AS (
  SELECT booking_id, max(received_at) AS last_received, count(*) AS n FROM {source.detainers} GROUP BY booking_id
),
i0 AS (
  SELECT b.booking_id, b.facility_id, m.jurisdiction, b.timezone, b.booked_at, b.eligible_at, b.eligibility_reason,
         b.released_at, b.bail_refused_at, b.status_proof, b.status_proof_at, b.as_of,
         {listed("person_tags", "b")} AS person_tags,
         {listed("agreements", "b")} AS agreements,
         m.cls_state, {layers}, m.error AS jurisdiction_error, r.n AS n_detainers,
         COALESCE(b.as_of, b.eligible_at, r.last_received) AS instant0
  FROM {source.bookings} b JOIN r USING (booking_id) JOIN {jur_map} m ON m.source = b.jurisdiction
),
-- A detainer received after the instant is not yet a fact; when none had arrived by release eligibility the
-- decision moves to the first receipt (as in _engine._operative_detainer).
rb AS (
  SELECT d.booking_id, bool_or(d.received_at IS NULL OR d.received_at <= i0.instant0) AS has_by,
         min(d.received_at) AS first_received
  FROM {source.detainers} d JOIN i0 USING (booking_id) GROUP BY d.booking_id
),
i AS (
  SELECT i0.*, rb.has_by,
         CASE WHEN rb.has_by OR i0.as_of IS NOT NULL THEN i0.instant0 ELSE rb.first_received END AS instant
  FROM i0 JOIN rb USING (booking_id)
),
-- The operative detainer: the latest received by the instant and not lifted by it, else the latest received
-- (ties: input order).
one AS (
  SELECT d.{cols.replace(", ", ", d.")} FROM {source.detainers} d JOIN i USING (booking_id) WHERE i.n_detainers = 1
),
many AS (
  SELECT d.{cols.replace(", ", ", d.")} FROM {source.detainers} d JOIN i USING (booking_id)
  WHERE i.n_detainers > 1
    AND (d.received_at IS NULL OR d.received_at <= i.instant OR i.instant IS NULL OR NOT i.has_by)
  QUALIFY row_number() OVER (
    PARTITION BY d.booking_id
    ORDER BY (d.lifted_at IS NULL OR d.lifted_at > i.instant) DESC NULLS LAST, d.received_at DESC NULLS LAST,
             d.seq DESC) = 1
),
d AS (SELECT * FROM one UNION ALL SELECT * FROM many),
-- 287(g) agreements the published list gives the case's jurisdiction on the decision date (as in _engine)
ag AS ({_registry_sql(registry, "i", "CAST(timezone(i.timezone, i.instant) AS DATE)", "agreements" in lists)})
SELECT
      i.booking_id, i.facility_id, i.jurisdiction, i.timezone, i.instant, i.eligible_at, i.eligibility_reason,
      i.released_at, i.bail_refused_at, i.cls_state, {", ".join(f"i.layer_{k}" for k in range(_LEVELS))},
      CAST(timezone(i.timezone, i.instant) AS DATE) AS decision_date,
      CAST(timezone(i.timezone, i.booked_at) AS DATE) AS booking_date,
      COALESCE({pinned}, CAST(timezone(i.timezone, i.instant) AS DATE)) AS version_day,
      d.seq AS det_seq, d.received_at AS det_received_at, d.lifted_at AS det_lifted_at,
      COALESCE(i.released_at IS NOT NULL AND d.received_at > i.released_at, FALSE) AS after_release,
      d.form,
      {requests},
      d.warrant,
      {listed("pc_basis", "d")} AS pc_basis,
      COALESCE(d.box2, FALSE) AS box2,
      CASE WHEN d.served_at IS NULL THEN NULL ELSE d.served_at <= i.instant END AS served,
      (d.lifted_at IS NOT NULL AND d.lifted_at <= i.instant) AS lifted,
      CASE WHEN COALESCE(i.status_proof, 'none') <> 'none' AND i.status_proof_at IS NOT NULL
                AND i.status_proof_at > i.instant THEN 'none'
           ELSE COALESCE(i.status_proof, 'none') END AS status_proof,
      i.person_tags, list_distinct(list_concat(i.agreements, COALESCE(ag.listed, []))) AS agreements,
      CASE WHEN i.jurisdiction_error IS NOT NULL THEN i.jurisdiction_error
           WHEN i.instant IS NULL THEN 'no decision instant: give as_of, eligible_at or a detainer received_at'
           WHEN NOT i.has_by AND i.as_of IS NOT NULL THEN 'no detainer had been received by as_of'
           WHEN d.form NOT IN ({forms}) THEN 'unknown detainer form ' || d.form
      END AS error
FROM i JOIN d USING (booking_id) LEFT JOIN ag USING (booking_id)
"""


def _registry_sql(registry: str | None, cases: str, day: str, wanted: bool) -> str:
    """Per case, the agreement models listed for its jurisdiction and in force on ``day`` (empty if none)."""
    if registry is None or not wanted:
        return "SELECT CAST(NULL AS VARCHAR) AS booking_id, CAST([] AS VARCHAR[]) AS listed WHERE FALSE"
    return f"""SELECT {cases}.booking_id, list(DISTINCT a.model) AS listed
  FROM {cases} JOIN {registry} a ON a.jurisdiction = {cases}.jurisdiction
   AND a.signed <= {day} AND (a.ended IS NULL OR {day} <= a.ended)
  GROUP BY {cases}.booking_id"""


def _jurisdiction_map(paths: list[str], override: str | None) -> pa.Table:
    """Per jurisdiction in the data: the path decided under, its layers, the classification state, or an error."""
    rows: dict[str, list[str | None]] = {
        "source": [],
        "jurisdiction": [],
        "cls_state": [],
        "error": [],
        **{f"layer_{k}": [] for k in range(_LEVELS)},
    }
    for source in paths:
        path = override or source
        try:
            layers = [layer.path for layer in layers_of(path)]
            error = None
        except ValueError as exc:
            layers, error = [], str(exc)
        parts = path.strip().lower().split("/")
        state = parts[1].upper() if len(parts) >= 2 and parts[0] == "us" and len(parts[1]) == 2 else ""
        rows["source"].append(source)
        rows["jurisdiction"].append(path)
        rows["cls_state"].append(state)
        rows["error"].append(error)
        for k in range(_LEVELS):
            rows[f"layer_{k}"].append(layers[k] if k < len(layers) else None)
    return pa.table(rows, schema=pa.schema([(name, pa.string()) for name in rows]))


# Explicit row tags joined into one key; the common case (no explicit tags) skips the list work.
_TAGS_KEY = (
    f"CASE WHEN c.tags IS NULL OR len(c.tags) = 0 THEN '' ELSE array_to_string(list_sort(c.tags), '{SEPARATOR}') END"
)


def _rows_table_sql(source: BulkSource, facts: str) -> str:
    """Convictions and charges of the decided cases, with their classification key and the facts they need."""
    return f"""
SELECT 'conviction' AS kind, c.booking_id, c.statute, c.level, {_TAGS_KEY} AS tags_key, f.cls_state,
       f.decision_date, f.booking_date, c.date, c.state_prison, c.sentence_end,
       CAST(NULL AS TIMESTAMPTZ) AS magistrate_pc_at
FROM {source.convictions} c JOIN {facts} f USING (booking_id)
WHERE c.date IS NULL OR c.date <= f.decision_date  -- a conviction after the decision date cannot count (as in _engine)
UNION ALL
SELECT 'charge', c.booking_id, c.statute, c.level, {_TAGS_KEY}, f.cls_state, f.decision_date, f.booking_date,
       NULL, NULL, NULL,
       CASE WHEN c.magistrate_pc_at <= f.instant THEN c.magistrate_pc_at END  -- later findings do not count yet
FROM {source.charges} c JOIN {facts} f USING (booking_id)
"""


def _rows_cte(name: str, kind: str, aggs: str, rows: str, cls: str) -> str:
    return f"""{name} AS (
  SELECT c.booking_id, {aggs}
  FROM {rows} c
  JOIN {cls} k ON k.statute = c.statute AND k.level = c.level AND k.tags_key = c.tags_key
       AND k.state = c.cls_state AND c.decision_date >= k.day_from AND c.decision_date < k.day_to
  WHERE c.kind = '{kind}'
  GROUP BY c.booking_id
)"""


def _rows_sql(plan: BulkPlan, rows: str, cls: str) -> list[str]:
    """CTEs aggregating row-level conditions per case (max of 0/1/2 codes = three-valued 'there is one')."""
    ctes = []
    if plan.ctx.convictions:
        aggs = ", ".join(
            f"max({conviction_code(n, plan.ctx, facts='c')}) AS {col}" for n, col in plan.ctx.convictions.items()
        )
        ctes.append(_rows_cte("cv", "conviction", aggs, rows, cls))
    if plan.ctx.charges:
        aggs = ", ".join(f"max({charge_code(n, plan.ctx)}) AS {col}" for n, col in plan.ctx.charges.items())
        ctes.append(_rows_cte("ch", "charge", aggs, rows, cls))
    return ctes


def _stage_sql(plan: BulkPlan, facts: str, rows: str, cls: str) -> str:
    layer_cols: dict[str, str] = {}
    for level in range(_LEVELS):
        layer_cols |= _layer_columns(plan, level)
    outcome = _outcome_informs(plan)
    ctes = _rows_sql(plan, rows, cls)
    joined = [f"COALESCE({col}, 0) AS {col}" for col in (*plan.ctx.convictions.values(), *plan.ctx.charges.values())]
    joins = "".join(
        f" LEFT JOIN {name} USING (booking_id)"
        for name, nodes in (("cv", plan.ctx.convictions), ("ch", plan.ctx.charges))
        if nodes
    )
    ctes.append(f"rowfacts AS (SELECT f.*{''.join(', ' + j for j in joined)} FROM {facts} f{joins})")
    conds = ", ".join(f"{sql} AS c_{i}" for i, sql in enumerate(plan.conditions.values()))
    ctes.append(f"conds AS (SELECT *{', ' + conds if conds else ''} FROM rowfacts)")
    says = []
    for level in range(_LEVELS):
        for dim in _DIMS:
            says.append(f"{layer_cols[f'{dim}{level}']} AS p{level}_{dim}")
        for name in ("kind", "basis", "hours", "inform", "rinform", "has", "cal"):
            says.append(f"{layer_cols[f'{name}{level}']} AS {name}{level}")
    ctes.append(f"says AS (SELECT *, {', '.join(says)} FROM conds)")
    init = ", ".join(f"CAST(NULL AS INTEGER) AS f_{d}, FALSE AS lk_{d}" for d in _DIMS)
    ctes.append(f"step_init AS (SELECT *, {init} FROM says)")
    previous = "step_init"
    for level in range(_LEVELS):
        replace = _compose_step(level)
        ctes.append(f"step_{level} AS (SELECT * REPLACE ({replace}) FROM {previous})")
        previous = f"step_{level}"
    federal = plan.federal_paths()
    no_federal = (
        f"WHEN layer_0 IN ({', '.join(literal(p) for p in federal)}) AND NOT has0 "
        "THEN 'no version of the federal baseline is in force on ' || CAST(version_day AS VARCHAR)"
        if federal
        else ""
    )
    rev = list(reversed(range(_LEVELS)))
    with_clause = ",\n".join(ctes)
    return f"""
WITH {with_clause}
SELECT booking_id, facility_id, jurisdiction, timezone, instant, decision_date, eligible_at, released_at,
       bail_refused_at, warrant, lifted, det_seq, det_received_at, det_lifted_at, after_release,
       {", ".join(f"layer_{k}" for k in range(_LEVELS))},
       COALESCE(f_notify, 0) AS notify_p, COALESCE(f_hold, 0) AS hold_p, COALESCE(f_transfer, 0) AS transfer_p,
       COALESCE({", ".join(f"kind{k}" for k in rev)}, 'none') AS kind,
       COALESCE(LEAST({", ".join(f"hours{k}" for k in range(_LEVELS))}), CAST(48.0 AS DOUBLE)) AS hours,
       COALESCE({", ".join(f"basis{k}" for k in rev)}) AS basis,
       COALESCE({", ".join(f"cal{k}" for k in rev)}, 'us-federal') AS calendar,
       COALESCE(({" OR ".join(f"COALESCE(inform{k}, FALSE)" for k in range(_LEVELS))}) OR ({outcome}), FALSE)
         AS inform,
       ({" OR ".join(f"COALESCE(rinform{k}, FALSE)" for k in range(_LEVELS))}) AS rinform,
       CASE WHEN error IS NOT NULL THEN error {no_federal} END AS error
FROM {previous}
"""


def _hold_sql(stage: str, business: str) -> str:
    """The first-pass hold window; a request that arrived after release finds no custody (as in _engine)."""
    return f"""
WITH a AS (
  SELECT * REPLACE (
    CASE WHEN after_release THEN 0 ELSE notify_p END AS notify_p,
    CASE WHEN after_release THEN 0 ELSE hold_p END AS hold_p,
    CASE WHEN after_release THEN 0 ELSE transfer_p END AS transfer_p,
    inform AND NOT after_release AS inform)
  FROM {stage}
)
SELECT a.*,
  CASE WHEN a.error IS NOT NULL OR a.eligible_at IS NULL THEN NULL
       WHEN a.hold_p = 0 OR a.kind = 'none' THEN a.eligible_at
       WHEN a.kind = 'elapsed' THEN a.eligible_at + to_microseconds(CAST(round(a.hours * 3600000000) AS BIGINT))
       ELSE z.deadline END AS hold_until,
  (a.warrant IN {_JUDICIAL} AND a.transfer_p <> 0) AS judicial_custody
FROM a
LEFT JOIN {business} z ON z.kind = a.kind AND z.eligible_at = a.eligible_at AND z.timezone = a.timezone
     AND z.hours = a.hours AND z.calendar = a.calendar
"""


def _final_sql(hold: str, receipt: str | None, cuts: str | None) -> str:
    owed = "COALESCE(r.rinform, FALSE)" if receipt else "FALSE"
    joins = (f" LEFT JOIN {receipt} r USING (booking_id)" if receipt else "") + (
        f" LEFT JOIN {cuts} c USING (booking_id)" if cuts else ""
    )
    until = "COALESCE(c.cut_until, h.hold_until)" if cuts else "h.hold_until"
    ended = "c.ended" if cuts else "CAST(NULL AS VARCHAR)"
    return f"""
WITH h AS (
  SELECT h.* EXCLUDE (rinform) REPLACE ({until} AS hold_until), {ended} AS ended, {owed} AS owed_on_receipt
  FROM {hold} h{joins}
)
SELECT booking_id, facility_id, jurisdiction, timezone, instant AS decided_at, decision_date, eligible_at, released_at,
  CASE WHEN error IS NULL THEN notify_p <> 0 END AS notify,
  CASE WHEN error IS NULL THEN notify_p = 2 END AS notify_required,
  hold_until,
  CASE WHEN error IS NULL THEN hold_p = 2 AND hold_until IS NOT NULL AND hold_until <> eligible_at END AS hold_required,
  CASE WHEN hold_until IS NOT NULL THEN (epoch_us(hold_until) - epoch_us(eligible_at)) / 1000000.0 / 3600.0
  END AS hold_hours,
  CASE WHEN error IS NULL THEN (CASE transfer_p WHEN 0 THEN 'not_allowed' WHEN 1 THEN 'allowed' ELSE 'required' END)
  END AS transfer,
  CASE WHEN error IS NULL THEN inform OR (owed_on_receipt AND NOT after_release) END AS inform_subject,
  CASE WHEN error IS NOT NULL THEN NULL
       WHEN eligible_at IS NULL OR hold_until IS NULL OR after_release THEN 0.0
       ELSE
         (CASE WHEN released_at IS NOT NULL AND (NOT lifted OR ended IS NOT NULL) AND NOT judicial_custody
                    AND released_at > hold_until
               THEN (epoch_us(released_at) - epoch_us(hold_until)) / 1000000.0 / 3600.0 ELSE 0.0 END)
         + (CASE WHEN bail_refused_at IS NOT NULL AND bail_refused_at < eligible_at
               THEN (epoch_us(eligible_at) - epoch_us(bail_refused_at)) / 1000000.0 / 3600.0 ELSE 0.0 END)
  END AS over_detention_hours,
  CASE WHEN error IS NOT NULL THEN NULL
       WHEN basis IS NOT NULL AND hold_p <> 0 THEN basis
       WHEN judicial_custody THEN 'judicial_warrant'
       WHEN hold_until IS NOT NULL AND eligible_at IS NOT NULL AND hold_until > eligible_at THEN 'detainer'
  END AS custody_basis,
  CASE WHEN error IS NULL AND released_at IS NOT NULL AND hold_until IS NOT NULL AND released_at > hold_until
            AND NOT after_release AND NOT judicial_custody AND (NOT lifted OR ended IS NOT NULL) THEN ended
  END AS hold_ended_by,
  error
FROM h
"""


def plan(
    packs: PackSet | None = None,
    *,
    paths: frozenset[str] | None = None,
    between: tuple[date, date] | None = None,
    readings: dict[str, str] | None = None,
) -> BulkPlan:
    """Compile the packs' conditions (raises :class:`BulkCompileError` on an unknown node).

    Without ``paths``/``between`` every version of every pack is compiled, which checks the whole pack set.
    ``readings`` are the options applied to declared arguable clauses (the packs' defaults otherwise).
    """
    packs = packs or default_packs()
    compiled = BulkPlan(packs, paths=paths, between=between)
    compiled.ctx.readings = packs.choose_readings(readings)
    for level in range(_LEVELS):
        for pack in compiled.packs_at(level):
            for version in compiled.versions(pack):
                for rule in version.rules:
                    compiled.condition(rule.condition)
    if paths is None:  # packs deeper than four levels are never reached, but must still compile
        for pack in compiled.packs:
            for version in pack.versions:
                for rule in version.rules:
                    compiled.condition(rule.condition)
    return compiled


def _business_table(rows: list[tuple[str, datetime, str, float, str]]) -> pa.Table:
    deadlines = []
    calendars: dict[str, object] = {}
    for kind, start, zone, hours, calendar in rows:
        if kind == HoldClockKind.SAME_DAY.value:
            deadline = same_day_deadline(start, zone)
        else:
            cal = calendars.setdefault(calendar, calendar_by_name(calendar))
            deadline = business_deadline(start, hours, zone, cal)  # type: ignore[arg-type]
        deadlines.append(deadline.astimezone(UTC))
    ts = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "kind": pa.array([r[0] for r in rows], pa.string()),
            "eligible_at": pa.array([r[1] for r in rows], ts),
            "timezone": pa.array([r[2] for r in rows], pa.string()),
            "hours": pa.array([r[3] for r in rows], pa.float64()),
            "calendar": pa.array([r[4] for r in rows], pa.string()),
            "deadline": pa.array(deadlines, ts),
        }
    )


def _register(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    con.register(f"{name}_arrow", table)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")
    con.unregister(f"{name}_arrow")


@dataclass
class _Pass:
    """One run of stages 1–5 over a case source (the main pass, or a pass at other instants)."""

    con: duckdb.DuckDBPyConnection
    jur: str
    versions_on: date | None
    compiled: BulkPlan
    reached: frozenset[str]
    registry: str | None = None  # table of 287(g) agreements by jurisdiction, if a registry was given

    def stage(self, source: BulkSource, prefix: str) -> str:
        facts, cls, stage, rows = (f"{prefix}_{n}" for n in ("facts", "cls", "stage", "rows"))
        con, packs = self.con, self.compiled.packs
        readings = self.compiled.ctx.readings
        on_paths = plan(packs, paths=self.reached, readings=readings)
        sql = _facts_sql(source, self.jur, self.versions_on, on_paths.ctx.lists, self.registry)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {facts} AS {sql}")
        ((lo, hi, first_day, last_day),) = con.execute(
            f"SELECT min(version_day), max(version_day), min(decision_date), max(decision_date) FROM {facts}"
        ).fetchall()
        narrow = (
            plan(packs, paths=self.reached, between=(lo, hi), readings=readings)
            if lo is not None and hi is not None
            else on_paths
        )
        if narrow.ctx.convictions or narrow.ctx.charges:
            # A view, not a table: materialising ~3 M rows of strings cost more than joining twice (keys, then stage).
            con.execute(f"CREATE OR REPLACE TEMP VIEW {rows} AS {_rows_table_sql(source, facts)}")
            keys = con.execute(f"SELECT DISTINCT statute, level, tags_key, cls_state FROM {rows}").fetchall()
        else:
            keys = []
        days = (first_day, last_day) if first_day is not None and last_day is not None else None
        _register(con, cls, classification_table(keys, narrow.ctx.tags, between=days))
        con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS {_stage_sql(narrow, facts, rows, cls)}")
        con.execute(f"DROP VIEW IF EXISTS {rows}")
        for name in (facts, cls):
            con.execute(f"DROP TABLE IF EXISTS {name}")
        return stage

    def at_instants(self, source: BulkSource, events: str, prefix: str, *, one_detainer: bool) -> str:
        """Stages 1–5 again, one row per event of ``events`` (booking_id, seq, ev_id, at): the case as of ``at``
        (with only detainer ``seq`` when ``one_detainer``). The result is keyed by ``ev_id``."""
        views = BulkSource(*(f"{prefix}_{n}" for n in ("bookings", "detainers", "convictions", "charges")))
        con = self.con
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {views.bookings} AS SELECT b.* REPLACE (e.ev_id AS booking_id, e.at AS as_of)"
            f" FROM {source.bookings} b JOIN {events} e ON e.booking_id = b.booking_id"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {views.detainers} AS SELECT d.* REPLACE (e.ev_id AS booking_id)"
            f" FROM {source.detainers} d JOIN {events} e ON e.booking_id = d.booking_id"
            + (" AND e.seq = d.seq" if one_detainer else "")
        )
        for name in ("convictions", "charges"):
            con.execute(
                f"CREATE OR REPLACE TEMP VIEW {getattr(views, name)} AS SELECT c.* REPLACE (e.ev_id AS booking_id)"
                f" FROM {getattr(source, name)} c JOIN {events} e ON e.booking_id = c.booking_id"
            )
        stage = self.stage(views, prefix)
        for name in ("bookings", "detainers", "convictions", "charges"):
            con.execute(f"DROP VIEW IF EXISTS {getattr(views, name)}")
        return stage


def _receipt_only(packs: PackSet) -> PackSet:
    """The same packs with only their receipt rules: the receipt pass computes nothing else."""
    kept = {
        p.pack: p.model_copy(
            update={"versions": tuple(v.model_copy(update={"rules": tuple(_rules(v, "receipt"))}) for v in p.versions)}
        )
        for p in packs
    }
    return PackSet(kept, packs.digest, packs.sources, packs.conditions)


def _receipt_facts_sql(
    source: BulkSource, hold: str, jur: str, versions_on: date | None, lists: set[str], registry: str | None
) -> str:
    """One facts row per request received by the decision instant, as of its own receipt (receipt rules test only
    the request and the person, so no conviction or charge rows are needed)."""

    def listed(column: str, table: str) -> str:
        return f"COALESCE({table}.{column}, [])" if column in lists else "CAST([] AS VARCHAR[])"

    pinned = f"DATE '{versions_on.isoformat()}'" if versions_on else "NULL"
    requests = ",\n      ".join(
        f"CASE WHEN d.requests IS NULL THEN {_default_requests_sql(r)} "
        f"ELSE list_contains(d.requests, {literal(r.value)}) END AS req_{r.value}"
        for r in Request
    )
    return f"""
WITH e0 AS (
  SELECT h.booking_id AS case_id, h.timezone AS zone, d.*, COALESCE(d.received_at, h.instant) AS "at"
  FROM {hold} h JOIN {source.detainers} d USING (booking_id)
  WHERE h.error IS NULL AND NOT h.after_release AND (d.received_at IS NULL OR d.received_at <= h.instant)
),
e AS (SELECT *, CAST(timezone(zone, e0.at) AS DATE) AS day FROM e0),
ek AS (SELECT e.case_id || '{_KEY_SEP}' || CAST(e.seq AS VARCHAR) AS booking_id, e.day, m.jurisdiction
       FROM e JOIN {source.bookings} b ON b.booking_id = e.case_id JOIN {jur} m ON m.source = b.jurisdiction),
ag AS ({_registry_sql(registry, "ek", "ek.day", "agreements" in lists)})
SELECT d.case_id || '{_KEY_SEP}' || CAST(d.seq AS VARCHAR) AS booking_id, d.case_id,
      b.facility_id, m.jurisdiction, b.timezone, d.at AS instant, b.eligible_at, b.eligibility_reason,
      b.released_at, b.bail_refused_at, m.cls_state, {", ".join(f"m.layer_{k}" for k in range(_LEVELS))},
      d.day AS decision_date,
      CAST(NULL AS DATE) AS booking_date,  -- receipt rules test no conviction windows
      COALESCE({pinned}, d.day) AS version_day,
      d.seq AS det_seq, d.received_at AS det_received_at, d.lifted_at AS det_lifted_at, FALSE AS after_release,
      d.form,
      {requests},
      d.warrant,
      {listed("pc_basis", "d")} AS pc_basis,
      COALESCE(d.box2, FALSE) AS box2,
      CASE WHEN d.served_at IS NULL THEN NULL ELSE d.served_at <= d.at END AS served,
      (d.lifted_at IS NOT NULL AND d.lifted_at <= d.at) AS lifted,
      CASE WHEN COALESCE(b.status_proof, 'none') <> 'none' AND b.status_proof_at IS NOT NULL
                AND b.status_proof_at > d.at THEN 'none'
           ELSE COALESCE(b.status_proof, 'none') END AS status_proof,
      {listed("person_tags", "b")} AS person_tags,
      list_distinct(list_concat({listed("agreements", "b")}, COALESCE(ag.listed, []))) AS agreements,
      CAST(NULL AS VARCHAR) AS error
FROM e d JOIN {source.bookings} b ON b.booking_id = d.case_id JOIN {jur} m ON m.source = b.jurisdiction
LEFT JOIN ag ON ag.booking_id = d.case_id || '{_KEY_SEP}' || CAST(d.seq AS VARCHAR)
"""


_KEY_SEP = "\x1f#r"  # joins a case id and a request's seq into one row key in the receipt pass


def _receipt_pass(run: _Pass, source: BulkSource, hold: str, prefix: str) -> str | None:
    """Duties owed on receipt of each request, judged at its receipt under the law of that date (as in _engine)."""
    if not any(
        r.sets.inform_subject
        for p in run.compiled.packs
        if p.pack in run.reached
        for v in p.versions
        for r in _rules(v, "receipt")
    ):
        return None
    facts, stage, receipt = f"{prefix}_rfacts", f"{prefix}_rstage", f"{prefix}_receipt"
    lean = plan(_receipt_only(run.compiled.packs), paths=run.reached, readings=run.compiled.ctx.readings)
    con = run.con
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {facts} AS "
        + _receipt_facts_sql(source, hold, run.jur, run.versions_on, lean.ctx.lists, run.registry)
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE {stage} AS {_stage_sql(lean, facts, '', '')}")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {receipt} AS
        SELECT f.case_id AS booking_id, bool_or(COALESCE(s.rinform, FALSE) AND s.error IS NULL) AS rinform
        FROM {facts} f JOIN {stage} s USING (booking_id) GROUP BY f.case_id"""
    )
    for name in (facts, stage):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return receipt


def _version_starts(run: _Pass) -> pa.Table:
    rows = [(p.pack, v.effective_from) for p in run.compiled.packs if p.pack in run.reached for v in p.versions]
    return pa.table(
        {"pack": pa.array([r[0] for r in rows], pa.string()), "starts": pa.array([r[1] for r in rows], pa.date32())}
    )


def _cut_pass(run: _Pass, source: BulkSource, hold: str, prefix: str) -> str | None:
    """Cut hold windows where a lift, a proof of status or a law taking effect ends the authority to hold."""
    con = run.con
    starts, events, cuts = f"{prefix}_starts", f"{prefix}_cev", f"{prefix}_cuts"
    window = "x.at > GREATEST(h.eligible_at, h.instant) AND x.at < h.hold_until"
    holding = "h.error IS NULL AND h.hold_p <> 0 AND h.kind <> 'none' AND h.eligible_at IS NOT NULL"
    law = ""
    if run.versions_on is None:  # what-if replay pins one set of versions for the whole case
        _register(con, starts, _version_starts(run))
        law = " UNION ALL ".join(
            f"""SELECT h.booking_id, h.det_seq AS seq, timezone(h.timezone, CAST(v.starts AS TIMESTAMP)) AS at,
                       'after_law_change' AS flag, 3 AS rank
                FROM {hold} h JOIN {starts} v ON v.pack = h.layer_{k} WHERE {holding}"""
            for k in range(_LEVELS)
        )
        law = " UNION ALL " + law
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {events} AS
        WITH x AS (
          SELECT h.booking_id, h.det_seq AS seq, h.det_lifted_at AS at, 'after_lift' AS flag, 1 AS rank
          FROM {hold} h WHERE {holding} AND h.det_lifted_at IS NOT NULL
          UNION ALL
          SELECT h.booking_id, h.det_seq, b.status_proof_at, 'after_status_proof', 2
          FROM {hold} h JOIN {source.bookings} b USING (booking_id)
          WHERE {holding} AND COALESCE(b.status_proof, 'none') <> 'none' AND b.status_proof_at IS NOT NULL
          UNION ALL
          SELECT h.booking_id, h.det_seq, d.received_at, 'after_new_request', 4
          FROM {hold} h JOIN {source.detainers} d USING (booking_id)
          WHERE {holding} AND d.seq <> h.det_seq AND d.received_at IS NOT NULL
          {law}
        )
        SELECT x.booking_id, x.seq, x.at, x.flag, x.rank,
               x.booking_id || '#e' || CAST(row_number() OVER (ORDER BY x.booking_id, x.at, x.rank) AS VARCHAR)
                 AS ev_id
        FROM x JOIN {hold} h USING (booking_id) WHERE {window}"""
    )
    ((count,),) = con.execute(f"SELECT count(*) FROM {events}").fetchall()
    if not count:
        con.execute(f"DROP TABLE IF EXISTS {events}")
        con.execute(f"DROP TABLE IF EXISTS {starts}")
        return None
    stage = run.at_instants(source, events, f"{prefix}_e", one_detainer=False)
    rows = con.execute(
        f"""SELECT e.booking_id, e.at, e.flag, s.hold_p, s.kind, s.hours, s.calendar, s.error,
                   h.eligible_at, h.hold_until, h.timezone
            FROM {events} e JOIN {stage} s ON s.booking_id = e.ev_id JOIN {hold} h ON h.booking_id = e.booking_id
            ORDER BY e.booking_id, e.at, e.rank"""
    ).fetchall()
    cut: dict[str, tuple[datetime, str]] = {}
    done: set[str] = set()
    for booking, at, flag, hold_p, kind, hours, calendar, error, eligible, until, zone in rows:
        if booking in done:
            continue
        until = cut.get(booking, (until, ""))[0]
        if at >= until:
            done.add(booking)
            continue
        if error is not None or hold_p == 0 or kind == HoldClockKind.NONE.value:
            cut[booking] = (at, flag)
            done.add(booking)
            continue
        shorter = _deadline(kind, hours, eligible, zone, calendar)
        if shorter < until:
            cut[booking] = (max(at, shorter), flag)
    ts = pa.timestamp("us", tz="UTC")
    _register(
        con,
        cuts,
        pa.table(
            {
                "booking_id": pa.array(list(cut), pa.string()),
                "cut_until": pa.array([v[0] for v in cut.values()], ts),
                "ended": pa.array([v[1] for v in cut.values()], pa.string()),
            }
        ),
    )
    for name in (events, stage, starts):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    return cuts


def _registry_table(agreements: AgreementRegistry) -> pa.Table:
    mapped = [r for r in agreements if r.jurisdiction is not None]
    return pa.table(
        {
            "jurisdiction": pa.array([r.jurisdiction for r in mapped], pa.string()),
            "model": pa.array([r.model.value for r in mapped], pa.string()),
            "signed": pa.array([r.signed for r in mapped], pa.date32()),
            "ended": pa.array([r.ended for r in mapped], pa.date32()),
        }
    )


def _deadline(kind: str, hours: float, eligible: datetime, zone: str, calendar: str) -> datetime:
    if kind == HoldClockKind.ELAPSED.value:
        return eligible + timedelta(microseconds=round(hours * 3_600_000_000))
    deadline = hold_deadline(HoldClockKind(kind), eligible, hours=hours, zone=zone, calendar=calendar_by_name(calendar))
    assert deadline is not None
    return deadline.astimezone(UTC)


def bulk_decide(
    con: duckdb.DuckDBPyConnection,
    source: BulkSource | None = None,
    *,
    packs: PackSet | None = None,
    jurisdiction: str | None = None,
    versions_on: date | None = None,
    into: str = "bulk_decisions",
    compiled: BulkPlan | None = None,
    readings: dict[str, str] | None = None,
    agreements: AgreementRegistry | None = None,
) -> str:
    """Decide every case in ``source`` into the temporary table ``into`` (columns :data:`RESULT_COLUMNS`).

    Same arguments and answers as :func:`detainers.law.decide`: ``jurisdiction`` applies another jurisdiction's
    packs to every case (what-if), ``versions_on`` pins pack versions to those in force on that date, ``readings``
    chooses options of declared arguable clauses. Cases that the per-case path would refuse carry an ``error`` and
    no answers.
    """
    source = source or BulkSource()
    compiled = compiled or plan(packs, readings=readings)
    if jurisdiction is not None:
        jurisdiction = parse_jurisdiction(jurisdiction)
        layers_of(jurisdiction)
    prefix = f"_bulk_{into}"
    jur, business, hold = f"{prefix}_jur", f"{prefix}_business", f"{prefix}_hold"
    paths = [p for (p,) in con.execute(f"SELECT DISTINCT jurisdiction FROM {source.bookings}").fetchall()]
    jur_map = _jurisdiction_map(paths, jurisdiction)
    _register(con, jur, jur_map)
    reached = frozenset(p for k in range(_LEVELS) for p in jur_map.column(f"layer_{k}").to_pylist() if p)
    registry = f"{prefix}_287g" if agreements is not None else None
    if registry is not None and agreements is not None:
        _register(con, registry, _registry_table(agreements))
    run = _Pass(con, jur, versions_on, compiled, reached, registry)
    stage = run.stage(source, prefix)
    # Clocks that need the calendar or the local day (business hours, a state's same-day cap) are computed by the
    # clock's own function over the distinct starts; elapsed hours stay in SQL.
    starts = con.execute(
        f"""SELECT DISTINCT kind, eligible_at, timezone, hours, calendar FROM {stage}
            WHERE error IS NULL AND eligible_at IS NOT NULL AND hold_p <> 0 AND kind IN (?, ?)""",
        [HoldClockKind.BUSINESS.value, HoldClockKind.SAME_DAY.value],
    ).fetchall()
    _register(con, business, _business_table(starts))
    con.execute(f"CREATE OR REPLACE TEMP TABLE {hold} AS {_hold_sql(stage, business)}")
    receipt = _receipt_pass(run, source, hold, prefix)
    cuts = _cut_pass(run, source, hold, prefix)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {into} AS {_final_sql(hold, receipt, cuts)}")
    for name in (stage, business, jur, hold, receipt, cuts, registry):
        if name is not None:
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return into
