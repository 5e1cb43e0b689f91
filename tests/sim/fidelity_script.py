"""Run inside an isolated environment with the official ``cbbd`` SDK (pydantic 1): call every
simulated endpoint through the SDK, which parses each response into its strict models, and print
the record counts as JSON.

Usage: uv run --isolated --no-project --with cbbd==1.30.1 python fidelity_script.py URL
"""

import json
import sys
from datetime import UTC, datetime

import cbbd


def main(url: str) -> None:
    conf = cbbd.Configuration(host=url, access_token="x")
    counts = {}
    with cbbd.ApiClient(conf) as client:
        games = cbbd.GamesApi(client)
        plays = cbbd.PlaysApi(client)
        lineups = cbbd.LineupsApi(client)
        teams = cbbd.TeamsApi(client)
        calls = {
            "games": lambda: games.get_games(),
            "games_duke_2025": lambda: games.get_games(team="duke", season=2025, season_type="regular"),
            "games_window": lambda: games.get_games(
                start_date_range=datetime(2024, 11, 30, tzinfo=UTC),
                end_date_range=datetime(2024, 12, 1, 23, 59, 59),
            ),
            "games_scheduled": lambda: games.get_games(status="scheduled"),
            "plays_game": lambda: plays.get_plays(game_id=1002),
            "plays_game_shooting": lambda: plays.get_plays(game_id=1002, shooting_plays_only=True),
            "plays_date_1130": lambda: plays.get_plays_by_date(var_date=datetime(2024, 11, 30)),
            "plays_date_1201": lambda: plays.get_plays_by_date(var_date=datetime(2024, 12, 1)),
            "plays_team": lambda: plays.get_plays_by_team(season=2025, team="Duke"),
            "plays_team_2024": lambda: plays.get_plays_by_team(season=2024, team="Gonzaga"),
            "subs_game": lambda: plays.get_substitutions_by_game(game_id=1003),
            "subs_team": lambda: plays.get_substitutions_by_team(season=2025, team="Duke"),
            "lineups_game": lambda: lineups.get_lineup_stats_by_game(game_id=1004),
            "lineups_team": lambda: lineups.get_lineups_by_team_season(season=2025, team="Duke"),
            "lineups_team_window": lambda: lineups.get_lineups_by_team_season(
                season=2025,
                team="Duke",
                start_date_range=datetime(2024, 12, 1, 12),
                end_date_range=datetime(2024, 12, 31),
            ),
            "teams": lambda: teams.get_teams(),
            "teams_acc": lambda: teams.get_teams(conference="ACC"),
        }
        for name, call in calls.items():
            records = call()
            # The SDK returns model objects; a dict here would mean it did not parse.
            assert all(type(r).__module__.startswith("cbbd.models") for r in records), name
            counts[name] = len(records)
    print(json.dumps(counts))


if __name__ == "__main__":
    main(sys.argv[1])
