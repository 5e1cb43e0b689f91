"""The official cbbd SDK (1.30.1, pydantic 1) parses every simulated endpoint.

The SDK needs pydantic<2, so it runs in an isolated uv environment, in a subprocess; PyPI (or
uv's cache) must be reachable. The counts it reports must equal the raw array lengths.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reconciler.sim import SimServer, fixture_data

SCRIPT = Path(__file__).with_name("fidelity_script.py")
SDK = "cbbd==1.30.1"

# name -> (path, params): what the script asks the SDK for, asked again with plain httpx.
RAW = {
    "games": ("/games", {}),
    "games_duke_2025": ("/games", {"team": "duke", "season": 2025, "seasonType": "regular"}),
    "games_window": ("/games", {"startDateRange": "2024-11-30", "endDateRange": "2024-12-01T23:59:59Z"}),
    "games_scheduled": ("/games", {"status": "scheduled"}),
    "plays_game": ("/plays/game/1002", {}),
    "plays_game_shooting": ("/plays/game/1002", {"shootingPlaysOnly": "true"}),
    "plays_date_1130": ("/plays/date", {"date": "2024-11-30"}),
    "plays_date_1201": ("/plays/date", {"date": "2024-12-01"}),
    "plays_team": ("/plays/team", {"season": 2025, "team": "Duke"}),
    "plays_team_2024": ("/plays/team", {"season": 2024, "team": "Gonzaga"}),
    "subs_game": ("/substitutions/game/1003", {}),
    "subs_team": ("/substitutions/team", {"season": 2025, "team": "Duke"}),
    "lineups_game": ("/lineups/game/1004", {}),
    "lineups_team": ("/lineups/team", {"season": 2025, "team": "Duke"}),
    "lineups_team_window": (
        "/lineups/team",
        {
            "season": 2025,
            "team": "Duke",
            "startDateRange": "2024-12-01T12:00:00Z",
            "endDateRange": "2024-12-31",
        },
    ),
    "teams": ("/teams", {}),
    "teams_acc": ("/teams", {"conference": "ACC"}),
}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(fixture_data()) as server:
        yield server


def test_official_sdk_parses_every_endpoint(sim: SimServer) -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH: the SDK fidelity check needs `uv run --isolated --with cbbd`")
    proc = subprocess.run(
        [uv, "run", "--isolated", "--no-project", "--quiet", "--with", SDK, "python", str(SCRIPT), sim.url],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, f"SDK script failed:\n{proc.stderr[-4000:]}"
    sdk_counts = json.loads(proc.stdout.strip().splitlines()[-1])
    with httpx.Client(base_url=sim.url, headers={"Authorization": "Bearer x"}) as client:
        raw_counts = {name: len(client.get(path, params=params).json()) for name, (path, params) in RAW.items()}
    assert sdk_counts == raw_counts
    assert sdk_counts["games"] == 6 and sdk_counts["games_window"] == 3 and sdk_counts["teams"] == 5
    assert sdk_counts["plays_date_1130"] > 0 and sdk_counts["lineups_team"] > sdk_counts["lineups_team_window"] > 0
