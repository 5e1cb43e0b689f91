"""Spec validation: every problem reported with file, line and field."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from reconciler.errors import SpecError
from reconciler.spec.loader import collect_problems, load_specs, load_waivers
from tests.text_edits import replaced

REPO_SPECS = Path(__file__).parents[2] / "specs"


@pytest.fixture
def specs_dir(tmp_path):
    d = tmp_path / "specs"
    shutil.copytree(REPO_SPECS, d)
    return d


def test_repo_specs_are_valid():
    specs = load_specs(REPO_SPECS)
    names = [s.name for s in specs]
    assert names[0] == "games"
    assert set(names) == {"games", "plays", "substitutions", "lineups"}


def test_malformed_yaml_names_file_and_line(specs_dir):
    (specs_dir / "plays.yaml").write_text("name: plays\nsource: [unclosed\n")
    _, problems = collect_problems(specs_dir)
    (p,) = [p for p in problems if "plays.yaml" in str(p)]
    assert "not valid YAML" in str(p)
    assert p.line is not None


def test_unknown_field_is_reported_with_line(specs_dir):
    text = replaced((specs_dir / "plays.yaml").read_text(), "unit: [game_id]", "unit: [game_id]\nunits_extra: 3")
    (specs_dir / "plays.yaml").write_text(text)
    _, problems = collect_problems(specs_dir)
    (p,) = problems
    assert p.field == "units_extra"
    assert "unknown field" in str(p)
    lines = text.splitlines()
    assert lines[p.line - 1].startswith("units_extra")


def test_nested_unknown_field(specs_dir):
    text = replaced((specs_dir / "plays.yaml").read_text(), "    covers: date\n", "    covers: date\n    cover: x\n")
    (specs_dir / "plays.yaml").write_text(text)
    _, problems = collect_problems(specs_dir)
    assert problems[0].field == "fetch.1.cover"


def test_query_that_is_not_athena_sql(specs_dir):
    text = replaced((specs_dir / "plays.yaml").read_text(), "SELECT DISTINCT", "SELEKT DISTINCT")
    (specs_dir / "plays.yaml").write_text(text)
    _, problems = collect_problems(specs_dir)
    assert problems and problems[0].field == "source.query"
    assert "Athena SQL" in str(problems[0])


def test_unknown_dependency_and_cycle(specs_dir):
    text = replaced((specs_dir / "plays.yaml").read_text(), "depends_on: [games]", "depends_on: [gamez]")
    (specs_dir / "plays.yaml").write_text(text)
    _, problems = collect_problems(specs_dir)
    assert any("unknown target 'gamez'" in str(p) for p in problems)
    (specs_dir / "plays.yaml").write_text(replaced(text, "[gamez]", "[games]"))
    g = replaced((specs_dir / "games.yaml").read_text(), "unit: [season]", "depends_on: [plays]\nunit: [season]")
    (specs_dir / "games.yaml").write_text(g)
    _, problems = collect_problems(specs_dir)
    assert any("dependency cycle" in str(p) for p in problems)


def test_path_parameter_without_mapping(specs_dir):
    text = replaced((specs_dir / "plays.yaml").read_text(), "params: {gameId: game_id}", "params: {}")
    (specs_dir / "plays.yaml").write_text(text)
    _, problems = collect_problems(specs_dir)
    assert "path parameter" in str(problems[0])


def test_waivers(tmp_path):
    p = tmp_path / "w.yaml"
    p.write_text("version: 1\nwaivers:\n  - {address: 'plays[season=2012]*', reason: no pbp, expires: 2027-01-01}\n")
    (w,) = load_waivers(p)
    assert w.reason == "no pbp"
    p.write_text("version: 1\nwaivers:\n  - {address: 'x'}\n")
    with pytest.raises(SpecError, match="reason"):
        load_waivers(p)


def test_the_waivers_file_shows_the_plans_address_grammar() -> None:
    """The example in specs/waivers.yaml (copied into every sandbox) is written as the plan prints addresses."""
    from reconciler.core.addresses import legacy_labels, modern_address

    root = Path(__file__).parents[2] / "specs"
    specs = load_specs(root)
    examples = re.findall(r"\b[a-z_]+\[season=\d+\][^\s]*", (root / "waivers.yaml").read_text())
    assert examples
    for example in examples:
        assert modern_address(example, legacy_labels(specs)) == example, example
