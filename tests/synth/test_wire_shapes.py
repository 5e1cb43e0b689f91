from __future__ import annotations

import datetime as dt

from reconciler.synth import Universe
from reconciler.synth.schedule import FINAL

from .wire_spec import (
    GAME_INFO,
    LINEUP,
    PLAY_INFO,
    SUB_IN,
    SUBSTITUTION,
    TEAM_INFO,
    UNIT_STATS_INTS,
    UNIT_STATS_KEYS,
    check_record,
)

RANGES = {"rim", "jumper", "three_pointer", "free_throw"}


def _ts(value: str) -> None:
    assert value.endswith("Z") and len(value) == 24, value
    dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")


def _sample(universe: Universe, season: int, pred: str, n: int = 4) -> list[int]:
    sg = universe.season_games(season)
    mask = getattr(sg, pred)
    return [int(g) for g in sg.game_id[mask][:n]]


def test_games_have_all_39_keys_and_exact_types(universe: Universe) -> None:
    games = universe.games()
    assert len(games) == sum(len(universe.season_games(s)) for s in universe.seasons)
    for g in games:
        check_record(dict(g), GAME_INFO, f"game {g['id']}")
        _ts(g["startDate"])
        assert g["seasonLabel"] == f"{g['season'] - 1}{g['season']}"
        assert g["status"] in {"scheduled", "in_progress", "final", "postponed", "cancelled"}
        assert g["seasonType"] in {"regular", "postseason", "preseason"}
        if g["status"] == "final":
            assert g["homePoints"] == sum(g["homePeriodPoints"])
            assert g["awayPoints"] == sum(g["awayPeriodPoints"])
            assert len(g["homePeriodPoints"]) == len(g["awayPeriodPoints"]) >= 2
            assert g["homeWinner"] is (g["homePoints"] > g["awayPoints"])
            assert g["homeWinner"] is not g["awayWinner"]
        else:
            assert g["homePoints"] is None and g["homePeriodPoints"] is None and g["homeWinner"] is None
        if g["excitement"] is not None:
            assert g["excitement"] > 0 and round(g["excitement"], 1) == g["excitement"]


def test_game_ids_unique_and_dates_within_the_season(universe: Universe) -> None:
    games = universe.games()
    assert len({g["id"] for g in games}) == len(games)
    for g in games:
        day = dt.date.fromisoformat(g["startDate"][:10])
        assert dt.date(g["season"] - 1, 11, 1) <= day <= dt.date(g["season"], 4, 8)


def test_every_season_has_midnight_utc_and_non_final_games(universe: Universe) -> None:
    for season in universe.seasons:
        games = [g for g in universe.games() if g["season"] == season]
        midnight = [g for g in games if g["startDate"].endswith("T00:00:00.000Z")]
        assert midnight, season
        # /plays/date?date=D also returns D+1T00:00Z games: some midnight game has a busy day before it
        days = {g["startDate"][:10] for g in games if not g["startDate"].endswith("T00:00:00.000Z")}
        before = {(dt.date.fromisoformat(g["startDate"][:10]) - dt.timedelta(days=1)).isoformat() for g in midnight}
        assert days & before, season
        assert any(g["status"] in {"postponed", "cancelled"} for g in games), season
        assert sum(g["status"] == "final" for g in games) > 0.8 * len(games)
        assert any(g["awayConferenceId"] is None for g in games) or len(games) < 40


def test_plays_wire_shape(universe: Universe) -> None:
    for season in universe.seasons:
        for gid in _sample(universe, season, "plays_ok"):
            plays = universe.plays(gid)
            assert plays
            for p in plays:
                check_record(p, PLAY_INFO, f"play {p['id']}")
                _ts(p["gameStartDate"])
                if p["wallclock"] is not None:
                    _ts(p["wallclock"])
                assert len(p["clock"]) == 5 and p["clock"][2] == ":"
                for part in p["participants"]:
                    assert list(part) == ["name", "id"] and isinstance(part["id"], int)
                assert len(p["onFloor"]) in (0, 10)
                for f in p["onFloor"]:
                    assert list(f) == ["team", "name", "id"] and isinstance(f["id"], int)
                shot = p["shotInfo"]
                if shot is not None:
                    assert list(shot) == ["shooter", "made", "range", "assisted", "assistedBy", "location"]
                    assert list(shot["shooter"]) == ["name", "id"]
                    assert list(shot["assistedBy"]) == ["name", "id"]
                    assert list(shot["location"]) == ["x", "y"]
                    assert isinstance(shot["made"], bool) and isinstance(shot["assisted"], bool)
                    assert shot["range"] in RANGES
                if p["teamId"] is None:
                    assert p["team"] is p["opponentId"] is p["isHomeTeam"] is None


def test_plays_are_consistent_with_the_game(universe: Universe) -> None:
    for season in universe.seasons:
        for gid in _sample(universe, season, "plays_ok", 6):
            game = universe.game(gid)
            assert game is not None
            plays = universe.plays(gid)
            assert plays[-1]["playType"] == "End Game"
            assert plays[-1]["period"] == len(game["homePeriodPoints"])
            assert (plays[-1]["homeScore"], plays[-1]["awayScore"]) == (
                game["homePoints"],
                game["awayPoints"],
            )
            assert sum(p["playType"] == "End Game" for p in plays) == 1
            keys = [(p["period"], -p["secondsRemaining"]) for p in plays]
            assert keys == sorted(keys)
            assert {p["period"] for p in plays} == set(range(1, len(game["homePeriodPoints"]) + 1))
            assert all(p["gameStartDate"] == game["startDate"] for p in plays)


def test_play_ids_unique_across_the_universe(universe: Universe) -> None:
    ids: list[int] = []
    for season in universe.seasons:
        ids.extend(universe.plays_table(season=season)["id"].to_pylist())
    assert len(ids) == len(set(ids)) > 1000


def test_games_without_plays_return_empty(universe: Universe) -> None:
    for season in universe.seasons:
        sg = universe.season_games(season)
        not_final = sg.game_id[sg.status != FINAL]
        api_empty = sg.game_id[(sg.status == FINAL) & ~sg.plays_ok]
        assert len(not_final) and len(api_empty), season
        for gid in [*not_final[:2].tolist(), *api_empty[:2].tolist()]:
            assert universe.plays(gid) == []
            assert universe.substitutions(gid) == []
            assert universe.lineups(gid) == []
    assert universe.plays(123) == [] and universe.plays(2099_00001) == []


def test_substitutions_wire_shape_and_coverage(universe: Universe) -> None:
    for gid in _sample(universe, 2024, "has_subs"):
        game = universe.game(gid)
        assert game is not None
        subs = universe.substitutions(gid)
        assert 30 <= len(subs) <= 120
        assert {s["teamId"] for s in subs} == {game["homeTeamId"], game["awayTeamId"]}
        for s in subs:
            check_record(s, SUBSTITUTION, f"sub {gid}")
            for side in ("subIn", "subOut"):
                assert list(s[side]) == list(SUB_IN)
                assert all(isinstance(s[side][k], int) and not isinstance(s[side][k], bool) for k in SUB_IN)
        # five players of each team on the floor at every play, matching onFloor
        plays = universe.plays(gid)
        total = 2400 + 300 * (len(game["homePeriodPoints"]) - 2)

        def elapsed(period: int, sr: int) -> int:
            start = (period - 1) * 1200 if period <= 2 else 2400 + (period - 3) * 300
            length = 1200 if period <= 2 else 300
            return start + length - sr

        for p in plays[::25]:
            e = elapsed(p["period"], p["secondsRemaining"])
            on = {
                s["athleteId"]
                for s in subs
                if elapsed(s["subIn"]["period"], s["subIn"]["secondsRemaining"])
                <= e
                < elapsed(s["subOut"]["period"], s["subOut"]["secondsRemaining"])
                or (e == total and elapsed(s["subOut"]["period"], s["subOut"]["secondsRemaining"]) == total)
            }
            assert {f["id"] for f in p["onFloor"]} == on


def test_lineups_wire_shape(universe: Universe) -> None:
    for gid in _sample(universe, 2025, "has_subs"):
        lineups = universe.lineups(gid)
        assert 10 <= len(lineups) <= 60
        for rec in lineups:
            check_record(rec, LINEUP, f"lineup {gid}")
            assert "gameId" not in rec and "season" not in rec
            ids = [a["id"] for a in rec["athletes"]]
            assert len(ids) == 5 and rec["idHash"] == "-".join(str(i) for i in sorted(ids))
            for side in ("teamStats", "opponentStats"):
                stats = rec[side]
                assert set(stats) == set(UNIT_STATS_KEYS)  # the server's construction order
                assert all(isinstance(stats[k], int) for k in UNIT_STATS_INTS)
                two = stats["twoPointers"]
                assert set(two) == {"made", "attempted", "pct", "jumpers", "layups", "dunks", "tipIns"}
                for k in ("jumpers", "layups", "dunks", "tipIns"):
                    assert set(two[k]) == {"made", "attempted", "pct"}
                assert set(stats["fourFactors"]) == {
                    "freeThrowRate",
                    "offensiveReboundPct",
                    "turnoverRatio",
                    "effectiveFieldGoalPct",
                }
        game = universe.game(gid)
        assert game is not None
        d1_teams = {
            t
            for t, c in (
                (game["homeTeamId"], game["homeConference"]),
                (game["awayTeamId"], game["awayConference"]),
            )
            if c
        }
        assert {r["teamId"] for r in lineups} == d1_teams
        seconds = sum(r["totalSeconds"] for r in lineups if r["teamId"] == game["homeTeamId"])
        assert seconds == 2400 + 300 * (len(game["homePeriodPoints"]) - 2)


def test_teams(universe: Universe) -> None:
    teams = universe.teams()
    assert 370 <= len(teams) <= 400
    assert len({t["id"] for t in teams}) == len(teams)
    assert len({t["school"] for t in teams}) == len(teams)
    assert all(list(t) == list(TEAM_INFO) for t in teams)
    d1 = [t for t in teams if t["conference"] is not None]
    assert 350 <= len(d1) <= 370
    assert all(isinstance(t["id"], int) and t["id"] < 1000 for t in teams)
