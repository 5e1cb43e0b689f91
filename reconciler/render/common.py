"""Pieces shared by the renderers: the summary line and compressed action groups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.core.plan import Action, Plan, TargetPlan

__all__ = ["NO_CHANGES", "ActionGroup", "coverage_pct", "duration", "group_actions", "summary_line"]

NO_CHANGES = "No changes. The lake matches the specs."


def duration(seconds: float) -> str:
    """Format a duration for people: ``50 s``, ``33 min``, ``2.4 h``, ``3.1 days``.

    Args:
        seconds: The duration.

    Returns:
        The text.
    """
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def summary_line(plan: Plan, rate: float = 3.0) -> str:
    """The last line of a plan, Terraform style.

    Args:
        plan: The plan.
        rate: Requests per second (for the duration note).

    Returns:
        e.g. ``Plan: 152 to fetch (152 API calls, ~51 s at 3 req/s), 0 partitions to register.``
    """
    s = plan.summary
    if s.changes == 0:
        return NO_CHANGES
    parts = []
    fetches = s.fetch + s.refetch
    calls = f"{s.api_calls:,} API calls, ~{duration(s.estimated_seconds)} at {rate:g} req/s"
    parts.append(f"{fetches:,} to fetch ({calls})")
    if s.rebuild:
        parts.append(f"{s.rebuild:,} to rebuild from the lake (0 API calls)")
    parts.append(f"{s.register_:,} partitions to register")
    if s.relayout:
        parts.append(f"{s.relayout:,} to relayout (needs --allow-delete)")
    if s.dedupe:
        parts.append(f"{s.dedupe:,} to dedupe (needs --allow-delete)")
    if s.delete:
        parts.append(f"{s.delete:,} to delete (needs --allow-delete)")
    line = "Plan: " + ", ".join(parts) + "."
    if s.quota_remaining is not None:
        line += f" Quota: {s.quota_remaining:,} calls left (last seen)"
        if s.api_calls > s.quota_remaining - s.quota_reserve:
            line += f", NOT enough for this plan with a reserve of {s.quota_reserve:,}"
        line += "."
    return line


@dataclass(frozen=True, slots=True)
class ActionGroup:
    """Actions of one kind, target, season and strategy, compressed for display.

    Attributes:
        type: Action type.
        target: Target.
        season: Season.
        strategy: Strategy or detail kind.
        label: What one action is (``/plays/date``).
        count: Number of actions.
        units: Units they fill.
        calls: API calls.
        samples: The first few addresses.
        reason: A representative reason.
    """

    type: str
    target: str
    season: int | None
    strategy: str
    label: str
    count: int
    units: int
    calls: int
    samples: tuple[str, ...]
    reason: str


def _label(a: Action) -> str:
    if a.request is not None:
        return str(a.details.get("endpoint") or a.request.path)
    if a.type == "rebuild" and a.details.get("derive"):
        return f"derived from {' + '.join(a.details.get('inputs') or [])}"
    if a.type == "rebuild":
        return f"bronze {a.details.get('bronze')}"
    return str(a.details.get("kind") or a.strategy or a.type)


def group_actions(actions: Sequence[Action], samples: int = 3) -> list[ActionGroup]:
    """Group actions by (type, target, season, strategy) for compact display.

    Args:
        actions: Actions in plan order.
        samples: Addresses to keep per group.

    Returns:
        Groups in first-seen order.
    """
    groups: dict[tuple[str, str, int | None, str], list[Action]] = defaultdict(list)
    for a in actions:
        groups[(a.type, a.target, a.season, a.strategy or str(a.details.get("kind", "")))].append(a)
    out = []
    for (typ, target, season, strategy), acts in groups.items():
        out.append(
            ActionGroup(
                type=typ,
                target=target,
                season=season,
                strategy=strategy,
                label=_label(acts[0]),
                count=len(acts),
                units=sum(a.covers for a in acts),
                calls=sum(a.api_calls for a in acts),
                samples=tuple(a.address for a in acts[:samples]),
                reason=acts[0].reason,
            )
        )
    return out


def coverage_pct(t: TargetPlan, season: str) -> str:
    """Coverage of a target in a season as a percentage text, or ``known after apply``.

    Args:
        t: The target plan.
        season: Season key.

    Returns:
        e.g. ``98.2%``.
    """
    c = t.coverage[season]
    if c.known_after_apply:
        return "known after apply"
    if c.expected == 0:
        return "—"
    return f"{100 * c.ratio:.1f}%"
