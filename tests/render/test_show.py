"""``reconcile show PLAN_FILE``: a saved plan rendered again, without observing."""

from __future__ import annotations

from pathlib import Path

from reconciler.core.planner import PlanOptions, build_plan
from reconciler.render.coverage import text_width
from tests.core.factories import NOW, SPECS, full, games, observed
from tests.e2e_helpers import cli


def saved_plan(tmp_path: Path) -> Path:
    units = games(2015, {f"2015-01-{d:02d}": 30 for d in range(1, 29)}, teams=360)
    plan = build_plan([SPECS["plays"]], observed("plays", units, present=full(units[::2])), NOW, PlanOptions())
    path = tmp_path / "plan.json"
    path.write_text(plan.to_json(), encoding="utf-8")
    return path


def test_show_markdown_with_a_larger_budget_leaves_nothing_out(tmp_path: Path) -> None:
    path = saved_plan(tmp_path)
    small = cli(["show", str(path), "--format", "markdown", "--max-chars", "2500"])
    full_md = cli(["show", str(path), "--format", "markdown", "--max-chars", "1000000"])
    assert small.exit_code == full_md.exit_code == 0
    assert text_width(small.stdout) <= 2500 and "Left out" in small.stdout
    assert "Left out" not in full_md.stdout
    assert f"Full JSON plan: `{path}`" in full_md.stdout
    assert "~9 s at 3 req/s" in full_md.stdout.splitlines()[0]  # the rate is recovered from the plan


def test_show_text_and_json(tmp_path: Path) -> None:
    path = saved_plan(tmp_path)
    text = cli(["show", str(path)])
    assert text.exit_code == 0 and "Coverage gates:" in text.stdout
    js = cli(["show", str(path), "--format", "json"])
    assert js.stdout == path.read_text(encoding="utf-8")


def test_show_refuses_what_is_not_a_plan(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{}", encoding="utf-8")
    r = cli(["show", str(bad)])
    assert r.exit_code == 1
    assert "format_version" in r.output
