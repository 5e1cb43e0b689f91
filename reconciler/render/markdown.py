"""The plan as Markdown for a pull-request comment, kept within GitHub's 65,536-character limit.

The budget is planned before rendering: the marker, summary line and coverage matrix always
fit; each target's detail goes in a ``<details>`` block, cut with a note when it would overflow.
"""

from __future__ import annotations

from reconciler.core.plan import Plan, TargetPlan
from reconciler.render.common import coverage_pct, group_actions, summary_line
from reconciler.seasons import format_seasons

__all__ = ["GITHUB_COMMENT_LIMIT", "MARKER", "marker", "render_markdown"]

GITHUB_COMMENT_LIMIT = 65_536
MARKER = "<!-- cbbd-reconciler:plan"
_RESERVE = 600  # room for the closing note


def marker(plan: Plan) -> str:
    """The hidden marker a workflow uses to find and update its own comment.

    Args:
        plan: The plan.

    Returns:
        An HTML comment carrying the plan id and fingerprint.
    """
    return f"{MARKER} id={plan.plan_id} fingerprint={plan.fingerprint} -->"


def _cell(t: TargetPlan, season: str) -> str:
    c = t.coverage.get(season)
    if c is None or (c.expected == 0 and not c.known_after_apply):
        return "·"
    if c.known_after_apply:
        return "❔ after apply"
    pct = coverage_pct(t, season)
    if c.ratio >= 1.0:
        return f"✅ {pct}"
    icon = "⚠️" if c.ratio >= t.error_below else "❌"
    return f"{icon} {pct} ({c.missing + c.incomplete:,} to fill)"


def _matrix(plan: Plan) -> str:
    targets = plan.targets
    if not targets:
        return ""
    seasons = sorted({s for t in targets for s in t.coverage}, key=int)
    head = "| season | " + " | ".join(t.target for t in targets) + " |"
    sep = "|---|" + "---|" * len(targets)
    rows = [f"| {s} | " + " | ".join(_cell(t, s) for t in targets) + " |" for s in seasons]
    legend = "✅ complete · ⚠️ below the warn threshold · ❌ below the error threshold · ❔ known after apply"
    return "\n".join([head, sep, *rows, "", f"<sub>{legend}</sub>"])


def _target_detail(t: TargetPlan) -> str:
    lines = [f"<details><summary><b>{t.target}</b> ({t.table}): {len(t.actions):,} actions</summary>", ""]
    for note in t.notes:
        lines.append(f"> note: {note}")
    for c in t.choices:
        lines.append(f"- {c}")
    lines.append("")
    lines.append("```diff")
    for g in group_actions(t.actions, samples=5):
        sign = "-" if g.type == "delete" else ("+" if g.type in ("fetch", "register") else "!")
        calls = f", {g.calls:,} API calls" if g.calls else ""
        lines.append(f"{sign} {g.type} {g.season or ''} {g.count:,} × {g.label} → {g.units:,} units{calls}")
        lines.append(f"#   {', '.join(g.samples)}" + (" …" if g.count > len(g.samples) else ""))
    for q in t.quarantined[:20]:
        lines.append(f"- quarantined {q['address']} ({q['attempts']} failed applies): {q['error']}")
    lines.append("```")
    lines.append("</details>")
    return "\n".join(lines)


def render_markdown(plan: Plan, *, rate: float = 3.0, limit: int = GITHUB_COMMENT_LIMIT, json_hint: str = "") -> str:
    """Render a plan as a pull-request comment.

    Args:
        plan: The plan.
        rate: Requests per second, for the duration estimate.
        limit: The maximum length in characters.
        json_hint: Where the full JSON plan is (e.g. a workflow artifact), for the cut note.

    Returns:
        Markdown of at most ``limit`` characters, starting with the summary line.
    """
    head = [
        f"**{summary_line(plan, rate)}**",
        "",
        f"Seasons {format_seasons(plan.season_list)} · profile `{plan.profile or '-'}` · "
        f"plan `{plan.plan_id}` · fingerprint `{plan.fingerprint}`",
        "",
        _matrix(plan),
        "",
    ]
    gates = [t for t in plan.targets if t.gate != "ok"]
    for t in gates:
        head.append(
            f"- coverage gate **{t.gate}** on `{t.target}` (warn below {t.warn_below}, error below {t.error_below})"
        )
    text = "\n".join(head) + "\n"
    tail = "\n" + marker(plan) + "\n"
    budget = limit - len(text) - len(tail) - _RESERVE
    left_out: list[str] = []
    parts: list[str] = []
    for t in plan.targets:
        if not t.actions and not t.quarantined:
            continue
        block = _target_detail(t) + "\n\n"
        if len(block) <= budget:
            parts.append(block)
            budget -= len(block)
        else:
            left_out.append(f"{t.target} ({len(t.actions):,} actions)")
    body = text + "".join(parts)
    if left_out:
        where = json_hint or "the JSON plan (`reconcile plan --format json`)"
        body += f"\n> Left out to fit GitHub's comment limit: details of {', '.join(left_out)}. Full plan: {where}.\n"
    out = body + tail
    if len(out) > limit:  # the matrix alone is too long: keep the summary and say so
        cut = limit - len(tail) - 200
        out = body[:cut] + "\n\n> Cut to fit GitHub's comment limit; see the JSON plan.\n" + tail
    return out
