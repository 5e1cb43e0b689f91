"""Property tests: the plan covers exactly the units that need work, each once (a jointly filled
unit once per part), never with more calls than units; the joint cover is exact."""

from __future__ import annotations

import itertools
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.core.cover import joint_cover
from reconciler.core.observed import PresentUnit, UnitState
from reconciler.core.planner import PlanOptions, build_plan
from reconciler.spec.models import Waiver
from tests.core.factories import NOW, SPECS, days_ago, games, observed
from tests.invariant import check_plan

STATUS = st.sampled_from(["none", "present", "incomplete", "empty_fresh", "empty_stale_old", "failed", "quarantined"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    teams=st.integers(2, 30),
    statuses=st.lists(STATUS, min_size=1, max_size=80),
    waive_every=st.integers(0, 7),
    target=st.sampled_from(["plays", "substitutions"]),
)
def test_plan_covers_exactly_the_work(sizes, teams, statuses, waive_every, target):
    dates = {f"2015-01-{i + 1:02d}": n for i, n in enumerate(sizes)}
    units = games(2015, dates, teams=teams)
    present, states = {}, {}
    waivers = []
    expect_work = set()
    for i, u in enumerate(units):
        s = statuses[i % len(statuses)]
        if waive_every and i % waive_every == 0 and s != "present":
            waivers.append(Waiver(address=f"{target}[season=2015][game={u.key}]", reason="x"))
            continue
        if s == "present":
            present[u.key] = PresentUnit(rows=300, complete=True)
        elif s == "incomplete":
            present[u.key] = PresentUnit(rows=3, complete=False)
            expect_work.add(u.key)
        elif s == "empty_fresh":
            states[u.key] = UnitState(status="empty", updated_at=days_ago(1))
        elif s == "empty_stale_old":  # an old game found empty long ago stays empty
            states[u.key] = UnitState(status="empty", updated_at=days_ago(400))
        elif s == "failed":
            states[u.key] = UnitState(status="failed", attempts=1)
            expect_work.add(u.key)
        elif s == "quarantined":
            states[u.key] = UnitState(status="failed", attempts=3)
        else:
            expect_work.add(u.key)
    plan = build_plan(
        [SPECS[target]],
        observed(target, units, present=present, states=states),
        NOW,
        PlanOptions(waivers=tuple(waivers)),
    )
    t = plan.targets[0]
    covered = [k for a in t.actions for k in a.units]
    assert set(covered) == expect_work
    # No unit in two actions (a jointly filled unit: one action per part), calls ≤ units.
    assert check_plan(json.loads(plan.to_json())) == []
    c = t.coverage["2015"]
    assert c.expected == len(units)
    assert c.present + c.incomplete + c.missing + c.verified_empty + c.waived + c.quarantined == c.expected
    assert plan.summary.api_calls == sum(a.api_calls for a in t.actions)
    assert plan.summary.api_calls <= len(expect_work)


def _brute_force(needs: dict[int, tuple[int, ...]]) -> tuple[int, int]:
    """The best (calls saved, -requests) over every subset of requests."""
    reqs = sorted({r for v in needs.values() for r in v})
    best = (0, 0)
    for k in range(len(reqs) + 1):
        for chosen in itertools.combinations(reqs, k):
            got = set(chosen)
            filled = sum(1 for v in needs.values() if set(v) <= got)
            best = max(best, (filled - len(got), -len(got)))
    return best


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(0, 7)).filter(lambda t: t[0] != t[1]), max_size=14))
def test_joint_cover_is_exact(pairs):
    needs = dict(enumerate(pairs))
    chosen, filled = joint_cover(needs, 1, 1)
    assert filled == {u for u, v in needs.items() if set(v) <= chosen}
    assert (len(filled) - len(chosen), -len(chosen)) == _brute_force(needs)
