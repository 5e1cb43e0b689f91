"""Bad input through the CLI: one clear line, exit 1, no traceback, nothing written."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli.app import app
from tests.text_edits import replaced

REPO = Path(__file__).parents[2]
runner = CliRunner()


@pytest.fixture
def cfg(tmp_path):
    shutil.copytree(REPO / "specs", tmp_path / "specs")
    (tmp_path / "lake").mkdir()
    text = (REPO / "config.yaml").read_text()
    (tmp_path / "config.yaml").write_text(text)
    return tmp_path / "config.yaml"


def _one_line_error(result, needle):
    assert result.exit_code == 1, result.output
    out = result.output.strip()
    assert "Traceback" not in out
    lines = [ln for ln in out.splitlines() if ln.strip()]
    assert len(lines) == 1, out
    assert needle in lines[0], out


@pytest.mark.parametrize(
    ("seasons", "needle"),
    [("2026-2010", "backwards"), ("1800", "outside"), ("abc", "not a season")],
)
def test_bad_seasons(cfg, seasons, needle):
    _one_line_error(runner.invoke(app, ["plan", "--config", str(cfg), "--seasons", seasons]), needle)


def test_missing_config(tmp_path):
    _one_line_error(runner.invoke(app, ["plan", "--config", str(tmp_path / "nope.yaml")]), "config file not found")


def test_unknown_profile(cfg):
    _one_line_error(runner.invoke(app, ["plan", "--config", str(cfg), "--profile", "prod"]), "no profile 'prod'")


def test_profile_from_environment(cfg, monkeypatch):
    monkeypatch.setenv("RECONCILE_PROFILE", "staging")
    _one_line_error(runner.invoke(app, ["validate", "--config", str(cfg)]), "no profile 'staging'")


def test_unknown_format(cfg):
    _one_line_error(runner.invoke(app, ["plan", "--config", str(cfg), "--format", "xml"]), "--format")


def test_validate_lists_every_problem(cfg):
    specs = cfg.parent / "specs"
    (specs / "plays.yaml").write_text(replaced((specs / "plays.yaml").read_text(), "unit:", "unitz:"))
    (specs / "games.yaml").write_text("name: [\n")
    result = runner.invoke(app, ["validate", "--config", str(cfg)])
    assert result.exit_code == 1
    assert "games.yaml:" in result.output and "plays.yaml:" in result.output
    assert "Traceback" not in result.output


def test_validate_ok(cfg):
    result = runner.invoke(app, ["validate", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    assert "Valid." in result.output


def test_api_key_in_config_is_refused(cfg):
    cfg.write_text(replaced(cfg.read_text(), "    api:\n", "    api:\n      api_key: sekrit\n", 1))
    result = runner.invoke(app, ["validate", "--config", str(cfg)])
    assert result.exit_code == 1
    assert "sekrit" not in result.output
