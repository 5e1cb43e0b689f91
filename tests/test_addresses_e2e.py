"""One address grammar for plans, --target and waivers (issue 18, item 3).

A unit's address is what the plan prints for it (``plays[season=2016][gameId=1600017]``), so an
address pasted from a plan works as a waiver and as a ``--target``. A waiver or ``--target`` that
matches nothing is a warning naming it; a waiver past its ``expires`` shows in the plan as
expired; a waiver written with the old labels (``[game=…]``) still works, with a warning saying
how to write it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.e2e_helpers import cli, make_sandbox, plan_json

SEASON = "2016"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("addresses") / "sb"
    make_sandbox(root, seasons=SEASON)
    return root


@pytest.fixture
def cfg(template: Path, tmp_path: Path) -> Path:
    shutil.copytree(template, tmp_path / "sb")
    return tmp_path / "sb" / "config.yaml"


def _plays(plan: dict) -> dict:
    return next(t for t in plan["targets"] if t["target"] == "plays")


def _waive(cfg: Path, *entries: str) -> None:
    body = "".join(f"  - {e}\n" for e in entries)
    (cfg.parent / "specs" / "waivers.yaml").write_text(f"version: 1\nwaivers:\n{body}")


def test_a_unit_address_pasted_from_the_plan_waives_it(cfg: Path) -> None:
    plays = _plays(plan_json(cfg, SEASON, "--target", "plays"))
    per_game = next(a for a in plays["actions"] if a["covers"] == 1)
    _waive(cfg, f"{{address: '{per_game['address']}', reason: no pbp upstream}}")
    after = _plays(plan_json(cfg, SEASON, "--target", "plays"))
    assert after["coverage"][SEASON]["waived"] == 1
    assert per_game["address"] not in [a["address"] for a in after["actions"]]


def test_old_labels_still_waive_with_a_warning(cfg: Path) -> None:
    plays = _plays(plan_json(cfg, SEASON, "--target", "plays"))
    unit = next(a for a in plays["actions"] if a["covers"] == 1)["units"][0]
    _waive(cfg, f"{{address: 'plays[season=2016][game={unit}]', reason: old}}")
    r = cli(["plan", "--config", str(cfg), "--seasons", SEASON, "--target", "plays"])
    assert f"write it as plays[season=2016][gameId={unit}]" in r.output
    assert _plays(plan_json(cfg, SEASON, "--target", "plays"))["coverage"][SEASON]["waived"] == 1
    v = cli(["validate", "--config", str(cfg), "--offline"])
    assert v.exit_code == 0 and "uses old unit labels" in v.output


def test_a_waiver_matching_nothing_is_a_warning_naming_it(cfg: Path) -> None:
    _waive(cfg, "{address: 'plays[season=2016][gameId=42]', reason: typo}")
    plan = plan_json(cfg, SEASON, "--target", "plays")
    assert any(
        "waiver plays[season=2016][gameId=42]" in w and "matches no expected unit" in w for w in plan["warnings"]
    )
    text = cli(["plan", "--config", str(cfg), "--seasons", SEASON, "--target", "plays"]).output
    assert "Warning: waiver plays[season=2016][gameId=42]" in text


def test_a_waiver_naming_no_unit_label_is_a_validate_error(cfg: Path) -> None:
    _waive(cfg, "{address: 'plays[season=2016][game_id=42]', reason: typo}")
    v = cli(["validate", "--config", str(cfg), "--offline"])
    assert v.exit_code == 1
    assert "no unit is addressed by 'game_id' (units look like plays[season=…][gameId=…])" in v.output


def test_an_expired_waiver_shows_as_expired(cfg: Path) -> None:
    plays = _plays(plan_json(cfg, SEASON, "--target", "plays"))
    unit = next(a for a in plays["actions"] if a["covers"] == 1)["units"][0]
    _waive(cfg, f"{{address: 'plays[season=2016][gameId={unit}]', reason: was missing, expires: 2020-01-01}}")
    after = _plays(plan_json(cfg, SEASON, "--target", "plays"))
    assert after["coverage"][SEASON]["waived"] == 0
    assert any("expired on 2020-01-01: 1 unit it covered is planned again" in n for n in after["notes"])
    text = cli(["plan", "--config", str(cfg), "--seasons", SEASON, "--target", "plays"]).output
    assert "expired on 2020-01-01" in text


def test_target_by_unit_address_and_a_target_matching_nothing(cfg: Path) -> None:
    plays = _plays(plan_json(cfg, SEASON, "--target", "plays"))
    shared = next((a for a in plays["actions"] if a["covers"] > 1), None)
    unit_action = shared or plays["actions"][0]
    unit = unit_action["units"][0]
    picked = _plays(plan_json(cfg, SEASON, "--target", f"plays[season=2016][gameId={unit}]"))
    assert [a["address"] for a in picked["actions"]] == [unit_action["address"]]
    none = plan_json(cfg, SEASON, "--target", "plays[season=2016][gameId=42]")
    assert any(w.startswith("--target plays[season=2016][gameId=42] matches no unit") for w in none["warnings"])


def test_quarantined_units_are_listed_by_the_same_address(cfg: Path) -> None:
    from reconciler.adapters.sqlite_state import SqliteState
    from reconciler.ports import UnitRecord

    plays = _plays(plan_json(cfg, SEASON, "--target", "plays"))
    unit = plays["actions"][0]["units"][0]
    state = SqliteState(cfg.parent / ".reconcile" / "state.sqlite")
    state.record_units([UnitRecord("plays", unit, "failed", attempts=3, error="TerminalApiError: x", updated_at=1.0)])
    state.close()
    after = _plays(plan_json(cfg, SEASON, "--target", "plays"))
    assert after["quarantined"][0]["address"] == f"plays[season=2016][gameId={unit}]"
