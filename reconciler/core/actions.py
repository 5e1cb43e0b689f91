"""The actions of a spec target, built from a strategy, its request parameters and the units it fills.

One builder per kind, used by the planner to make actions and by :mod:`reconciler.core.plan_check`
to tell whether an action of a saved plan is one the spec's strategies produce for its units: the
two cannot drift apart. Pure (no I/O).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.core.plan import Action
from reconciler.core.requests import fmt_params, request_for
from reconciler.spec.models import FetchStrategy, Spec

__all__ = ["Params", "api_action", "lake_action", "reason_of"]

Params = tuple[tuple[str, Any], ...]


def reason_of(keys: Sequence[str], reasons: Mapping[str, str]) -> str:
    """Why an action's units need work, counted by kind, with one piece of evidence.

    Args:
        keys: The action's units.
        reasons: Unit → ``missing`` or ``incomplete: <evidence>``.

    Returns:
        e.g. ``2 incomplete, 3 missing (e.g. unit 1234: incomplete: 12 rows (...))``.
    """
    c = Counter(reasons.get(k, "missing").split(":")[0] for k in keys)
    parts = [f"{n:,} {kind}" for kind, n in sorted(c.items())]
    ev = [(k, reasons[k]) for k in keys if reasons.get(k, "").startswith("incomplete")][:1]
    return ", ".join(parts) + (f" (e.g. unit {ev[0][0]}: {ev[0][1]})" if ev else "")


def api_action(
    spec: Spec,
    season: int,
    strategy: FetchStrategy,
    params: Params,
    keys: Sequence[str],
    *,
    calls: int,
    rows: float,
    reasons: Mapping[str, str],
    joint: bool = False,
) -> Action:
    """The ``fetch`` (or, when every unit is incomplete, ``refetch``) action of one API request.

    Args:
        spec: The target's spec.
        season: The season.
        strategy: The API strategy.
        params: The request's parameters (sorted name/value pairs).
        keys: The units it fills (or, joint, supplies one part of).
        calls: API calls it costs.
        rows: Rows it is expected to return.
        reasons: Unit → why it needs work.
        joint: Whether it fills its units only together with their other parts' requests.

    Returns:
        The action.
    """
    kinds = {reasons.get(k, "missing").split(":")[0] for k in keys}
    return Action(
        type="refetch" if kinds == {"incomplete"} else "fetch",
        address=f"{spec.name}[season={season}]{fmt_params(params)}",
        target=spec.name,
        season=season,
        strategy=strategy.name,
        request=request_for(strategy, dict(params)),
        covers=len(keys),
        units=list(keys),
        api_calls=calls,
        est_rows=int(rows),
        reason=reason_of(keys, reasons),
        details={
            "endpoint": strategy.path,
            "raw": strategy.raw,
            "bronze": strategy.bronze,
            "params": dict(params),
        }
        | ({"joint": True} if joint else {})
        | ({"window_days": strategy.window_days, "cap": strategy.cap} if strategy.window_days else {}),
    )


def lake_action(
    spec: Spec, strategy: FetchStrategy, season: int, params: Params, keys: Sequence[str], reasons: Mapping[str, str]
) -> Action:
    """A zero-call ``rebuild`` action: units rebuilt from bronze, or derived from other targets.

    Args:
        spec: The target's spec.
        strategy: A ``bronze`` or ``derive`` strategy.
        season: The season.
        params: The partition parameters its units share (season, date).
        keys: The units.
        reasons: Unit → why it needs work.

    Returns:
        The action.
    """
    if strategy.source == "derive":
        details: dict[str, Any] = {"derive": strategy.derive, "inputs": list(strategy.inputs)}
    else:
        details = {"bronze": strategy.bronze}
    return Action(
        type="rebuild",
        address=f"{spec.name}.{strategy.name}[season={season}]{fmt_params(params)}",
        target=spec.name,
        season=season,
        strategy=strategy.name,
        covers=len(keys),
        units=sorted(keys),
        reason=reason_of(keys, reasons),
        details={**details, "params": dict(params)},
    )
