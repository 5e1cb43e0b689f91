"""stale_reasons: which side of a saved plan changed, and by how much."""

from __future__ import annotations

from reconciler.core.plan import Plan, SeasonCoverage, TargetPlan
from reconciler.core.plan_check import stale_reasons


def _plan(fp_exp: str, fp_obs: str, **cov: int) -> Plan:
    return Plan(
        plan_id="p",
        fingerprint=fp_exp + fp_obs,
        created_at="2026-01-01T00:00:00Z",
        seasons=[2015, 2015],
        targets=[TargetPlan(target="plays", coverage={"2015": SeasonCoverage(**cov)})],
        fingerprints={"expected": {"plays": fp_exp}, "observed": {"plays": fp_obs}},
    )


def test_an_unchanged_lake_gives_no_reasons():
    saved = _plan("e", "o", expected=10, present=2)
    assert stale_reasons(saved, _plan("e", "o", expected=10, present=2)) == []


def test_units_filled_since_the_plan_count_present_and_verified_empty():
    saved = _plan("e", "o", expected=300, present=50, missing=250)
    now = _plan("e", "o2", expected=300, present=250, verified_empty=12, missing=38)
    assert stale_reasons(saved, now) == ["observed: 212 plays units filled since the plan was made"]


def test_failures_and_a_changed_expected_set_are_both_named():
    saved = _plan("e", "o", expected=10, present=2, missing=8)
    now = _plan("e2", "o2", expected=12, present=2, failed=3, missing=7)
    assert stale_reasons(saved, now) == [
        "expected: plays expects 12 units now, 10 when the plan was made",
        "observed: 3 plays units failed since the plan was made",
    ]


def test_a_change_that_moves_no_count_is_still_reported():
    saved = _plan("e", "o", expected=10, present=2)
    (reason,) = stale_reasons(saved, _plan("e", "o2", expected=10, present=2))
    assert reason.startswith("observed: plays: rows or checkpoints of some units changed")
