"""The plan as text for a terminal, in the manner of Terraform (rich)."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from reconciler.core.plan import Plan, TargetPlan
from reconciler.render.common import coverage_pct, group_actions, plural, summary_line
from reconciler.render.coverage import gate_lines
from reconciler.seasons import format_seasons

__all__ = ["gate_texts", "render_text"]

_STYLE = {
    "fetch": "green",
    "refetch": "yellow",
    "rebuild": "cyan",
    "register": "blue",
    "relayout": "magenta",
    "dedupe": "magenta",
    "delete": "bold red",
}
_GATE_STYLE = {"ok": "green", "warn": "bold yellow", "error": "bold red"}
_SIGN = {"fetch": "+", "refetch": "~", "rebuild": "~", "register": "+", "relayout": "~", "dedupe": "~", "delete": "-"}


def _coverage_table(t: TargetPlan) -> Table:
    tab = Table(title=None, show_edge=False, header_style="bold", pad_edge=False)
    for col in ("season", "expected", "present", "missing", "incomplete", "empty", "waived", "quarantined"):
        tab.add_column(col, justify="right")
    tab.add_column("coverage", justify="right")
    for season, c in t.coverage.items():
        if c.known_after_apply:
            tab.add_row(season, *(["?"] * 7), Text("known after apply", style="italic dim"))
            continue
        if c.expected == 0:
            continue
        pct = coverage_pct(t, season)
        style = "green" if c.ratio >= t.warn_below else ("yellow" if c.ratio >= t.error_below else "red")
        tab.add_row(
            season,
            f"{c.expected:,}",
            f"{c.present:,}",
            f"{c.missing:,}",
            f"{c.incomplete:,}",
            f"{c.verified_empty:,}",
            f"{c.waived:,}",
            f"{c.quarantined:,}",
            Text(pct, style=style),
        )
    return tab


def _target_block(t: TargetPlan) -> list[RenderableType]:
    out: list[RenderableType] = []
    head = Text.assemble(("# ", "dim"), (t.target, "bold"), (f"  ({t.table})", "dim"))
    if t.gate != "ok":
        head.append(f"  coverage gate: {t.gate.upper()}", style="red" if t.gate == "error" else "yellow")
    out.append(head)
    if any(c.expected or c.known_after_apply for c in t.coverage.values()):
        out.append(_coverage_table(t))
    for note in t.notes:
        out.append(Text(f"  note: {note}", style="yellow"))
    for choice in t.choices:
        out.append(Text(f"  {choice}", style="dim"))
    non_delete = [a for a in t.actions if a.type != "delete"]
    for g in group_actions(non_delete):
        style = _STYLE.get(g.type, "")
        what = f"{g.count:,} × {g.label}" if g.count > 1 else g.samples[0]
        calls = f", {plural(g.calls, 'API call')}" if g.calls else ""
        season = f"{g.season} " if g.season else ""
        line = Text.assemble(
            (f"  {_SIGN.get(g.type, '~')} {g.type} ", style),
            f"{season}{what}",
            (f"  → {plural(g.units, 'unit')}{calls}" if g.units or g.calls else "", "dim"),
        )
        out.append(line)
        if g.count > 1:
            more = f" … +{g.count - len(g.samples):,} more" if g.count > len(g.samples) else ""
            out.append(Text(f"      {', '.join(g.samples)}{more}", style="dim"))
        if g.reason and g.reason != f"{g.units:,} missing":
            out.append(Text(f"      reason: {g.reason}", style="dim"))
    for q in t.quarantined[:5]:
        out.append(
            Text(f"  ! quarantined {q['address']} after {q['attempts']} failed applies: {q['error']}", style="red")
        )
    if len(t.quarantined) > 5:
        out.append(Text(f"  ! … +{len(t.quarantined) - 5:,} more quarantined (--retry-failed)", style="red"))
    return out


def gate_texts(targets: list[TargetPlan]) -> list[Text]:
    """The coverage gate lines, coloured: green ok, yellow warn, red error.

    Args:
        targets: Target plans.

    Returns:
        One rich text per target that declares thresholds.
    """
    out = []
    for g in gate_lines(targets):
        mark = {"ok": "✓", "warn": "!", "error": "✗"}.get(g.gate, " ")
        out.append(Text(f"  {mark} {g.text}", style=_GATE_STYLE.get(g.gate, "")))
    return out


def render_text(plan: Plan, console: Console, *, rate: float = 3.0) -> None:
    """Print a plan to a console.

    Args:
        plan: The plan.
        console: Where to print (the CLI passes it in; there is no global console).
        rate: Requests per second, for the duration estimate.
    """
    seasons = format_seasons(plan.season_list) if plan.season_list else ""
    console.print(
        Text.assemble(
            ("reconcile plan", "bold"),
            f"  seasons {seasons}  profile {plan.profile or '-'}  engine {plan.observation.get('engine', '-')}",
            (f"  plan {plan.plan_id}", "dim"),
        )
    )
    for w in plan.warnings:
        console.print(Text(f"Warning: {w}", style="yellow"))
    scanned = int(plan.observation.get("bytes_scanned", 0) or 0)
    if scanned:
        console.print(Text(f"Observation scanned {scanned / 1e6:,.1f} MB (Athena bills by bytes scanned).", "dim"))
    blocks: list[RenderableType] = []
    for t in plan.targets:
        blocks.append(Text(""))
        blocks.extend(_target_block(t))
    console.print(Group(*blocks))
    deletes = [a for a in plan.all_actions() if a.type == "delete"]
    if deletes:
        console.print()
        console.print(Text("Deletions (executed only with --allow-delete and confirmation):", style="bold red"))
        for g in group_actions(deletes, samples=5):
            console.print(Text(f"  - delete {g.count:,} × {g.label}: {', '.join(g.samples)}", style="red"))
            if g.reason:
                console.print(Text(f"      reason: {g.reason}", style="red"))
    gates = gate_texts(plan.targets)
    if gates:
        console.print()
        console.print(Text("Coverage gates:", style="bold"))
        for gate in gates:
            console.print(gate)
    console.print()
    line = summary_line(plan, rate)
    console.print(Text(line, style="bold green" if plan.summary.changes == 0 else "bold"))
