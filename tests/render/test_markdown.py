"""The Markdown plan: within GitHub's comment limit by planning, summary first, honest about cuts."""

from __future__ import annotations

import logging
import re

import pytest

from reconciler.core.observed import ExpectedUnit, ObservedState, ObservedTarget, PresentUnit, UnitState
from reconciler.core.plan import Plan
from reconciler.core.planner import PlanOptions, build_plan
from reconciler.render.coverage import text_width
from reconciler.render.markdown import GITHUB_COMMENT_LIMIT, MARKER, marker, render_markdown
from tests.core.factories import NOW, SPECS, full, games, lineup_units, observed
from tests.render.lake_scale import GAMES_PER_SEASON, scale_one_observation

ORDER = ("games", "plays", "substitutions", "lineups")
MARKER_RX = re.compile(r"<!-- cbbd-reconciler:plan id=(\w+) fingerprint=(\w+) -->")


@pytest.fixture(scope="module")
def half_missing() -> Plan:
    """The issue's case: a scale-1.0 lake (101,389 games, 17 seasons) with half of all plays missing."""
    return build_plan([SPECS[n] for n in ORDER], scale_one_observation(), NOW, PlanOptions(profile="local"))


@pytest.fixture(scope="module")
def three_targets() -> Plan:
    """Two seasons, plays half missing, substitutions and lineups wholly missing."""
    units = games(2015, {f"2015-01-{d:02d}": 20 for d in range(1, 20)}, teams=100)
    units += games(2016, {f"2016-01-{d:02d}": 20 for d in range(1, 20)}, start_id=5000, teams=100)
    plays = observed("plays", units, present=full(units[::2]), seasons=(2015, 2016))
    subs = observed("substitutions", units, seasons=(2015, 2016))
    lineups = observed("lineups", lineup_units(units), seasons=(2015, 2016))
    obs = ObservedState(seasons=(2015, 2016), targets={**plays.targets, **subs.targets, **lineups.targets})
    return build_plan([SPECS["plays"], SPECS["substitutions"], SPECS["lineups"]], obs, NOW, PlanOptions())


def well_formed(md: str) -> None:
    """Nothing was cut mid-structure: blocks closed, fences paired, the marker last."""
    assert md.count("<details>") == md.count("</details>")
    assert md.count("```") % 2 == 0
    assert md.rstrip("\n").splitlines()[-1].startswith(MARKER)


def hidden_in_gap_lines(md: str) -> int:
    """Ids the gap lines say they do not show: ``… +N more``, ``: +N ids``, or all of a count-only line."""
    n = 0
    for line in md.splitlines():
        if not re.match(r"- \d{4} \(", line):
            continue
        if m := re.search(r" … \+([\d,]+) more$", line) or re.search(r": \+([\d,]+) ids$", line):
            n += int(m.group(1).replace(",", ""))
        elif m := re.search(r": ([\d,]+) units?(?: in ([\d,]+) games?)?$", line):
            n += int((m.group(2) or m.group(1)).replace(",", ""))
    return n


def test_half_missing_scale_one_plan_fits_github_and_starts_with_summary(half_missing: Plan) -> None:
    plays = half_missing.targets[1]
    assert sum(c.expected for c in plays.coverage.values()) == sum(GAMES_PER_SEASON.values()) == 101_389
    md = render_markdown(half_missing, json_hint="`plan.json`")
    assert len(md) <= GITHUB_COMMENT_LIMIT
    assert text_width(md) <= GITHUB_COMMENT_LIMIT  # also counted in UTF-16 units
    summary = "**Plan: 3,383 to fetch (3,383 API calls, ~19 min at 3 req/s), 0 partitions to register.**"
    assert md.splitlines()[0] == summary
    well_formed(md)
    # The budget is used, not wasted: the gap lists fill the comment close to the limit.
    assert len(md) > GITHUB_COMMENT_LIMIT - 3_000
    # It says what it left out, how much, and where the full JSON plan is.
    note = re.search(r"Left out to fit GitHub's 65,536-character comment limit: (.*)", md)
    assert note is not None
    assert "Everything is in the full JSON plan: `plan.json`." in note.group(1)
    hidden = int(re.search(r"([\d,]+) gap ids", note.group(1)).group(1).replace(",", ""))
    assert hidden == hidden_in_gap_lines(md) > 0
    # Every season's gaps are listed (count and at least some ranges), worst first.
    gap_lines = [ln for ln in md.splitlines() if re.match(r"- \d{4} \(\d", ln)]
    assert sorted(int(ln[2:6]) for ln in gap_lines) == sorted(GAMES_PER_SEASON)
    ratios = [float(re.search(r"\(([\d.]+)%\)", ln).group(1)) for ln in gap_lines]
    assert ratios == sorted(ratios)
    assert all(re.search(r"units: \d", ln) for ln in gap_lines)
    # The marker carries the plan id and fingerprint.
    m = MARKER_RX.search(md)
    assert m is not None and m.groups() == (half_missing.plan_id, half_missing.fingerprint)


def test_coverage_matrix_and_gates_come_before_details(half_missing: Plan) -> None:
    md = render_markdown(half_missing)
    head = md.split("<details>", 1)[0]
    assert "❌ plays: ERROR, 17 of 17 seasons below error_below 98%; worst " in head
    assert "✅ games: ok" in head
    assert "| season | games | plays | substitutions | lineups |" in head
    for season in GAMES_PER_SEASON:
        row = re.search(rf"^\| {season} \| (.*) \|$", head, re.M)
        assert row is not None
        games_cell, plays_cell, subs_cell, lineups_cell = row.group(1).split(" | ")
        assert games_cell == subs_cell == lineups_cell == "✅ 100.0%"
        assert plays_cell.startswith("❌ 5") and plays_cell.endswith(" gaps")
    assert re.search(r"^\| \*\*all\*\* \| \*\*100\.0%\*\* \| \*\*50\.0%\*\* · 50,694 gaps \|", head, re.M)


@pytest.mark.parametrize("limit", [2_500, 4_000, 6_000, 9_000, 20_000])
def test_every_limit_is_kept_by_planning_not_by_cutting(
    three_targets: Plan, limit: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="reconciler.render.markdown"):
        md = render_markdown(three_targets, limit=limit, json_hint="`plan.json`")
    assert not caplog.records  # the over-budget fallback never ran
    assert text_width(md) <= limit
    well_formed(md)
    assert md.startswith("**Plan: 238 to fetch (238 API calls, ~79 s at 3 req/s), 0 partitions to register.**\n")
    assert "| 2015 | ❌ 50.0%" in md  # the matrix always fits at these sizes
    if "Left out" in md:
        assert "`plan.json`" in md.split("Left out", 1)[1]


def test_targets_that_do_not_fit_are_named(three_targets: Plan) -> None:
    md = render_markdown(three_targets, limit=2_500, json_hint="`plan.json`")
    note = md.split("Left out to fit", 1)[1]
    left_out = [t for t in three_targets.targets if f"<b>{t.target}</b>" not in md]
    assert left_out  # at this size not every target's details fit …
    assert "<b>plays</b>" in md  # … the first ones in plan order do
    for t in left_out:  # … and each one left out is named with its size
        assert f"{t.target} ({len(t.actions):,} actions)" in note


def test_roomy_limit_leaves_nothing_out(three_targets: Plan) -> None:
    md = render_markdown(three_targets, limit=200_000)
    assert "Left out" not in md
    assert "- 2015 (0.0%): 380 units: 1-380" in md  # substitutions, one range
    assert "plays[season=2015][date=2015-01-01]" in md  # sample addresses
    assert "- 2015: 190 plays units to fill → 19 calls to /plays/date" in md  # strategy notes
    # lineups wait for substitutions and plays: known after apply, with no empty diff block
    assert "| 2015 | ❌ 50.0% · 190 gaps | ❌ 0.0% · 380 gaps | ❌ 0.0% · 760 gaps (760 after apply) |" in md
    lineups = md.split("<b>lineups</b>", 1)[1].split("</details>", 1)[0]
    assert "> 1,520 units known after apply: they wait for targets this plan fills first." in lineups
    assert "```" not in lineups


def test_head_shrinks_when_even_the_matrix_is_too_long(three_targets: Plan) -> None:
    shapes = set()
    for limit in range(1_600, 2_600, 25):
        md = render_markdown(three_targets, limit=limit)
        assert text_width(md) <= limit
        well_formed(md)
        if "| 2015 | ❌ 50.0% |" in md:
            shapes.add("compact")
            assert "Left out to fit" in md and "the gap counts of the coverage matrix" in md
        elif "| 2015 | ❌ |" in md:
            shapes.add("markers")
        elif "| 2015 |" not in md:
            shapes.add("none")
            assert "Left out to fit" in md and "the coverage matrix" in md
    assert shapes == {"compact", "markers", "none"}


def test_no_changes(three_targets: Plan) -> None:
    units = games(2015, {"2015-01-03": 5})
    plan = build_plan([SPECS["plays"]], observed("plays", units, present=full(units)), NOW, PlanOptions())
    md = render_markdown(plan)
    assert md.startswith("**No changes. The lake matches the specs.**\n")
    assert "Left out" not in md and "<details>" not in md
    assert "| 2015 | ✅ 100.0% |" in md
    assert md.rstrip().endswith(marker(plan))


def test_matrix_markers_follow_the_gates() -> None:
    # 2015: 99.7% (ok, above warn 99.5%); 2016: 99.0% (warn); 2017: 50% (error); 2018: verified empty only.
    dates = {f"{s}-01-03": 1000 for s in (2015, 2016, 2017)}
    units = []
    for i, (d, n) in enumerate(dates.items()):
        units += games(int(d[:4]), {d: n}, start_id=1 + i * 10_000)
    units += games(2018, {"2018-01-03": 2}, start_id=90_000)
    season_missing = {2015: 3, 2016: 10, 2017: 500}
    present: dict[str, PresentUnit] = {}
    for s, missing in season_missing.items():
        su = [u for u in units if u.season == s]
        present.update(full(su[missing:]))
    states = {u.key: UnitState(status="empty", updated_at=NOW.timestamp()) for u in units if u.season == 2018}
    obs = observed("plays", units, present=present, states=states, seasons=(2015, 2016, 2017, 2018, 2019))
    md = render_markdown(build_plan([SPECS["plays"]], obs, NOW, PlanOptions()))
    assert "| 2015 | ☑️ 99.7% · 3 gaps |" in md
    assert "| 2016 | ⚠️ 99.0% · 10 gaps |" in md
    assert "| 2017 | ❌ 50.0% · 500 gaps |" in md
    assert "| 2018 | ✅ 100.0% |" in md
    assert "| 2019 | · |" in md


def test_known_after_apply_is_marked() -> None:
    season = ExpectedUnit(key="2015", season=2015, date="2015-01-01", cols={"season": 2015, "date": "2015-01-01"})
    targets = {
        "games": ObservedTarget(name="games", expected=(season,)),  # fct_games has no 2015 rows yet
        **observed("plays", games(2015, {"2015-01-03": 4})).targets,
    }
    obs = ObservedState(seasons=(2015,), targets=targets)
    md = render_markdown(build_plan([SPECS["games"], SPECS["plays"]], obs, NOW, PlanOptions()))
    assert "| 2015 | ❌ 0.0% · 1 gap | ❔ after apply |" in md


def test_marker_carries_plan_id_and_fingerprint(three_targets: Plan) -> None:
    m = MARKER_RX.fullmatch(marker(three_targets))
    assert m is not None and m.groups() == (three_targets.plan_id, three_targets.fingerprint)


@pytest.mark.slow
def test_scale_one_sandbox_shape_fits() -> None:
    """As a scale-1.0 sandbox would be: plays half missing, substitutions only in 2024, lineups only in 2025."""
    obs = scale_one_observation(
        subs_present=lambda i, u: u.season == 2024, lineups_present=lambda i, u: u.season == 2025
    )
    plan = build_plan([SPECS[n] for n in ORDER], obs, NOW, PlanOptions(profile="local"))
    md = render_markdown(plan, json_hint="`plan.json`")
    assert text_width(md) <= GITHUB_COMMENT_LIMIT
    assert md.splitlines()[0] == (
        "**Plan: 9,175 to fetch (9,175 API calls, ~51 min at 3 req/s), 140 to rebuild from the lake (0 API calls), "
        "0 partitions to register.**"
    )
    well_formed(md)
    assert "Left out to fit GitHub's 65,536-character comment limit" in md


def test_summary_line_warns_when_the_quota_left_does_not_cover_the_plan() -> None:
    units = games(2015, {f"2015-01-{d:02d}": 20 for d in range(1, 20)}, teams=100)
    units += games(2016, {f"2016-01-{d:02d}": 20 for d in range(1, 20)}, start_id=5000, teams=100)
    plays = observed("plays", units, present=full(units[::2]), seasons=(2015, 2016))
    short = ObservedState(seasons=(2015, 2016), targets=plays.targets, quota_remaining=1000)
    plan = build_plan([SPECS["plays"]], short, NOW, PlanOptions(quota_reserve=990))
    assert render_markdown(plan).splitlines()[0] == (
        "**Plan: 38 to fetch (38 API calls, ~13 s at 3 req/s), 0 partitions to register. "
        "Quota: 1,000 calls left (last seen), NOT enough for this plan with a reserve of 990.**"
    )
    enough = build_plan([SPECS["plays"]], short, NOW, PlanOptions(quota_reserve=10))
    assert render_markdown(enough).splitlines()[0] == (
        "**Plan: 38 to fetch (38 API calls, ~13 s at 3 req/s), 0 partitions to register. "
        "Quota: 1,000 calls left (last seen).**"
    )
