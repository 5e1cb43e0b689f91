"""The layout target's plan, kept in the observation cache while nothing it is a function of changes.

A warm plan of an unchanged lake used to decode every table's cached objects (145k at scale 1.0)
and run the layout planner over them, to find the plan it found the time before. The plan is a
function of what :meth:`~reconciler.observe.layout.LayoutObserver.inputs_key` reads (each table's
listing and catalog entry, the superseded records, the seasons, the selectors, the profile's
choices, the code): under that key the plan itself is kept, as one row of JSON.

Only plans whose observation read every object are kept: an unreadable object (which a throttled
or failing read can make), an object an engine left out or read with casts, or a duplicate census
that failed (its fallback adds notes) is read again by the next plan, as the engines' own notices
must be made again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pyarrow as pa
from pydantic import ValidationError

from reconciler.core.layout_observed import LayoutObservation
from reconciler.core.plan import TargetPlan
from reconciler.ports import ObservationCache

__all__ = ["cached_plan", "keep_plan"]

log = logging.getLogger(__name__)


def cached_plan(cache: ObservationCache, key: str) -> TargetPlan | None:
    """The layout plan kept under ``key``, or None (a miss, or an entry this code cannot read).

    Args:
        cache: The observation cache.
        key: :meth:`~reconciler.observe.layout.LayoutObserver.inputs_key`'s digest.

    Returns:
        The plan, or None.
    """
    hit = cache.result(key)
    if hit is None:
        return None
    try:
        (text,) = hit.column("layout_plan").to_pylist()
        return TargetPlan.model_validate_json(text)
    except (KeyError, ValueError, ValidationError) as exc:  # not an entry we wrote
        log.warning("observation cache: ignoring a malformed layout plan entry (%s)", exc)
        return None


def keep_plan(
    cache: ObservationCache,
    key: str,
    plan: TargetPlan,
    obs: LayoutObservation,
    notices: Sequence[str],
    *,
    exact: bool = True,
) -> bool:
    """Keep a layout plan under ``key`` when its observation read every object.

    Args:
        cache: The observation cache.
        key: :meth:`~reconciler.observe.layout.LayoutObserver.inputs_key`'s digest.
        plan: The plan made from ``obs``.
        obs: The observation.
        notices: The engines' notices so far (objects left out of queries or read with casts).
        exact: False when a duplicate census failed and its fallback ran (the next plan tries again).

    Returns:
        Whether the plan was kept.
    """
    if not exact or notices or any(f.unreadable for t in obs.tables for f in t.files):
        return False
    cache.put_result(key, pa.table({"layout_plan": [plan.model_dump_json()]}))
    return True
