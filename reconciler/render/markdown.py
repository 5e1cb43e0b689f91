"""The plan as Markdown for a pull-request comment, kept within GitHub's 65,536-character limit.

The layout: the summary line first, then the coverage gates and a season × target coverage
matrix, then one ``<details>`` block per target (action groups, strategy notes, and the gaps of
each season as compressed id ranges), a note on anything left out, where the full JSON plan
is, and a hidden marker with the plan id and fingerprint.

The budget is planned before anything is rendered into the comment: every piece is measured
(``text_width``), the head (summary, gates, matrix) is placed first at the richest form that
fits, each target's core detail next (in plan order; what does not fit is named in the note),
then the optional parts (sample addresses, strategy notes), and the characters that remain
are shared out among the per-season gap lists, worst seasons first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

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
    text_width,
    total_coverage,
)
from reconciler.seasons import format_seasons

__all__ = ["GITHUB_COMMENT_LIMIT", "MARKER", "coverage_matrix", "marker", "render_markdown"]

log = logging.getLogger(__name__)

GITHUB_COMMENT_LIMIT = 65_536
MARKER = "<!-- cbbd-reconciler:plan"
#: Room kept for the left-out note; the note is built to fit it.
NOTE_RESERVE = 900
_GATE_MARK = {"ok": "✅", "warn": "⚠️", "error": "❌"}
_SIGN = {"delete": "-", "fetch": "+", "register": "+"}


def marker(plan: Plan) -> str:
    """The hidden marker a workflow uses to find and update its own comment.

    Args:
        plan: The plan.

    Returns:
        An HTML comment carrying the plan id and fingerprint.
    """
    return f"{MARKER} id={plan.plan_id} fingerprint={plan.fingerprint} -->"


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}" + ("" if count == 1 else "s")


def _cell(t: TargetPlan, season: str, detail: int) -> str:
    lv = level(t, season)
    c = t.coverage.get(season)
    if c is None or lv == "none":
        return MARKERS["none"]
    if lv == "pending":
        return MARKERS["pending"] + (" after apply" if detail else "")
    if detail == 0:
        return MARKERS[lv]
    text = f"{MARKERS[lv]} {100 * c.ratio:.1f}%"
    if detail >= 2 and gaps_of(c):
        text += f" · {_n(gaps_of(c), 'gap')}"
        if c.after_apply:
            text += f" ({c.after_apply:,} after apply)"
    return text


def coverage_matrix(
    targets: Sequence[TargetPlan], seasons: Sequence[int], *, detail: int = 2, tables: bool = False
) -> str:
    """A season × target matrix of coverage markers, with a total row and a legend.

    Args:
        targets: Targets with coverage (see ``coverage_targets``).
        seasons: Seasons, in order.
        detail: 2: marker, percentage and gap count; 1: marker and percentage; 0: marker only.
        tables: Head the columns with table names (``fct_plays``) instead of target names.

    Returns:
        A Markdown table ("" when there are no targets).
    """
    if not targets:
        return ""
    names = [t.table.rsplit(".", 1)[-1] if tables and t.table else t.target for t in targets]
    lines = ["| season | " + " | ".join(names) + " |", "|---:|" + ":---|" * len(targets)]
    for s in seasons:
        lines.append(f"| {s} | " + " | ".join(_cell(t, str(s), detail) for t in targets) + " |")
    totals = []
    for t in targets:
        tot = total_coverage(t)
        if tot.expected == 0:
            totals.append(MARKERS["none"])
            continue
        gaps = f" · {_n(gaps_of(tot), 'gap')}" if detail >= 2 and gaps_of(tot) else ""
        totals.append(f"**{100 * tot.ratio:.1f}%**{gaps}" if detail else f"{100 * tot.ratio:.0f}%")
    lines.append("| **all** | " + " | ".join(totals) + " |")
    return "\n".join([*lines, "", f"<sub>{LEGEND}</sub>"])


def _md_line(text: str) -> str:
    """One line of text safe in a Markdown quote (no line breaks; at most 300 characters)."""
    line = " ".join(text.split())
    return line if len(line) <= 300 else line[:299] + "…"


def _head(plan: Plan, rate: float, detail: int) -> str:
    obs_engine = plan.observation.get("engine", "-")
    lines = [
        f"**{summary_line(plan, rate)}**",
        "",
        f"Seasons {format_seasons(plan.season_list) or '-'} · profile `{plan.profile or '-'}` · engine {obs_engine} · "
        f"plan `{plan.plan_id}` · fingerprint `{plan.fingerprint}` · {plan.created_at}",
        "",
    ]
    for w in plan.warnings[:20]:
        lines.append(f"> [!WARNING]\n> {_md_line(w)}\n")
    if len(plan.warnings) > 20:
        lines.append(f"> [!WARNING]\n> … and {len(plan.warnings) - 20:,} more warnings in the JSON plan.\n")
    gates = gate_lines(plan.targets)
    if gates:
        lines.append("**Coverage gates**")
        lines.append("")
        lines += [f"- {_GATE_MARK.get(g.gate, '')} {g.text}" for g in gates]
        lines.append("")
    if detail >= 0:
        matrix = coverage_matrix(coverage_targets(plan.targets), plan.season_list, detail=detail)
        if matrix:
            lines += [matrix, ""]
    return "\n".join(lines) + "\n"


@dataclass
class _Detail:
    """A target's detail block, and how much of it the budget allows."""

    target: TargetPlan
    extras: bool = False
    gap_chars: dict[int, int] = field(default_factory=dict)
    gaps: dict[int, GapIds] = field(default_factory=dict)

    def season_order(self) -> list[int]:
        """Seasons with gaps, worst coverage first."""
        cov = self.target.coverage

        def key(s: int) -> tuple[float, int, int]:
            c = cov.get(str(s))
            return (c.ratio if c else 1.0, -self.gaps[s].units, s)

        return sorted(self.gaps, key=key)


def _gap_line(t: TargetPlan, season: int, gaps: GapIds, chars: int | None) -> str:
    c = t.coverage.get(str(season))
    pct = f" ({100 * c.ratio:.1f}%)" if c and c.expected else ""
    games = f" in {_n(gaps.ids, 'game')}" if gaps.by_game else ""
    head = f"- {season}{pct}: {_n(gaps.units, 'unit')}{games}"
    if chars is None or chars <= 0:
        return head
    text = gaps.text(max_chars=chars)[0]
    return head + (f": {text}" if text else "")


def _block(d: _Detail, *, with_gaps: bool = True) -> str:
    t = d.target
    calls = sum(a.api_calls for a in t.actions)
    units = sum(g.units for g in d.gaps.values())
    fill = f", {units:,} units to fill" if units else ""
    lines = [
        f"<details><summary><b>{t.target}</b> ({t.table or 'maintenance'}): {len(t.actions):,} actions, "
        f"{calls:,} API calls{fill}</summary>",
        "",
    ]
    lines += [f"> note: {n}" for n in t.notes]
    waiting = sum(c.after_apply for c in t.coverage.values())
    if waiting:
        lines.append(f"> {_n(waiting, 'unit')} known after apply: they wait for targets this plan fills first.")
    if d.extras:
        lines += [f"- {c}" for c in t.choices]
    if t.notes or waiting or (d.extras and t.choices):
        lines.append("")
    diff: list[str] = []
    for g in group_actions(t.actions, samples=3):
        sign = _SIGN.get(g.type, "!")
        season = f" {g.season}" if g.season is not None else ""
        cost = f", {g.calls:,} API calls" if g.calls else ""
        fills = f" → {g.units:,} units" if g.units else ""
        diff.append(f"{sign} {g.type}{season}: {g.count:,} × {g.label}{fills}{cost}")
        if d.extras:
            more = f" … +{g.count - len(g.samples):,} more" if g.count > len(g.samples) else ""
            diff.append(f"#   {', '.join(g.samples)}{more}")
    if t.quarantined:
        diff.append(f"! quarantined: {len(t.quarantined):,} units after repeated failed applies (--retry-failed)")
        if d.extras:
            diff += [f"#   {q['address']}: {q['error']}" for q in t.quarantined[:10]]
    if diff:
        lines += ["```diff", *diff, "```"]
    if with_gaps and d.gaps:
        lines += ["", "Gaps by season, worst first:", ""]
        lines += [_gap_line(t, s, d.gaps[s], d.gap_chars.get(s)) for s in d.season_order()]
    lines += ["", "</details>", "", ""]
    return "\n".join(lines)


def _share(needs: dict[tuple[int, int], int], budget: int) -> dict[tuple[int, int], int]:
    """Share a budget among lines: no line gets more than it needs; the rest is spread evenly."""
    out: dict[tuple[int, int], int] = {}
    left = budget
    todo = sorted(needs.items(), key=lambda kv: kv[1])
    for i, (k, need) in enumerate(todo):
        fair = left // (len(todo) - i)
        out[k] = min(need, fair)
        left -= out[k]
    return out


def _plan_details(details: list[_Detail], budget: int) -> tuple[list[_Detail], list[_Detail], int]:
    """Decide what of each target's detail fits; returns (kept, left out, characters left)."""
    kept: list[_Detail] = []
    left_out: list[_Detail] = []
    for d in details:  # 1. the core of each target, in plan order
        w = text_width(_block(d))
        if not left_out and w <= budget:
            kept.append(d)
            budget -= w
        else:
            left_out.append(d)
    for d in kept:  # 2. sample addresses and strategy notes
        base = text_width(_block(d))
        d.extras = True
        extra = text_width(_block(d)) - base
        if extra <= budget:
            budget -= extra
        else:
            d.extras = False
    # 3. the gap ids of every season, shared fairly; a line that needs less gives the rest back
    needs: dict[tuple[int, int], int] = {}
    for i, d in enumerate(kept):
        for s, units in d.gaps.items():
            needs[(i, s)] = units.width + 2
    shares = _share(needs, budget)
    for (i, s), chars in shares.items():
        kept[i].gap_chars[s] = chars - 2
    used = sum(text_width(_block(d)) for d in kept)
    return kept, left_out, used


def _note(kept: list[_Detail], left_out: list[_Detail], matrix_detail: int, where: str, limit: int) -> str:
    parts: list[str] = []
    if matrix_detail < 2:
        parts.append("the gap counts of the coverage matrix" if matrix_detail >= 0 else "the coverage matrix")
    if left_out:
        names = [f"{d.target.target} ({len(d.target.actions):,} actions)" for d in left_out[:6]]
        more = f" and {len(left_out) - 6} more targets" if len(left_out) > 6 else ""
        parts.append(f"the details of {', '.join(names)}{more}")
    no_extras = [d.target.target for d in kept if not d.extras and (d.target.choices or d.target.actions)]
    if no_extras:
        parts.append(f"sample addresses and strategy notes of {', '.join(no_extras[:6])}")
    hidden = 0
    for d in kept:
        for s, units in d.gaps.items():
            chars = d.gap_chars.get(s, 0)
            hidden += units.text(max_chars=chars)[1] if chars > 0 else units.ids
    if hidden:
        parts.append(f"{hidden:,} gap ids")
    if not parts:
        return ""
    return (
        f"> [!NOTE]\n> Left out to fit GitHub's {limit:,}-character comment limit: {'; '.join(parts)}. "
        f"Everything is in the full JSON plan: {where}.\n\n"
    )


def render_markdown(
    plan: Plan,
    *,
    rate: float = 3.0,
    limit: int = GITHUB_COMMENT_LIMIT,
    json_hint: str = "",
    apply_hint: str = "reconcile apply PLAN_FILE",
) -> str:
    """Render a plan as a pull-request comment.

    Args:
        plan: The plan.
        rate: Requests per second, for the duration estimate.
        limit: The maximum width (``text_width``, at least the number of characters).
        json_hint: Where the full JSON plan is (e.g. ``plan.json``), for the note.
        apply_hint: The command that applies a saved plan (with the ``--config`` it needs).

    Returns:
        Markdown of at most ``limit`` characters whose first line is the summary line.
    """
    where = json_hint or "`reconcile plan --format json` (or `--out FILE`)"
    footer = f"<sub>Full JSON plan: {where}. Apply exactly this plan with `{apply_hint}`.</sub>\n"
    tail = "\n" + marker(plan) + "\n"
    fixed = text_width(footer) + text_width(tail) + NOTE_RESERVE
    head = ""
    for detail in (2, 1, 0, -1):  # the richest matrix that fits
        head = _head(plan, rate, detail)
        if text_width(head) + fixed <= limit:
            break
    details = [
        _Detail(t, gaps={s: GapIds.of(u) for s, u in season_gaps(t).items()})
        for t in plan.targets
        if t.actions or t.quarantined or any(c.after_apply for c in t.coverage.values())
    ]
    kept, left_out, _ = _plan_details(details, limit - text_width(head) - fixed)
    matrix_detail = detail if coverage_targets(plan.targets) else 2
    note = _note(kept, left_out, matrix_detail, where, limit)
    if text_width(note) > NOTE_RESERVE:  # cannot happen with the bounded lists above; keep the contract anyway
        note = (
            "> [!NOTE]\n> Details were left out to fit GitHub's comment limit; the full JSON plan is named below.\n\n"
        )
    out = head + "".join(_block(d) for d in kept) + note + footer + tail
    if text_width(out) > limit:  # a planning bug: say so, and fall back to the head alone
        log.error("markdown plan over budget (%d > %d); rendering the head only", text_width(out), limit)
        out = _head(plan, rate, -1) + note + footer + tail
    return out
