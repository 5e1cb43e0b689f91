"""Shared coverage vocabulary: levels, gate lines, compressed gaps."""

from __future__ import annotations

import pytest

from reconciler.core.plan import Action, SeasonCoverage, TargetPlan
from reconciler.render.coverage import GapIds, gate_lines, level, season_gaps, text_width


def target(**cov: SeasonCoverage) -> TargetPlan:
    return TargetPlan(
        target="plays",
        table="cbbd_silver.fct_plays",
        coverage={k.removeprefix("s"): v for k, v in cov.items()},
        warn_below=0.995,
        error_below=0.98,
        gate="error",
    )


def test_levels() -> None:
    t = target(
        s2015=SeasonCoverage(expected=1000, present=1000),
        s2016=SeasonCoverage(expected=1000, present=997, missing=3),
        s2017=SeasonCoverage(expected=1000, present=990, missing=10),
        s2018=SeasonCoverage(expected=1000, present=500, missing=500),
        s2019=SeasonCoverage(),
        s2020=SeasonCoverage(known_after_apply=True),
        s2021=SeasonCoverage(expected=10, verified_empty=4, waived=6),
    )
    got = {s: level(t, s) for s in t.coverage}
    assert got == {
        "2015": "complete",
        "2016": "ok",
        "2017": "warn",
        "2018": "error",
        "2019": "none",
        "2020": "pending",
        "2021": "complete",
    }
    assert level(t, "2030") == "none"


def test_gate_line_names_the_worst_seasons() -> None:
    t = target(
        s2015=SeasonCoverage(expected=1000, present=990, missing=10),
        s2016=SeasonCoverage(expected=1000, present=500, missing=500),
        s2017=SeasonCoverage(expected=1000, present=1000),
    )
    (g,) = gate_lines([t], worst=1)
    assert g.gate == "error"
    assert g.text == (
        "plays: ERROR, 1 of 3 seasons below error_below 98%, 1 more below warn_below 99.5%; worst 2016 50.0% and 1 more"
    )
    assert gate_lines([TargetPlan(target="layout")]) == []  # no thresholds, no gate line


def test_compress_ranges_and_composite_units() -> None:
    assert GapIds.of(["5", "1", "2", "3", "7", "8", "x"]).text()[0] == "1-3, 5, 7-8, x"
    assert GapIds.of(["10:1", "10:2", "11:1", "13:2"]).text()[0] == "10-11, 13"
    g = GapIds.of(["10:1", "10:2", "11:1", "13:2"])
    assert (g.units, g.ids, g.by_game) == (4, 3, True)
    assert GapIds.of([]).text()[0] == ""


@pytest.mark.parametrize("budget", [0, 5, 8, 12, 20, 40, 1000])
def test_compress_within_a_budget_counts_what_it_leaves_out(budget: int) -> None:
    ids = [str(i) for i in range(1, 200, 2)]  # 100 ids, no two adjacent: nothing merges
    text, hidden = GapIds.of(ids).text(max_chars=budget)
    assert text_width(text) <= budget
    shown = [p for p in text.split(" … ")[0].split(", ") if p and not p.startswith("+")]
    assert len(shown) + hidden == 100
    if hidden and shown:
        assert text.endswith(f" … +{hidden} more")


def test_season_gaps_from_actions_and_quarantine() -> None:
    t = TargetPlan(
        target="plays",
        actions=[
            Action(type="fetch", address="a", target="plays", season=2015, units=["1", "2"], covers=2),
            Action(type="rebuild", address="b", target="plays", season=2016, units=["9"], covers=1),
            Action(type="register", address="c", target="plays", season=2016),
        ],
        quarantined=[{"unit": "7", "address": "plays[season=2015][game=7]", "attempts": 3, "error": "500"}],
    )
    assert season_gaps(t) == {2015: ["1", "2", "7"], 2016: ["9"]}
