"""Which API requests fill a season's remaining units: the cheapest cover, reasoned in whole units.

A unit is covered only when everything it needs is requested: one request that returns it
whole (a game, a date, a team-season with ``match: any``), or, for a strategy with
``match: all`` (a game's substitutions come one team at a time), the requests of every one of
its teams. No unit is given to two requests that would each return it whole, and no unit that
needs a one-unit call anyway is also given to a team call.

In order (pure functions, no I/O):

1. Requests that fill whole units are chosen greedily while each fills more units than it
   costs calls (:func:`reconciler.core.cover.greedy_cover`).
2. For each ``match: all`` strategy, the set of joint requests that saves the most calls on the
   units left is chosen exactly (:func:`reconciler.core.cover.joint_cover`); a unit is then in
   the action of each of its teams, once per part.
3. Every unit left, and every unit that failed before, gets its own one-unit request.

So, per season, API calls never exceed the units to fill (save for windowed strategies, whose
one unit costs several calls by design).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.core.classify import failed_units
from reconciler.core.cover import Candidate, greedy_cover, joint_cover
from reconciler.core.observed import ExpectedUnit, ObservedTarget
from reconciler.core.requests import calls_of, is_per_unit, request_index, rows_per_unit, split_key, touch_counts
from reconciler.spec.models import FetchStrategy, Spec

__all__ = ["Pick", "cover_units", "is_joint"]

Params = tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Pick:
    """One API request chosen for a season.

    Attributes:
        strategy: The strategy that makes it.
        params: Its parameters (sorted name/value pairs).
        units: The units it serves (for a joint request: the units it supplies one part of).
        calls: API calls it costs.
        rows: Rows it is expected to return.
        joint: Whether it fills its units only together with their other teams' requests.
    """

    strategy: FetchStrategy
    params: Params
    units: tuple[str, ...]
    calls: int
    rows: float
    joint: bool = False


def is_joint(strategy: FetchStrategy) -> bool:
    """Whether a strategy fills a unit only with all of its requests (``match: all`` over a list).

    Args:
        strategy: The fetch strategy.

    Returns:
        True for e.g. ``team: [home_team, away_team]`` with ``match: all``.
    """
    return strategy.match == "all" and any(len(c) > 1 for c in strategy.param_columns().values())


def _touch(
    strategy: FetchStrategy, all_units: Sequence[ExpectedUnit], nparts: int, obs: ObservedTarget | None, season: int
) -> Mapping[Params, int]:
    """How many units each request of a strategy touches: counted by the engine, or here over ``all_units``."""
    if obs is not None and obs.counts is not None:
        return obs.touch.get(season, {}).get(strategy.name, {})
    return touch_counts(strategy, all_units, nparts)


def _whole_unit_candidates(
    strategies: Sequence[tuple[int, FetchStrategy]],
    units: Sequence[ExpectedUnit],
    all_units: Sequence[ExpectedUnit],
    rows_mean: float,
    obs: ObservedTarget | None = None,
) -> list[Candidate]:
    """Candidates of the strategies whose every request returns its units whole."""
    out: list[Candidate] = []
    for order, strategy in strategies:
        cands: dict[Params, set[Hashable]] = {}
        for u, reqs in zip(units, request_index(strategy, units, 1), strict=True):
            for params, _ in reqs:
                cands.setdefault(params, set()).add(u.key)
        if not cands:
            continue
        touch = _touch(strategy, all_units, 1, obs, units[0].season)
        per = rows_per_unit(strategy, rows_mean)
        calls = calls_of(strategy)
        out.extend(
            Candidate((strategy.name, p), frozenset(els), calls, touch.get(p, len(els)) * per, order)
            for p, els in sorted(cands.items(), key=lambda kv: repr(kv[0]))
        )
    return out


def _joint_picks(
    strategy: FetchStrategy,
    units: Sequence[ExpectedUnit],
    all_units: Sequence[ExpectedUnit],
    unit_calls: int | None,
    rows_mean: float,
    nparts: int,
    obs: ObservedTarget | None = None,
) -> tuple[list[Pick], set[str]]:
    """The joint requests of one ``match: all`` strategy worth making, and the units they fill."""
    needs: dict[str, list[Params]] = {}
    for u, reqs in zip(units, request_index(strategy, units, nparts), strict=True):
        parts = {p for _, ps in reqs for p in ps}
        if len(parts) == nparts:  # every part has a request (no team is unknown)
            needs[u.key] = list(dict.fromkeys(params for params, _ in reqs))
    calls = calls_of(strategy)
    # Without a one-unit strategy a unit can be filled only jointly: every such unit is worth it.
    value = unit_calls if unit_calls is not None else calls * nparts * (len(needs) + 1)
    chosen, filled = joint_cover(needs, value, calls)
    serves: dict[Params, list[str]] = {}
    for key in sorted(filled):
        for params in needs[key]:
            serves.setdefault(params, []).append(key)
    touch = _touch(strategy, all_units, nparts, obs, units[0].season) if units else {}
    per = rows_per_unit(strategy, rows_mean) / nparts
    picks = [
        Pick(strategy, params, tuple(keys), calls, touch.get(params, len(keys)) * per, joint=True)
        for params, keys in sorted(serves.items(), key=lambda kv: repr(kv[0]))
        if params in chosen
    ]
    return picks, filled


def cover_units(
    spec: Spec,
    remaining: Mapping[str, ExpectedUnit],
    all_units: Sequence[ExpectedUnit],
    obs: ObservedTarget,
    rows_mean: float,
) -> tuple[list[Pick], set[str]]:
    """The API requests that fill a season's remaining units, cheapest first.

    Args:
        spec: The target's spec.
        remaining: Units to fill by API, by key.
        all_units: Every expected unit of the season (a broad request's rows count them all).
        obs: The target's observation (units that failed before get requests of their own).
        rows_mean: Mean rows of a complete unit (the rows estimate of strategies without one).

    Returns:
        The chosen requests in plan order, and the units no strategy can fill.
    """
    api = [s for s in spec.fetch if s.source == "api" and not s.aggregated]
    per_unit = next((s for s in api if is_per_unit(spec, s)), None)
    todo = dict(remaining)
    alone = failed_units(obs, todo) if per_unit is not None else {}
    unit_calls = calls_of(per_unit) if per_unit is not None else None
    whole = [(i, s) for i, s in enumerate(api) if s is not per_unit and not is_joint(s)]
    joint = [s for s in api if is_joint(s)]
    units = list(todo.values())
    candidates = _whole_unit_candidates(whole, units, all_units, rows_mean, obs)
    # Take shared requests only while each fills more units than a one-unit call per unit would cost.
    chosen, uncovered_h = greedy_cover(todo, candidates, floor=1 / unit_calls if unit_calls else 0.0)
    left = {str(e) for e in uncovered_h}
    by_name = {s.name: s for s in api}
    picks: list[Pick] = []
    seen: set[Hashable] = set()
    for c in chosen:
        fresh = sorted(str(e) for e in c.elements if e not in seen)
        seen.update(c.elements)
        if fresh:
            name, params = split_key(c.key)
            picks.append(Pick(by_name[name], params, tuple(fresh), c.calls, c.rows))
    nparts = max((len(c) for s in joint for c in s.param_columns().values()), default=1)
    for strategy in joint:
        rest = [todo[k] for k in sorted(left)]
        joint_picks, filled = _joint_picks(strategy, rest, all_units, unit_calls, rows_mean, nparts, obs)
        picks.extend(joint_picks)
        left -= filled
    if per_unit is None:
        return picks, left
    lone = sorted([*(todo[k] for k in left), *alone.values()], key=lambda u: (u.date, u.key))
    per = rows_per_unit(per_unit, rows_mean)
    uncovered: set[str] = set()
    for u, reqs in zip(lone, request_index(per_unit, lone, 1), strict=True):
        if not reqs:
            uncovered.add(u.key)
            continue
        picks.append(Pick(per_unit, reqs[0][0], (u.key,), unit_calls or 1, per))
    return picks, uncovered
