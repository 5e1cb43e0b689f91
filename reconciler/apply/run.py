"""The apply command's flow: lock, check or make the plan, confirm, execute, report.

Targets whose expected set was "known after apply" are replanned once their dependencies
have been applied, and executed in the same run.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
from rich.console import Console
from rich.table import Table

from reconciler.apply.executor import ApplyResult, Executor
from reconciler.config import Profile
from reconciler.core.layout_planner import LAYOUT_TARGET, PARTITIONS_TARGET
from reconciler.core.observed import ObservedState
from reconciler.core.plan import Plan
from reconciler.errors import InputError, LockHeld, ReconcilerError, StalePlan
from reconciler.layout.execute import LayoutApply
from reconciler.ports import LockInfo, StateStore
from reconciler.render.common import NO_CHANGES
from reconciler.render.text import render_text
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


def stale_reasons(saved: Plan, fresh: Plan) -> list[str]:
    """Say what changed between a saved plan's inputs and the lake now.

    Args:
        saved: The saved plan.
        fresh: A plan computed now, for the same seasons and targets.

    Returns:
        One line per changed side, empty when the saved plan is still valid.
    """
    out = []
    new = {t.target: t for t in fresh.targets}
    for t in saved.targets:
        n = new.get(t.target)
        fe = saved.fingerprints.get("expected", {}).get(t.target)
        fo = saved.fingerprints.get("observed", {}).get(t.target)
        if n is None:
            continue
        if fe != fresh.fingerprints.get("expected", {}).get(t.target):
            was = sum(c.expected for c in t.coverage.values())
            now = sum(c.expected for c in n.coverage.values())
            out.append(f"expected: {t.target} expects {now:,} units now, {was:,} when the plan was made")
        if fo != fresh.fingerprints.get("observed", {}).get(t.target):
            was = sum(c.present for c in t.coverage.values())
            now = sum(c.present for c in n.coverage.values())
            d = now - was
            what = f"{abs(d):,} {t.target} units {'filled' if d >= 0 else 'lost'}" if d else f"{t.target} state changed"
            out.append(f"observed: {what} since the plan was made")
    return out


@asynccontextmanager
async def held_locks(state: StateStore, ids: Sequence[str], command: str, host: str, ttl: float) -> AsyncIterator[str]:
    """Hold lease locks on targets for the duration of an apply, renewing them by heartbeat.

    Args:
        state: The state store.
        ids: Lock ids (target names), acquired in sorted order.
        command: The command line, for ``locks list``.
        host: This host.
        ttl: Lease length in seconds.

    Yields:
        The owner id.

    Raises:
        LockHeld: When another apply holds one of the locks.
    """
    owner = uuid.uuid4().hex
    taken: list[str] = []
    try:
        for lock_id in sorted(set(ids)):
            now = time.time()
            info = LockInfo(lock_id, owner, host, os.getpid(), command, now, now + ttl)
            holder = state.acquire_lock(info, now)
            if holder is not None:
                age = now - holder.created_at
                raise LockHeld(
                    f"target {lock_id!r} is locked by {holder.owner[:8]} ({holder.command!r} on {holder.host}, "
                    f"pid {holder.pid}, {age:.0f} s ago, expires in {holder.expires_at - now:.0f} s); "
                    f"if it is dead: reconcile force-unlock {lock_id}"
                )
            taken.append(lock_id)
        try:
            async with anyio.create_task_group() as tg:

                async def beat() -> None:
                    while True:
                        await anyio.sleep(ttl / 3)
                        for lock_id in taken:
                            state.renew_lock(lock_id, owner, time.time() + ttl)

                tg.start_soon(beat)
                try:
                    yield owner
                finally:
                    tg.cancel_scope.cancel()
        except BaseExceptionGroup as group:
            # The task group wraps an error of the apply's body (a stale plan, a refused
            # confirmation); re-raise it as itself so the CLI prints its one red line.
            if len(group.exceptions) == 1:
                raise group.exceptions[0] from None
            raise
    finally:
        for lock_id in taken:
            state.release_lock(lock_id, owner)


def _print_result(con: Console, result: ApplyResult) -> None:
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
    for e in result.errors[:5]:
        con.print(f"[red]  failed: {e}[/red]")
    if len(result.errors) > 5:
        con.print(f"[red]  … +{len(result.errors) - 5} more failures (they stay in the plan)[/red]")


def _confirm(con: Console, plan: Plan, opts: ApplyOptions) -> bool:
    if opts.allow_delete and plan.summary.delete:
        con.print(
            f"[bold red]--allow-delete: this apply deletes the {plan.summary.delete:,} items listed above.[/bold red]"
        )
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
) -> ApplyResult:
    from reconciler.cli.progress import RichProgress

    b = session.backends
    specs = {s.name: s for s in session.specs}
    layout = _layout_apply(session, plan)
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
            allow_delete=opts.allow_delete,
            handlers=layout.handlers(),
            on_written=layout.on_written,
        )
        async with anyio.create_task_group() as tg:

            async def watch_signals() -> None:
                with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
                    async for signum in signals:
                        name = signal.Signals(signum).name
                        total.signal = signum
                        ex.request_stop(f"interrupted by {name}; in-flight requests drained")

            tg.start_soon(watch_signals)
            result = await ex.run(plan)
            tg.cancel_scope.cancel()
    try:
        await anyio.to_thread.run_sync(layout.flush)
    except ReconcilerError as exc:
        result.errors.append(f"registering the partitions written: {exc}")
        result.failed += 1
    for f in ("done", "empty", "failed", "actions_done", "rows", "skipped_deletes"):
        setattr(total, f, getattr(total, f) + getattr(result, f))
    for kind, n in result.maintenance.items():
        total.maintenance[kind] = total.maintenance.get(kind, 0) + n
    total.remaining = result.remaining
    total.api_calls = result.api_calls
    total.errors.extend(result.errors)
    total.stopped = result.stopped
    return result


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


async def run_apply(profile: Profile, opts: ApplyOptions, con: Console) -> int:
    """Run an apply end to end.

    Args:
        profile: The profile.
        opts: Options.
        con: The console.

    Returns:
        The exit code: 0 when everything planned was done (or a budget stopped it cleanly),
        1 when units failed, the quota ran out or the key was refused.

    Raises:
        StalePlan: When a saved plan no longer matches the lake (and --replan is not given).
    """
    from reconciler.cli.plan_cmds import load_plan_file

    session = Session.open(profile)
    try:
        targets = opts.targets
        saved = load_plan_file(opts.plan_file) if opts.plan_file else None
        seasons = tuple(saved.season_list) if saved else opts.seasons
        if saved is not None and not targets:
            targets = tuple(t.target for t in saved.targets)
        lock_ids = [t.split("[", 1)[0].split(".", 1)[0] for t in targets] or [s.name for s in session.specs]
        lock_ids = [LAYOUT_TARGET if t == PARTITIONS_TARGET else t for t in lock_ids]
        if not targets:
            lock_ids.append(LAYOUT_TARGET)
        state = session.backends.state  # type: ignore[attr-defined]
        async with held_locks(state, lock_ids, opts.command, opts.host, profile.state.lock_ttl_seconds):
            plan, observed = session.plan(seasons, targets, retry_failed=opts.retry_failed)
            if saved is not None:
                reasons = stale_reasons(saved, plan)
                if reasons and not opts.replan:
                    raise StalePlan(
                        f"{opts.plan_file}: the lake changed since the plan was made: " + "; ".join(reasons)
                    )
                if not reasons:
                    plan = saved
            render_text(plan, con, rate=float(profile.api.rate_limit_per_sec))
            if plan.summary.changes == 0:
                return 0
            if not _confirm(con, plan, opts):
                con.print("Apply cancelled.")
                return 0
            total = ApplyResult()
            needs_api = plan.summary.api_calls > 0 or any(
                c.known_after_apply for t in plan.targets for c in t.coverage.values()
            )
            client = await _client(profile, opts.max_requests) if needs_api else None
            async with _maybe(client):
                await _execute(session, plan, observed, opts, con, total, client)
                for _ in range(3):
                    pending = [t.target for t in plan.targets if any(c.known_after_apply for c in t.coverage.values())]
                    if not pending or total.stopped:
                        break
                    con.print(f"[bold]Replanning {', '.join(pending)}: their expected sets are known now.[/bold]")
                    plan, observed = session.plan(seasons, pending, retry_failed=opts.retry_failed)
                    render_text(plan, con, rate=float(profile.api.rate_limit_per_sec))
                    if plan.summary.changes == 0:
                        break
                    await _execute(session, plan, observed, opts, con, total, client)
        _print_result(con, total)
        if total.maintenance:
            done = ", ".join(f"{n:,} {kind}" for kind, n in sorted(total.maintenance.items()))
            con.print(f"Layout actions done: {done}.")
        if total.skipped_deletes and not opts.allow_delete:
            con.print(
                f"[red]Left {total.skipped_deletes:,} delete actions (listed under Deletions above): "
                "run apply with --allow-delete to execute them.[/red]"
            )
        if total.stopped:
            con.print(f"[yellow]Stopped: {total.stopped}.[/yellow]")
            con.print("[yellow]Everything finished is recorded; run apply again to resume.[/yellow]")
            if total.signal:
                return 128 + total.signal
            return 0 if "max-requests" in total.stopped or "max-duration" in total.stopped else 1
        if total.failed:
            con.print("[yellow]Some units failed; they stay in the plan and are retried by the next apply.[/yellow]")
            return 1
        clean = total.remaining == 0 and not (total.skipped_deletes and not opts.allow_delete)
        con.print(f"[green]Apply complete.[/green] {NO_CHANGES if clean else ''}".rstrip())
        return 0
    finally:
        session.close()


@asynccontextmanager
async def _maybe(client: object | None) -> AsyncIterator[None]:
    if client is None:
        yield
        return
    async with client:  # type: ignore[attr-defined]
        yield
