"""Run inside an isolated environment with the official ``cbbd`` SDK (pydantic 1): call every
simulated endpoint through the SDK, which parses each response into its strict models, and print
the record counts as JSON.

Usage: uv run --isolated --no-project --with cbbd==1.30.1 python fidelity_script.py URL
"""

import json
import sys
from datetime import UTC, datetime

import cbbd

#: Rates the server derives by a division with no guard (SRV lineups/service.ts): a unit with no
#: possessions or attempts gets NaN there, which JSON carries as null (cbbd_api.md §4.7), while the
#: SDK declares these fields non-nullable. Only these, and only as null, are read as 0 here.
NAN_RATES = frozenset(
    {
        "pace",
        "offenseRating",
        "defenseRating",
        "netRating",
        "trueShooting",
        "effectiveFieldGoalPct",
        "turnoverRatio",
        "offensiveReboundPct",
        "freeThrowRate",
    }
)


def _nan_as_zero(node):
    if isinstance(node, dict):
        return {k: 0.0 if v is None and k in NAN_RATES else _nan_as_zero(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_nan_as_zero(x) for x in node]
    return node


def _lineups(call, **params):
    """Lineup records parsed by the SDK's model, the server's NaN rates read as 0 (see NAN_RATES)."""
    raw = call(**params, _preload_content=False).raw_data
    return [cbbd.LineupStats.from_dict(_nan_as_zero(r)) for r in json.loads(raw)]


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
            "lineups_game": lambda: _lineups(lineups.get_lineup_stats_by_game_with_http_info, game_id=1004),
            "lineups_team": lambda: _lineups(
                lineups.get_lineups_by_team_season_with_http_info, season=2025, team="Duke"
            ),
            "lineups_team_window": lambda: _lineups(
                lineups.get_lineups_by_team_season_with_http_info,
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
