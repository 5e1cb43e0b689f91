"""The audit's fill cost, pictures and terminal rendering, from hand-made plans and observations."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from rich.console import Console

from reconciler.core.observed import ExpectedUnit, ObservedState, ObservedTarget, PresentUnit, UnitState
from reconciler.core.plan import Action, Plan, Request, SeasonCoverage, Summary, TargetPlan
from reconciler.render.audit import AuditData, render_audit
from reconciler.render.fill import DEFAULT_MONTHLY_QUOTA, fill_cost, render_fill
from reconciler.render.pictures import coverage_grid, missing_by_date, season_day
from reconciler.render.pngs import write_coverage_png, write_missing_png
from reconciler.render.terminal import fill_lines, missing_strips


def fetch(path: str, endpoint: str, units: list[str], calls: int = 1, season: int = 2015) -> Action:
    return Action(
        type="fetch",
        address=f"plays[season={season}][{units[0]}]",
        target="plays",
        season=season,
        strategy="game",
        request=Request(path=path),
        covers=len(units),
        units=units,
        api_calls=calls,
        details={"endpoint": endpoint},
    )


def plan() -> Plan:
    plays = TargetPlan(
        target="plays",
        table="cbbd_silver.fct_plays",
        depends_on=["games"],
        coverage={"2015": SeasonCoverage(expected=10, present=6, missing=4)},
        actions=[
            fetch("/plays/game/1", "/plays/game/{gameId}", ["1"]),
            fetch("/plays/game/2", "/plays/game/{gameId}", ["2"]),
            fetch("/plays/date", "/plays/date", ["3", "4"]),
        ],
    )
    lineups = TargetPlan(
        target="lineups",
        table="cbbd_silver.fct_lineups",
        depends_on=["games", "substitutions", "plays"],
        coverage={"2015": SeasonCoverage(expected=20, present=10, missing=10, after_apply=6)},
        actions=[
            Action(
                type="rebuild", address="lineups[a]", target="lineups", season=2015, covers=3, details={"bronze": "x"}
            ),
            Action(
                type="rebuild", address="lineups[b]", target="lineups", season=2015, covers=1, details={"derive": True}
            ),
        ],
    )
    layout = TargetPlan(
        target="layout",
        actions=[
            Action(
                type="relayout",
                address="layout.relayout[o1]",
                target="layout",
                est_rows=300,
                details={"op": "relayout", "layer": "silver", "table": "fct_plays"},
            ),
            Action(
                type="delete",
                address="layout.delete[cbbd_silver.fct_plays][p]",
                target="layout",
                details={"op": "partition", "database": "cbbd_silver", "table": "fct_plays"},
            ),
        ],
    )
    return Plan(
        plan_id="p",
        fingerprint="f",
        created_at="2026-11-25T00:00:00Z",
        seasons=[2015, 2015],
        season_list=[2015],
        targets=[plays, lineups, layout],
        summary=Summary(fetch=3, rebuild=2, relayout=1, delete=1, register=5, api_calls=3, estimated_seconds=1.0),
    )


def test_fill_cost_counts_calls_zero_call_units_and_deletions() -> None:
    cost = fill_cost(plan(), rate=3.0, quota=2000, after_apply_games={"lineups": 3})
    plays, lineups = cost.targets
    assert (plays.calls, plays.api_units) == (3, 4)
    assert [(e.label, e.calls, e.units) for e in plays.endpoints] == [
        ("/plays/game/{gameId}", 2, 2),
        ("/plays/date", 1, 2),
    ]
    assert (lineups.calls, lineups.from_bronze, lineups.derived, lineups.after_apply) == (0, 3, 1, 6)
    assert cost.calls == 3 and cost.seconds == 1.0 and cost.share == 0.0015
    assert [(d.kind, d.table, d.objects, d.partitions, d.rows) for d in cost.deletes] == [
        ("relayout", "silver/fct_plays", 1, 0, 300),
        ("delete", "cbbd_silver.fct_plays", 0, 1, 0),
    ]
    text = "\n".join(render_fill(cost))
    assert (
        "| plays (`fct_plays`) | 3 | 4 | `/plays/game/{gameId}` 2 calls (2 units); `/plays/date` 1 call (2 units)"
        in text
    )
    assert "| **all** | **3** | **4** | | **3** | **1** | **6** |" in text
    assert "0.1% of 2,000 calls a month (`api.monthly_quota`: as configured)" in text
    assert "at most 3 calls more" in text
    assert "| relayout | `silver/fct_plays` | 1 | 0 | 300 |" in text
    assert "Catalog registrations (5 partitions)" in text


def test_units_of_joint_requests_are_counted_once() -> None:
    home = fetch("/substitutions/team", "/substitutions/team", ["1", "2"])
    away = fetch("/substitutions/team", "/substitutions/team", ["2", "3"])
    subs = TargetPlan(
        target="plays",
        table="cbbd_silver.fct_plays",
        depends_on=["games"],
        coverage={"2015": SeasonCoverage(expected=3, missing=3)},
        actions=[home, away],
    )
    (cost,) = fill_cost(plan().model_copy(update={"targets": [subs]}), rate=3.0, quota=100).targets
    assert (cost.calls, cost.api_units, cost.endpoints[0].units) == (2, 3, 3)


def test_the_default_quota_names_its_tier() -> None:
    text = "\n".join(render_fill(fill_cost(plan(), rate=3.0, quota=DEFAULT_MONTHLY_QUOTA)))
    assert "75,000 calls a month" in text and "Patreon Tier 3" in text and "free tier has 1,000" in text
    assert "CBBD's free tier" in "\n".join(render_fill(fill_cost(plan(), rate=3.0, quota=1000)))


def test_a_complete_lake_costs_nothing_and_says_so() -> None:
    full = TargetPlan(
        target="plays",
        table="cbbd_silver.fct_plays",
        depends_on=["games"],
        coverage={"2015": SeasonCoverage(expected=10, present=10)},
    )
    p = plan().model_copy(update={"targets": [full], "summary": Summary()})
    cost = fill_cost(p, rate=3.0, quota=DEFAULT_MONTHLY_QUOTA)
    assert cost.targets == () and cost.calls == 0
    text = "\n".join(render_fill(cost))
    assert "Nothing: the plan has no fetch, rebuild or derivation" in text and "| **all** |" not in text
    assert "Nothing needs `--allow-delete`" in text


def observation() -> ObservedState:
    units = tuple(
        ExpectedUnit(key=str(g), season=2015, date=d, cols={})
        for g, d in ((1, "2014-11-01"), (2, "2014-11-01"), (3, "2014-11-03"))
    )
    plays = ObservedTarget(
        name="plays",
        expected=units,
        present={"1": PresentUnit(rows=300, complete=True)},
        states={"3": UnitState(status="empty")},
    )
    return ObservedState(seasons=(2015,), targets={"plays": plays})


def test_missing_by_date_counts_games_neither_complete_nor_verified_empty() -> None:
    p = plan()
    data = missing_by_date(p, observation(), [p.targets[0]])
    assert data.tables == ("fct_plays",) and data.first_day == 0 and season_day(2015, "2014-11-03") == 2
    assert data.counts["fct_plays"].tolist() == [[1, 0, 0]]  # game 2 on 1 November
    assert data.played.tolist() == [[2, 0, 1]]
    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(missing_strips(data))
    assert "2015" in out.getvalue() and "▃" in out.getvalue()  # a third of the week's games


def test_pictures_are_small_deterministic_pngs(tmp_path: Path) -> None:
    p = plan()
    grid = coverage_grid(p.targets[:2], [2015])
    assert grid.tables == ("fct_plays", "fct_lineups") and np.isclose(grid.ratio[0, 0], 0.6)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    size = write_coverage_png(grid, a, title="t")
    write_coverage_png(grid, b, title="t")
    assert a.read_bytes() == b.read_bytes() and a.read_bytes().startswith(b"\x89PNG") and size < 100_000
    write_missing_png(missing_by_date(p, observation(), [p.targets[0]]), tmp_path / "m.png", title="t")
    assert (tmp_path / "m.png").stat().st_size < 200_000


def test_the_report_embeds_the_fill_section_and_the_pictures_by_relative_links() -> None:
    p = plan()
    cost = fill_cost(p, rate=3.0, quota=DEFAULT_MONTHLY_QUOTA)
    data = AuditData(
        plan=p,
        counts={},
        command="reconcile audit",
        preamble=["> the twin"],
        fill=cost,
        images={"coverage": "data_audit-coverage.png", "missing": "data_audit-missing-games.png"},
    )
    report = render_audit(data)
    assert report.index("> the twin") < report.index("## How this report was produced")
    assert report.index("## What it takes to fill") < report.index("## Coverage matrix")
    assert "![Coverage, season × table](data_audit-coverage.png)" in report
    assert "![Missing games by date](data_audit-missing-games.png)" in report
    # gaps that wait for derivation (no action yet) still count their season
    waiting = p.targets[1].model_copy(update={"actions": []})
    report = render_audit(AuditData(plan=p.model_copy(update={"targets": [waiting]}), counts={}, command="c"))
    assert "10 gaps in 1 seasons" in report.split("`fct_lineups` vs `fct_games`", 1)[1].splitlines()[0]
    lines = fill_lines(cost)
    assert lines[0].startswith("[bold]To fill:[/bold] 3 API calls (plays 3)")
    assert "Needs --allow-delete" in lines[-1]
