"""The API requests a fetch strategy makes for units: parameters, per-unit indexes, touch counts.

Pure functions over specs and expected units (no I/O), used by the planner's cost-based cover.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from reconciler.core.observed import ExpectedUnit
from reconciler.core.plan import Request
from reconciler.spec.models import FetchStrategy, Spec

__all__ = [
    "calls_of",
    "fmt_params",
    "group_params",
    "is_per_unit",
    "nparts_of",
    "request_for",
    "request_index",
    "rows_per_unit",
    "split_key",
    "touch_counts",
]


def request_for(strategy: FetchStrategy, values: Mapping[str, Any]) -> Request:
    """The request of a strategy for parameter values (path placeholders filled, the rest as query).

    Args:
        strategy: The fetch strategy.
        values: Parameter → value.

    Returns:
        The request.
    """
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


def request_index(
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


def touch_counts(
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
    for reqs in request_index(strategy, units, nparts):
        out.update([params for params, _ in reqs])
    return out


def is_per_unit(spec: Spec, strategy: FetchStrategy) -> bool:
    """Whether each request of the strategy names exactly one unit (e.g. /plays/game/{gameId})."""
    sources = {c for cols in strategy.param_columns().values() for c in cols}
    return all(len(c) == 1 for c in strategy.param_columns().values()) and set(spec.unit) <= sources


def nparts_of(spec: Spec) -> int:
    """How many parts a unit has (2 for a game fetched per team with ``match: all``, else 1).

    Args:
        spec: The spec.

    Returns:
        The number of parts.
    """
    n = 1
    for s in spec.fetch:
        if s.match == "all":
            n = max(n, *(len(c) for c in s.param_columns().values()))
    return n


def rows_per_unit(strategy: FetchStrategy, mean_rows: float) -> float:
    """Rows a request returns per unit it touches: the strategy's estimate, else the observed mean.

    Args:
        strategy: The fetch strategy.
        mean_rows: The observed mean rows of complete units.

    Returns:
        Rows per unit.
    """
    return strategy.rows_per_unit or mean_rows


def group_params(strategy: FetchStrategy, unit: ExpectedUnit) -> tuple[tuple[str, Any], ...]:
    """The (partition) parameters a zero-call strategy groups a unit by, e.g. season and date."""
    return tuple(sorted((p, unit.cols.get(c[0])) for p, c in strategy.param_columns().items()))


def split_key(key: Hashable) -> tuple[str, tuple[tuple[str, Any], ...]]:
    """A cover candidate's key as (strategy name, request parameters).

    Args:
        key: The candidate key.

    Returns:
        The two parts.
    """
    assert isinstance(key, tuple)
    return str(key[0]), tuple(key[1])


def calls_of(strategy: FetchStrategy) -> int:
    """API calls one request of a strategy costs (a windowed season is one call per window).

    Args:
        strategy: The fetch strategy.

    Returns:
        Calls.
    """
    if strategy.window_days:
        return -(-365 // strategy.window_days)
    return 1


def fmt_params(params: Sequence[tuple[str, Any]]) -> str:
    """Request parameters as address segments (``[date=2015-01-03]``), season left out.

    Args:
        params: (name, value) pairs.

    Returns:
        The segments.
    """
    return "".join(f"[{k}={v}]" for k, v in params if k != "season")
