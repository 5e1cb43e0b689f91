"""What an apply prints at its end: the result table, failures, and what is left, for which targets.

"No changes. The lake matches the specs." is printed only when it is true: every target was
planned, nothing failed or was left behind, and no unit waits for ``--retry-failed``. Otherwise
the last lines say what is left and where: units outside the ``--target`` selection, quarantined
units, targets this apply did not plan, and actions left for ``--allow-delete``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from reconciler.apply.executor_types import ApplyResult
from reconciler.core.plan import Plan, TargetPlan
from reconciler.render.common import NO_CHANGES, plural

__all__ = ["Leftovers", "print_result", "print_summary"]


@dataclass
class Leftovers:
    """What an apply's plans left undone, per target (the last plan of each target wins).

    Attributes:
        plans: The last plan of each target that was planned.
        all_targets: Every target the specs (and the layout check) know.
    """

    all_targets: tuple[str, ...]
    plans: dict[str, TargetPlan] = field(default_factory=dict)

    def note(self, plan: Plan) -> None:
        """Record a plan this apply executed (its targets replace earlier plans of them).

        Args:
            plan: The plan.
        """
        for t in plan.targets:
            self.plans[t.target] = t

    def lines(self) -> list[str]:
        """What is left, one line per kind, naming targets.

        Returns:
            Empty when nothing is left.
        """
        outside: list[str] = []
        quarantined: list[str] = []
        unknown: list[str] = []
        broken: list[str] = []
        for name, t in self.plans.items():
            if t.source_error:
                broken.append(f"{name} ({t.source_error})")
                continue
            acted = {k for a in t.actions for k in a.units}
            # ("failed" units are also counted as missing or incomplete; units waiting for their
            # inputs are planned by a replan, or listed as known only after another apply.)
            need = sum(c.missing + c.incomplete - c.after_apply for c in t.coverage.values())
            left = max(0, need - len(acted))
            if left:
                outside.append(f"{name} {plural(left, 'unit')}")
            q = sum(c.quarantined for c in t.coverage.values())
            if q:
                quarantined.append(f"{name} {q:,}")
            if any(c.known_after_apply for c in t.coverage.values()):
                unknown.append(name)
        out = []
        if outside:
            out.append(f"Left outside the selected actions (--target): {', '.join(outside)}.")
        if quarantined:
            out.append(f"Quarantined units, skipped until --retry-failed: {', '.join(quarantined)}.")
        if unknown:
            out.append(f"Expected sets still known only after another apply: {', '.join(unknown)}.")
        if broken:
            out.append(f"Expected sets that could not be computed: {'; '.join(broken)}.")
        missing = [n for n in self.all_targets if n not in self.plans]
        if missing:
            out.append(f"Not planned by this apply (not selected): {', '.join(missing)}.")
        return out


def print_result(con: Console, result: ApplyResult) -> None:
    """The result table and the first failures.

    Args:
        con: The console.
        result: The settled result of the whole apply.
    """
    tab = Table(show_edge=False, header_style="bold")
    for col in ("done", "empty", "failed", "remaining", "API calls", "rows written"):
        tab.add_column(col, justify="right")
    tab.add_row(
        f"{result.done:,}",
        f"{result.empty:,}",
        f"{result.failed:,}",
        f"{result.remaining:,}",
        f"{result.api_calls:,}",
        f"{result.rows:,}",
    )
    con.print(tab)
    if result.replayed:
        n = result.replayed
        con.print(
            f"  {n:,} response{'s' if n != 1 else ''} fetched by an earlier apply replayed from the spool (no API call)"
        )
    for e in result.errors[:5]:
        con.print(f"[red]  failed: {escape(e)}[/red]")
    if len(result.errors) > 5:
        con.print(f"[red]  … +{len(result.errors) - 5} more failures (they stay in the plan)[/red]")


def print_summary(
    con: Console,
    result: ApplyResult,
    *,
    stopped: str,
    allow_delete: bool,
    leftovers: Leftovers,
    plan_hint: str,
) -> None:
    """The apply's last lines: why it stopped, what failed, or what is left.

    Args:
        con: The console.
        result: The settled result.
        stopped: Why it stopped early ("" when it did not).
        allow_delete: Whether --allow-delete was given.
        leftovers: The plans it executed.
        plan_hint: The command that shows the full plan (with the ``--config`` it needs).
    """
    if result.maintenance:
        done = ", ".join(f"{n:,} {kind}" for kind, n in sorted(result.maintenance.items()))
        con.print(f"Layout actions done: {done}.")
    if result.skipped_deletes and not allow_delete:
        con.print(
            f"[red]Left {result.skipped_deletes:,} actions that remove data (relayout, dedupe and delete, "
            "listed above): a rewrite writes its new copy and removes the original in one step, so that "
            "readers never see two copies; run apply with --allow-delete to execute them.[/red]"
        )
    if stopped:
        con.print(f"[yellow]Stopped: {escape(stopped)}.[/yellow]")
        con.print(
            f"[yellow]Everything finished is recorded ({result.remaining:,} units left); "
            "run apply again to resume.[/yellow]"
        )
        return
    if result.failed:
        con.print("[yellow]Some units failed; they stay in the plan and are retried by the next apply.[/yellow]")
        return
    left = leftovers.lines()
    held = result.remaining or (result.skipped_deletes and not allow_delete)
    if not left and not held:
        con.print(f"[green]Apply complete.[/green] {NO_CHANGES}")
        return
    con.print("[green]Apply complete.[/green] Not everything the specs ask for is done:")
    for line in left:
        con.print(f"  {line}", markup=False)
    if left:
        con.print(f"See what is left with: {plan_hint}", markup=False)
