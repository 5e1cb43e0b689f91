from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from reconciler.sim import GAMES_CAP, InMemoryApiData, SimServer, fixture_data
from reconciler.sim.data import GAME_KEYS

Get = Callable[..., httpx.Response]


def ids(resp: httpx.Response) -> list[int]:
    assert resp.status_code == 200, resp.text
    return [r["id"] for r in resp.json()]


def game_ids_of_plays(resp: httpx.Response) -> list[int]:
    assert resp.status_code == 200, resp.text
    seen: list[int] = []
    for play in resp.json():
        if not seen or seen[-1] != play["gameId"]:
            seen.append(play["gameId"])
    return seen


def test_games_all_in_start_order(get: Get) -> None:
    resp = get("/games")
    assert resp.headers["content-type"].startswith("application/json")
    assert ids(resp) == [1005, 1001, 1002, 1003, 1004, 1006]
    assert all(tuple(g) == GAME_KEYS for g in resp.json())


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"team": "DUKE"}, [1002, 1003, 1004, 1006]),  # home or away, case-insensitive
        ({"team": "duk"}, []),  # equality, not substring
        ({"conference": "big sky"}, [1005, 1002]),
        ({"season": 2024}, [1005]),
        ({"seasonType": "postseason"}, [1004]),
        ({"status": "scheduled"}, [1006]),
        ({"tournament": "ncaa"}, [1004]),
        ({"team": "Duke", "season": 2025, "seasonType": "regular"}, [1002, 1003]),
        # Inclusive bounds; a date-only value is midnight UTC, so the end excludes later that day.
        ({"startDateRange": "2024-11-30", "endDateRange": "2024-12-01"}, [1001, 1002]),
        (
            {"startDateRange": "2024-12-01T00:00:00.000Z", "endDateRange": "2024-12-01T23:59:59Z"},
            [1002, 1003],
        ),
        ({"startDateRange": "2024-12-01T00:00:00.001Z"}, [1003, 1004, 1006]),
        ({"endDateRange": "2024-11-30T02:00:00Z"}, [1005, 1001]),
        ({"startDateRange": "2024-11-29T21:00:00-05:00", "endDateRange": "2024-11-30T02:00:00+0000"}, [1001]),
        ({"season": 2025, "unknownParam": "ignored"}, [1001, 1002, 1003, 1004]),
    ],
)
def test_games_filters(get: Get, params: dict[str, Any], expected: list[int]) -> None:
    assert ids(get("/games", **params)) == expected


def test_games_cap_is_silent_and_ordered(start_sim: Callable[..., SimServer]) -> None:
    base = fixture_data().games()[2]
    games = [
        {**base, "id": 100_000 + n, "startDate": f"2025-01-{1 + n % 28:02d}T{n % 24:02d}:00:00.000Z"}
        for n in range(3100)
    ]
    sim = start_sim(InMemoryApiData(reversed(games)))
    with httpx.Client(base_url=sim.url, headers={"Authorization": "Bearer k"}) as client:
        resp = client.get("/games")
        got = resp.json()
        assert resp.status_code == 200 and len(got) == GAMES_CAP
        keys = [(g["startDate"], g["id"]) for g in got]
        assert keys == sorted(keys)
        everything = sorted((g["startDate"], g["id"]) for g in games)
        assert keys == everything[:GAMES_CAP]  # the latest 100 are dropped without a word
        window = client.get("/games", params={"startDateRange": "2025-01-28", "endDateRange": "2025-01-28T23:59:59Z"})
        assert len(window.json()) == sum(1 for g in games if g["startDate"].startswith("2025-01-28"))


def test_plays_by_game_order_and_unknown(get: Get, data: InMemoryApiData) -> None:
    plays = get("/plays/game/1002").json()
    assert len(plays) == len(data.plays(1002)) > 100
    keys = [(p["period"], -p["secondsRemaining"]) for p in plays]
    assert keys == sorted(keys)
    assert get("/plays/game/999999").json() == []
    assert get("/plays/game/1006").json() == []  # scheduled: no play-by-play yet
    shooting = get("/plays/game/1002", shootingPlaysOnly="true").json()
    assert shooting and all(p["shootingPlay"] or p["playType"] == "MadeFreeThrow" for p in shooting)
    assert len(shooting) < len(plays)


def test_plays_by_date_window_includes_next_midnight(get: Get) -> None:
    # Game 1002 starts exactly at 2024-12-01T00:00:00Z: it is served for Nov 30 AND Dec 1.
    assert game_ids_of_plays(get("/plays/date", date="2024-11-30")) == [1001, 1002]
    assert game_ids_of_plays(get("/plays/date", date="2024-12-01")) == [1002, 1003]
    assert game_ids_of_plays(get("/plays/date", date="2024-12-01T00:00:00.000000")) == [
        1002,
        1003,
    ]  # SDK form
    assert game_ids_of_plays(get("/plays/date", date="2024-12-02")) == []
    assert get("/plays/date", date="2024-12-03").json() == []


def test_plays_by_date_order(get: Get) -> None:
    plays = get("/plays/date", date="2024-11-30").json()
    starts = {1001: "2024-11-30T02:00:00.000Z", 1002: "2024-12-01T00:00:00.000Z"}
    keys = [(starts[p["gameId"]], p["gameId"], p["period"], -p["secondsRemaining"]) for p in plays]
    assert keys == sorted(keys)


def test_plays_by_team_includes_both_teams(get: Get) -> None:
    resp = get("/plays/team", season=2025, team="example state")
    assert game_ids_of_plays(resp) == [1002]
    assert {p["team"] for p in resp.json() if p["team"]} == {"Duke", "Example State"}
    assert get("/plays/team", season=2024, team="Example State").json()[0]["gameId"] == 1005


def test_substitutions(get: Get, data: InMemoryApiData) -> None:
    by_game = get("/substitutions/game/1003").json()
    assert len(by_game) == len(data.substitutions(1003)) and {s["team"] for s in by_game} == {
        "Duke",
        "North Carolina",
    }
    assert get("/substitutions/game/1001").json() == []
    by_team = get("/substitutions/team", season=2025, team="duke").json()
    assert by_team and {s["team"] for s in by_team} == {"Duke"}  # only the team's own stints
    assert {s["gameId"] for s in by_team} == {1002, 1003, 1004}


def test_lineups_by_game_and_team(get: Get, data: InMemoryApiData) -> None:
    by_game = get("/lineups/game/1004").json()
    assert by_game == data.lineups(1004)
    assert all("gameId" not in r and "season" not in r for r in by_game)
    season = get("/lineups/team", season=2025, team="DUKE").json()
    per_game = [r for g in (1002, 1003, 1004) for r in data.lineups(g) if r["team"] == "Duke"]
    assert {r["idHash"] for r in season} == {r["idHash"] for r in per_game}
    assert len(season) == len({r["idHash"] for r in per_game}) < len(per_game)  # units recur across games
    for unit in season:
        games = [r for r in per_game if r["idHash"] == unit["idHash"]]
        assert unit["totalSeconds"] == sum(r["totalSeconds"] for r in games)
        assert unit["teamStats"]["points"] == sum(r["teamStats"]["points"] for r in games)
        fg = unit["teamStats"]["fieldGoals"]
        assert fg["attempted"] == sum(r["teamStats"]["fieldGoals"]["attempted"] for r in games)
        if fg["attempted"]:
            assert fg["pct"] == math.floor(fg["made"] / fg["attempted"] * 1000 + 0.5) / 10  # JS Math.round
    windowed = get(
        "/lineups/team",
        season=2025,
        team="Duke",
        startDateRange="2024-12-01T12:00:00Z",
        endDateRange="2024-12-31",
    ).json()
    # Only game 1003 lies in the window; re-aggregating one game's units reproduces them exactly.
    assert windowed == [r for r in data.lineups(1003) if r["team"] == "Duke"]
    assert get("/lineups/team", season=2024, team="Duke").json() == []


def test_teams(get: Get) -> None:
    assert len(get("/teams").json()) == 5
    assert [t["school"] for t in get("/teams", conference="ACC").json()] == ["Duke", "North Carolina"]
    assert get("/teams", conference="acc").json() == []  # case-sensitive on /teams
    in_2024 = {t["school"] for t in get("/teams", season=2024).json()}
    assert in_2024 == {"Gonzaga", "Example State"}


@pytest.mark.parametrize(
    ("path", "params", "field", "message"),
    [
        ("/plays/game/abc", {}, "gameId", "invalid integer number"),
        ("/plays/game/1.5", {}, "gameId", "invalid integer number"),
        ("/plays/date", {}, "date", "'date' is required"),
        ("/plays/date", {"date": "yesterday"}, "date", "invalid ISO 8601 datetime format"),
        ("/plays/team", {"team": "Duke"}, "season", "'season' is required"),
        ("/plays/team", {"team": "Duke", "season": "twenty"}, "season", "invalid integer number"),
        ("/substitutions/team", {"season": 2025}, "team", "'team' is required"),
        (
            "/lineups/team",
            {"season": 2025, "team": "Duke", "endDateRange": "soon"},
            "endDateRange",
            "invalid ISO",
        ),
        ("/games", {"seasonType": "playoffs"}, "seasonType", "should be one of the following"),
        ("/games", {"season": "2025x"}, "season", "invalid integer number"),
        ("/plays/game/1002", {"shootingPlaysOnly": "maybe"}, "shootingPlaysOnly", "invalid boolean value"),
    ],
)
def test_validation_failed(get: Get, path: str, params: dict[str, Any], field: str, message: str) -> None:
    resp = get(path, **params)
    assert resp.status_code == 400
    body = resp.json()
    assert body["message"] == "Validation Failed"
    assert message in body["details"][field]["message"]
    assert body["details"][field]["value"] == params.get(field) if field in params else True


def test_multiple_validation_errors_reported_together(get: Get) -> None:
    body = get("/plays/team").json()
    assert set(body["details"]) == {"season", "team"}


@pytest.mark.parametrize("path", ["/nope", "/plays", "/plays/game", "/plays/game/1/extra", "/games/"])
def test_unknown_route_is_html_404(get: Get, path: str) -> None:
    resp = get(path)
    if path == "/games/":  # Express is not strict about a trailing slash
        assert resp.status_code == 200
        return
    assert resp.status_code == 404
    assert resp.headers["content-type"].startswith("text/html")
    assert f"Cannot GET {path}" in resp.text
    assert "x-calllimit-remaining" not in resp.headers
