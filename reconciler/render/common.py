"""Pieces shared by the renderers: the summary line and compressed action groups."""

from __future__ import annotations

import re
import shlex
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from reconciler.core.plan import Action, Plan, TargetPlan

__all__ = [
    "NO_CHANGES",
    "ActionGroup",
    "coverage_pct",
    "duration",
    "group_actions",
    "group_reason",
    "hint",
    "plural",
    "summary_line",
]

NO_CHANGES = "No changes. The lake matches the specs."


def hint(*words: str, args: tuple[str, ...] = ()) -> str:
    """A command line people can paste: ``reconcile <words> <args>``, shell-quoted.

    Args:
        *words: The command and its arguments (``apply``, ``plan.json``).
        args: The ``--config``/``--profile`` options the command needs to run as this one did.

    Returns:
        The command line.
    """
    return shlex.join(["reconcile", *words, *args])


def plural(n: int, word: str) -> str:
    """A count with its noun, singular or plural: ``1 unit``, ``1,204 units``.

    Args:
        n: The count.
        word: The singular noun.

    Returns:
        The text.
    """
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


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
    broken = [t.target for t in plan.targets if t.source_error]
    if s.changes == 0 and broken:
        return f"No changes can be planned for {', '.join(broken)}: the expected set cannot be computed (see above)."
    if s.changes == 0 and plan.not_planned:
        done = ", ".join(t.target for t in plan.targets) or "the selection"
        return f"No changes in {done}. Not planned (not selected): {', '.join(plan.not_planned)}."
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


_COUNTS = re.compile(r"^(?:[\d,]+ [a-z ]+(?:, |$))+")
_COUNT = re.compile(r"([\d,]+) ([a-z ]+?)(?:, |$)")


def group_reason(actions: Sequence[Action]) -> str:
    """The reason of a group of actions: their units counted by kind, with one piece of evidence.

    Each action's reason starts with counts (``2 incomplete, 3 missing``, as the planner writes
    them); the group's adds them up, so that a group of 17 units says so.

    Args:
        actions: The group's actions.

    Returns:
        e.g. ``12 missing, 5 incomplete (e.g. unit 1234: ...)``, or the first action's reason
        when reasons are of another kind (layout actions).
    """
    if len(actions) == 1:
        return actions[0].reason
    totals: dict[str, int] = {}
    evidence = ""
    for a in actions:
        head, sep, tail = a.reason.partition(" (e.g. ")
        if not _COUNTS.fullmatch(head):
            return actions[0].reason
        for n, kind in _COUNT.findall(head):
            totals[kind] = totals.get(kind, 0) + int(n.replace(",", ""))
        if sep and not evidence:
            evidence = f" (e.g. {tail}"
    return ", ".join(f"{n:,} {kind}" for kind, n in sorted(totals.items())) + evidence


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
                reason=group_reason(acts),
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
