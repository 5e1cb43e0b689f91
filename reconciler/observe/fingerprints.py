"""The digests of an observation, for the plan's fingerprints and the saved-plan staleness check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.core.empties import SetDigest
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
    gap: Sequence[tuple[str, int]],
    present: Mapping[str, PresentUnit],
    states: Mapping[str, UnitState],
    rows_mean: float | None,
    pushed: Mapping[int, SetDigest] | None = None,
    gap_sets: Mapping[int, SetDigest] | None = None,
) -> tuple[str, str]:
    """The digests of an observation (expected; observed), from what a gap observation holds.

    A saved plan is checked against a new observation, which may be made the other way (whole,
    by the gap, with or without verified-empty units counted in aggregate), so every way digests
    the same things: the expected and complete units per season, the set of keys not complete
    per season, the gap's rows and completeness, the set of its keys recorded ``empty`` per
    season, and its other states. Key sets are digested as :class:`SetDigest` sums, which the
    units counted in aggregate contribute without being listed.

    Args:
        counts: Season → (expected units, complete units).
        gap: (key, season) of each listed unit that is not complete.
        present: The gap's present units.
        states: The gap's states.
        rows_mean: Mean rows of complete units.
        pushed: Season → the digest of its absent units counted as verified empty, not listed
            (each recorded ``empty``).
        gap_sets: Season → the digest of every unit not complete, listed or not, as the engine
            computed it (None: from ``gap`` and ``pushed``).

    Returns:
        The digests of the expected set and of what is observed of it.
    """
    keys: dict[int, list[str]] = {}
    empty: dict[int, list[str]] = {}
    for key, season in gap:
        if gap_sets is None:
            keys.setdefault(season, []).append(key)
        st = states.get(key)
        if st is not None and st.status == "empty":
            empty.setdefault(season, []).append(key)
    extra = dict(pushed or {})
    if gap_sets is None:
        seasons = sorted(set(keys) | set(extra))
        sets = [(s, (SetDigest.of(keys.get(s, ())) + extra.get(s, SetDigest())).as_list()) for s in seasons]
    else:
        sets = [(s, d.as_list()) for s, d in sorted(gap_sets.items()) if d.n]
    empty_seasons = sorted(set(empty) | set(extra))
    empty_sets = [(s, (SetDigest.of(empty.get(s, ())) + extra.get(s, SetDigest())).as_list()) for s in empty_seasons]
    fp_exp = _digest({"counts": sorted(counts.items()), "gap": sets})
    fp_obs = _digest(
        {
            "present": sorted((k, p.rows, p.complete) for k, p in present.items()),
            "states": sorted((k, s.status, s.attempts) for k, s in states.items() if s.status != "empty"),
            "empty": empty_sets,
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
    gap = [(u.key, u.season) for u in units if not ((p := present.get(u.key)) is not None and p.complete)]
    counts: dict[int, tuple[int, int]] = {}
    for u in units:
        n, ok = counts.get(u.season, (0, 0))
        p = present.get(u.key)
        counts[u.season] = (n + 1, ok + int(p is not None and p.complete))
    keys = {k for k, _ in gap}
    rows = [p.rows for p in present.values() if p.complete]
    fp_exp, fp_obs = fingerprints(
        counts,
        gap,
        {k: p for k, p in present.items() if k in keys},
        {k: s for k, s in states.items() if k in keys},
        sum(rows) / len(rows) if rows else None,
    )
    return (fp_exp if expected is not None else "unknown"), fp_obs
