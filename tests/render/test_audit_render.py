"""The audit report from synthetic plans: states the lake can be in, the findings seam, colour."""

from __future__ import annotations

import io

from rich.console import Console

from reconciler.cli.audit_cmd import print_matrix
from reconciler.core.observed import ExpectedUnit, ObservedState, ObservedTarget, UnitState
from reconciler.core.plan import Action, Plan, TargetPlan
from reconciler.core.planner import PlanOptions, build_plan
from reconciler.render.audit import AuditData, TableCounts, render_audit
from reconciler.spec.models import Waiver
from tests.core.factories import NOW, SPECS, full, games, lineup_units, observed


def season_unit(season: int) -> ExpectedUnit:
    return ExpectedUnit(key=str(season), season=season, date=f"{season}-01-01", cols={"season": season})


def plan_with_states() -> Plan:
    units = games(2015, {"2015-01-03": 10}) + games(2016, {"2016-01-03": 10}, start_id=100)
    states = {
        "1": UnitState(status="empty", updated_at=NOW.timestamp()),  # verified empty
        "3": UnitState(status="failed", attempts=9, error="HTTP 500"),  # quarantined
    }
    present = full(units[4:10])
    targets = {
        "games": ObservedTarget(
            name="games", expected=(season_unit(2015), season_unit(2016), season_unit(2017)), present={}
        ),
        **observed("plays", units, present=present, states=states).targets,
        **observed("lineups", lineup_units(units[:2]), present={}).targets,
    }
    targets["games"] = ObservedTarget(
        name="games",
        expected=targets["games"].expected,
        present={"2015": full([season_unit(2015)])["2015"], "2016": full([season_unit(2016)])["2016"]},
    )
    obs = ObservedState(seasons=(2015, 2016, 2017), targets=targets)
    opts = PlanOptions(waivers=(Waiver(address="plays[season=2015][game=2]", reason="no pbp"),), profile="local")
    return build_plan([SPECS["games"], SPECS["plays"], SPECS["lineups"]], obs, NOW, opts)


def counts() -> dict[str, TableCounts]:
    return {
        "games": TableCounts("cbbd_silver.fct_games", {2015: 12, 2016: 10}, {2015: 1, 2016: 1}, {2015: 2}, {2015: 10}),
        "plays": TableCounts("cbbd_silver.fct_plays", {2015: 1800}, {2015: 6}, {}, {2015: 1800}, ("gameId",), ("id",)),
    }


def test_states_gaps_and_order() -> None:
    report = render_audit(AuditData(plan=plan_with_states(), counts=counts(), command="reconcile audit"))
    rows = [ln for ln in report.splitlines() if ln.startswith("| 2015 | 1,800 |")]
    # rows, units, expected, present, incomplete, missing, verified empty, waived, quarantined, dups, coverage
    assert rows == ["| 2015 | 1,800 | 6 | 10 | 6 | 0 | 1 | 1 | 1 | 1 | 0 | ❌ 80.00% |"]
    assert "- **2015** (80.0%): 1 missing, 1 quarantined: 3-4" in report
    assert "| 2017 | ❌ 0.0% · 1 gap | ❔ after apply | ❔ after apply |" in report  # fct_games lacks 2017
    sections = [ln for ln in report.splitlines() if ln.startswith("## fct_")]
    assert sections == ["## fct_games", "## fct_plays vs fct_games", "## fct_lineups vs fct_games"]
    assert "| 2015 | 12 | 10 | 2 | ✅ |" in report
    assert "| 2017 | 0 | 0 | 0 | ❌ missing from the lake |" in report
    assert "- `fct_games`: 2 surplus rows on (the natural key) (2015: 2)" in report


def test_findings_seam_and_maintenance_actions() -> None:
    plan = plan_with_states()
    layout = TargetPlan(
        target="layout",
        actions=[
            Action(
                type="relayout",
                address="layout.fct_games[season=2025][asof=2026-02-21]",
                target="layout",
                season=2025,
                reason="rows under season=/asof=, canonical season=",
                details={"kind": "asof→season"},
            )
        ],
    )
    plan = plan.model_copy(update={"targets": [*plan.targets, layout]})
    data = AuditData(
        plan=plan,
        counts=counts(),
        command="reconcile audit",
        findings=["fct_games: the Glue table is partitioned by (season, asof); the lake by (season)"],
    )
    report = render_audit(data)
    part = report.split("## Partition and layout findings", 1)[1]
    assert "The plan proposes 1 relayout." in part
    assert "- relayout 2025: 1 × asof→season (rows under season=/asof=, canonical season=)" in part
    assert "- fct_games: the Glue table is partitioned by (season, asof); the lake by (season)" in part
    assert "| season | fct_games | fct_plays | fct_lineups |" in report  # layout targets are not matrix columns


def test_no_findings_is_said() -> None:
    units = games(2015, {"2015-01-03": 3})
    plan = build_plan([SPECS["plays"]], observed("plays", units, present=full(units)), NOW, PlanOptions())
    report = render_audit(AuditData(plan=plan, counts={}, command="reconcile audit"))
    assert "None found: no partition to register, relayout, dedupe or delete." in report
    assert "No gaps: every expected unit is present, verified empty or waived." in report


def test_terminal_matrix_is_coloured() -> None:
    out = io.StringIO()
    print_matrix(plan_with_states(), Console(file=out, force_terminal=True, color_system="standard", width=160))
    text = out.getvalue()
    row = next(ln for ln in text.splitlines() if "2015" in ln and "%" in ln)
    assert "\x1b[32m✅ 100.0%" in row  # games complete: green
    assert "\x1b[1;31m❌  80.0%" in row  # plays below error_below: bold red
    assert any("plays: ERROR" in ln and "\x1b[1;31m" in ln for ln in text.splitlines())
