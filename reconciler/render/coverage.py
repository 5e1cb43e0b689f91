"""Coverage as people read it, shared by the plan renderers and the audit.

One vocabulary everywhere: a season of a target is *complete*, *ok* (below 100 % but at or above
``warn_below``), *warn* (below ``warn_below``), *error* (below ``error_below``), *pending* (its
expected set is known after apply) or *none* (nothing expected). The same markers are used in
Markdown (emoji), in the terminal (colours) and in the gate lines.

Gaps are compressed for display: numeric unit ids become ranges (``1201-1209``), composite units
(``game:team``) are shown by game, and a character budget cuts the list with a count of what was
left out, so a caller can plan its space before rendering.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from reconciler.core.plan import SeasonCoverage, TargetPlan

__all__ = [
    "LEGEND",
    "MARKERS",
    "STYLES",
    "GapIds",
    "GateLine",
    "Level",
    "coverage_targets",
    "gaps_of",
    "gate_lines",
    "level",
    "season_gaps",
    "text_width",
    "total_coverage",
]

Level = Literal["complete", "ok", "warn", "error", "pending", "none"]

MARKERS: dict[str, str] = {
    "complete": "✅",
    "ok": "☑️",
    "warn": "⚠️",
    "error": "❌",
    "pending": "❔",
    "none": "·",
}
#: rich styles for the same levels.
STYLES: dict[str, str] = {
    "complete": "green",
    "ok": "green",
    "warn": "yellow",
    "error": "bold red",
    "pending": "italic dim",
    "none": "dim",
}
LEGEND = (
    "✅ complete · ☑️ at or above warn_below · ⚠️ below warn_below · ❌ below error_below · "
    "❔ known after apply · · nothing expected"
)
_DATA_ACTIONS = frozenset({"fetch", "refetch", "rebuild"})
_SEASON_RX = re.compile(r"\[season=(\d+)\]")


def text_width(text: str) -> int:
    """Length of a text as GitHub may count it: UTF-16 code units (never less than code points).

    Args:
        text: The text.

    Returns:
        The width.
    """
    return len(text.encode("utf-16-le")) // 2


def gaps_of(c: SeasonCoverage) -> int:
    """Units of a season that are neither present, verified empty nor waived.

    Args:
        c: A season's coverage.

    Returns:
        Missing + incomplete + quarantined.
    """
    return c.missing + c.incomplete + c.quarantined


def level(t: TargetPlan, season: str) -> Level:
    """Where a season of a target stands against its gates.

    Args:
        t: The target plan.
        season: Season key.

    Returns:
        The level.
    """
    c = t.coverage.get(season)
    if c is None:
        return "none"
    if c.known_after_apply:
        return "pending"
    if c.expected == 0:
        return "none"
    if c.ratio >= 1.0:
        return "complete"
    if c.ratio < t.error_below:
        return "error"
    if c.ratio < t.warn_below:
        return "warn"
    return "ok"


def coverage_targets(targets: Iterable[TargetPlan]) -> list[TargetPlan]:
    """The targets that have coverage to show (spec targets; not partition-layout targets).

    Args:
        targets: Target plans.

    Returns:
        Those with at least one season expected or known after apply.
    """
    return [t for t in targets if any(c.expected or c.known_after_apply for c in t.coverage.values())]


def total_coverage(t: TargetPlan) -> SeasonCoverage:
    """A target's coverage summed over its seasons.

    Args:
        t: The target plan.

    Returns:
        The sums (``known_after_apply`` if any season is).
    """
    sums: dict[str, int] = {}
    for c in t.coverage.values():
        for name, value in c.model_dump().items():
            if isinstance(value, int) and not isinstance(value, bool):
                sums[name] = sums.get(name, 0) + value
    return SeasonCoverage(**sums, known_after_apply=any(c.known_after_apply for c in t.coverage.values()))


@dataclass(frozen=True, slots=True)
class GateLine:
    """One target's coverage gate, for people.

    Attributes:
        target: Target name.
        gate: ``ok``, ``warn`` or ``error`` (as in the plan).
        text: The line, without a marker.
    """

    target: str
    gate: str
    text: str


def gate_lines(targets: Iterable[TargetPlan], worst: int = 3) -> list[GateLine]:
    """The coverage gate of each target with thresholds, naming its worst seasons.

    Args:
        targets: Target plans.
        worst: Seasons to name.

    Returns:
        One line per target that declares thresholds.
    """
    out: list[GateLine] = []
    for t in targets:
        if t.source_error:
            out.append(GateLine(t.target, "error", f"{t.target}: ERROR, the expected set cannot be computed"))
            continue
        if t.warn_below == 0 and t.error_below == 0:
            continue
        warn, err = f"{100 * t.warn_below:g}%", f"{100 * t.error_below:g}%"
        seasons = [s for s, c in t.coverage.items() if c.expected and not c.known_after_apply]
        below = sorted((s for s in seasons if level(t, s) in ("warn", "error")), key=lambda s: (t.coverage[s].ratio, s))
        if t.gate == "ok" or not below:
            text = f"{t.target}: ok, every season at or above warn_below {warn} (error_below {err})"
        else:
            n_err = sum(1 for s in below if level(t, s) == "error")
            names = ", ".join(f"{s} {100 * t.coverage[s].ratio:.1f}%" for s in below[:worst])
            more = f" and {len(below) - worst} more" if len(below) > worst else ""
            if n_err:
                what = f"{n_err} of {len(seasons)} seasons below error_below {err}"
                if len(below) > n_err:
                    what += f", {len(below) - n_err} more below warn_below {warn}"
            else:
                what = f"{len(below)} of {len(seasons)} seasons below warn_below {warn} (error_below {err})"
            text = f"{t.target}: {t.gate.upper()}, {what}; worst {names}{more}"
        out.append(GateLine(t.target, t.gate, text))
    return out


def season_gaps(t: TargetPlan) -> dict[int, list[str]]:
    """The unit keys each season still lacks: those the plan fills, plus quarantined ones.

    Args:
        t: The target plan.

    Returns:
        Season → unit keys (as the plan spells them).
    """
    out: dict[int, list[str]] = defaultdict(list)
    for a in t.actions:
        if a.type in _DATA_ACTIONS and a.season is not None:
            out[a.season].extend(a.units)
    for q in t.quarantined:
        m = _SEASON_RX.search(str(q.get("address", "")))
        if m and q.get("unit") is not None:
            out[int(m.group(1))].append(str(q["unit"]))
    return dict(out)


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _ranges(ids: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """Ranges of numeric ids (``120-125``), then the other ids; each with how many ids it holds."""
    uniq = set(ids)
    nums = sorted(int(i) for i in uniq if _is_int(i))
    out: list[tuple[str, int]] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append((str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}", j - i + 1))
        i = j + 1
    out.extend((i, 1) for i in sorted(i for i in uniq if not _is_int(i)))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class GapIds:
    """The gap units of one season, compressed once and shown within any budget.

    Attributes:
        units: Distinct unit keys.
        ids: Distinct ids shown: the units, or their games when every unit is ``game:team``.
        by_game: Whether ids are games.
        items: Ranges with how many ids each holds.
        width: Width of all the ranges, comma-separated.
    """

    units: int
    ids: int
    by_game: bool
    items: tuple[tuple[str, int], ...]
    width: int

    @classmethod
    def of(cls, units: Iterable[str]) -> GapIds:
        """Compress unit keys.

        Args:
            units: Unit keys (``1234`` or ``1234:72``).

        Returns:
            The compressed gaps.
        """
        keys = set(units)
        by_game = bool(keys) and all(":" in u for u in keys)
        ids = {u.split(":", 1)[0] for u in keys} if by_game else keys
        items = _ranges(ids)
        width = sum(text_width(t) for t, _ in items) + 2 * max(0, len(items) - 1)
        return cls(units=len(keys), ids=len(ids), by_game=by_game, items=items, width=width)

    def text(self, max_chars: int | None = None, max_items: int | None = None) -> tuple[str, int]:
        """The ranges that fit, and a count of the ids left out.

        Args:
            max_chars: Width the text may take (``text_width``), including the "more" suffix.
            max_items: Ranges to show at most.

        Returns:
            (e.g. ``1201-1209, 1300 … +40 more``, ids left out). ``+40 ids`` when no range fits,
            ``""`` when not even that fits.
        """
        if (max_chars is None or self.width <= max_chars) and (max_items is None or len(self.items) <= max_items):
            return ", ".join(t for t, _ in self.items), 0
        shown: list[str] = []
        used = width = 0
        for k, (text, n) in enumerate(self.items):
            if max_items is not None and k >= max_items:
                break
            add = text_width(text) + (2 if shown else 0)
            rest = self.ids - used - n
            suffix = text_width(f" … +{rest:,} more") if rest else 0
            if max_chars is not None and width + add + suffix > max_chars:
                break
            shown.append(text)
            used += n
            width += add
        rest = self.ids - used
        if not shown:
            if not rest:
                return "", 0
            only = f"+{rest:,} ids"
            return (only, rest) if max_chars is None or text_width(only) <= max_chars else ("", rest)
        return ", ".join(shown) + (f" … +{rest:,} more" if rest else ""), rest
