"""Property tests of the apply state machine: any schedule of faults and interruptions converges.

Each example copies a small sandbox lake, runs a few applies in process (the real observer,
planner and Executor; a fake API over the synthetic universe) under a random fault schedule,
each possibly "killed" (an exception that stops everything at a request, a write or a
checkpoint, as kill -9 would) or stopped gracefully after k actions. Then fault-free applies
(with --retry-failed, since terminal faults quarantine units) must reach "No changes" with
silver equal, row for row, to a run that never failed, and no duplicate keys.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.apply.executor import Executor
from reconciler.apply.spool import Spool
from reconciler.config import load_profile
from reconciler.sandbox import load_universe_from_config
from reconciler.service import Session
from reconciler.sim.app import SimApp
from tests.apply.fake_api import CrashingState, CrashingStore, FakeApi, crashed, leaves
from tests.apply_helpers import duplicates, silver_contents
from tests.e2e_helpers import make_sandbox

SEASONS = (2016,)
DATA_TARGETS = ("games", "plays", "substitutions", "lineups")


@dataclass
class _StopAfter:
    """A progress sink that stops the executor gracefully after ``n`` actions."""

    n: int | None
    ex: Executor | None = None
    seen: int = 0

    def start(self, total_units: int, total_calls: int) -> None:
        pass

    def advance(self, units: int, calls: int, status: str) -> None:
        self.seen += 1
        if self.n is not None and self.seen >= self.n and self.ex is not None:
            self.ex.request_stop("stopped by the test", "signal")


def apply_once(
    cfg: Path,
    app: SimApp,
    *,
    rates: dict[str, float] | None = None,
    seed: int = 0,
    crash_request: int | None = None,
    crash_put: int | None = None,
    crash_checkpoint: int | None = None,
    stop_after: int | None = None,
    retry_failed: bool = True,
) -> str:
    """Plan and execute once in process, as one `reconcile apply` would; returns how it ended."""
    session = Session.open(load_profile(cfg, None))
    try:
        # The data targets only: this in-process executor has no layout handlers
        # (reconciler/service/apply.py adds them).
        plan, observed = session.plan(SEASONS, DATA_TARGETS, retry_failed=retry_failed)
        if plan.summary.changes == 0:
            return "no changes"
        b: Any = session.backends
        sink = _StopAfter(stop_after)
        ex = Executor(
            specs={s.name: s for s in session.specs},
            store=CrashingStore(b.store, crash_put),  # type: ignore[arg-type]
            state=CrashingState(b.state, crash_checkpoint),  # type: ignore[arg-type]
            client=FakeApi(app, rates or {}, seed, crash_request),
            observed=observed,
            concurrency=2,
            progress=sink,
            # Responses wait for the writer in the spool, as in `reconcile apply`: a crash after a
            # response was spooled leaves it for the next apply to replay.
            spool=Spool(cfg.parent / ".reconcile" / "spool"),
        )
        sink.ex = ex
        try:
            result = anyio.run(ex.run, plan)
        except BaseException as exc:
            if not crashed(exc):
                raise AssertionError(f"apply failed: {[repr(e) for e in leaves(exc)]}") from exc
            return "crashed"
        return f"stopped: {result.stopped}" if result.stopped else f"done ({result.failed} failed)"
    finally:
        session.close()


def converge(cfg: Path, app: SimApp) -> list[str]:
    """Fault-free applies until the plan says No changes."""
    outcomes = []
    for _ in range(5):
        outcomes.append(apply_once(cfg, app))
        if outcomes[-1] == "no changes":
            return outcomes
    raise AssertionError(f"no convergence: {outcomes}")


class _Lake(tuple):  # type: ignore[type-arg]
    """(base dir, API, reference silver); a short repr, since hypothesis prints failing arguments."""

    def __repr__(self) -> str:
        return f"lake({self[0]})"


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SimApp, dict[str, Any]]:
    """A one-season sandbox, its API, and the silver of a run that never failed."""
    root = tmp_path_factory.mktemp("sm")
    cfg, _, _ = make_sandbox(root / "base", seasons="2016", scale=0.003)
    app = SimApp(load_universe_from_config(cfg))
    ref = root / "ref"
    shutil.copytree(cfg.parent, ref)
    converge(ref / "config.yaml", app)
    return _Lake((cfg.parent, app, silver_contents(ref / "lake")))


RATES = st.fixed_dictionaries(
    {
        "transient": st.sampled_from([0.0, 0.1, 0.3]),
        "terminal": st.sampled_from([0.0, 0.05, 0.2]),
        "bad_payload": st.sampled_from([0.0, 0.05, 0.2]),
        "quota": st.sampled_from([0.0, 0.0, 0.03]),
    }
)
INTERRUPTION = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["crash_request", "crash_put", "crash_checkpoint", "stop_after"]), st.integers(1, 40)),
)
STEP = st.tuples(RATES, st.integers(0, 2**16), INTERRUPTION, st.booleans())


def _check(
    lake: tuple[Path, SimApp, dict[str, Any]], tmp: pytest.TempPathFactory, steps: list[Any], drop_games: bool
) -> None:
    base, app, reference = lake
    work = tmp.mktemp("ex") / "sb"
    shutil.copytree(base, work)
    cfg = work / "config.yaml"
    if drop_games:  # the season of games is fetched again: 13 windowed requests for one unit
        shutil.rmtree(work / "lake" / "silver" / "fct_games" / "season=2016")
    for rates, seed, interruption, retry_failed in steps:
        kw: dict[str, Any] = {interruption[0]: interruption[1]} if interruption else {}
        apply_once(cfg, app, rates=rates, seed=seed, retry_failed=retry_failed, **kw)
    converge(cfg, app)
    assert duplicates(work / "lake") == {}
    got = silver_contents(work / "lake")
    assert got.keys() == reference.keys()
    for table, rows in reference.items():
        assert got[table] == rows, table


# Random examples on every run (never derandomized); a failure prints the blob that reproduces it.
_SETTINGS = {
    "deadline": None,
    "derandomize": False,
    "database": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.function_scoped_fixture],
}


@settings(max_examples=3, **_SETTINGS)
@given(steps=st.lists(STEP, min_size=1, max_size=3), drop_games=st.booleans())
def test_any_schedule_of_faults_and_interruptions_converges(lake, tmp_path_factory, steps, drop_games):
    _check(lake, tmp_path_factory, steps, drop_games)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@settings(max_examples=60, **_SETTINGS)
@given(steps=st.lists(STEP, min_size=1, max_size=5), drop_games=st.booleans())
def test_any_schedule_converges_many_examples(lake, tmp_path_factory, steps, drop_games):
    _check(lake, tmp_path_factory, steps, drop_games)
