"""The planner: a pure function of (specs, observed state, clock, options) → Plan.

For each target, in dependency order: classify every expected unit (present, incomplete,
verified empty, waived, quarantined, missing), rebuild what the lake's bronze layer already
holds at zero API calls, and cover the rest with the cheapest set of API requests.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from reconciler.core.cover import Candidate, greedy_cover, group_elements
from reconciler.core.observed import ExpectedUnit, ObservedState, ObservedTarget
from reconciler.core.plan import Action, Plan, Request, SeasonCoverage, Summary, TargetPlan
from reconciler.spec.models import FetchStrategy, Spec, Waiver

__all__ = ["PlanOptions", "build_plan", "glob_match", "unit_address"]

_DEFAULT_ROWS = 300.0


@dataclass(frozen=True, slots=True)
class PlanOptions:
    """Choices that shape a plan.

    Attributes:
        targets: Target names or address globs to include (empty: all).
        waivers: Acknowledged gaps.
        retry_failed: Re-plan quarantined units.
        rate_per_sec: API pacing, for the time estimate.
        quota_reserve: Calls to keep in reserve.
        profile: Profile name, recorded in the plan.
        extra_targets: Plans for non-spec targets (partition layouts), appended as given.
    """

    targets: tuple[str, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    retry_failed: bool = False
    rate_per_sec: float = 3.0
    quota_reserve: int = 0
    profile: str = ""
    extra_targets: tuple[TargetPlan, ...] = field(default_factory=tuple)


def glob_match(address: str, pattern: str) -> bool:
    """Match an address against a glob where only ``*`` and ``?`` are wildcards.

    Brackets are literal, so ``plays[season=2015]*`` works as written.

    Args:
        address: e.g. ``plays[season=2015][date=2015-01-03]``.
        pattern: e.g. ``plays[season=2015]*``.

    Returns:
        Whether the address matches.
    """
    rx = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(rx, address) is not None


def _label(col: str) -> str:
    return col.removesuffix("_id")


def unit_address(spec: Spec, unit: ExpectedUnit) -> str:
    """The stable address of a unit, e.g. ``plays[season=2015][game=1234]``.

    Args:
        spec: The unit's spec.
        unit: The unit.

    Returns:
        The address.
    """
    parts = "".join(f"[{_label(c)}={unit.cols.get(c)}]" for c in spec.unit if c != "season")
    return f"{spec.name}[season={unit.season}]{parts}"


def _selected(spec: Spec, selectors: Sequence[str]) -> bool:
    if not selectors:
        return True
    return any(s == spec.name or s.startswith(spec.name + "[") or s.startswith(spec.name + ".") for s in selectors)


def _closure(specs: Sequence[Spec], selectors: Sequence[str]) -> tuple[set[str], set[str]]:
    """Targets to plan, and those selected whole.

    Like Terraform, a bare ``--target lineups`` brings the targets it depends on along; an
    address glob selects only its own actions.
    """
    by_name = {s.name: s for s in specs}
    whole = {s.name for s in specs if not selectors or s.name in selectors}
    todo = list(whole)
    while todo:
        for dep in by_name[todo.pop()].depends_on:
            if dep in by_name and dep not in whole:
                whole.add(dep)
                todo.append(dep)
    planned = set(whole) | {s.name for s in specs if _selected(s, selectors)}
    todo = list(planned)
    while todo:
        for dep in by_name[todo.pop()].depends_on:
            if dep in by_name and dep not in planned:
                planned.add(dep)
                todo.append(dep)
    return planned, whole


def _action_selected(addr: str, target: str, selectors: Sequence[str]) -> bool:
    if not selectors or target in selectors:
        return True
    return any(glob_match(addr, s) or glob_match(addr, s + "*") for s in selectors)


def _waived(addr: str, waivers: Sequence[Waiver], today: date) -> Waiver | None:
    for w in waivers:
        if (w.expires is None or w.expires >= today) and glob_match(addr, w.address):
            return w
    return None


def _empty_is_fresh(spec: Spec, unit: ExpectedUnit, checked_at: float, now: datetime) -> bool:
    pol = spec.expect.empty_response
    age_days = (now.timestamp() - checked_at) / 86400
    if age_days < pol.recheck_after_days:
        return True
    if pol.only_if_game_within_days is None:
        return False
    try:
        game_day = datetime.fromisoformat(unit.date).replace(tzinfo=UTC)
    except ValueError:
        return False
    checked = datetime.fromtimestamp(checked_at, UTC)
    # Only games that were recent when found empty may still gain data; older ones stay empty.
    return checked - game_day > timedelta(days=pol.only_if_game_within_days)


@dataclass
class _Inputs:
    """What derive strategies need to know about their input targets."""

    specs: Mapping[str, Spec]
    observed: ObservedState
    pending: Mapping[str, set[str]]
    _ready: dict[str, frozenset[str]] = field(default_factory=dict)

    def _ready_keys(self, name: str, obs: ObservedTarget) -> frozenset[str]:
        """An input's units that are complete, fetched as far as they go, or verified empty."""
        got = self._ready.get(name)
        if got is None:
            done = {k for k, s in obs.states.items() if s.status in ("done", "empty")}
            empty = {k for k, s in obs.states.items() if s.status == "empty"}
            got = frozenset(
                {k for k, p in obs.present.items() if p.complete or k in done}
                | {k for k in empty if k not in obs.present}
            )
            self._ready[name] = got
        return got

    def status(self, strategy: FetchStrategy, unit: ExpectedUnit) -> str:
        """``ready`` (every input complete or verified empty), ``wait`` (an input is planned) or ``no``."""
        for name in strategy.inputs:
            spec = self.specs.get(name)
            obs = self.observed.targets.get(name)
            if spec is None or obs is None:
                return "no"
            try:
                key = ":".join([str(unit.cols[c]) for c in spec.unit])
            except KeyError:
                return "no"
            if key in self.pending.get(name, ()):
                return "wait"
            if key not in self._ready_keys(name, obs):
                return "no"
        return "ready"


@dataclass
class _Work:
    units: dict[str, ExpectedUnit] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


def _classify(
    spec: Spec, obs: ObservedTarget, opts: PlanOptions, now: datetime
) -> tuple[dict[int, dict[str, int]], _Work, list[dict[str, Any]]]:
    cov: dict[int, dict[str, int]] = defaultdict(Counter)
    work = _Work()
    quarantined: list[dict[str, Any]] = []
    today = now.date()
    for u in obs.expected or ():
        c = cov[u.season]
        c["expected"] += 1
        present = obs.present.get(u.key)
        state = obs.states.get(u.key)
        if present is not None and present.complete:
            c["present"] += 1
            continue
        if opts.waivers and _waived(unit_address(spec, u), opts.waivers, today):
            c["waived"] += 1
            continue
        if present is not None and state is not None and state.status in ("done", "empty"):
            # We already fetched everything the API has; the unit is as complete as it gets.
            c["present"] += 1
            continue
        if (
            present is None
            and state is not None
            and state.status == "empty"
            and _empty_is_fresh(spec, u, state.updated_at, now)
        ):
            c["verified_empty"] += 1
            continue
        if state is not None and state.status == "failed":
            if state.attempts >= spec.expect.max_failed_applies and not opts.retry_failed:
                c["quarantined"] += 1
                addr = unit_address(spec, u)
                quarantined.append({"unit": u.key, "address": addr, "attempts": state.attempts, "error": state.error})
                continue
            c["failed"] += 1
        if present is not None:
            c["incomplete"] += 1
            work.reasons[u.key] = f"incomplete: {present.rows} rows ({spec.expect.complete.description})"
        else:
            c["missing"] += 1
            work.reasons[u.key] = "missing"
        work.units[u.key] = u
    return cov, work, quarantined


def _request_for(strategy: FetchStrategy, values: Mapping[str, Any]) -> Request:
    path = strategy.path or ""
    query: dict[str, Any] = {}
    for p, v in values.items():
        token = "{" + p + "}"
        if token in path:
            path = path.replace(token, str(v))
        else:
            query[p] = v
    return Request(path=path, params=query)


def _strategy_requests(
    strategy: FetchStrategy, cols: Mapping[str, tuple[str, ...]], unit: ExpectedUnit, nparts: int
) -> list[tuple[tuple[tuple[str, Any], ...], list[int]]]:
    """The requests of a strategy that touch a unit, each with the unit parts it fills."""
    every = list(range(nparts))
    combos: list[tuple[dict[str, Any], list[int]]] = [({}, every)]
    for param, columns in cols.items():
        nxt: list[tuple[dict[str, Any], list[int]]] = []
        for values_d, parts in combos:
            for i, col in enumerate(columns):
                v = unit.cols.get(col)
                if v is None:
                    continue
                fills = [i] if strategy.match == "all" and len(columns) > 1 else parts
                nxt.append(({**values_d, param: v}, fills))
        combos = nxt
    return [(tuple(sorted(v.items())), parts) for v, parts in combos]


def _request_index(
    strategy: FetchStrategy, units: Sequence[ExpectedUnit], nparts: int
) -> list[list[tuple[tuple[tuple[str, Any], ...], list[int]]]]:
    """:func:`_strategy_requests` for many units at once (the planner's hot loop).

    Specs have at most one list-valued parameter per strategy (validated), so a unit touches
    one request per alternative of that parameter, with a fixed prefix and suffix around it.
    """
    cols = strategy.param_columns()
    names = sorted(cols)
    multi = [n for n in names if len(cols[n]) > 1]
    if len(multi) > 1:
        return [_strategy_requests(strategy, cols, u, nparts) for u in units]
    every = list(range(nparts))
    out: list[list[tuple[tuple[tuple[str, Any], ...], list[int]]]] = []
    if not multi:
        singles = [(n, cols[n][0]) for n in names]
        if len(singles) == 1:
            (n0, c0) = singles[0]
            none: list[tuple[tuple[tuple[str, Any], ...], list[int]]] = []
            for u in units:
                v0 = u.cols.get(c0)
                out.append(none if v0 is None else [(((n0, v0),), every)])
            return out
        for u in units:
            get = u.cols.get
            key = tuple([(n, get(c)) for n, c in singles])
            out.append([] if any([v is None for _, v in key]) else [(key, every)])
        return out
    m = multi[0]
    pos = names.index(m)
    before = [(n, cols[n][0]) for n in names[:pos]]
    after = [(n, cols[n][0]) for n in names[pos + 1 :]]
    alternatives = list(enumerate(cols[m]))
    by_part = strategy.match == "all"
    parts_of = [[i] if by_part else every for i, _ in alternatives]
    if len(before) == 1 and not after:  # e.g. {season: season, team: [home_team, away_team]}
        (n0, c0) = before[0]
        for u in units:
            get = u.cols.get
            v0 = get(c0)
            if v0 is None:
                out.append([])
                continue
            out.append([(((n0, v0), (m, v)), parts_of[i]) for i, col in alternatives if (v := get(col)) is not None])
        return out
    for u in units:
        get = u.cols.get
        head = tuple([(n, get(c)) for n, c in before])
        tail = tuple([(n, get(c)) for n, c in after])
        if None in [v for _, v in head] or None in [v for _, v in tail]:
            out.append([])
            continue
        out.append([((*head, (m, v), *tail), parts_of[i]) for i, col in alternatives if (v := get(col)) is not None])
    return out


def _touch_counts(
    strategy: FetchStrategy, units: Sequence[ExpectedUnit], nparts: int
) -> Counter[tuple[tuple[str, Any], ...]]:
    """How many units each request of a strategy touches (its rows count units already present)."""
    cols = strategy.param_columns()
    names = sorted(cols)
    if len(names) == 1 and len(cols[names[0]]) == 1:  # e.g. {date: date}: one count per value
        n0, c0 = names[0], cols[names[0]][0]
        values = Counter([u.cols.get(c0) for u in units])
        return Counter({((n0, v),): n for v, n in values.items() if v is not None})
    multi = [n for n in names if len(cols[n]) > 1]
    if len(names) == 2 and len(multi) == 1 and names[1] == multi[0]:
        # e.g. {season: season, team: [home_team, away_team]}: one count per (season, team).
        n0, c0 = names[0], cols[names[0]][0]
        m = names[1]
        pairs: Counter[tuple[Any, Any]] = Counter()
        heads = [u.cols.get(c0) for u in units]
        for col in cols[m]:
            pairs.update([(h, v) for h, v in zip(heads, [u.cols.get(col) for u in units], strict=True)])
        return Counter({((n0, h), (m, v)): n for (h, v), n in pairs.items() if h is not None and v is not None})
    out: Counter[tuple[tuple[str, Any], ...]] = Counter()
    for reqs in _request_index(strategy, units, nparts):
        out.update([params for params, _ in reqs])
    return out


def _is_per_unit(spec: Spec, strategy: FetchStrategy) -> bool:
    """Whether each request of the strategy names exactly one unit (e.g. /plays/game/{gameId})."""
    sources = {c for cols in strategy.param_columns().values() for c in cols}
    return all(len(c) == 1 for c in strategy.param_columns().values()) and set(spec.unit) <= sources


def _nparts(spec: Spec) -> int:
    n = 1
    for s in spec.fetch:
        if s.match == "all":
            n = max(n, *(len(c) for c in s.param_columns().values()))
    return n


def _rows_per_unit(strategy: FetchStrategy, mean_rows: float) -> float:
    return strategy.rows_per_unit or mean_rows


def _mean_rows(obs: ObservedTarget) -> float:
    rows = [p.rows for p in obs.present.values() if p.complete]
    return sum(rows) / len(rows) if rows else _DEFAULT_ROWS


def _fmt_params(params: Sequence[tuple[str, Any]]) -> str:
    return "".join(f"[{k}={v}]" for k, v in params if k != "season")


def _failed_units(obs: ObservedTarget, remaining: dict[str, ExpectedUnit]) -> dict[str, ExpectedUnit]:
    """Take the units that failed before out of ``remaining``: each gets a request of its own.

    One bad payload fails its whole action (nothing of it is written), so the units sharing a
    request with a broken one would fail with it apply after apply, and be quarantined with it.
    Kept out of the shared candidates, a failed unit is filled by the one-unit strategy alone
    (at most one call more per failed unit).
    """
    failed = [k for k in remaining if (st := obs.states.get(k)) is not None and st.status == "failed"]
    return {k: remaining.pop(k) for k in failed}


def _plan_season(
    spec: Spec,
    season: int,
    units: Sequence[ExpectedUnit],
    reasons: Mapping[str, str],
    all_units: Sequence[ExpectedUnit],
    obs: ObservedTarget,
    inputs: _Inputs,
    mean_rows: float,
) -> tuple[list[Action], str, int]:
    actions: list[Action] = []
    remaining = {u.key: u for u in units}
    nparts = _nparts(spec)
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
            dgroups[_group_params(strategy, u)].append(key)
        extra = {"derive": strategy.derive, "inputs": list(strategy.inputs)}
        actions.extend(_lake_actions(spec, strategy, season, dgroups, reasons, extra))
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
                groups[_group_params(strategy, u)].append(key)
                del remaining[key]
        actions.extend(_lake_actions(spec, strategy, season, groups, reasons, {"bronze": strategy.bronze}))
        if groups:
            notes.append(f"{sum(len(k) for k in groups.values()):,} from bronze {strategy.bronze} (0 calls)")
    # 2. The API: cheapest cover of the remaining unit parts, greedily: most parts per call, then
    #    fewest rows. One-unit requests (/plays/game/{gameId}) never enter the heap: a unit with
    #    t parts left is worth t to its own request, so multi-unit requests (dates, teams) are
    #    taken while they fill more than t, then every unit with t parts left gets its own call.
    api = [s for s in spec.fetch if s.source == "api" and not s.aggregated]
    per_unit = next((s for s in api if _is_per_unit(spec, s)), None)
    wanted: dict[Hashable, str] = {(k, p): k for k in remaining for p in range(nparts)}
    alone = _failed_units(obs, remaining) if per_unit is not None else {}  # not in shared requests
    cands: dict[tuple[str, tuple[tuple[str, Any], ...]], set[Hashable]] = {}
    order: dict[tuple[str, tuple[tuple[str, Any], ...]], int] = {}
    # Rows a request returns, counting units already present (the waste of a broad request).
    touch: dict[tuple[str, tuple[tuple[str, Any], ...]], int] = {}
    todo_units = list(remaining.values())
    for si, strategy in enumerate(api):
        if strategy is per_unit or not todo_units:
            continue
        name = strategy.name
        for u, reqs in zip(todo_units, _request_index(strategy, todo_units, nparts), strict=True):
            for params, parts in reqs:
                ck = (name, params)
                els = cands.get(ck)
                if els is None:
                    els = cands[ck] = set()
                    order[ck] = si
                els.update([(u.key, p) for p in parts])
        if any(ck[0] == name for ck in cands):
            for params, n in _touch_counts(strategy, all_units, nparts).items():
                if (name, params) in cands:
                    touch[(name, params)] = n
    by_name = {s.name: s for s in api}
    rows_per = {s.name: _rows_per_unit(s, mean_rows) for s in api}
    candidates = [
        Candidate(
            key=ck,
            elements=frozenset(els),
            calls=_calls(by_name[ck[0]]),
            rows=touch[ck] * rows_per[ck[0]],
            order=order[ck],
        )
        for ck, els in sorted(cands.items(), key=lambda kv: (order[kv[0]], kv[0]))
    ]
    chosen: list[Candidate] = []
    uncovered: set[Hashable] = set(wanted)
    if per_unit is None:
        chosen, uncovered = greedy_cover(uncovered, candidates)
    else:
        remaining.update(alone)  # back, for one-unit requests
        unit_calls = _calls(per_unit)
        for t in range(nparts, 0, -1):
            picked, uncovered = greedy_cover(uncovered, candidates, floor=t / unit_calls)
            chosen.extend(picked)
            left = Counter(wanted[e] for e in uncovered)
            mine = sorted((k for k, n in left.items() if n == t), key=lambda k: (remaining[k].date, k))
            units_t = [remaining[k] for k in mine]
            for u, reqs in zip(units_t, _request_index(per_unit, units_t, nparts), strict=True):
                for params, parts in reqs:
                    fill: frozenset[Hashable] = frozenset((u.key, p) for p in parts) & uncovered
                    if fill:
                        ck = (per_unit.name, params)
                        chosen.append(Candidate(ck, fill, unit_calls, rows_per[per_unit.name], api.index(per_unit)))
                        uncovered -= fill
    firsts = group_elements(chosen, wanted)
    per_strategy: Counter[str] = Counter()
    for c in chosen:
        name, req_params = _split_key(c.key)
        strategy = by_name[name]
        keys = sorted(firsts[c.key])
        if not keys:
            continue
        kinds = {reasons.get(k, "missing").split(":")[0] for k in keys}
        per_strategy[strategy.path or name] += c.calls
        actions.append(
            Action(
                type="refetch" if kinds == {"incomplete"} else "fetch",
                address=f"{spec.name}[season={season}]{_fmt_params(req_params)}",
                target=spec.name,
                season=season,
                strategy=name,
                request=_request_for(strategy, dict(req_params)),
                covers=len(keys),
                units=keys,
                api_calls=c.calls,
                est_rows=int(c.rows),
                reason=_reason(keys, reasons),
                details={
                    "endpoint": strategy.path,
                    "raw": strategy.raw,
                    "bronze": strategy.bronze,
                    "params": dict(req_params),
                }
                | ({"window_days": strategy.window_days, "cap": strategy.cap} if strategy.window_days else {}),
            )
        )
    if uncovered:
        notes.append(f"{len({wanted[e] for e in uncovered}):,} units no strategy can fill")
    n_units = len(units)
    if per_strategy:
        how = ", ".join(f"{n:,} calls to {p}" for p, n in per_strategy.most_common())
        notes.insert(0, how)
    choice = f"{season}: {n_units:,} {spec.name} units to fill → " + ("; ".join(notes) if notes else "nothing")
    return actions, choice, waiting


def _group_params(strategy: FetchStrategy, unit: ExpectedUnit) -> tuple[tuple[str, Any], ...]:
    """The (partition) parameters a zero-call strategy groups a unit by, e.g. season and date."""
    return tuple(sorted((p, unit.cols.get(c[0])) for p, c in strategy.param_columns().items()))


def _lake_actions(
    spec: Spec,
    strategy: FetchStrategy,
    season: int,
    groups: Mapping[tuple[tuple[str, Any], ...], list[str]],
    reasons: Mapping[str, str],
    details: Mapping[str, Any],
) -> list[Action]:
    """Zero-call ``rebuild`` actions (from bronze, or derived), one per group of units."""
    return [
        Action(
            type="rebuild",
            address=f"{spec.name}.{strategy.name}[season={season}]{_fmt_params(params)}",
            target=spec.name,
            season=season,
            strategy=strategy.name,
            covers=len(keys),
            units=sorted(keys),
            reason=_reason(keys, reasons),
            details={**details, "params": dict(params)},
        )
        for params, keys in sorted(groups.items())
    ]


def _split_key(key: Hashable) -> tuple[str, tuple[tuple[str, Any], ...]]:
    assert isinstance(key, tuple)
    return str(key[0]), tuple(key[1])


def _calls(strategy: FetchStrategy) -> int:
    if strategy.window_days:
        return -(-365 // strategy.window_days)
    return 1


def _reason(keys: Sequence[str], reasons: Mapping[str, str]) -> str:
    c = Counter(reasons.get(k, "missing").split(":")[0] for k in keys)
    parts = [f"{n:,} {kind}" for kind, n in sorted(c.items())]
    ev = [reasons[k] for k in keys if reasons.get(k, "").startswith("incomplete")][:1]
    return ", ".join(parts) + (f" (e.g. unit {keys[0]}: {ev[0]})" if ev else "")


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
    targets: list[TargetPlan] = []
    pending_seasons: dict[str, set[int]] = {}
    pending_units: dict[str, set[str]] = {}
    inputs = _Inputs(specs={s.name: s for s in specs}, observed=observed, pending=pending_units)
    planned, whole = _closure(specs, opts.targets)
    for spec in specs:
        if spec.name not in planned:
            continue
        obs = observed.targets.get(spec.name)
        if obs is None:
            continue
        cov_counts, work, quarantined = _classify(spec, obs, opts, now)
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
        mean_rows = _mean_rows(obs)
        for season in sorted(by_season):
            if season in blocked:
                continue
            acts, choice, waiting[season] = _plan_season(
                spec, season, by_season[season], work.reasons, all_by_season[season], obs, inputs, mean_rows
            )
            actions.extend(
                a for a in acts if spec.name in whole or _action_selected(a.address, spec.name, opts.targets)
            )
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
        notes = [f"expected set unavailable: {obs.source_error}"] if obs.source_error else []
        if spec.name not in whole and not _selected(spec, opts.targets):
            continue
        targets.append(
            TargetPlan(
                target=spec.name,
                table=f"{spec.target.silver.database}.{spec.target.silver.table}",
                depends_on=list(spec.depends_on),
                coverage=coverage,
                actions=actions,
                choices=choices,
                quarantined=quarantined,
                gate=_gate(spec, coverage),
                warn_below=spec.expect.coverage.warn_below,
                error_below=spec.expect.coverage.error_below,
                notes=notes,
            )
        )
    targets.extend(t for t in opts.extra_targets)
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
        observation={"engine": observed.engine, "bytes_scanned": observed.bytes_scanned},
    )
