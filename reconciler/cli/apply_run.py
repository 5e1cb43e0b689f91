"""The apply command: lock, check or make the plan, confirm, apply, report.

The work between confirmation and the report is :func:`reconciler.service.apply.apply_plan`
(no user interface); this module is what the user sees: the prompt, the plan and progress bar on
the console, the summary and the exit code.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from reconciler.apply.executor_types import ApplyResult
from reconciler.apply.interrupts import Interrupted, Stopper, interruptible
from reconciler.apply.lake_lock import LakeLocks
from reconciler.apply.locks import LAKE_LOCK, describe_holder, hold_lock
from reconciler.apply.memory import limit_malloc_arenas, use_system_arrow_pool
from reconciler.cli.apply_report import Leftovers, print_result, print_summary
from reconciler.cli.common import print_aws_calls
from reconciler.cli.plan_file import load_plan_file
from reconciler.cli.progress import RichProgress
from reconciler.config import Profile
from reconciler.core.layout_planner import LAYOUT_TARGET
from reconciler.core.observed import ObservedState
from reconciler.core.plan import Plan
from reconciler.core.plan_check import check_saved_actions, stale_reasons
from reconciler.errors import InputError, StalePlan
from reconciler.ports import ApiClientLike
from reconciler.render.common import hint
from reconciler.render.text import render_text
from reconciler.seasons import format_seasons
from reconciler.service.apply import ApplyRun, apply_plan, check_apply_preconditions, planned_units, waiting_targets
from reconciler.service.session import Session

__all__ = ["ApplyOptions", "run_apply"]


@dataclass(frozen=True)
class ApplyOptions:
    """Options of one apply."""

    seasons: tuple[int, ...]
    targets: tuple[str, ...] = ()
    auto_approve: bool = False
    allow_delete: bool = False
    max_requests: int | None = None
    max_duration: float | None = None
    retry_failed: bool = False
    replan: bool = False
    plan_file: Path | None = None
    command: str = "reconcile apply"
    host: str = ""
    stats: bool = False
    hint_args: tuple[str, ...] = ()


def _confirm(con: Console, plan: Plan, opts: ApplyOptions) -> bool:
    rewrites = plan.summary.relayout + plan.summary.dedupe
    if opts.allow_delete and (plan.summary.delete or rewrites):
        what = [f"deletes the {plan.summary.delete:,} items"] if plan.summary.delete else []
        if rewrites:
            what.append(f"rewrites {rewrites:,} objects, removing each original once its new copy is written")
        con.print(f"[bold red]--allow-delete: this apply {' and '.join(what)} listed above.[/bold red]")
    if opts.auto_approve:
        return True
    if not sys.stdin.isatty():
        raise InputError("apply needs confirmation: run it in a terminal or pass --auto-approve")
    con.print("\nDo you want to perform these actions? [bold]y/N[/bold] ", end="")
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def _client(profile: Profile, max_requests: int | None) -> ApiClientLike:
    from reconciler.api.client import CbbdClient

    return CbbdClient(profile.api, profile.api_key(), max_requests=max_requests)


async def _apply_locked(
    session: Session,
    opts: ApplyOptions,
    con: Console,
    stopper: Stopper,
    total: ApplyResult,
    leftovers: Leftovers,
    saved: Plan | None,
) -> int | None:
    """Plan (or check the saved plan), confirm and execute, under the lock.

    Returns:
        An exit code to return at once, or None to print the summary.
    """
    started = time.time()
    with interruptible():  # nothing is started while planning: a signal interrupts at once
        ready = _plan_and_confirm(session, opts, con, saved)
    if isinstance(ready, int):
        return ready
    plan, observed, seasons, retry = ready
    leftovers.note(plan)
    profile = session.profile
    needs_api = plan.summary.api_calls > 0 or bool(waiting_targets(plan))
    if stopper.reason:  # the lock was lost while planning: nothing was started
        total.stopped, total.stop_kind, total.remaining = stopper.reason, stopper.kind, planned_units(plan)
        return None
    client = _client(profile, opts.max_requests) if needs_api else None

    def replanning(targets: Sequence[str]) -> None:
        con.print(f"[bold]Replanning {', '.join(targets)}: their expected sets are known now.[/bold]")

    def replanned(new: Plan) -> None:
        leftovers.note(new)
        render_text(new, con, rate=float(profile.api.rate_limit_per_sec))

    run = ApplyRun(
        seasons=seasons,
        retry_failed=retry,
        allow_delete=opts.allow_delete,
        max_duration=opts.max_duration,
        started=started,
    )
    await apply_plan(
        session, plan, observed, client, lambda: RichProgress(con), run, stopper, total, replanning, replanned
    )
    return None


def _plan_and_confirm(
    session: Session, opts: ApplyOptions, con: Console, saved: Plan | None
) -> int | tuple[Plan, ObservedState, tuple[int, ...], bool]:
    """Plan, or check the saved plan; show it and confirm. An exit code when there is nothing to do."""
    profile = session.profile
    seasons = _applied_seasons(opts, saved)
    targets = opts.targets
    if saved is not None and not targets:
        targets = tuple(t.target for t in saved.targets)
    retry = opts.retry_failed or (saved is not None and saved.retry_failed)
    now = datetime.now(UTC)
    plan, observed = session.plan(seasons, targets, retry_failed=retry, now=now)
    if saved is not None:
        reasons = stale_reasons(saved, plan)
        if reasons and not opts.replan:
            raise StalePlan(
                f"{opts.plan_file}: refusing a stale plan, the lake changed since it was made: "
                + "; ".join(reasons)
                + " (plan again, or apply with --replan)"
            )
        if reasons:
            con.print(f"[yellow]The saved plan is stale ({escape('; '.join(reasons))}); replanned.[/yellow]")
        else:
            problems = check_saved_actions(
                saved, session.specs, observed, plan, session.options(targets, retry_failed=retry), now
            )
            if problems:
                more = f" (and {len(problems) - 1:,} more)" if len(problems) > 1 else ""
                raise StalePlan(
                    f"{opts.plan_file}: refusing the saved plan, it asks for what the lake does not need: "
                    f"{problems[0]}{more}; plan again"
                )
            plan = saved
    render_text(plan, con, rate=float(profile.api.rate_limit_per_sec))
    broken = [t for t in plan.targets if t.source_error]
    if broken:
        t = broken[0]
        raise InputError(
            f"{t.target}: the expected set cannot be computed ({t.source_error}); fix the spec "
            f"(`reconcile validate` checks it) or leave the target out with --target"
        )
    if plan.summary.changes == 0:
        return 0
    check_apply_preconditions(session, plan, opts.allow_delete)
    if not _confirm(con, plan, opts):
        con.print("Apply cancelled.")
        return 0
    return plan, observed, seasons, retry


def _applied_seasons(opts: ApplyOptions, saved: Plan | None) -> tuple[int, ...]:
    """The seasons an apply covers: a saved plan's, else the selection's.

    Args:
        opts: The apply's options.
        saved: The saved plan it applies, if any.

    Returns:
        The seasons.
    """
    return tuple(saved.season_list) if saved is not None else opts.seasons


def _exit_code(total: ApplyResult, stopper: Stopper) -> int:
    if stopper.signal:
        return 128 + stopper.signal
    if total.stopped:
        return 0 if total.stop_kind == "budget" else 1
    return 1 if total.failed else 0


async def run_apply(profile: Profile, opts: ApplyOptions, con: Console) -> int:
    """Run an apply end to end, under the lake's lock.

    SIGINT and SIGTERM stop it cleanly: no new work starts, in-flight requests finish and are
    recorded (a second signal abandons them), the summary is printed, and the exit code is
    130 or 143.

    Args:
        profile: The profile.
        opts: Options.
        con: The console.

    Returns:
        The exit code: 0 when everything planned was done or a budget (--max-requests,
        --max-duration, the quota reserve) stopped it cleanly; 1 when units failed, the quota
        ran out (429), the key was refused, the API was unreachable or the lock was lost;
        128 + the signal number when interrupted.

    Raises:
        StalePlan: When a saved plan no longer matches the lake (and --replan is not given).
        LockHeld: When another apply holds the lake's lock.
    """
    # A saved plan is read and its digest checked before anything is opened or locked.
    saved = load_plan_file(opts.plan_file) if opts.plan_file else None
    use_system_arrow_pool()
    limit_malloc_arenas()  # before the engine's and the apply's threads allocate
    session = Session.open(profile)
    try:
        locks = LakeLocks(session.backends.store)
        stopper = Stopper()
        total = ApplyResult()
        leftovers = Leftovers(all_targets=(*(sp.name for sp in session.specs), LAYOUT_TARGET))
        try:
            # Signals interrupt at once from before the lock is taken until work starts (the
            # executor's phase drains instead): no moment where the lock is held but a signal
            # would kill the process without releasing it.
            unlock = hint("force-unlock", LAKE_LOCK, args=opts.hint_args)
            with (
                interruptible(),
                hold_lock(locks, opts.command, opts.host, profile.state.lock_ttl_seconds, unlock_hint=unlock) as lease,
            ):
                if lease.took_over is not None:
                    holder = describe_holder(lease.took_over, time.time())
                    con.print(f"[yellow]Took over the lock of a dead apply: {escape(holder)}.[/yellow]")
                lease.on_lost = lambda reason: stopper.stop(reason, "lock")
                code = await _apply_locked(session, opts, con, stopper, total, leftovers, saved)
        except Interrupted as exc:
            con.print(f"[yellow]Interrupted by {exc}: no work was started, the lock is released.[/yellow]")
            return 128 + exc.signum
        if code is not None and not stopper.signal:
            return code
        total.signal = stopper.signal
        total.settle()
        print_result(con, total)
        print_summary(
            con,
            total,
            stopped=total.stopped or stopper.reason,
            allow_delete=opts.allow_delete,
            leftovers=leftovers,
            # The seasons this apply covered: a bare `reconcile plan` plans the profile's default
            # seasons (2010-2026 on a one-season sandbox), which is not "what is left" of this apply.
            plan_hint=hint("plan", "--seasons", format_seasons(_applied_seasons(opts, saved)), args=opts.hint_args),
        )
        return _exit_code(total, stopper)
    finally:
        session.close()
        if opts.stats:
            print_aws_calls(session.backends)
