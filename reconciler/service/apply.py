"""Apply a plan, with no user interface: execute it, register what was written, replan what waited.

The CLI's apply command (:mod:`reconciler.cli.apply_run`) takes the lock, plans or checks a saved
plan, asks for confirmation and prints; this module does the work between, through the
session's ports, an API client and a progress sink. Targets whose expected set was "known after
apply" are replanned once their dependencies have been applied, and executed in the same run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass

import anyio

from reconciler.adapters.factory import spool_path
from reconciler.apply.executor import ApplyResult, Executor
from reconciler.apply.interrupts import Stopper
from reconciler.apply.layout_execute import LayoutApply
from reconciler.apply.memory import release_freed_memory
from reconciler.apply.spool import Spool
from reconciler.core.observed import ObservedState
from reconciler.core.plan import Plan
from reconciler.errors import ConfigError, ReconcilerError
from reconciler.ports import ApiClientLike, ProgressSink
from reconciler.service.session import Session, layer_map

__all__ = ["ApplyRun", "apply_plan", "check_apply_preconditions", "planned_units", "waiting_targets"]


@dataclass(frozen=True)
class ApplyRun:
    """How one apply runs (the parts of the command's options the work itself needs).

    Attributes:
        seasons: The seasons replans cover.
        retry_failed: Replans re-plan quarantined units too.
        allow_delete: Actions that remove data may run.
        max_duration: Seconds the whole apply may take (every replan included), or None.
        started: When the apply started (epoch seconds): one duration budget for all its passes.
    """

    seasons: tuple[int, ...]
    retry_failed: bool = False
    allow_delete: bool = False
    max_duration: float | None = None
    started: float = 0.0


def waiting_targets(plan: Plan) -> list[str]:
    """Targets with units whose expected set or inputs other targets fill first.

    Args:
        plan: The plan.

    Returns:
        Their names, in plan order.
    """
    return [t.target for t in plan.targets if any(c.known_after_apply or c.after_apply for c in t.coverage.values())]


def planned_units(plan: Plan) -> int:
    """Distinct (target, unit) pairs the plan's actions name.

    Args:
        plan: The plan.

    Returns:
        The count.
    """
    return len({(a.target, k) for a in plan.all_actions() for k in a.units})


def check_apply_preconditions(session: Session, plan: Plan, allow_delete: bool) -> None:
    """What must hold before the first write or API call: a key, a writable lake and send log, permissions.

    Args:
        session: The open session.
        plan: The plan about to be applied.
        allow_delete: Whether actions that remove data will run (they need more permissions).

    Raises:
        ConfigError: If the plan calls the API and no key is set.
        ReconcilerError: If the lake or the send log is not writable, or permissions are missing.
    """
    from reconciler.api.client import check_send_log
    from reconciler.preflight import apply_permissions, check_permissions

    profile = session.profile
    if plan.summary.api_calls > 0 or waiting_targets(plan):
        if profile.api_key() is None:
            raise ConfigError(
                f"CBBD_API_KEY is not set: this apply calls the CBBD API at {profile.api.base_url}; "
                "export CBBD_API_KEY=<your key> and run it again"
            )
        check_send_log()
    check = getattr(session.backends.store, "check_writable", None)
    if check is not None:
        check()
    needs = apply_permissions(profile, plan.all_actions(), allow_delete)
    check_permissions(profile, session.backends, needs, "reconcile apply")


async def apply_plan(
    session: Session,
    plan: Plan,
    observed: ObservedState,
    client: ApiClientLike | None,
    progress: Callable[[], AbstractContextManager[ProgressSink]],
    run: ApplyRun,
    stopper: Stopper,
    total: ApplyResult,
    replanning: Callable[[Sequence[str]], None] = lambda targets: None,
    replanned: Callable[[Plan], None] = lambda plan: None,
) -> None:
    """Execute a confirmed plan, then replan and execute the targets that waited (at most 3 times).

    Args:
        session: The open session (its ports, specs and profile).
        plan: The plan.
        observed: What the plan was made from.
        client: The API client, open or not (None when the plan makes no API call).
        progress: Opens the progress sink of one pass (the CLI's bar, shown while it runs).
        run: How the apply runs.
        stopper: Stops the work cleanly (signals, a lost lock); its reason is noted in ``total``.
        total: The apply's result so far, merged with each pass's.
        replanning: Told of each replan before it starts, with the targets it replans.
        replanned: Given each replan's plan (the CLI shows it).
    """
    async with _maybe(client), stopper.watching():
        await _execute(session, plan, observed, client, progress, run, stopper, total)
        for _ in range(3):
            pending = waiting_targets(plan)
            if not pending or total.stopped:
                break
            replanning(pending)
            plan, observed = session.plan(run.seasons, pending, retry_failed=run.retry_failed)
            replanned(plan)
            if plan.summary.changes == 0:
                break
            await _execute(session, plan, observed, client, progress, run, stopper, total)


async def _execute(
    session: Session,
    plan: Plan,
    observed: ObservedState,
    client: ApiClientLike | None,
    progress: Callable[[], AbstractContextManager[ProgressSink]],
    run: ApplyRun,
    stopper: Stopper,
    total: ApplyResult,
) -> ApplyResult:
    """One pass of the executor over a plan, the layout handlers and registrar with it."""
    b = session.backends
    specs = {s.name: s for s in session.specs}
    layout = _layout_apply(session, plan)
    # What planning used (the engine's connection, query results) goes back to the OS before
    # responses arrive; a replan opens the engine again.
    idle = getattr(b.engine, "idle", None)
    if callable(idle):
        idle()
    release_freed_memory()
    with progress() as sink:
        ex = Executor(
            specs=specs,
            store=b.store,
            state=b.state,
            client=client,
            observed=observed,
            concurrency=session.profile.api.max_concurrency,
            progress=sink,
            max_duration=run.max_duration,
            started=run.started,  # one duration budget for the whole apply, however often it replans
            allow_delete=run.allow_delete,
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
        from reconciler.adapters.msck import MsckRunner

        msck = MsckRunner(profile.engine)
    return LayoutApply.open(
        session.backends,
        {v: k for k, v in layer_map(profile).items()},
        plan.all_actions(),
        method=profile.catalog.partition_registration,
        msck=msck,
    )


@asynccontextmanager
async def _maybe(client: ApiClientLike | None) -> AsyncIterator[None]:
    if client is None:
        yield
        return
    async with client:
        yield
