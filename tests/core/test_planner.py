"""Table-driven tests of the pure planner."""

from __future__ import annotations

import pytest

from reconciler.core.observed import ObservedTarget, PresentUnit, UnitState
from reconciler.core.planner import PlanOptions, build_plan
from reconciler.spec.models import Waiver
from tests.core.factories import NOW, SPECS, days_ago, full, games, lineup_units, observed


def plan_for(name, obs, **opts):
    return build_plan([SPECS[name]], obs, NOW, PlanOptions(**opts))


def test_nothing_missing_is_no_changes():
    units = games(2015, {"2015-01-03": 40, "2015-01-04": 30})
    plan = plan_for("plays", observed("plays", units, present=full(units)))
    assert plan.summary.changes == 0
    assert plan.targets[0].coverage["2015"].present == 70


def test_wholly_missing_season_costs_one_call_per_date():
    dates = {f"2015-01-{d:02d}": 30 + d for d in range(1, 29)}
    units = games(2015, dates, teams=360)
    plan = plan_for("plays", observed("plays", units))
    acts = plan.targets[0].actions
    assert {a.strategy for a in acts} == {"date"}
    assert plan.summary.api_calls == len(dates)
    assert sum(a.covers for a in acts) == len(units)
    assert acts[0].request.path == "/plays/date"
    assert "calls to /plays/date" in plan.targets[0].choices[0]


def test_dense_team_schedule_can_beat_dates():
    # With few teams each playing most days, team-season calls cover more than date calls.
    dates = {f"2015-01-{d:02d}": 10 for d in range(1, 29)}
    units = games(2015, dates, teams=8)
    plan = plan_for("plays", observed("plays", units))
    assert plan.summary.api_calls < len(dates)
    assert sum(a.covers for a in plan.targets[0].actions) == len(units)


def test_single_missing_game_on_a_busy_date_is_one_game_call():
    units = games(2015, {"2015-01-03": 40})
    present = full(units[1:])
    plan = plan_for("plays", observed("plays", units, present=present))
    (act,) = plan.targets[0].actions
    assert act.strategy == "game"
    assert act.request.path == f"/plays/game/{units[0].key}"
    assert act.request.params == {}
    assert act.address == f"plays[season=2015][gameId={units[0].key}]"


def test_verified_empty_costs_nothing_until_recheck_is_due():
    units = games(2015, {"2015-01-03": 3})
    old_game = {units[0].key: UnitState(status="empty", updated_at=days_ago(2))}
    plan = plan_for("plays", observed("plays", units, present=full(units[1:]), states=old_game))
    assert plan.summary.api_calls == 0
    assert plan.targets[0].coverage["2015"].verified_empty == 1


@pytest.mark.parametrize(
    ("checked_days_ago", "game_date", "replanned"),
    [
        (40, "2026-10-01", True),  # stale, and the game was recent when found empty
        (40, "2015-01-03", False),  # stale, but an old game: stays empty
        (5, "2026-10-01", False),  # not stale yet
    ],
)
def test_empty_recheck_policy(checked_days_ago, game_date, replanned):
    units = games(2026, {game_date: 1})
    states = {units[0].key: UnitState(status="empty", updated_at=days_ago(checked_days_ago))}
    if game_date.startswith("2026"):
        # found empty shortly after the game was played
        states = {units[0].key: UnitState(status="empty", updated_at=days_ago(checked_days_ago))}
        units = games(2026, {(NOW.date().fromordinal(NOW.date().toordinal() - checked_days_ago - 3)).isoformat(): 1})
    plan = plan_for("plays", observed("plays", units, states=states))
    assert (plan.summary.api_calls == 1) is replanned


def test_an_empty_record_settles_nothing_when_the_spec_does_not_record_empties():
    units = games(2015, {"2015-01-03": 3})
    base = SPECS["plays"]
    policy = base.expect.empty_response.model_copy(update={"record": False})
    spec = base.model_copy(update={"expect": base.expect.model_copy(update={"empty_response": policy})})
    fresh = {units[0].key: UnitState(status="empty", updated_at=days_ago(2))}
    plan = build_plan([spec], observed("plays", units, present=full(units[1:]), states=fresh), NOW, PlanOptions())
    assert plan.summary.api_calls == 1 and plan.targets[0].coverage["2015"].verified_empty == 0


def test_failed_units_are_quarantined_after_max_attempts():
    units = games(2015, {"2015-01-03": 2})
    states = {units[0].key: UnitState(status="failed", attempts=3, error="TerminalApiError: 400")}
    plan = plan_for("plays", observed("plays", units, present=full(units[1:]), states=states))
    t = plan.targets[0]
    assert t.coverage["2015"].quarantined == 1
    assert plan.summary.api_calls == 0
    assert t.quarantined[0]["error"] == "TerminalApiError: 400"
    again = plan_for("plays", observed("plays", units, present=full(units[1:]), states=states), retry_failed=True)
    assert again.summary.api_calls == 1


def test_failed_below_max_attempts_stays_in_plan():
    units = games(2015, {"2015-01-03": 1})
    states = {units[0].key: UnitState(status="failed", attempts=1)}
    plan = plan_for("plays", observed("plays", units, states=states))
    assert plan.summary.api_calls == 1
    assert plan.targets[0].coverage["2015"].failed == 1


def test_a_unit_that_failed_gets_a_request_of_its_own():
    # A whole date missing is one /plays/date call; once a unit of it failed (say its payload is
    # bad), it is fetched alone, so it cannot fail the others again.
    units = games(2015, {"2015-01-03": 30}, teams=360)
    assert {a.strategy for a in plan_for("plays", observed("plays", units)).targets[0].actions} == {"date"}
    states = {units[0].key: UnitState(status="failed", attempts=1, error="TerminalApiError: malformed payload")}
    acts = plan_for("plays", observed("plays", units, states=states)).targets[0].actions
    alone = [a for a in acts if units[0].key in a.units]
    assert len(alone) == 1 and alone[0].units == [units[0].key] and alone[0].strategy == "game"
    assert sorted(k for a in acts for k in a.units) == sorted(u.key for u in units)
    assert sum(a.api_calls for a in acts) == 2  # the date for the others, the game alone


def test_a_day_that_failed_transiently_once_is_fetched_again_as_a_day():
    # A timeout after every retry fails all the units of a /plays/date request: isolating each
    # would turn one call into 30. Only a second failure (or a terminal one) isolates a unit.
    units = games(2015, {"2015-01-03": 30}, teams=360)
    once = {u.key: UnitState(status="failed", attempts=1, error="TransientApiError: timed out") for u in units}
    acts = plan_for("plays", observed("plays", units, states=once)).targets[0].actions
    assert [(a.strategy, a.api_calls, len(a.units)) for a in acts] == [("date", 1, 30)]
    twice = {**once, units[0].key: UnitState(status="failed", attempts=2, error="TransientApiError: timed out")}
    acts = plan_for("plays", observed("plays", units, states=twice)).targets[0].actions
    assert sorted((a.strategy, len(a.units)) for a in acts) == [("date", 29), ("game", 1)]


def test_a_failed_unit_of_a_two_request_unit_gets_its_own_game_request():
    # Substitutions by team need both teams' season requests for one game (match: all); a game
    # that failed is fetched alone instead, by /substitutions/game/{gameId}.
    units = games(2015, {f"2015-01-{d:02d}": 4 for d in range(1, 11)}, teams=8)
    assert {a.strategy for a in plan_for("substitutions", observed("substitutions", units)).targets[0].actions} == {
        "team"
    }
    states = {units[0].key: UnitState(status="failed", attempts=2, error="TerminalApiError: malformed payload")}
    acts = plan_for("substitutions", observed("substitutions", units, states=states)).targets[0].actions
    alone = [a for a in acts if units[0].key in a.units]
    assert [(a.strategy, a.units) for a in alone] == [("game", [units[0].key])]
    assert {k for a in acts for k in a.units} == {u.key for u in units}


def test_incomplete_unit_is_refetched_with_evidence():
    units = games(2015, {"2015-01-03": 5})
    present = full(units)
    present[units[2].key] = PresentUnit(rows=12, complete=False)
    plan = plan_for("plays", observed("plays", units, present=present))
    (act,) = plan.targets[0].actions
    assert act.type == "refetch"
    assert "12 rows" in act.reason
    assert plan.targets[0].coverage["2015"].incomplete == 1


def test_incomplete_unit_already_refetched_is_left_alone():
    units = games(2015, {"2015-01-03": 2})
    present = full(units)
    present[units[0].key] = PresentUnit(rows=12, complete=False)
    states = {units[0].key: UnitState(status="done", rows=12)}
    plan = plan_for("plays", observed("plays", units, present=present, states=states))
    assert plan.summary.changes == 0


def test_complete_bronze_rebuilds_silver_at_zero_calls():
    units = games(2024, {"2024-01-03": 10, "2024-01-04": 5})
    collapsed = {u.key: PresentUnit(rows=1, complete=False) for u in units}
    lake = {"bronze": frozenset(u.key for u in units[:12])}
    plan = plan_for("substitutions", observed("substitutions", units, present=collapsed, lake=lake))
    acts = plan.targets[0].actions
    rebuild = [a for a in acts if a.type == "rebuild"]
    assert sum(a.covers for a in rebuild) == 12
    assert {a.api_calls for a in rebuild} == {0}
    assert plan.summary.api_calls == len([a for a in acts if a.type != "rebuild"])


def test_substitutions_by_team_need_both_sides():
    # A whole team-season missing: match "all" means a game needs its home AND away team calls.
    units = games(2024, {f"2024-01-{d:02d}": 1 for d in range(1, 11)}, teams=3)
    plan = plan_for("substitutions", observed("substitutions", units))
    covered = {}
    for a in plan.targets[0].actions:
        for k in a.units:
            covered.setdefault(k, []).append(a.strategy)
    assert set(covered) == {u.key for u in units}
    for strategies in covered.values():
        assert strategies == ["game"] or strategies.count("team") == 2 or "game" in strategies


def test_lineups_game_call_fills_both_team_units():
    units = lineup_units(games(2025, {"2025-01-03": 3}))
    plan = plan_for("lineups", observed("lineups", units, present=full(units[2:])))
    (act,) = plan.targets[0].actions
    assert act.request.path == f"/lineups/game/{units[0].cols['game_id']}"
    assert act.covers == 2
    assert all(a.strategy != "team" for a in plan.targets[0].actions)


def test_waived_units_are_acknowledged_not_work():
    units = games(2012, {"2012-01-03": 2})
    w = Waiver(address=f"plays[season=2012][game={units[0].key}]", reason="no pbp upstream")
    plan = plan_for("plays", observed("plays", units, present=full(units[1:])), waivers=(w,))
    assert plan.summary.changes == 0
    assert plan.targets[0].coverage["2012"].waived == 1


def test_expired_waiver_brings_the_gap_back():
    from datetime import date

    units = games(2012, {"2012-01-03": 1})
    w = Waiver(address="plays[season=2012]*", reason="x", expires=date(2026, 1, 1))
    plan = plan_for("plays", observed("plays", units), waivers=(w,))
    assert plan.summary.api_calls == 1


def test_dependency_with_pending_work_is_known_after_apply():
    play_units = games(2015, {"2015-01-03": 2})
    season_unit = games(2015, {"2015-01-01": 1})[0]
    games_target = ObservedTarget(name="games", expected=(season_unit,), present={})
    obs = observed("plays", play_units, seasons=(2015,), extra_targets={"games": games_target})
    plan = build_plan([SPECS["games"], SPECS["plays"]], obs, NOW, PlanOptions())
    plays = next(t for t in plan.targets if t.target == "plays")
    assert plays.coverage["2015"].known_after_apply
    assert plays.actions == []
    games_plan = next(t for t in plan.targets if t.target == "games")
    assert games_plan.actions[0].api_calls == 13


def test_coverage_gate_levels():
    units = games(2015, {"2015-01-03": 100})
    assert plan_for("plays", observed("plays", units, present=full(units))).targets[0].gate == "ok"
    assert plan_for("plays", observed("plays", units, present=full(units[1:]))).targets[0].gate == "warn"
    assert plan_for("plays", observed("plays", units, present=full(units[5:]))).targets[0].gate == "error"


def test_target_selection_by_address_glob():
    units = games(2015, {"2015-01-03": 40, "2015-01-04": 40})
    plan = plan_for("plays", observed("plays", units), targets=("plays[season=2015][date=2015-01-04]",))
    assert [a.address for a in plan.targets[0].actions] == ["plays[season=2015][date=2015-01-04]"]


def test_plan_is_deterministic():
    units = games(2015, {"2015-01-03": 40, "2015-01-04": 3})
    obs = observed("plays", units, present=full(units[:20]))
    a, b = plan_for("plays", obs), plan_for("plays", obs)
    assert a.to_json() == b.to_json()


def test_a_dense_gap_of_substitutions_is_filled_by_pairs_of_team_calls_never_also_by_game_calls():
    # 8 teams, every pair of them plays: 28 games need both teams' stints; 8 team calls fill them.
    dates = {f"2015-01-{d:02d}": 4 for d in range(1, 8)}
    units = games(2015, dates, teams=8)
    plan = plan_for("substitutions", observed("substitutions", units))
    acts = plan.targets[0].actions
    team = [a for a in acts if a.strategy == "team"]
    assert team and all(a.details["joint"] for a in team)
    assert plan.summary.api_calls < len(units)
    holders: dict[str, list[str]] = {}
    for a in acts:
        for u in a.units:
            holders.setdefault(u, []).append(a.strategy or "")
    # Each unit: one game call, or exactly its two teams' calls, never both kinds.
    assert all(v == ["game"] or v == ["team", "team"] for v in holders.values()), holders
    assert set(holders) == {u.key for u in units}


def test_a_sparse_gap_of_substitutions_is_one_game_call_per_unit():
    units = games(2015, {"2015-01-03": 40}, teams=80)
    present = full(units[3:])
    plan = plan_for("substitutions", observed("substitutions", units, present=present))
    assert [a.strategy for a in plan.targets[0].actions] == ["game", "game", "game"]
    assert plan.summary.api_calls == 3
