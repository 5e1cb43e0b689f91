"""A unit filled by several requests is recorded done only when every one of them succeeded."""

from __future__ import annotations

from reconciler.adapters.local_store import LocalStore
from reconciler.adapters.sqlite_state import SqliteState
from reconciler.apply.executor import Executor
from reconciler.apply.materialize import Outcome
from reconciler.core.observed import ObservedState
from reconciler.core.plan import Action
from reconciler.errors import TransientApiError
from tests.core.factories import SPECS


def _action(team: str) -> Action:
    return Action(type="fetch", address=f"substitutions[season=2024][team={team}]", target="substitutions",
                  season=2024, strategy="team", units=["1"], covers=1)  # fmt: skip


def _executor(tmp_path, state):
    ex = Executor(specs=SPECS, store=LocalStore(tmp_path / "lake", create=True), state=state, client=None,
                  observed=ObservedState(seasons=(2024,), targets={}))  # fmt: skip
    ex.recorder.pending[("substitutions", "1")] = 2
    return ex


def test_one_side_failing_leaves_the_unit_failed_whatever_the_order(tmp_path):
    for first_fails in (True, False):
        state = SqliteState(tmp_path / f"s{first_fails}.sqlite")
        ex = _executor(tmp_path, state)
        ok = Outcome(rows_by_unit={"1": 40})
        err = TransientApiError("504 after retries")
        steps = [(_action("Duke"), None, err), (_action("Kansas"), ok, None)]
        for action, outcome, error in steps if first_fails else reversed(steps):
            ex._record(action, outcome, error)
        assert state.load_units("substitutions")["1"].status == "failed", first_fails
        state.close()


def test_both_sides_succeeding_records_done_with_all_rows(tmp_path):
    state = SqliteState(tmp_path / "s.sqlite")
    ex = _executor(tmp_path, state)
    ex._record(_action("Duke"), Outcome(rows_by_unit={"1": 40}), None)
    assert "1" not in state.load_units("substitutions")  # not before the other side is in
    ex._record(_action("Kansas"), Outcome(rows_by_unit={"1": 38}), None)
    rec = state.load_units("substitutions")["1"]
    assert (rec.status, rec.rows) == ("done", 78)
    state.close()
