"""The executor: walks a plan's actions and dispatches ``visit_<type>``.

Rebuilds from the lake run first (no API calls); API fetches run concurrently, paced by the
client. A fetch gives its request slot back as soon as its response(s) have arrived, so the next
request goes out while a big response is still being written. With a spool (as ``reconcile
apply`` runs it), a response is written to local disk as soon as it arrives and the writer reads
it back from there: requests keep the paced rate while up to a backlog of responses wait, and an
apply stopped or killed before writing them replays them instead of fetching again. Without one,
at most ``concurrency`` actions hold responses, which caps memory when writing is slower than
fetching. Each action's data is written before its units are checkpointed. A spent quota, an
exhausted budget or a bad key stops new work cleanly; everything finished stays recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio

from reconciler.apply.derive import materialize_derive
from reconciler.apply.executor_types import ApplyResult, NullProgress
from reconciler.apply.lakeindex import TableIndex
from reconciler.apply.materialize import Outcome, Response, convert_response, materialize_fetch, materialize_rebuild
from reconciler.apply.memory import release_freed_memory
from reconciler.apply.recorder import UnitRecorder
from reconciler.apply.slots import DEFAULT_BACKLOG, Slots, prompt_handoff
from reconciler.apply.spool import Spool, spool_key
from reconciler.apply.windows import fetch_windows, season_windows
from reconciler.core.observed import ExpectedUnit, ObservedState
from reconciler.core.plan import Action, Plan
from reconciler.errors import (
    ApiError,
    ApiUnreachable,
    AuthError,
    BudgetExhausted,
    QuotaExhausted,
    ReconcilerError,
    TransientApiError,
)
from reconciler.ports import QUOTA_META_KEY, ApiClientLike, ObjectStore, ProgressSink, StateStore
from reconciler.spec.models import Spec

__all__ = ["ApiClientLike", "ApplyResult", "Executor", "ProgressSink", "season_windows"]

log = logging.getLogger(__name__)

# The catalog first (registering partitions that hold data touches no data, and what depends on
# it, Athena's view of the lake, is then right), the data actions, then rewrites (a new copy and
# the removal of its original, newest object first), deletions last. Rewrites and deletions
# remove data: they run only with --allow-delete.
MAINTENANCE_ORDER = ("register", "rewrite", "delete")
REMOVES_DATA = frozenset({"relayout", "dedupe", "delete"})


def _maintenance_steps(todo: Sequence[Action], kind: str) -> list[Action]:
    if kind != "rewrite":
        return [a for a in todo if a.type == kind]
    rewrites = [a for a in todo if a.type in ("relayout", "dedupe")]
    # Newest object first: an older object then drops exactly the keys its newer ones kept.
    return sorted(rewrites, key=lambda a: (-float(a.details.get("object", {}).get("mtime", 0.0)), a.address))


def _write_and_release(
    store: ObjectStore,
    spec: Spec,
    action: Action,
    responses: list[Response],
    units: Mapping[str, ExpectedUnit],
    index: TableIndex,
    today: str,
) -> Outcome:
    """Write the responses (:func:`materialize_fetch`), then give the memory freed back to the OS."""
    try:
        return materialize_fetch(store, spec, action, responses, units, index, today)
    finally:
        release_freed_memory()


@dataclass
class Executor:
    """Executes plans.

    Attributes:
        specs: Specs by name.
        store: The object store.
        state: The state store.
        client: The API client (None when the plan needs no API calls).
        observed: A fresh observation (units' seasons, dates; present units).
        concurrency: Actions requesting at once (their request slot is given back once their
            responses have arrived).
        writers: Actions writing their responses to the lake at once.
        progress: Progress sink.
        clock: Returns epoch seconds.
        max_duration: Stop starting new actions this many seconds after ``started``.
        started: When the apply began (epoch seconds; default: when :meth:`run` is called).
        breaker: Stop after this many actions in a row failed transiently (the API is down).
        allow_delete: Execute ``delete`` actions (the user passed --allow-delete and confirmed).
        handlers: Handlers of the non-data action types (register, relayout, dedupe, delete).
        on_written: Called with each fetch/rebuild outcome once its units are recorded (the
            layout registrar notes the partitions written, to register them in the catalog).
        charged: Units an earlier pass of the same apply recorded as failed (before a replan):
            they are not charged another failed apply.
        spool: Where fetched responses wait for the writer, durably (None: they wait in memory,
            and fetching waits for the writer once ``concurrency`` responses are held).
        backlog: Spooled responses that may wait for the writer at once.
    """

    specs: Mapping[str, Spec]
    store: ObjectStore
    state: StateStore
    client: ApiClientLike | None
    observed: ObservedState
    concurrency: int = 3
    writers: int = 1
    progress: ProgressSink = field(default_factory=NullProgress)
    clock: Callable[[], float] = time.time
    max_duration: float | None = None
    started: float | None = None
    breaker: int = 10
    allow_delete: bool = False
    handlers: Mapping[str, Callable[[Action], None]] = field(default_factory=dict)
    on_written: Callable[[Action, Outcome], None] | None = None
    charged: frozenset[tuple[str, str]] = frozenset()
    spool: Spool | None = None
    backlog: int = DEFAULT_BACKLOG
    result: ApplyResult = field(default_factory=ApplyResult)
    _stop: str = ""
    _stop_kind: str = ""
    _fetching: anyio.CancelScope | None = None
    _started: float = 0.0
    _consecutive_transient: int = 0
    _slots: Slots | None = None
    _indexes: dict[str, TableIndex] = field(default_factory=dict)
    _index_lock: threading.Lock = field(default_factory=threading.Lock)
    _finish_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        """Record units through one recorder shared by every action of the run."""
        self.recorder = UnitRecorder(
            self.specs, self.state, self.observed, self.result, self.clock, charged=self.charged
        )

    def request_stop(self, reason: str, kind: str = "signal", *, abandon: bool = False) -> None:
        """Stop taking new actions; in-flight ones finish and are recorded (or are abandoned).

        Args:
            reason: Why (shown in the summary).
            kind: The kind of stop (see :attr:`ApplyResult.stop_kind`).
            abandon: Cancel in-flight requests too, and responses still waiting to be written
                (their units stay unrecorded, so the next apply plans them again); a write
                already running finishes and is recorded first.
        """
        if not self._stop:
            self._stop, self._stop_kind = reason, kind
        if abandon and self._fetching is not None:
            self._fetching.cancel()

    def _units(self, target: str) -> dict[str, ExpectedUnit]:
        t = self.observed.targets.get(target)
        return {u.key: u for u in (t.expected or ())} if t else {}

    def index(self, target: str) -> TableIndex:
        """The silver table of a target as a full scan sees it, shared by this run's writes.

        Args:
            target: A spec name.

        Returns:
            Its index (made on first use; units present at observation are its interest).
        """
        with self._index_lock:
            got = self._indexes.get(target)
            if got is None:
                t = self.observed.targets.get(target)
                got = TableIndex.for_spec(self.store, self.specs[target], t.present if t else ())
                self._indexes[target] = got
            return got

    def _record(self, action: Action, outcome: Outcome | None, error: ReconcilerError | None) -> None:
        """Checkpoint an action's units, then hand what it wrote to ``on_written``: blocking I/O.

        The state store's writes (DynamoDB BatchWriteItem, with its backoff under throttling) and
        the registration of written partitions (Glue) block: fetches call this in a worker
        thread (:meth:`_record_off_loop`), so the event loop, and the API pacing it runs, never waits on
        them. One action finishes at a time: the recorder and the registrar are not shared-safe.
        """
        with self._finish_lock:
            self.recorder.record(action, outcome, error)
            if outcome is not None and self.on_written is not None:
                self.on_written(action, outcome)

    async def _record_off_loop(self, action: Action, outcome: Outcome | None, error: ReconcilerError | None) -> None:
        # Shielded: a stop that abandons the backlog still checkpoints data that was written (to_thread
        # checks for cancellation before it starts the thread, so an unshielded call would skip it).
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(self._record, action, outcome, error)

    def _note_failure(self, action: Action, exc: ReconcilerError) -> None:
        # The units are counted as failed by _record; this keeps the message with them.
        self.result.fail(f"{action.address}: {exc}", tuple((action.target, k) for k in action.units))

    async def _fetch_responses(self, action: Action) -> list[Response]:
        assert self.client is not None and action.request is not None
        if action.details.get("window_days"):
            units = self._units(action.target)
            return await fetch_windows(
                self.client,
                self.store,
                self.state,
                action,
                today=datetime.fromtimestamp(self.clock(), UTC).date().isoformat(),
                check=lambda r: convert_response(self.specs[action.target], action, r, units),
                stopping=lambda: self._stop,
            )
        # Held as bytes until written: decoded, a big body is several times its size.
        # Held compressed (a day of plays shrinks ~8×), compressed as it arrives.
        raw = await self.client.get_json_body(action.request.path, action.request.params, packed=True)
        params = dict(action.details.get("params") or {})
        if raw.packed:
            return [Response(params=params, body=raw.body, where=raw.where, packed=True)]
        # Compressed in a worker thread (zlib releases the GIL): the event loop goes on pacing.
        return [await anyio.to_thread.run_sync(Response.pack, params, raw.body, raw.where)]

    def _check_budget(self) -> None:
        if self.max_duration is not None and self.clock() - self._started > self.max_duration:
            raise BudgetExhausted(f"--max-duration of {self.max_duration:g} s reached")

    def _today(self) -> str:
        """Today's UTC date (ISO), read when a write starts."""
        return datetime.fromtimestamp(self.clock(), UTC).date().isoformat()

    def _spool_key(self, action: Action) -> str | None:
        """The spool key of a one-request action (None: not spooled)."""
        if self.spool is None or action.request is None or action.details.get("window_days"):
            return None
        return spool_key(action.target, action.request.path, action.request.params)

    def _replay(self, action: Action, key: str) -> list[Response] | None:
        """The spooled response of an action, if an earlier apply fetched it and stopped."""
        assert self.spool is not None
        got = self.spool.get(key, action.target)
        if got is None:
            return None
        log.info("spool: %s replayed, not fetched again", action.address)
        self.result.replayed += 1
        return [got]

    def _put(self, action: Action, key: str, responses: list[Response]) -> bool:
        """Spool an action's response; False (it stays in memory) when the spool cannot take it."""
        assert self.spool is not None
        try:
            self.spool.put(key, action.target, responses[0])
        except (OSError, ValueError) as exc:
            log.warning("spool: %s held in memory instead: %s", action.address, exc)
            return False
        return True

    def _write_spooled(
        self, spec: Spec, action: Action, key: str, units: Mapping[str, ExpectedUnit], index: TableIndex, today: str
    ) -> Outcome:
        """Write an action's spooled response, read back from the spool (not held in memory)."""
        assert self.spool is not None
        got = self.spool.get(key, action.target)
        if got is None:
            raise TransientApiError(f"{action.address}: its spooled response is gone; it is fetched again next apply")
        return _write_and_release(self.store, spec, action, [got], units, index, today)

    async def _unspool(self, key: str | None) -> None:
        """Drop a spooled response once its outcome is recorded (no-op for None).

        Shielded: an apply stopped with ``abandon`` still drops the entry of a write it let finish.
        """
        if key is not None and self.spool is not None:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self.spool.drop, key)

    async def _fetch_or_replay(self, action: Action, key: str | None) -> tuple[list[Response], bool]:
        """An action's responses, and whether they are spooled (durable before they are written)."""
        if key is not None:
            replayed = await anyio.to_thread.run_sync(self._replay, action, key)
            if replayed is not None:
                return replayed, True
        self._check_budget()
        responses = await self._fetch_responses(action)
        if key is None:
            return responses, False
        return responses, await anyio.to_thread.run_sync(self._put, action, key, responses)

    async def visit_fetch(self, action: Action) -> None:
        """Fetch an action's request(s) (or replay its spooled response), write the data, checkpoint.

        Args:
            action: A ``fetch`` or ``refetch`` action.
        """
        spec = self.specs[action.target]
        if self._slots is None:
            self._slots = Slots.make(self.concurrency, self.writers, self.backlog)
        slots = self._slots
        key = self._spool_key(action)
        spooled = False
        try:
            units, index = self._units(action.target), self.index(action.target)
            async with slots.held:
                async with slots.fetch:
                    if self._stop:
                        return
                    responses, spooled = await self._fetch_or_replay(action, key)
                # The request slot is free again: the next request goes out while this one is written.
                if not spooled:
                    async with slots.write:
                        outcome = await anyio.to_thread.run_sync(
                            _write_and_release, self.store, spec, action, responses, units, index, self._today()
                        )
            if spooled:
                # Durable in the spool: the held slot is free, and the writer reads the response
                # back from disk (holding it here would keep up to a backlog of bodies in memory).
                assert key is not None
                del responses
                async with slots.write:
                    outcome = await anyio.to_thread.run_sync(
                        self._write_spooled, spec, action, key, units, index, self._today()
                    )
        except (QuotaExhausted, BudgetExhausted, AuthError) as exc:
            kind = {BudgetExhausted: "budget", QuotaExhausted: "quota"}.get(type(exc), "auth")
            self.request_stop(str(exc), kind)
            return
        except ApiUnreachable as exc:
            # The environment's fault, not the units': nothing is recorded against them.
            self.request_stop(str(exc), "unreachable")
            return
        except TransientApiError as exc:
            self._note_failure(action, exc)
            await self._record_off_loop(action, None, exc)
            await self._unspool(key if spooled else None)
            self.progress.advance(action.covers, action.api_calls, "failed")
            self._consecutive_transient += 1
            if self._consecutive_transient >= self.breaker:
                base = getattr(self.client, "base_url", "") or "the API"
                self.request_stop(
                    f"the API at {base} looks unreachable: {self._consecutive_transient} requests in a row failed "
                    f"after all retries (last: {exc})",
                    "unreachable",
                )
            return
        except ApiError as exc:
            # A body that broke the contract is fetched again by the next apply, not replayed.
            self._note_failure(action, exc)
            await self._record_off_loop(action, None, exc)
            await self._unspool(key if spooled else None)
            self.progress.advance(action.covers, action.api_calls, "failed")
            return
        self._consecutive_transient = 0
        await self._record_off_loop(action, outcome, None)
        # Written and checkpointed: the spooled copy has served its purpose.
        await self._unspool(key if spooled else None)
        self.result.actions_done += 1
        self.result.rows += sum(outcome.rows_by_unit.values())
        self.progress.advance(action.covers, action.api_calls, "done")

    visit_refetch = visit_fetch

    def visit_rebuild(self, action: Action) -> None:
        """Rebuild an action's units from bronze, then checkpoint them.

        Args:
            action: A ``rebuild`` action.
        """
        spec = self.specs[action.target]
        units = self._units(action.target)
        if action.details.get("derive"):
            outcome = materialize_derive(self.store, self.specs, action, units, self.index)
        else:
            outcome = materialize_rebuild(self.store, spec, action, units, self.index(action.target))
        self._record(action, outcome, None)  # already in a worker thread (execute runs rebuilds there)
        self.result.actions_done += 1
        self.result.rows += sum(outcome.rows_by_unit.values())
        self.progress.advance(action.covers, 0, "done")

    async def _maintenance(self, todo: Sequence[Action], steps: Sequence[str] = MAINTENANCE_ORDER) -> None:
        """Run the non-data actions of some steps, in a safe order (:data:`MAINTENANCE_ORDER`)."""
        for step in steps:
            for a in _maintenance_steps(todo, step):
                if self._stop:
                    return
                kind = a.type
                if kind in REMOVES_DATA and not self.allow_delete:
                    continue
                handler = self.handlers.get(kind)
                if handler is None:
                    self.result.fail(f"{a.address}: no handler for {kind} actions in this profile")
                    continue
                try:
                    await anyio.to_thread.run_sync(handler, a)
                except ReconcilerError as exc:
                    # One bad maintenance action (e.g. an object changed since the plan) must not
                    # stop the others; it stays in the next plan.
                    self.result.fail(f"{a.address}: {exc}")
                    continue
                self.result.actions_done += 1
                self.result.maintenance[kind] = self.result.maintenance.get(kind, 0) + 1

    async def run(self, plan: Plan, actions: Sequence[Action] | None = None) -> ApplyResult:
        """Execute a plan's data actions (fetch, refetch, rebuild).

        Args:
            plan: The plan.
            actions: A subset to run (default: all data actions of the plan, in order).

        Returns:
            The result.
        """
        self._started = self.started if self.started is not None else self.clock()
        todo = [a for a in (actions if actions is not None else plan.all_actions())]
        data = [a for a in todo if a.type in ("fetch", "refetch", "rebuild")]
        if not self.allow_delete:
            self.result.skipped_deletes = sum(1 for a in todo if a.type in REMOVES_DATA)
        for a in data:
            self.recorder.expect(a)
        self.progress.start(sum(a.covers for a in data), sum(a.api_calls for a in data))
        await self._maintenance(todo, ("register",))
        for a in data:
            if a.type == "rebuild" and not self._stop:
                await anyio.to_thread.run_sync(self.visit_rebuild, a)
        fetches = [a for a in data if a.type != "rebuild"]
        self._slots = slots = Slots.make(self.concurrency, self.writers, self.backlog)
        # The tables are listed before the first request: responses arriving together must not
        # find the writer busy listing (while responses wait to be written, no request starts).
        for target in sorted({a.target for a in fetches}):
            await anyio.to_thread.run_sync(self.index(target).warm)

        async def one(a: Action) -> None:
            async with slots.backlog:
                if self._stop:
                    return
                await self.visit_fetch(a)

        with prompt_handoff():
            async with anyio.create_task_group() as tg:
                self._fetching = tg.cancel_scope
                for a in fetches:
                    tg.start_soon(one, a)
        self._fetching = None
        await self._maintenance(todo, MAINTENANCE_ORDER[1:])
        attempted = {(a.target, k) for a in data for k in a.units if self.recorder.pending[(a.target, k)] == 0}
        self.result.remaining = len({(a.target, k) for a in data for k in a.units} - attempted)
        self.result.stopped = self._stop
        self.result.stop_kind = self._stop_kind
        if self.client is not None:
            self.result.api_calls = self.client.requests_started
            remaining = self.client.last_calllimit_remaining
            if remaining is not None:
                await anyio.to_thread.run_sync(self.state.set_meta, QUOTA_META_KEY, str(remaining))
        return self.result
