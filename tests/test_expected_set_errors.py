"""A spec whose source query lacks a unit column fails validate, plan and apply (issue 18, item 2).

``validate`` runs each source query once against the lake with ``LIMIT 0`` and names the spec
file and field; a target whose expected set cannot be computed is an error gate (``plan
--detailed-exitcode`` exits 1, the summary never says "No changes"), and apply refuses to run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e_helpers import cli, make_sandbox
from tests.text_edits import replaced

SEASON = "2016"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("expected") / "sb"
    make_sandbox(root, seasons=SEASON)
    return root


@pytest.fixture
def broken(template: Path, tmp_path: Path) -> Path:
    sb = tmp_path / "sb"
    shutil.copytree(template, sb)
    spec = sb / "specs" / "plays.yaml"
    spec.write_text(replaced(spec.read_text(), '"gameId" AS game_id', '"gameId" AS gid'))
    return sb / "config.yaml"


def test_validate_runs_the_source_query_and_names_the_missing_column(broken: Path) -> None:
    r = cli(["validate", "--config", str(broken)])
    assert r.exit_code == 1
    errors = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1, r.output
    assert "plays.yaml: source.query: source query returns no column 'game_id' (has gid," in errors[0]


def test_validate_offline_does_not_reach_the_lake(broken: Path) -> None:
    r = cli(["validate", "--config", str(broken), "--offline"])
    assert r.exit_code == 0 and "source queries checked" not in r.output


def test_plan_is_an_error_gate_never_ok(broken: Path) -> None:
    r = cli(["plan", "--config", str(broken), "--seasons", SEASON, "--detailed-exitcode"])
    assert r.exit_code == 1, r.output
    assert "✗ plays: ERROR, the expected set cannot be computed" in r.output
    assert "✓ plays" not in r.output
    plain = cli(["plan", "--config", str(broken), "--seasons", SEASON, "--target", "plays"])
    assert "No changes can be planned for plays: the expected set cannot be computed" in plain.output
    assert "The lake matches the specs" not in plain.output


def test_apply_refuses_before_any_work(broken: Path) -> None:
    r = cli(["apply", "--config", str(broken), "--seasons", SEASON, "--auto-approve"])
    assert r.exit_code == 1
    errors = [ln for ln in r.output.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "plays: the expected set cannot be computed" in errors[0], r.output
    assert not (broken.parent / ".reconcile" / "state.sqlite").exists() or _units(broken) == 0


def _units(cfg: Path) -> int:
    import sqlite3

    with sqlite3.connect(cfg.parent / ".reconcile" / "state.sqlite") as con:
        return int(con.execute("SELECT count(*) FROM units").fetchone()[0])


def test_a_valid_spec_validates_against_the_lake(template: Path) -> None:
    r = cli(["validate", "--config", str(template / "config.yaml")])
    assert r.exit_code == 0, r.output
    assert "source queries checked against the lake" in r.output
