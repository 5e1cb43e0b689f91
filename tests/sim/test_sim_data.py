from __future__ import annotations

import math
import re
from typing import Any

import pytest

from reconciler.lake.lineups import derive_lineups, stat_counts, sum_lineups
from reconciler.sim import InMemoryApiData, fixture_data, iso_z
from reconciler.sim.data import GAME_KEYS, LINEUP_KEYS, PLAY_KEYS, SUBSTITUTION_KEYS, TEAM_KEYS, ApiData
from reconciler.sim.index import GameIndex, parse_instant
from reconciler.sim.routes import ROUTES, Param, Route

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_in_memory_data_satisfies_the_protocol() -> None:
    data: ApiData = fixture_data()
    assert isinstance(data, InMemoryApiData)
    assert data.plays(424242) == [] and data.substitutions(424242) == [] and data.lineups(424242) == []


def test_fixture_records_have_exact_wire_shape(data: InMemoryApiData) -> None:
    assert len(GAME_KEYS) == 39
    for game in data.games():
        assert tuple(game) == GAME_KEYS
        assert STAMP.match(game["startDate"])
        assert game["seasonLabel"] == f"{game['season'] - 1}{game['season']}"
        gid = game["id"]
        for play in data.plays(gid):
            assert tuple(play) == PLAY_KEYS
            assert play["gameStartDate"] == game["startDate"] and STAMP.match(play["wallclock"])
            assert isinstance(play["gameType"], str)
            shot = play["shotInfo"]
            if shot is not None:
                assert set(shot["location"]) == {"x", "y"} and set(shot["assistedBy"]) == {"name", "id"}
                assert shot["range"] in ("rim", "jumper", "three_pointer", "free_throw")
        for sub in data.substitutions(gid):
            assert tuple(sub) == SUBSTITUTION_KEYS
        for unit in data.lineups(gid):
            assert tuple(unit) == LINEUP_KEYS
            assert unit["idHash"] == "-".join(str(a["id"]) for a in unit["athletes"])
    for team in data.teams():
        assert tuple(team) == TEAM_KEYS


def test_fixture_is_internally_consistent(data: InMemoryApiData) -> None:
    by_id = {g["id"]: g for g in data.games()}
    for gid in (1001, 1002, 1003, 1004, 1005):
        game, plays = by_id[gid], data.plays(gid)
        assert (plays[-1]["homeScore"], plays[-1]["awayScore"]) == (game["homePoints"], game["awayPoints"])
        assert sum(game["homePeriodPoints"]) == game["homePoints"]
        assert game["homeWinner"] == (game["homePoints"] > game["awayPoints"])
        team_points = {
            (u["team"]): sum(x["teamStats"]["points"] for x in data.lineups(gid) if x["team"] == u["team"])
            for u in data.lineups(gid)
        }
        if team_points:
            assert team_points[game["homeTeam"]] == game["homePoints"]
    scheduled = by_id[1006]
    assert scheduled["status"] == "scheduled" and scheduled["homePoints"] is None
    assert by_id[1001]["awayConference"] is None  # a non-D-I opponent


def test_a_window_sums_units_and_derives_the_rest_again(data: InMemoryApiData) -> None:
    per_game = [u for gid in (1002, 1003, 1004) for u in data.lineups(gid) if u["team"] == "Duke"]
    merged = sum_lineups(per_game)
    assert len(merged) == len({u["idHash"] for u in per_game}) < len(per_game)  # some units recur
    for unit in merged:
        parts = [u for u in per_game if u["idHash"] == unit["idHash"]]
        assert unit["totalSeconds"] == sum(p["totalSeconds"] for p in parts)
        for side in ("teamStats", "opponentStats"):
            assert stat_counts(unit[side]) == sum((stat_counts(p[side]) for p in parts), start=stat_counts({}))
        if len(parts) == 1:  # one game's unit is that game's record again, rates and all
            assert unit == parts[0]
        own, opp = unit["teamStats"], unit["opponentStats"]
        if own["possessions"] and opp["possessions"]:  # rates from the sums (JS Math.round to tenths)
            off = math.floor(own["points"] / own["possessions"] * 1000 + 0.5) / 10
            dfn = math.floor(opp["points"] / opp["possessions"] * 1000 + 0.5) / 10
            assert (unit["offenseRating"], unit["defenseRating"]) == (off, dfn)
    assert [u["totalSeconds"] for u in merged] == sorted((u["totalSeconds"] for u in merged), reverse=True)
    assert sum_lineups([]) == []


def test_a_window_of_one_game_is_the_game(data: InMemoryApiData) -> None:
    """Summing a game's own records changes nothing: the derivation's rates come back unchanged."""
    for gid in (1002, 1003, 1004):
        game = data.lineups(gid)
        assert game == derive_lineups(data.substitutions(gid), data.plays(gid))
        assert sum_lineups(game) == game


def test_summing_guards_zero_possessions() -> None:
    unit = fixture_data().lineups(1002)[0]
    empty: dict[str, Any] = {**unit, "totalSeconds": 0, "teamStats": {}, "opponentStats": {}}
    (merged,) = sum_lineups([empty])
    assert merged["pace"] is None and merged["offenseRating"] is None  # NaN on the wire is null
    assert merged["teamStats"]["fieldGoals"]["pct"] == 0


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2024-12-01", "2024-12-01T00:00:00.000Z"),
        ("2024-12-01T00:00:00.000Z", "2024-12-01T00:00:00.000Z"),
        ("2024-12-01T00:00:00.000000", "2024-12-01T00:00:00.000Z"),
        ("2024-12-01T00:00:00.000000+0000", "2024-12-01T00:00:00.000Z"),
        ("2024-11-30T19:00:00-05:00", "2024-12-01T00:00:00.000Z"),
        ("2024-12-01T23:59:59.999Z", "2024-12-01T23:59:59.999Z"),
    ],
)
def test_parse_instant(raw: str, iso: str) -> None:
    from datetime import UTC, datetime

    assert iso_z(datetime.fromtimestamp(parse_instant(raw) / 1000, UTC)) == iso


@pytest.mark.parametrize("raw", ["", "yesterday", "12/01/2024", "-1"])
def test_parse_instant_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_instant(raw)


class CountingGame(dict[str, Any]):
    """A game record that counts field reads, to check how many games a query touches."""

    reads = 0

    def __getitem__(self, key: str) -> Any:
        CountingGame.reads += 1
        return super().__getitem__(key)


def test_index_queries_touch_only_candidate_games() -> None:
    base = fixture_data().games()[2]
    teams = [f"Team {n}" for n in range(360)]
    games = [
        CountingGame(
            base,
            id=n,
            season=2010 + n // 6000,
            homeTeam=teams[n % 360],
            awayTeam=teams[(n * 7 + 1) % 360],
            startDate=f"{2009 + n // 6000}-11-{1 + n % 28:02d}T{n % 24:02d}:00:00.000Z",
        )
        for n in range(100_000)
    ]
    index = GameIndex(games)  # about 1 s for 100,000 games
    CountingGame.reads = 0
    chosen = index.select(team="Team 5", season=2012)
    assert chosen and all(g["season"] == 2012 for g in chosen)
    CountingGame.reads = 0
    index.select(team="Team 5", season=2012)
    assert CountingGame.reads < 600 * 5  # the team's ~550 games, not 100,000
    CountingGame.reads = 0
    day = index.select(start_ms=parse_instant("2012-11-05"), end_ms=parse_instant("2012-11-06"))
    assert day and CountingGame.reads < len(day) * 6  # bisected to the window, no scan
    assert len(index.select(limit=3000)) == 3000


def test_route_table_declares_path_params() -> None:
    assert {"/games", "/plays/game/{gameId}", "/plays/date", "/plays/team", "/teams"} <= set(ROUTES)
    with pytest.raises(ValueError, match="not declared"):
        Route("/x/{id}", lambda store, p: [], (Param("other"),))
