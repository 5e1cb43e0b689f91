"""Coverage gates in the terminal: one coloured line per target."""

from __future__ import annotations

import io

from rich.console import Console

from reconciler.core.planner import PlanOptions, build_plan
from reconciler.render.text import render_text
from tests.core.factories import NOW, SPECS, full, games, observed


def rendered(present_share: float) -> str:
    units = games(2015, {"2015-01-03": 200})
    keep = units[: int(len(units) * present_share)]
    plan = build_plan([SPECS["plays"]], observed("plays", units, present=full(keep)), NOW, PlanOptions())
    out = io.StringIO()
    render_text(plan, Console(file=out, force_terminal=True, color_system="standard", width=200), rate=3.0)
    return out.getvalue()


def test_error_gate_is_red() -> None:
    text = rendered(0.5)
    assert "Coverage gates:" in text
    line = next(ln for ln in text.splitlines() if "plays: ERROR" in ln)
    assert "\x1b[1;31m" in line  # bold red
    assert "✗ plays: ERROR, 1 of 1 seasons below error_below 98%" in line


def test_warn_gate_is_yellow() -> None:
    line = next(ln for ln in rendered(0.99).splitlines() if "plays: WARN" in ln)
    assert "\x1b[1;33m" in line  # bold yellow


def test_ok_gate_is_green() -> None:
    line = next(ln for ln in rendered(1.0).splitlines() if "plays: ok" in ln)
    assert "\x1b[32m" in line


def test_a_derivation_renders_as_its_inputs_never_bronze_none() -> None:
    from reconciler.core.plan import Action
    from reconciler.render.common import group_actions

    derive = Action(
        type="rebuild",
        address="lineups.derived[season=2016][date=2016-01-02]",
        target="lineups",
        season=2016,
        strategy="derived",
        covers=2,
        units=["1:2", "1:3"],
        details={"derive": "lineups", "inputs": ["substitutions", "plays"], "params": {}},
    )
    (group,) = group_actions([derive, derive.model_copy(update={"address": "x"})])
    assert group.label == "derived from substitutions + plays"
