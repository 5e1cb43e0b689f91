"""Fetching goes on while a response is written, and the responses held at once stay bounded.

A fake client and a fake ``materialize_fetch`` that blocks until the test lets it go: while the
first action's write is blocked, the executor must have sent the next requests (its request
slots are free again), but no more than its bound of held responses (its concurrency) allows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.sqlite_state import SqliteState
from reconciler.apply import executor as executor_module
from reconciler.apply.executor import Executor
from reconciler.apply.materialize import Outcome, Response
from reconciler.core.observed import ObservedState
from reconciler.core.plan import Action, Plan, Request
from tests.apply.fake_api import FakeBody, FakeResponse
from tests.core.factories import SPECS


@dataclass
class _Client:
    started: list[str] = field(default_factory=list)

    @property
    def requests_started(self) -> int:
        return len(self.started)

    @property
    def last_calllimit_remaining(self) -> int | None:
        return None

    async def get_json_array(self, path: str, params: Mapping[str, Any]) -> FakeResponse:
        raise AssertionError("a single-request action keeps its body undecoded until written")

    async def get_json_body(self, path: str, params: Mapping[str, Any], *, packed: bool = False) -> FakeBody:
        self.started.append(path)
        await anyio.sleep(0)
        return FakeBody(json.dumps([{"gameId": int(path.rsplit("/", 1)[1])}]).encode(), path)


@dataclass
class _BlockingWrites:
    """Stands for materialize_fetch: every write blocks until ``release`` is set."""

    release: threading.Event = field(default_factory=threading.Event)
    writing: int = 0
    most_writing: int = 0
    written: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, store: Any, spec: Any, action: Action, responses: Sequence[Response], *_: Any) -> Outcome:
        with self.lock:
            self.writing += 1
            self.most_writing = max(self.most_writing, self.writing)
        assert self.release.wait(60), "the test never released the writes"
        with self.lock:
            self.writing -= 1
            self.written.append(action.address)
        return Outcome(rows_by_unit={k: len(r.decoded()) for r in responses for k in action.units})


def _action(game: int) -> Action:
    return Action(type="fetch", address=f"plays[season=2024][game={game}]", target="plays", season=2024,
                  strategy="game", request=Request(path=f"/plays/game/{game}"), units=[str(game)], covers=1,
                  api_calls=1)  # fmt: skip


def executor(tmp_path: Any, client: _Client, state: SqliteState, **kw: Any) -> Executor:
    """An executor over a local lake with no observed units (the fake writes stand for the lake)."""
    return Executor(specs=SPECS, store=LocalStore(tmp_path / "lake", create=True), state=state, client=client,
                    observed=ObservedState(seasons=(2024,), targets={}), **kw)  # fmt: skip


def run_while_blocked(
    ex: Executor, actions: list[Action], writes: _BlockingWrites, ready: Callable[[], bool], then: Callable[[], None]
) -> None:
    """Run ``actions``; once ``ready()`` and every task is blocked, call ``then()`` and let the writes go."""

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(ex.run, Plan.model_construct(), actions)
            with anyio.fail_after(60):  # a guard against a hang, not a timing assertion
                while not ready():
                    await anyio.sleep(0.005)
            # Everything that can go on while the writes are blocked has gone on.
            await anyio.wait_all_tasks_blocked()
            then()
            writes.release.set()

    try:
        anyio.run(main)
    finally:
        writes.release.set()


@pytest.mark.parametrize(("concurrency", "writers"), [(2, 1), (3, 1), (3, 2)])
def test_requests_continue_while_a_write_runs_and_held_responses_are_bounded(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, concurrency: int, writers: int
) -> None:
    writes = _BlockingWrites()
    monkeypatch.setattr(executor_module, "materialize_fetch", writes)
    client = _Client()
    state = SqliteState(tmp_path / "s.sqlite")
    ex = executor(tmp_path, client, state, concurrency=concurrency, writers=writers)
    actions = [_action(g) for g in range(1, 13)]
    seen: dict[str, int] = {}

    def snapshot() -> None:
        seen["requests"], seen["writing"] = client.requests_started, writes.writing

    try:
        run_while_blocked(ex, actions, writes, lambda: writes.writing >= writers, snapshot)
    finally:
        state.close()
    # The first actions hold the write slots; the others went on requesting while they wrote,
    # up to the bound of actions past the queue (held = concurrency: a kill -9 loses at most
    # that many fetched responses); nothing more was fetched.
    assert seen["writing"] == writers
    assert seen["requests"] == concurrency > writers
    assert writes.most_writing <= writers
    assert sorted(writes.written) == sorted(a.address for a in actions)
    assert client.requests_started == len(actions)
    assert ex.result.actions_done == len(actions)
