"""While fetches run, a converting thread hands the GIL back to the event loop promptly; only then."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import anyio
import pytest

from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.sqlite_state import SqliteState
from reconciler.apply import executor as executor_module
from reconciler.apply.executor import Executor
from reconciler.apply.materialize import Outcome, Response
from reconciler.apply.slots import FETCH_SWITCH_INTERVAL, prompt_handoff
from reconciler.core.observed import ObservedState
from reconciler.core.plan import Action, Plan
from tests.apply.test_fetch_write_overlap import _action, _Client
from tests.core.factories import SPECS


def test_writes_run_under_the_short_switch_interval_and_it_is_restored(tmp_path: Any, monkeypatch: pytest.MonkeyPatch):
    during: list[float] = []

    def write(store: Any, spec: Any, action: Action, responses: Sequence[Response], *_: Any) -> Outcome:
        during.append(sys.getswitchinterval())
        return Outcome(rows_by_unit={k: 1 for k in action.units})

    monkeypatch.setattr(executor_module, "materialize_fetch", write)
    before = sys.getswitchinterval()
    assert before > FETCH_SWITCH_INTERVAL  # Python's default, 5 ms
    state = SqliteState(tmp_path / "s.sqlite")
    ex = Executor(specs=SPECS, store=LocalStore(tmp_path / "lake", create=True), state=state, client=_Client(),
                  observed=ObservedState(seasons=(2024,), targets={}))  # fmt: skip
    try:
        anyio.run(ex.run, Plan.model_construct(), [_action(g) for g in range(1, 4)])
    finally:
        state.close()
    assert during == [FETCH_SWITCH_INTERVAL] * 3
    assert sys.getswitchinterval() == before


def test_an_error_restores_the_interval() -> None:
    before = sys.getswitchinterval()
    with pytest.raises(RuntimeError), prompt_handoff():
        assert sys.getswitchinterval() == FETCH_SWITCH_INTERVAL
        raise RuntimeError("boom")
    assert sys.getswitchinterval() == before
