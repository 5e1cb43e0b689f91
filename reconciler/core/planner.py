"""The planner: a pure function of (specs, observed state, clock, options) → Plan.

For each target, in dependency order: classify every expected unit (present, incomplete,
verified empty, waived, quarantined, missing), rebuild what the lake's bronze layer already
holds at zero API calls, and cover the rest with the cheapest set of API requests.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from reconciler.core.actions import api_action, lake_action
from reconciler.core.addresses import WaiverSet, legacy_labels, names_target, selector_warnings
from reconciler.core.api_cover import cover_units
from reconciler.core.classify import (
    Inputs,
    classify,
    glob_match,
    mean_rows,
    unit_address,
)
from reconciler.core.observed import ExpectedUnit, ObservedState, ObservedTarget
from reconciler.core.options import PlanOptions
from reconciler.core.plan import Action, Plan, SeasonCoverage, Summary, TargetPlan
from reconciler.core.requests import group_params
from reconciler.spec.models import FetchStrategy, Spec

__all__ = ["PlanOptions", "build_plan", "glob_match", "unit_address", "with_dependencies"]


def _selected(spec: Spec, selectors: Sequence[str]) -> bool:
    if not selectors:
        return True
    return any(s == spec.name or s.startswith(spec.name + "[") or s.startswith(spec.name + ".") for s in selectors)


def _closure(specs: Sequence[Spec], selectors: Sequence[str]) -> tuple[set[str], set[str]]:
    """Targets to plan, and those selected whole.

    Like Terraform, a bare ``--target lineups`` brings the targets it depends on along; an
    address glob selects only its own actions.
    """
    whole = with_dependencies(specs, {s.name for s in specs if not selectors or s.name in selectors})
    planned = with_dependencies(specs, whole | {s.name for s in specs if _selected(s, selectors)})
    return planned, whole


def with_dependencies(specs: Sequence[Spec], names: Iterable[str]) -> set[str]:
    """Targets and every target they depend on, transitively (unknown names are dropped).

    Args:
        specs: The specs.
        names: Target names.

    Returns:
        The closed set of target names.
    """
    by_name = {s.name: s for s in specs}
    out: set[str] = set()
    todo = [n for n in names if n in by_name]
    while todo:
        n = todo.pop()
        if n not in out:
            out.add(n)
            todo.extend(d for d in by_name[n].depends_on if d in by_name)
    return out


def _action_selected(action: Action, spec: Spec, selectors: Sequence[str], units: Mapping[str, ExpectedUnit]) -> bool:
    """Whether ``--target`` selects an action: by target, by address glob, or by the exact address of a unit it fills.

    A glob selects actions by their own addresses (``plays[season=2016][gameId=*]`` is every
    per-game request); an exact unit address selects the action that fills that unit, whatever
    its request (a date's, a team's), so an address copied from a plan, a waiver or the
    quarantine list selects its unit's work.
    """
    addr = action.address
    if not selectors or spec.name in selectors:
        return True
    if any(glob_match(addr, s) or glob_match(addr, s + "*") for s in selectors):
        return True
    exact = {s for s in selectors if "[" in s and not any(c in s for c in "*?") and names_target(s, spec.name)}
    if not exact:
        return False
    return any((u := units.get(k)) is not None and unit_address(spec, u) in exact for k in action.units)


def _plan_season(
    spec: Spec,
    season: int,
    units: Sequence[ExpectedUnit],
    reasons: Mapping[str, str],
    all_units: Sequence[ExpectedUnit],
    obs: ObservedTarget,
    inputs: Inputs,
    rows_mean: float,
) -> tuple[list[Action], str, int]:
    actions: list[Action] = []
    remaining = {u.key: u for u in units}
    notes: list[str] = []
    waiting = 0
    # 0. Derivations from other targets' silver, zero API calls; units whose inputs are still
    #    being filled wait for them (known after apply).
    for strategy in spec.fetch:
        if strategy.source != "derive":
            continue
        dgroups: dict[tuple[tuple[str, Any], ...], list[str]] = defaultdict(list)
        for key, u in list(remaining.items()):
            st = inputs.status(strategy, u)
            if st == "no":
                continue
            del remaining[key]
            if st == "wait":
                waiting += 1
                continue
            dgroups[group_params(strategy, u)].append(key)
        actions.extend(_lake_actions(spec, strategy, season, dgroups, reasons))
        if dgroups:
            n = sum(len(k) for k in dgroups.values())
            notes.append(f"{n:,} derived from {' + '.join(strategy.inputs)} (0 calls)")
        if waiting:
            notes.append(f"{waiting:,} wait for {' + '.join(strategy.inputs)} (known after apply)")
    # 1. The lake as a source: rebuild silver from complete bronze, zero API calls.
    for strategy in spec.fetch:
        if strategy.source != "bronze":
            continue
        have = obs.lake_sources.get(strategy.name, frozenset())
        groups: dict[tuple[tuple[str, Any], ...], list[str]] = defaultdict(list)
        for key, u in list(remaining.items()):
            if key in have:
                groups[group_params(strategy, u)].append(key)
                del remaining[key]
        actions.extend(_lake_actions(spec, strategy, season, groups, reasons))
        if groups:
            notes.append(f"{sum(len(k) for k in groups.values()):,} from bronze {strategy.bronze} (0 calls)")
    # 2. The API: the cheapest cover of the remaining units, reasoned in whole units
    #    (reconciler.core.api_cover).
    picks, uncovered = cover_units(spec, remaining, all_units, obs, rows_mean)
    per_strategy: Counter[str] = Counter()
    for pick in picks:
        per_strategy[pick.strategy.path or pick.strategy.name] += pick.calls
        actions.append(
            api_action(
                spec,
                season,
                pick.strategy,
                pick.params,
                list(pick.units),
                calls=pick.calls,
                rows=pick.rows,
                reasons=reasons,
                joint=pick.joint,
            )
        )
    if uncovered:
        notes.append(f"{len(uncovered):,} units no strategy can fill")
    n_units = len(units)
    if per_strategy:
        how = ", ".join(f"{n:,} calls to {p}" for p, n in per_strategy.most_common())
        notes.insert(0, how)
    choice = f"{season}: {n_units:,} {spec.name} units to fill → " + ("; ".join(notes) if notes else "nothing")
    return actions, choice, waiting


def _lake_actions(
    spec: Spec,
    strategy: FetchStrategy,
    season: int,
    groups: Mapping[tuple[tuple[str, Any], ...], list[str]],
    reasons: Mapping[str, str],
) -> list[Action]:
    """Zero-call ``rebuild`` actions (from bronze, or derived), one per group of units."""
    return [lake_action(spec, strategy, season, params, keys, reasons) for params, keys in sorted(groups.items())]


def _gate(spec: Spec, cov: Mapping[str, SeasonCoverage]) -> Literal["ok", "warn", "error"]:
    gate: Literal["ok", "warn", "error"] = "ok"
    for c in cov.values():
        if c.known_after_apply or c.expected == 0:
            continue
        if c.ratio < spec.expect.coverage.error_below:
            return "error"
        if c.ratio < spec.expect.coverage.warn_below:
            gate = "warn"
    return gate


def _digest(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def build_plan(specs: Sequence[Spec], observed: ObservedState, now: datetime, opts: PlanOptions | None = None) -> Plan:
    """Compute the plan.

    Args:
        specs: Specs in dependency order.
        observed: The observation.
        now: The clock (UTC).
        opts: Options.

    Returns:
        The plan: coverage per target and season, and the actions to take.
    """
    opts = opts or PlanOptions()
    waivers = WaiverSet(opts.waivers, now.date(), legacy_labels(specs)) if opts.waivers else None
    targets: list[TargetPlan] = []
    pending = _Pending(seasons={}, units={})
    inputs = Inputs(specs={s.name: s for s in specs}, observed=observed, pending=pending.units)
    planned, whole = _closure(specs, opts.targets)
    for spec in specs:
        if spec.name not in planned:
            continue
        target = _plan_target(spec, observed, opts, now, waivers, inputs, whole, pending)
        if target is not None:
            targets.append(target)
    targets.extend(t for t in opts.extra_targets)
    return _assemble(specs, planned, observed, opts, now, waivers, targets)


def _assemble(
    specs: Sequence[Spec],
    planned: set[str],
    observed: ObservedState,
    opts: PlanOptions,
    now: datetime,
    waivers: WaiverSet | None,
    targets: list[TargetPlan],
) -> Plan:
    """The plan of the targets planned: warnings, the summary, fingerprints and identity."""
    by_name = {s.name: s for s in specs if s.name in planned and s.name in observed.targets}
    warnings = list(observed.warnings) + selector_warnings(
        opts.targets,
        waivers,
        by_name,
        {n: observed.targets[n].expected or () for n in by_name},
        [a.address for t in targets for a in t.actions],
        observed.seasons,
    )
    every = [a for t in targets for a in t.actions]
    kinds = Counter(a.type for a in every)
    calls = sum(a.api_calls for a in every)
    summary = Summary(
        **{k: kinds.get(k, 0) for k in ("fetch", "refetch", "rebuild", "relayout", "dedupe", "delete")},
        register_=kinds.get("register", 0),
        api_calls=calls,
        estimated_seconds=round(calls / opts.rate_per_sec, 1) if opts.rate_per_sec else 0.0,
        quota_remaining=observed.quota_remaining,
        quota_reserve=opts.quota_reserve,
    )
    fps = {
        "expected": {n: t.fingerprint_expected for n, t in sorted(observed.targets.items())},
        "observed": {n: t.fingerprint_observed for n, t in sorted(observed.targets.items())},
    }
    fingerprint = _digest({"fp": fps, "actions": [a.address for a in every], "seasons": observed.seasons})
    created = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    seasons = list(observed.seasons)
    return Plan(
        plan_id=_digest({"fingerprint": fingerprint, "created": created}),
        fingerprint=fingerprint,
        created_at=created,
        seasons=[seasons[0], seasons[-1]] if seasons else [],
        season_list=seasons,
        profile=opts.profile,
        targets=targets,
        summary=summary,
        fingerprints=fps,
        observation={
            "engine": observed.engine,
            "bytes_scanned": observed.bytes_scanned,
            "rows_returned": observed.rows_returned,
        },
        retry_failed=opts.retry_failed,
        warnings=warnings,
    )


@dataclass(frozen=True, slots=True)
class _Pending:
    """What earlier targets leave to apply: per target, the seasons and the units of its actions."""

    seasons: dict[str, set[int]]
    units: dict[str, set[str]]


def _plan_target(
    spec: Spec,
    observed: ObservedState,
    opts: PlanOptions,
    now: datetime,
    waivers: WaiverSet | None,
    inputs: Inputs,
    whole: set[str],
    pending: _Pending,
) -> TargetPlan | None:
    """One target's plan (None when it is not observed or not selected), noting what it leaves pending."""
    pending_seasons, pending_units = pending.seasons, pending.units
    obs = observed.targets.get(spec.name)
    if obs is None:
        return None
    cov_counts, work, quarantined = classify(spec, obs, opts, now, waivers)
    # A dependency that feeds the source query leaves the expected set unknown for its pending
    # seasons; one that only feeds a derivation defers just the units waiting for it.
    feeds = {d for f in spec.fetch for d in f.inputs}
    blocked = set().union(*(pending_seasons.get(d, set()) for d in spec.depends_on if d not in feeds))
    actions: list[Action] = []
    choices: list[str] = []
    by_season: dict[int, list[ExpectedUnit]] = defaultdict(list)
    for u in work.units.values():
        by_season[u.season].append(u)
    all_by_season: dict[int, list[ExpectedUnit]] = defaultdict(list)
    for u in obs.expected or ():
        all_by_season[u.season].append(u)
    waiting: Counter[int] = Counter()
    rows_mean = mean_rows(obs)
    by_key = {u.key: u for u in obs.expected or ()} if spec.name not in whole else {}
    for season in sorted(by_season):
        if season in blocked:
            continue
        acts, choice, waiting[season] = _plan_season(
            spec, season, by_season[season], work.reasons, all_by_season[season], obs, inputs, rows_mean
        )
        actions.extend(a for a in acts if spec.name in whole or _action_selected(a, spec, opts.targets, by_key))
        choices.append(choice)
    pending_seasons[spec.name] = {a.season for a in actions if a.season is not None}
    pending_units[spec.name] = {k for a in actions for k in a.units}
    coverage: dict[str, SeasonCoverage] = {}
    for season in observed.seasons:
        c = cov_counts.get(season, Counter())
        coverage[str(season)] = SeasonCoverage(
            **{k: int(v) for k, v in c.items()},
            after_apply=waiting.get(season, 0),
            known_after_apply=season in blocked,
        )
    # An expected set that cannot be computed for a season no dependency is still filling is
    # an error (a broken source query), never "ok": nothing can be said about the target.
    source_error = obs.source_error if obs.expected is None and set(observed.seasons) - blocked else ""
    notes = [f"expected set unavailable: {obs.source_error}"] if obs.source_error else []
    notes.extend(waivers.expired_notes(spec.name) if waivers is not None else ())
    if spec.name not in whole and not _selected(spec, opts.targets):
        return None
    return TargetPlan(
        target=spec.name,
        table=f"{spec.target.silver.database}.{spec.target.silver.table}",
        depends_on=list(spec.depends_on),
        coverage=coverage,
        actions=actions,
        choices=choices,
        quarantined=quarantined,
        gate="error" if source_error else _gate(spec, coverage),
        warn_below=spec.expect.coverage.warn_below,
        error_below=spec.expect.coverage.error_below,
        notes=notes,
        source_error=source_error,
    )
