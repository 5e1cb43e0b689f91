"""Whether a saved plan is still true of the lake, action by action (before ``apply PLAN_FILE`` runs it).

The plan file's digest (:func:`reconciler.core.plan.check_digest`) catches an edited file; this
catches a plan that, edited and re-digested or simply stale in a way the fingerprints miss, asks
for something the lake does not need or the spec would never do. Against a fresh observation:

* every unit an action names is expected, needs work (missing, incomplete, or failed and not
  quarantined), is of the action's season, and is in no other action (save the one request per
  team of a ``match: all`` unit);
* an API action's request is one its strategy makes for each of those units, and the action is
  exactly what :func:`reconciler.core.actions.api_action` builds for them (address, request,
  endpoint, raw and bronze directories, windows, calls);
* a rebuild names units bronze holds completely (``source: bronze``) or whose inputs are ready
  (``source: derive``), grouped by their own partition, as :func:`~reconciler.core.actions.lake_action`
  builds it;
* a layout action is one a fresh layout plan has, unchanged.

Pure (no I/O).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from reconciler.core.actions import api_action, lake_action
from reconciler.core.classify import Inputs, Work, classify
from reconciler.core.layout_planner import LAYOUT_TARGET
from reconciler.core.observed import ExpectedUnit, ObservedState
from reconciler.core.options import PlanOptions
from reconciler.core.plan import Action, Plan, TargetPlan
from reconciler.core.requests import calls_of, group_params, nparts_of, request_index
from reconciler.spec.models import FetchStrategy, Spec

__all__ = ["check_saved_actions"]

_COMPARED = ("type", "address", "target", "season", "strategy", "request", "covers", "units", "api_calls", "details")


def _params(action: Action) -> tuple[tuple[str, Any], ...]:
    raw = action.details.get("params")
    return tuple(sorted(raw.items())) if isinstance(raw, dict) else ()


def _differs(saved: Action, canonical: Action) -> str:
    mine, want = saved.model_dump(include=set(_COMPARED)), canonical.model_dump(include=set(_COMPARED))
    for f in _COMPARED:
        if mine.get(f) != want.get(f):
            return f"its {f} is {mine.get(f)!r}, where the spec's strategy {saved.strategy!r} gives {want.get(f)!r}"
    return ""


class _Checker:
    """The checks of one saved plan against one fresh observation."""

    def __init__(
        self, specs: Sequence[Spec], observed: ObservedState, opts: PlanOptions, now: datetime, fresh: Plan
    ) -> None:
        self.specs = {s.name: s for s in specs}
        self.observed = observed
        self.opts = opts
        self.now = now
        self.fresh_layout = {a.address: a for t in fresh.targets for a in t.actions if a.target not in self.specs}
        self._work: dict[str, tuple[dict[str, ExpectedUnit], Work]] = {}
        self.inputs = Inputs(specs=self.specs, observed=observed, pending={})

    def work(self, target: str) -> tuple[dict[str, ExpectedUnit], Work]:
        got = self._work.get(target)
        if got is None:
            obs = self.observed.targets[target]
            _, work, _ = classify(self.specs[target], obs, self.opts, self.now)
            got = ({u.key: u for u in obs.expected or ()}, work)
            self._work[target] = got
        return got

    def units(self, a: Action, spec: Spec) -> tuple[list[ExpectedUnit], str]:
        if not a.units:
            return [], "it names no unit"
        if len(set(a.units)) != len(a.units):
            return [], "it names a unit twice"
        obs = self.observed.targets.get(spec.name)
        if obs is None or obs.expected is None:
            return [], f"the expected set of {spec.name} is not known now"
        expected, work = self.work(spec.name)
        out = []
        for k in a.units:
            u = expected.get(k)
            if u is None:
                return [], f"unit {k} is not an expected {spec.name} unit of the plan's seasons"
            if k not in work.units:
                return [], f"unit {k} needs no work now (complete, verified empty, waived or quarantined)"
            if u.season != a.season:
                return [], f"unit {k} is of season {u.season}, not {a.season}"
            out.append(u)
        return out, ""

    def api(self, a: Action, spec: Spec, strategy: FetchStrategy, units: list[ExpectedUnit]) -> str:
        if strategy.source != "api" or strategy.aggregated:
            return f"strategy {strategy.name!r} makes no API request that fills a unit"
        params = _params(a)
        nparts = nparts_of(spec)
        for u, reqs in zip(units, request_index(strategy, units, nparts), strict=True):
            if params not in {p for p, _ in reqs}:
                req = a.request.path if a.request is not None else "?"
                return f"its request {req} {dict(params)} is not one strategy {strategy.name!r} makes for unit {u.key}"
        _, work = self.work(spec.name)
        canonical = api_action(
            spec,
            units[0].season,
            strategy,
            params,
            list(a.units),
            calls=calls_of(strategy),
            rows=a.est_rows,
            reasons=work.reasons,
            joint=bool(a.details.get("joint")),
        )
        return _differs(a, canonical)

    def rebuild(self, a: Action, spec: Spec, strategy: FetchStrategy, units: list[ExpectedUnit]) -> str:
        if strategy.source not in ("bronze", "derive"):
            return f"strategy {strategy.name!r} does not rebuild from the lake"
        params = _params(a)
        obs = self.observed.targets[spec.name]
        have = obs.lake_sources.get(strategy.name, frozenset())
        for u in units:
            if group_params(strategy, u) != params:
                return f"unit {u.key} is not in the partition {dict(params)}"
            if strategy.source == "bronze" and u.key not in have:
                return f"bronze {strategy.bronze} does not hold unit {u.key} completely"
            if strategy.source == "derive" and self.inputs.status(strategy, u) != "ready":
                return f"the inputs of unit {u.key} ({' + '.join(strategy.inputs)}) are not complete"
        _, work = self.work(spec.name)
        return _differs(a, lake_action(spec, strategy, units[0].season, params, list(a.units), work.reasons))

    def check(self, a: Action) -> str:
        spec = self.specs.get(a.target)
        if spec is None:
            fresh = self.fresh_layout.get(a.address)
            if fresh is None:
                return "a fresh plan of the lake has no such action"
            return "" if fresh.model_dump() == a.model_dump() else "it differs from the same action in a fresh plan"
        if a.type not in ("fetch", "refetch", "rebuild"):
            return f"a {a.type} action is not one a spec target makes"
        strategy = next((s for s in spec.fetch if s.name == a.strategy), None)
        if strategy is None:
            return f"{spec.name} has no fetch strategy {a.strategy!r}"
        units, why = self.units(a, spec)
        if why:
            return why
        if a.type == "rebuild":
            return self.rebuild(a, spec, strategy, units)
        return self.api(a, spec, strategy, units)


def _shared_units(actions: Sequence[Action], specs: Mapping[str, Spec]) -> list[str]:
    """Units in more than one action, save a ``match: all`` unit's one joint request per part."""
    seen: dict[tuple[str, str], list[Action]] = defaultdict(list)
    for a in actions:
        if a.target in specs:
            for k in a.units:
                seen[(a.target, k)].append(a)
    out = []
    for (target, k), acts in seen.items():
        if len(acts) < 2:
            continue
        joint = all(a.details.get("joint") for a in acts)
        distinct = len({repr(sorted(a.details.get("params", {}).items())) for a in acts}) == len(acts)
        if not (joint and distinct and len(acts) <= nparts_of(specs[target])):
            out.append(f"unit {k} of {target} is in {len(acts)} actions ({', '.join(a.address for a in acts)})")
    return out


def check_saved_actions(
    saved: Plan, specs: Sequence[Spec], observed: ObservedState, fresh: Plan, opts: PlanOptions, now: datetime
) -> list[str]:
    """What is not true of the lake in a saved plan's actions.

    Args:
        saved: The saved plan.
        specs: The specs.
        observed: A fresh observation of the plan's seasons and targets.
        fresh: The plan made from it (for the layout actions).
        opts: The options the fresh plan was made with (waivers, ``retry_failed``).
        now: The clock.

    Returns:
        One line per action refused (``plays[season=2016][gameId=1600019]: unit 1600019 ...``);
        empty when every action is one the lake and the specs call for now.
    """
    checker = _Checker(specs, observed, opts, now, fresh)
    out = [f"{a.address}: {why}" for a in saved.all_actions() if (why := checker.check(a))]
    out.extend(_shared_units(saved.all_actions(), checker.specs))
    return out


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
