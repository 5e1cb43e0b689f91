"""The twin of the real lake at a small scale: built, audited, and held to the real lake's audit.

``reconcile sandbox init --twin --scale 0.02`` then ``reconcile audit`` must reproduce the audited
facts in the same proportions: games per season equal to ``season_scale.csv`` times the scale,
``fct_plays`` rows within 2% of its rows times games here / games there, substitutions only in
2024 and lineups only in 2025; the report opens by saying it is the twin, prices the fill from the
plan and links its two pictures.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reconciler.sandbox import load_universe_from_config
from reconciler.synth.scale import SEASON_SCALE
from tests.e2e_helpers import cli, make_sandbox

SCALE = 0.02
SEASONS = "2012,2021,2024-2026"
YEARS = (2012, 2021, 2024, 2025, 2026)


def section(report: str, heading: str) -> str:
    return report.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]


def season_rows(report: str, heading: str) -> dict[int, list[int]]:
    out = {}
    for line in section(report, heading).splitlines():
        m = re.match(r"^\| (\d{4}) \| (.*) \|$", line)
        if m:
            cells = [c.strip() for c in m.group(2).split(" | ")]
            out[int(m.group(1))] = [int(c.replace(",", "")) if re.fullmatch(r"[\d,]+", c) else -1 for c in cells]
    return out


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    root = tmp_path_factory.mktemp("twin") / "twin"
    cfg, _, _ = make_sandbox(root, seasons=SEASONS, scale=SCALE, writer="pipeline", twin=True)
    out = root.parent / "reports" / "data_audit.md"
    r = cli(["audit", "--config", str(cfg), "--seasons", SEASONS, "--output", str(out)])
    assert r.exit_code == 0, r.output
    return root, out.read_text(encoding="utf-8"), r.stdout


def test_games_and_plays_rows_are_the_audits_in_proportion(twin: tuple[Path, str, str]) -> None:
    _, report, _ = twin
    games = season_rows(report, "fct_games")
    counts = season_rows(report, "Record counts")
    for season in YEARS:
        audit_games, audit_plays = SEASON_SCALE[season]
        n = max(10, round(audit_games * SCALE))
        assert games[season][1] == n, season  # distinct gameId
        assert counts[season][1] == pytest.approx(audit_plays * n / audit_games, rel=0.02), season


def test_substitutions_only_in_2024_and_lineups_only_in_2025(twin: tuple[Path, str, str]) -> None:
    _, report, _ = twin
    counts = season_rows(report, "Record counts")
    assert [s for s in YEARS if counts[s][2] > 0] == [2024]
    assert [s for s in YEARS if counts[s][3] > 0] == [2025]
    # collapsed as in the real lake: one row per game with data, as many games as its rows in proportion
    assert counts[2024][2] == pytest.approx(6125 * round(6249 * SCALE) / 6249, abs=2)
    assert counts[2025][3] == pytest.approx(5699 * round(6299 * SCALE) / 6299, abs=2)


def test_the_manifest_states_the_derivation_and_the_simulator_serves_the_twin(twin: tuple[Path, str, str]) -> None:
    root, _, _ = twin
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["writer"] == "pipeline"
    derived = manifest["twin"]
    assert "median" in derived["formula"] and derived["reference_plays_per_game"] == pytest.approx(297.28)
    assert derived["seasons"]["2012"]["short"] and derived["seasons"]["2012"]["games_missing"] > 0
    assert not derived["seasons"]["2024"]["short"] and derived["seasons"]["2024"]["games_missing"] == 0
    missing = manifest["targets"]["plays"]["seasons"]["2012"]["counts"]["fetchable"]
    assert missing == derived["seasons"]["2012"]["games_missing"]
    universe = load_universe_from_config(root / "config.yaml")
    assert universe.twin and len(universe.season_games(2012)) == round(5741 * SCALE)


def test_the_report_says_it_is_the_twin_prices_the_fill_and_links_its_pictures(twin: tuple[Path, str, str]) -> None:
    root, report, stdout = twin
    head = report.split("## How this report was produced", 1)[0]
    assert "audits the twin of the real lake, not `hoops-edge` itself" in head
    assert "reconcile sandbox init" in head and "--twin --scale 0.02" in head
    assert "`reconcile audit --config config.yaml --profile aws --seasons 2012,2021,2024-2026`" in head
    fill = section(report, "What it takes to fill")
    assert re.search(r"\| plays \(`fct_plays`\) \| [\d,]+ \|", fill)
    assert "75,000 calls a month" in fill and "Patreon Tier 3" in fill
    assert "--allow-delete" in fill
    plan_calls = int(re.search(r"Plan: [\d,]+ to fetch \(([\d,]+) API calls", report)[1].replace(",", ""))
    total = int(re.search(r"\| \*\*all\*\* \| \*\*([\d,]+)\*\*", fill)[1].replace(",", ""))
    assert total == plan_calls
    reports = root.parent / "reports"
    for name in ("data_audit-coverage.png", "data_audit-missing-games.png"):
        assert f"]({name})" in report
        png = (reports / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) < 300_000
    assert "missing games by week" in stdout and "To fill:" in stdout


def test_the_twin_refuses_what_it_cannot_be(tmp_path: Path) -> None:
    r = cli(["sandbox", "init", str(tmp_path / "a"), "--twin", "--writer", "default"])
    assert r.exit_code == 1 and "pipeline's way" in r.output
    r = cli(["sandbox", "init", str(tmp_path / "b"), "--twin", "--scale", "1.5"])
    assert r.exit_code == 1 and "(0, 1]" in r.output
    r = cli(["sandbox", "init", str(tmp_path / "c"), "--twin", "--seasons", "2008-2010", "--scale", "0.01"])
    assert r.exit_code == 1 and "2008" in r.output
