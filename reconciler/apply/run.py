"""The apply command's flow: lock, check or make the plan, confirm, execute, report.

Targets whose expected set was "known after apply" are replanned once their dependencies
have been applied, and executed in the same run.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import anyio
from rich.console import Console
from rich.markup import escape

from reconciler.adapters.factory import spool_path
from reconciler.apply.executor import ApplyResult, Executor
from reconciler.apply.interrupts import Interrupted, Stopper, interruptible
from reconciler.apply.lake_lock import LakeLocks
from reconciler.apply.locks import LAKE_LOCK, describe_holder, hold_lock
from reconciler.apply.memory import limit_malloc_arenas, release_freed_memory, use_system_arrow_pool
from reconciler.apply.report import Leftovers, print_result, print_summary
from reconciler.apply.spool import Spool
from reconciler.config import Profile
from reconciler.core.layout_planner import LAYOUT_TARGET
from reconciler.core.observed import ObservedState
from reconciler.core.plan import Plan, TargetPlan
from reconciler.core.plan_check import check_saved_actions
from reconciler.errors import ConfigError, InputError, ReconcilerError, StalePlan
from reconciler.layout.execute import LayoutApply
from reconciler.render.common import hint
from reconciler.render.text import render_text
from reconciler.seasons import format_seasons
from reconciler.service import Session, layer_map

__all__ = ["ApplyOptions", "run_apply", "stale_reasons"]


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


def _counts(t: TargetPlan) -> dict[str, int]:
    cov = t.coverage.values()
    return {
        "expected": sum(c.expected for c in cov),
        "filled": sum(c.present + c.verified_empty for c in cov),
        "failed": sum(c.failed for c in cov),
        "quarantined": sum(c.quarantined for c in cov),
    }


def stale_reasons(saved: Plan, fresh: Plan) -> list[str]:
    """Say what changed between a saved plan's inputs and the lake now.

    Args:
        saved: The saved plan.
        fresh: A plan computed now, for the same seasons and targets.

    Returns:
        One line per changed side and target (``observed: 12 plays units filled since the plan
        was made``), empty when the saved plan is still valid.
    """
    out = []
    new = {t.target: t for t in fresh.targets}
    for t in saved.targets:
        n = new.get(t.target)
        if n is None:
            continue
        was, now = _counts(t), _counts(n)
        fe = saved.fingerprints.get("expected", {}).get(t.target)
        if fe != fresh.fingerprints.get("expected", {}).get(t.target):
            out.append(
                f"expected: {t.target} expects {now['expected']:,} units now, "
                f"{was['expected']:,} when the plan was made"
            )
        fo = saved.fingerprints.get("observed", {}).get(t.target)
        if fo != fresh.fingerprints.get("observed", {}).get(t.target):
            what = []
            for key, verb in (("filled", "filled"), ("failed", "failed"), ("quarantined", "quarantined")):
                d = now[key] - was[key]
                if d:
                    what.append(f"{abs(d):,} {t.target} units {verb if d > 0 else 'no longer ' + verb}")
            if not what and t.target == LAYOUT_TARGET:
                acts = len(n.actions) - len(t.actions)
                more = f" ({abs(acts):,} {'more' if acts > 0 else 'fewer'} actions)" if acts else ""
                what.append(f"layout state changed{more}: objects, partitions or their records moved")
            elif not what:
                what.append(f"{t.target}: rows or checkpoints of some units changed")
            out.append(f"observed: {', '.join(what)} since the plan was made")
    return out


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


async def _client(profile: Profile, max_requests: int | None) -> object:
    from reconciler.api.client import CbbdClient

    return CbbdClient(profile.api, profile.api_key(), max_requests=max_requests)


async def _execute(
    session: Session,
    plan: Plan,
    observed: ObservedState,
    opts: ApplyOptions,
    con: Console,
    total: ApplyResult,
    client: object | None,
    stopper: Stopper,
    started: float,
) -> ApplyResult:
    from reconciler.cli.progress import RichProgress

    b = session.backends
    specs = {s.name: s for s in session.specs}
    layout = _layout_apply(session, plan)
    # What planning used (the engine's connection, query results) goes back to the OS before
    # responses arrive; a replan opens the engine again.
    idle = getattr(getattr(b, "engine", None), "idle", None)
    if callable(idle):
        idle()
    release_freed_memory()
    with RichProgress(con) as progress:
        ex = Executor(
            specs=specs,
            store=b.store,  # type: ignore[attr-defined]
            state=b.state,  # type: ignore[attr-defined]
            client=client,  # type: ignore[arg-type]
            observed=observed,
            concurrency=session.profile.api.max_concurrency,
            progress=progress,
            max_duration=opts.max_duration,
            started=started,  # one duration budget for the whole apply, however often it replans
            allow_delete=opts.allow_delete,
            handlers=layout.handlers(),
            on_written=layout.on_written,
            # One apply is one failed apply for a unit, however often it replans.
            charged=frozenset(u for u, v in total.outcomes.items() if v == "failed"),
            # Fetched responses wait for the writer on disk: requests keep the paced rate, and a
            # killed apply's fetched-but-unwritten responses are replayed, not fetched again.
            spool=Spool(spool_path(session.profile)) if client is not None else None,
        )
        if stopper.reason:
            ex.request_stop(stopper.reason, stopper.kind)
        stopper.target = ex
        try:
            result = await ex.run(plan)
        finally:
            stopper.target = None
            # Whatever happened, what was written is registered (partitions also go in batches
            # as apply writes them: LayoutApply.on_written).
            flushed = await _flush(layout)
    if flushed:
        result.fail(f"registering the partitions written: {flushed}")
    total.merge(result)
    return result


async def _flush(layout: LayoutApply) -> str:
    """Register the partitions written and not registered yet; the error, if any."""
    try:
        await anyio.to_thread.run_sync(layout.flush)
    except ReconcilerError as exc:
        return str(exc)
    return ""


def _layout_apply(session: Session, plan: Plan) -> LayoutApply:
    """The layout handlers (relayout, dedupe, register, delete) and the written-partition registrar."""
    profile = session.profile
    msck = None
    if profile.catalog.kind == "glue" and profile.engine.kind == "athena":
        from reconciler.layout.msck import MsckRunner

        msck = MsckRunner(profile.engine)
    return LayoutApply.open(
        session.backends,
        {v: k for k, v in layer_map(profile).items()},
        plan.all_actions(),
        method=profile.catalog.partition_registration,
        msck=msck,
    )


def _waiting(plan: Plan) -> list[str]:
    """Targets with units whose expected set or inputs other targets fill first."""
    return [t.target for t in plan.targets if any(c.known_after_apply or c.after_apply for c in t.coverage.values())]


def _planned_units(plan: Plan) -> int:
    return len({(a.target, k) for a in plan.all_actions() for k in a.units})


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
    needs_api = plan.summary.api_calls > 0 or bool(_waiting(plan))
    if stopper.reason:  # the lock was lost while planning: nothing was started
        total.stopped, total.stop_kind, total.remaining = stopper.reason, stopper.kind, _planned_units(plan)
        return None
    client = await _client(profile, opts.max_requests) if needs_api else None
    async with _maybe(client), stopper.watching():
        await _execute(session, plan, observed, opts, con, total, client, stopper, started)
        for _ in range(3):
            pending = _waiting(plan)
            if not pending or total.stopped:
                break
            con.print(f"[bold]Replanning {', '.join(pending)}: their expected sets are known now.[/bold]")
            plan, observed = session.plan(seasons, pending, retry_failed=retry)
            leftovers.note(plan)
            render_text(plan, con, rate=float(profile.api.rate_limit_per_sec))
            if plan.summary.changes == 0:
                break
            await _execute(session, plan, observed, opts, con, total, client, stopper, started)
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
    _preflight(session, plan, opts.allow_delete)
    if not _confirm(con, plan, opts):
        con.print("Apply cancelled.")
        return 0
    return plan, observed, seasons, retry


def _preflight(session: Session, plan: Plan, allow_delete: bool) -> None:
    """What must hold before the first write or API call: a key, a writable lake and send log, permissions."""
    from reconciler.api.client import check_send_log
    from reconciler.preflight import apply_permissions, check_permissions

    profile = session.profile
    if plan.summary.api_calls > 0 or _waiting(plan):
        if profile.api_key() is None:
            raise ConfigError(
                f"CBBD_API_KEY is not set: this apply calls the CBBD API at {profile.api.base_url}; "
                "export CBBD_API_KEY=<your key> and run it again"
            )
        check_send_log()
    check = getattr(session.backends.store, "check_writable", None)  # type: ignore[attr-defined]
    if check is not None:
        check()
    needs = apply_permissions(profile, plan.all_actions(), allow_delete)
    check_permissions(profile, session.backends, needs, "reconcile apply")


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
    from reconciler.cli.plan_cmds import load_plan_file

    # A saved plan is read and its digest checked before anything is opened or locked.
    saved = load_plan_file(opts.plan_file) if opts.plan_file else None
    use_system_arrow_pool()
    limit_malloc_arenas()  # before the engine's and the apply's threads allocate
    session = Session.open(profile)
    try:
        locks = LakeLocks(session.backends.store)  # type: ignore[attr-defined]
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
            from reconciler.cli.common import print_aws_calls

            print_aws_calls(session.backends)


@asynccontextmanager
async def _maybe(client: object | None) -> AsyncIterator[None]:
    if client is None:
        yield
        return
    async with client:  # type: ignore[attr-defined]
        yield
