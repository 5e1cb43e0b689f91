"""The completeness audit: per season and fact table, coverage against fct_games, gaps, duplicates.

The report is Markdown (``reports/data_audit.md``) and says how it was produced so anyone can
reproduce it: command, profile, time and the plan fingerprint it was computed with.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from reconciler.core.plan import Plan, TargetPlan
from reconciler.render.common import summary_line
from reconciler.seasons import format_seasons

__all__ = ["AuditData", "TableCounts", "compress_ids", "render_audit"]


@dataclass(frozen=True, slots=True)
class TableCounts:
    """Counts read from one table.

    Attributes:
        table: ``cbbd_silver.fct_plays``.
        rows: Rows per season.
        units: Distinct units per season.
        dup_rows: Surplus duplicate rows per season.
    """

    table: str
    rows: Mapping[int, int]
    units: Mapping[int, int]
    dup_rows: Mapping[int, int]


@dataclass
class AuditData:
    """Everything the audit report shows.

    Attributes:
        plan: The plan (coverage, gaps as actions).
        counts: Counts per target.
        command: The command line that produced it.
        findings: Extra findings (partition and layout drift), one line each.
    """

    plan: Plan
    counts: Mapping[str, TableCounts]
    command: str
    findings: list[str] = field(default_factory=list)


def compress_ids(ids: Sequence[str], limit: int = 12) -> str:
    """Compress unit ids into ranges: ``1201-1209, 1300, 1302 … (+40 more)``.

    Args:
        ids: Unit keys (numeric ones are merged into ranges).
        limit: Ranges to show before summarising.

    Returns:
        The text.
    """
    nums = sorted({int(i) for i in ids if i.lstrip("-").isdigit()})
    others = sorted(i for i in ids if not i.lstrip("-").isdigit())
    ranges: list[str] = []
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        ranges.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    items = ranges + others
    more = len(items) - limit
    return ", ".join(items[:limit]) + (f" … (+{more} more)" if more > 0 else "")


def _marker(t: TargetPlan, season: str) -> str:
    c = t.coverage.get(season)
    if c is None or c.expected == 0:
        return "·"
    if c.known_after_apply:
        return "❔"
    r = c.ratio
    icon = "✅" if r >= 1.0 else ("🟡" if r >= t.warn_below else ("🟠" if r >= t.error_below else "🔴"))
    return f"{icon} {100 * r:.1f}%"


def render_audit(data: AuditData) -> str:
    """Render the audit report.

    Args:
        data: The audit data.

    Returns:
        Markdown.
    """
    plan = data.plan
    seasons = [str(s) for s in plan.season_list]
    out = [
        "# Data audit: the cbbd_etl lake",
        "",
        f"- Produced by: `{data.command}`",
        f"- Profile: `{plan.profile}` · engine `{plan.observation.get('engine')}` · at {plan.created_at}",
        f"- Seasons: {format_seasons(plan.season_list)} · plan fingerprint `{plan.fingerprint}`",
        f"- Plan: {summary_line(plan)}",
        "",
        "## Coverage matrix",
        "",
        "Coverage counts units present (and complete), verified empty at the API, or waived, against the",
        "units `fct_games` says should exist (final games; lineups per game and team).",
        "",
        "| season | " + " | ".join(t.target for t in plan.targets) + " |",
        "|---|" + "---|" * len(plan.targets),
    ]
    for s in seasons:
        out.append(f"| {s} | " + " | ".join(_marker(t, s) for t in plan.targets) + " |")
    out += ["", "✅ complete · 🟡 below warn · 🟠 below warn, above error · 🔴 below error · ❔ known after apply", ""]
    for t in plan.targets:
        counts = data.counts.get(t.target)
        out += [f"## {t.target} ({t.table})", ""]
        out.append(
            "| season | rows | units in table | expected | present | incomplete | missing | verified empty "
            "| waived | quarantined | coverage | duplicate rows |"
        )
        out.append("|---|" + "---:|" * 11)
        for s in seasons:
            c = t.coverage.get(s)
            if c is None:
                continue
            si = int(s)
            rows = counts.rows.get(si, 0) if counts else 0
            units = counts.units.get(si, 0) if counts else 0
            dups = counts.dup_rows.get(si, 0) if counts else 0
            cov = "known after apply" if c.known_after_apply else f"{100 * c.ratio:.2f}%"
            out.append(
                f"| {s} | {rows:,} | {units:,} | {c.expected:,} | {c.present:,} | {c.incomplete:,} | {c.missing:,} "
                f"| {c.verified_empty:,} | {c.waived:,} | {c.quarantined:,} | {cov} | {dups:,} |"
            )
        gaps: dict[int, list[str]] = defaultdict(list)
        for a in t.actions:
            if a.season is not None and a.type in ("fetch", "refetch", "rebuild"):
                gaps[a.season].extend(a.units)
        if gaps:
            out += ["", "Gaps (worst seasons first):", ""]
            for gap_season, gap_units in sorted(gaps.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                out.append(f"- {gap_season}: {len(gap_units):,} units: {compress_ids(gap_units)}")
        else:
            out += ["", "No gaps."]
        if t.quarantined:
            out += ["", f"Quarantined units ({len(t.quarantined):,}):", ""]
            out += [
                f"- {q['address']}: {q['attempts']} failed applies, last error {q['error']}" for q in t.quarantined[:50]
            ]
        out.append("")
    out += ["## Partition, layout and duplicate findings", ""]
    dup_total = {n: sum(c.dup_rows.values()) for n, c in data.counts.items()}
    for name, n in sorted(dup_total.items()):
        out.append(f"- {name}: {n:,} duplicate rows on the natural key" if n else f"- {name}: no duplicate keys")
    out += [f"- {f}" for f in data.findings]
    out.append("")
    return "\n".join(out)
