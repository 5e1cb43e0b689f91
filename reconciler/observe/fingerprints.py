"""The digests of an observation, for the plan's fingerprints and the saved-plan staleness check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.core.observed import ExpectedUnit, PresentUnit, UnitState

__all__ = ["fingerprints", "states_of", "whole_fingerprints"]


def states_of(records: Mapping[str, Any]) -> dict[str, UnitState]:
    """State records as the planner reads them.

    Args:
        records: Unit key → :class:`~reconciler.ports.UnitRecord`.

    Returns:
        Unit key → state.
    """
    return {
        k: UnitState(status=r.status, rows=r.rows, attempts=r.attempts, error=r.error, updated_at=r.updated_at)
        for k, r in records.items()
    }


def _digest(items: Any) -> str:
    return hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()[:16]


def fingerprints(
    counts: Mapping[int, tuple[int, int]],
    gap: Sequence[str],
    present: Mapping[str, PresentUnit],
    states: Mapping[str, UnitState],
    rows_mean: float | None,
) -> tuple[str, str]:
    """The digests of an observation (expected; observed), from what a gap observation holds.

    A saved plan is checked against a new observation, which may be made the other way (whole,
    or by the gap), so both ways digest the same things: the expected and complete units per
    season, the gap's keys, and the gap's rows, completeness and states.

    Args:
        counts: Season → (expected units, complete units).
        gap: Keys of the units not complete, in plan order.
        present: The gap's present units.
        states: The gap's states.
        rows_mean: Mean rows of complete units.

    Returns:
        The digests of the expected set and of what is observed of it.
    """
    fp_exp = _digest({"counts": sorted(counts.items()), "gap": list(gap)})
    fp_obs = _digest(
        {
            "present": sorted((k, p.rows, p.complete) for k, p in present.items()),
            "states": sorted((k, s.status, s.attempts) for k, s in states.items()),
            "rows_mean": rows_mean,
        }
    )
    return fp_exp, fp_obs


def whole_fingerprints(
    expected: Sequence[ExpectedUnit] | None, present: Mapping[str, PresentUnit], states: Mapping[str, UnitState]
) -> tuple[str, str]:
    """:func:`fingerprints` of a whole observation.

    Args:
        expected: Every expected unit (None: unknown).
        present: Every present unit.
        states: Every state.

    Returns:
        The digests (the expected one ``unknown`` when the expected set is).
    """
    units = expected or ()
    gap = [u.key for u in units if not ((p := present.get(u.key)) is not None and p.complete)]
    counts: dict[int, tuple[int, int]] = {}
    for u in units:
        n, ok = counts.get(u.season, (0, 0))
        p = present.get(u.key)
        counts[u.season] = (n + 1, ok + int(p is not None and p.complete))
    keys = set(gap)
    rows = [p.rows for p in present.values() if p.complete]
    fp_exp, fp_obs = fingerprints(
        counts,
        gap,
        {k: p for k, p in present.items() if k in keys},
        {k: s for k, s in states.items() if k in keys},
        sum(rows) / len(rows) if rows else None,
    )
    return (fp_exp if expected is not None else "unknown"), fp_obs
