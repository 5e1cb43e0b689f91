"""The completeness audit: per season and fact table, coverage against fct_games, gaps, duplicates.

The report is Markdown (``reports/data_audit.md``). It says how it was produced (command,
profile, config, time, plan id and fingerprint) so anyone can reproduce it, then:

* the coverage gates and a season × table matrix that reads at a glance;
* record counts per season and table, read from the tables themselves;
* for the root table (``fct_games``) rows, games and duplicates; for every table that depends
  on it (``fct_plays``, ``fct_substitutions``, ``fct_lineups``, any other a spec names) the
  units it holds against the units ``fct_games`` says should exist: present, incomplete,
  missing, verified empty, waived, quarantined, coverage; then the gaps, compressed into id
  ranges, worst seasons first;
* duplicates on each table's natural key, and the partition and layout findings: the plan's
  maintenance actions plus ``AuditData.findings`` (the seam for other checks to report into);
* what it takes to fill the gaps, priced from the same plan (:mod:`reconciler.render.fill`), and
  two pictures written beside the report (coverage, and missing games by date), linked by
  relative paths.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from reconciler.core.observed import TableCounts
from reconciler.core.plan import Plan, TargetPlan
from reconciler.render.common import group_actions, summary_line
from reconciler.render.coverage import (
    LEGEND,
    MARKERS,
    GapIds,
    coverage_targets,
    gaps_of,
    gate_lines,
    level,
    season_gaps,
    total_coverage,
)
from reconciler.render.fill import FillCost, render_fill
from reconciler.render.markdown import coverage_matrix
from reconciler.seasons import format_seasons

__all__ = ["GAP_CHARS", "AuditData", "TableCounts", "audit_targets", "render_audit"]

#: Width of one season's gap list in the report; the rest is counted, and is in the JSON plan.
GAP_CHARS = 600
_GATE_MARK = {"ok": "✅", "warn": "⚠️", "error": "❌"}
_MAINTENANCE = ("register", "relayout", "dedupe", "delete")
#: The fact tables in the order the report shows them; others follow in plan order.
_ORDER = ("games", "plays", "substitutions", "lineups")


@dataclass
class AuditData:
    """Everything the audit report shows.

    Attributes:
        plan: The plan (coverage per season, gaps as actions, maintenance actions).
        counts: Counts per target name, read from the tables.
        command: The command line that produced it.
        findings: Extra findings (partition and layout drift, schema drift), one line each.
        config: The config file used.
        version: The reconciler's version.
        preamble: Lines shown first (what lake this is, e.g. the twin, and how to audit the real one).
        fill: The plan, priced (the "What it takes to fill" section), or None to leave it out.
        images: ``coverage`` and ``missing`` → the images' paths relative to the report.
    """

    plan: Plan
    counts: Mapping[str, TableCounts]
    command: str
    findings: list[str] = field(default_factory=list)
    config: str = ""
    version: str = ""
    preamble: list[str] = field(default_factory=list)
    fill: FillCost | None = None
    images: Mapping[str, str] = field(default_factory=dict)


def _short(table: str) -> str:
    return table.rsplit(".", 1)[-1]


def _pct(ratio: float) -> str:
    return f"{100 * ratio:.2f}%"


def _provenance(data: AuditData) -> list[str]:
    plan = data.plan
    seasons = format_seasons(plan.season_list)
    reproduce = f"reconcile audit --config {data.config or 'config.yaml'} --profile {plan.profile} --seasons {seasons}"
    return [
        "## How this report was produced",
        "",
        "| | |",
        "|---|---|",
        f"| command | `{data.command}` |",
        f"| profile | `{plan.profile or '-'}` (query engine {plan.observation.get('engine', '-')}) |",
        f"| config | `{data.config or '-'}` |",
        f"| observed at | {plan.created_at} |",
        f"| seasons | {seasons} |",
        f"| plan | id `{plan.plan_id}` · fingerprint `{plan.fingerprint}` |",
        f"| reconciler | {data.version or '-'} |",
        "",
        f"Reproduce with `{reproduce}`. The fingerprint digests the expected and observed units and the",
        "planned actions: the same fingerprint means the lake and the state were the same.",
        "",
    ]


def _summary(data: AuditData, targets: list[TargetPlan]) -> list[str]:
    out = ["## Summary", "", f"- Plan: {summary_line(data.plan).removeprefix('Plan: ')}"]
    for t in targets:
        if not t.depends_on:
            continue
        tot = total_coverage(t)
        # seasons with gaps by their coverage: units known only after apply have no action yet
        gap_seasons = sum(1 for c in t.coverage.values() if gaps_of(c))
        worst = sorted(
            (s for s in t.coverage if t.coverage[s].expected and gaps_of(t.coverage[s])),
            key=lambda s: (t.coverage[s].ratio, s),
        )[:3]
        names = ", ".join(f"{s} ({100 * t.coverage[s].ratio:.1f}%)" for s in worst)
        out.append(
            f"- `{_short(t.table)}` vs `fct_games`: {100 * tot.ratio:.2f}% of {tot.expected:,} units; "
            f"{gaps_of(tot):,} gaps in {gap_seasons} seasons" + (f", worst {names}" if names else "")
        )
    out += ["", "Coverage gates:", ""]
    out += [f"- {_GATE_MARK.get(g.gate, '')} {g.text}" for g in gate_lines(targets)]
    return [*out, ""]


def _record_counts(data: AuditData, targets: list[TargetPlan], seasons: list[int]) -> list[str]:
    names = [_short(t.table) for t in targets]
    out = [
        "## Record counts",
        "",
        "Rows per season, counted in the tables themselves (every Parquet object under the table, any layout).",
        "",
        "| season | " + " | ".join(names) + " |",
        "|---:|" + "---:|" * len(targets),
    ]
    totals = [0] * len(targets)
    for s in seasons:
        cells = []
        for i, t in enumerate(targets):
            c = data.counts.get(t.target)
            n = c.rows.get(s, 0) if c else 0
            totals[i] += n
            cells.append(f"{n:,}")
        out.append(f"| {s} | " + " | ".join(cells) + " |")
    out.append("| **all** | " + " | ".join(f"**{n:,}**" for n in totals) + " |")
    return [*out, ""]


def _root_section(data: AuditData, t: TargetPlan, seasons: list[int]) -> list[str]:
    c = data.counts.get(t.target) or TableCounts(t.table, {}, {}, {})
    key = ", ".join(c.key_columns) or "the natural key"
    out = [
        f"## {_short(t.table)}",
        "",
        f"The root table: the other tables' expected units come from it. Distinct keys are distinct `{key}`.",
        "",
        "| season | rows | distinct keys | duplicate rows | status |",
        "|---:|---:|---:|---:|:---|",
    ]
    for s in seasons:
        lv = level(t, str(s))
        status = MARKERS[lv] + (" missing from the lake" if lv == "error" else "")
        out.append(f"| {s} | {c.rows.get(s, 0):,} | {c.keys.get(s, 0):,} | {c.dup_rows.get(s, 0):,} | {status} |")
    return [*out, ""]


def _gap_lines(t: TargetPlan) -> list[str]:
    gaps = season_gaps(t)
    rebuild: dict[int, int] = defaultdict(int)
    for a in t.actions:
        if a.type == "rebuild" and a.season is not None:
            rebuild[a.season] += len(a.units)
    with_gaps = [s for s, c in t.coverage.items() if c.expected and gaps_of(c)]
    if not with_gaps:
        return ["No gaps: every expected unit is present, verified empty or waived."]
    order = sorted(with_gaps, key=lambda s: (t.coverage[s].ratio, -gaps_of(t.coverage[s]), int(s)))
    total = sum(gaps_of(t.coverage[s]) for s in with_gaps)
    out = [f"Gaps, worst seasons first ({total:,} units in {len(with_gaps)} seasons):", ""]
    for s in order:
        c = t.coverage[s]
        kinds = [f"{c.missing:,} missing"]
        if c.incomplete:
            kinds.append(f"{c.incomplete:,} incomplete")
        if c.quarantined:
            kinds.append(f"{c.quarantined:,} quarantined")
        ids = GapIds.of(gaps.get(int(s), []))
        listed = ids.text(max_chars=GAP_CHARS)[0] if ids.units else ""
        unlisted = gaps_of(c) - ids.units - c.after_apply
        if c.known_after_apply:
            listed = "known after apply (a target it depends on has pending work for this season)"
        else:
            if c.after_apply:
                listed += f"{'; ' if listed else ''}{c.after_apply:,} known after apply (they wait for other targets)"
            if unlisted > 0:
                listed += f"{'; ' if listed else ''}{unlisted:,} that no fetch strategy can fill"
        by_game = f" ({ids.ids:,} games)" if ids.by_game else ""
        if rebuild.get(int(s)):
            listed += f"; {rebuild[int(s)]:,} can be rebuilt from the lake's bronze layer at 0 API calls"
        out.append(f"- **{s}** ({100 * c.ratio:.1f}%): {', '.join(kinds)}{by_game}: {listed}")
    return out


def _dependent_section(data: AuditData, t: TargetPlan, root: TargetPlan | None, seasons: list[int]) -> list[str]:
    c = data.counts.get(t.target) or TableCounts(t.table, {}, {}, {})
    root_name = _short(root.table) if root else "its source"
    unit = ", ".join(c.unit_columns) or "unit"
    out = [
        f"## {_short(t.table)} vs {root_name}",
        "",
        f"A unit is one ({unit}). *expected* is what `{root_name}` says should exist ({t.target} spec source "
        "query); *present* is complete by the spec's rule; coverage counts present, verified empty and "
        f"waived units. Gates: warn below {100 * t.warn_below:g}%, error below {100 * t.error_below:g}%.",
        "",
        "| season | rows | units in table | expected | present | incomplete | missing | verified empty "
        "| waived | quarantined | duplicate rows | coverage |",
        "|---:|" + "---:|" * 10 + ":---|",
    ]
    for s in seasons:
        cov = t.coverage.get(str(s))
        if cov is None:
            continue
        if cov.known_after_apply:
            pct = f"{MARKERS['pending']} known after apply"
        else:
            pct = f"{MARKERS[level(t, str(s))]} {_pct(cov.ratio)}" if cov.expected else MARKERS["none"]
        out.append(
            f"| {s} | {c.rows.get(s, 0):,} | {c.units.get(s, 0):,} | {cov.expected:,} | {cov.present:,} "
            f"| {cov.incomplete:,} | {cov.missing:,} | {cov.verified_empty:,} | {cov.waived:,} "
            f"| {cov.quarantined:,} | {c.dup_rows.get(s, 0):,} | {pct} |"
        )
    return [*out, "", *_gap_lines(t), ""]


def _findings(data: AuditData) -> list[str]:
    out = ["## Duplicates", ""]
    for _name, c in sorted(data.counts.items(), key=lambda kv: _rank(kv[0])):
        dup = {s: n for s, n in sorted(c.dup_rows.items()) if n}
        key = ", ".join(c.key_columns) or "the natural key"
        if dup:
            where = ", ".join(f"{s}: {n:,}" for s, n in dup.items())
            out.append(f"- `{_short(c.table)}`: {sum(dup.values()):,} surplus rows on ({key}) ({where})")
        else:
            out.append(f"- `{_short(c.table)}`: no duplicate ({key})")
    out += ["", "## Partition and layout findings", ""]
    lines: list[str] = []
    by_kind: dict[str, int] = defaultdict(int)
    for a in data.plan.all_actions():
        if a.type in _MAINTENANCE:
            by_kind[a.type] += 1
    for g in group_actions([a for a in data.plan.all_actions() if a.type in _MAINTENANCE], samples=3):
        season = f" {g.season}" if g.season is not None else ""
        lines.append(
            f"- {g.type}{season}: {g.count:,} × {g.label} ({g.reason or 'see the plan'}): {', '.join(g.samples)}"
        )
    lines += [f"- {f}" for f in data.findings]
    if lines:
        counts = ", ".join(f"{n:,} {k}" for k, n in sorted(by_kind.items()))
        if counts:
            out += [f"The plan proposes {counts}.", ""]
        out += lines
    else:
        out.append("None found: no partition to register, relayout, dedupe or delete.")
    return [*out, ""]


def _images(data: AuditData) -> list[str]:
    out: list[str] = []
    if "coverage" in data.images:
        out += [f"![Coverage, season × table]({data.images['coverage']})", ""]
    if "missing" in data.images:
        out += [
            "### Missing games by date",
            "",
            "Per fact table, season (rows) and UTC date of the game (columns, from 1 November): the games with a "
            "unit that is neither present and complete nor verified empty, as observed for the plan.",
            "",
            f"![Missing games by date]({data.images['missing']})",
            "",
        ]
    return out


def _rank(name: str) -> int:
    return _ORDER.index(name) if name in _ORDER else len(_ORDER)


def audit_targets(plan: Plan) -> list[TargetPlan]:
    """The targets with coverage, in report order: the root table first, then the fact tables.

    Args:
        plan: The plan.

    Returns:
        ``fct_games``, ``fct_plays``, ``fct_substitutions``, ``fct_lineups``, then any other.
    """
    return sorted(coverage_targets(plan.targets), key=lambda t: (bool(t.depends_on), _rank(t.target)))


def render_audit(data: AuditData) -> str:
    """Render the audit report.

    Args:
        data: The audit data.

    Returns:
        Markdown.
    """
    plan = data.plan
    seasons = list(plan.season_list)
    targets = audit_targets(plan) or [t for t in plan.targets if t.target in data.counts]
    tables = ", ".join(f"`{_short(t.table)}`" for t in targets)
    out = [
        "# Data audit: the cbbd_etl lake",
        "",
        *([*data.preamble, ""] if data.preamble else []),
        f"Seasons {format_seasons(seasons)}; tables {tables}. Observed {plan.created_at}, profile `{plan.profile}`.",
        "",
        *_provenance(data),
        *_summary(data, targets),
        *(render_fill(data.fill) if data.fill is not None else []),
        "## Coverage matrix",
        "",
        "Season × table: the share of the units `fct_games` says should exist that are present (and complete),",
        "verified empty at the API, or waived. The gap count is missing + incomplete + quarantined units.",
        "",
        coverage_matrix(targets, seasons, detail=2, tables=True),
        "",
        *_images(data),
        *_record_counts(data, targets, seasons),
    ]
    by_name = {t.target: t for t in plan.targets}
    for t in targets:
        if not t.depends_on:
            out += _root_section(data, t, seasons)
        else:
            out += _dependent_section(data, t, by_name.get(t.depends_on[0]), seasons)
    out += _findings(data)
    out += [f"<sub>{LEGEND}</sub>", ""]
    return "\n".join(out)
