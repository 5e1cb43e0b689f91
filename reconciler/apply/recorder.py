"""Checkpointing units as an apply's actions finish: done, verified empty, or failed.

A unit is recorded once every action it needs has finished (a game fetched per team needs both
teams' requests). An empty answer is recorded as ``empty`` (verified empty: the API has nothing
for it) only from an action that speaks for the unit: an API request its strategy makes for
that unit, or a derivation from verified inputs. A request that does not cover the unit, or a
rebuild from bronze that found no rows of it, is a failure, never a verified empty.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from reconciler.apply.executor_types import ApplyResult
from reconciler.apply.materialize import Outcome
from reconciler.apply.windows import forget_windows
from reconciler.core.observed import ExpectedUnit, ObservedState
from reconciler.core.plan import Action
from reconciler.core.requests import nparts_of, request_index
from reconciler.errors import LakeError, ReconcilerError, TransientApiError
from reconciler.ports import StateStore, UnitRecord
from reconciler.spec.models import Spec

__all__ = ["UnitRecorder"]

Unit = tuple[str, str]


@dataclass
class UnitRecorder:
    """Records the units of finished actions in the state store, and their outcomes in the result.

    Attributes:
        specs: Specs by name.
        state: The state store.
        observed: The observation the plan was made from (units; prior failure counts).
        result: The run's result (outcomes, counts and failures are noted there).
        clock: Epoch seconds.
        pending: Actions still to finish, per unit.
        charged: Units already charged a failed apply by an earlier pass of this apply (before a
            replan): failing again in the same apply does not count another one, so the replans
            of one apply never quarantine a unit (``expect.max_failed_applies`` counts applies).
    """

    specs: Mapping[str, Spec]
    state: StateStore
    observed: ObservedState
    result: ApplyResult
    clock: Callable[[], float]
    pending: Counter[Unit] = field(default_factory=Counter)
    charged: frozenset[Unit] = frozenset()
    _rows: Counter[Unit] = field(default_factory=Counter)
    _failed: set[Unit] = field(default_factory=set)
    _units: dict[str, dict[str, ExpectedUnit]] = field(default_factory=dict)

    def expect(self, action: Action) -> None:
        """Note that an action of the run will finish for its units.

        Args:
            action: A data action (fetch, refetch, rebuild).
        """
        for k in action.units:
            self.pending[(action.target, k)] += 1

    def _unit(self, target: str, key: str) -> ExpectedUnit | None:
        if target not in self._units:
            t = self.observed.targets.get(target)
            self._units[target] = {u.key: u for u in (t.expected or ())} if t else {}
        return self._units[target].get(key)

    def covers(self, action: Action, key: str) -> bool:
        """Whether an empty answer to this action says something about a unit.

        Args:
            action: The finished action.
            key: One of its units.

        Returns:
            True for an API request its strategy makes for the unit, and for a derivation.
        """
        spec = self.specs.get(action.target)
        unit = self._unit(action.target, key)
        if spec is None or unit is None:
            return False
        strategy = next((s for s in spec.fetch if s.name == action.strategy), None)
        if strategy is None:
            return False
        if action.type == "rebuild":
            return strategy.source == "derive"
        raw = action.details.get("params")
        params = tuple(sorted(raw.items())) if isinstance(raw, dict) else ()
        reqs = request_index(strategy, [unit], nparts_of(spec))[0]
        return params in {p for p, _ in reqs}

    def record(self, action: Action, outcome: Outcome | None, error: ReconcilerError | None) -> None:
        """Record an action's units after it finished (its data written) or failed.

        Args:
            action: The action.
            outcome: What it wrote (None when it failed).
            error: Why it failed (None when it did not).
        """
        now = self.clock()
        target = action.target
        prior = self.observed.targets[target].states if target in self.observed.targets else {}
        records = []
        for k in action.units:
            unit = (target, k)
            self.pending[unit] -= 1
            err: ReconcilerError | None = error
            if error is None:
                assert outcome is not None
                self._rows[unit] += outcome.rows_by_unit.get(k, 0)
                if self.pending[unit] > 0 or unit in self._failed:
                    # Another request this unit needs failed (e.g. one team's substitutions): its
                    # "failed" record stands, so the next plan fetches the unit again.
                    continue
                n = self._rows[unit]
                has = k in outcome.rows_by_unit or n > 0
                if has or self.covers(action, k):
                    status: Literal["done", "empty"] = "done" if has else "empty"
                    # An empty answer is recorded even where the spec does not trust empties
                    # (``empty_response.record: false``): it replaces an earlier failure of the
                    # unit, and the planner then plans it again as missing, never as settled.
                    extra = {"address": action.address}
                    records.append(
                        UnitRecord(target, k, status, rows=n, updated_at=now, season=action.season, extra=extra)
                    )
                    self.result.outcomes[unit] = status
                    if status == "done":
                        self.result.done += 1
                    else:
                        self.result.empty += 1
                    continue
                # No rows, from an action that does not speak for the unit: never "verified empty".
                what = "bronze holds no rows of it" if action.type == "rebuild" else "the request does not cover it"
                err = LakeError(f"{action.address}: no rows for unit {k} ({what})")
                self.result.fail(str(err), (unit,))
            assert err is not None
            self._failed.add(unit)
            before = prior[k].attempts if k in prior and prior[k].status == "failed" else 0
            attempts = max(before, 1) if unit in self.charged else before + 1
            msg = f"{type(err).__name__}: {err}"
            records.append(UnitRecord(target, k, "failed", attempts=attempts, error=msg, updated_at=now))
            self.result.outcomes[unit] = "failed"
            self.result.failed += 1
        self.state.record_units(records)
        if not isinstance(error, TransientApiError):  # a transient failure resumes from its windows
            forget_windows(self.state, action)
