"""Render a :class:`PlayFrame` in wire form: raw JSON Lines text and nested ``PlayInfo`` records.

The raw text equals ``json.dumps(record)`` (Python's default separators, keys in API order) of
the records :func:`wire_table` yields, line for line.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from reconciler.synth.jsontext import (
    PYTHON,
    bool_text,
    int_text,
    js_thousandths_table,
    json_obj,
    quoted,
    thousandths_table,
)
from reconciler.synth.playrender import (
    RANGES,
    SCORING,
    SHOOTING,
    PlayPieces,
    on_floor_json,
    participants_json,
    shot_info_json,
)
from reconciler.synth.playsim import POINTS
from reconciler.synth.teams import athlete_names

__all__ = ["raw_lines", "wire_table"]


def raw_lines(p: PlayPieces, *, js_numbers: bool = False) -> pa.Array:
    """The raw-layer JSON text of every play (one line each, without the newline).

    Args:
        p: The pieces.
        js_numbers: Write whole floats as the API's JSON does (``1``, ``285``), i.e. the lines are
            ``json.dumps`` of the records a client parsed from the real API.

    Returns:
        A string array, one ``json.dumps(record)`` per event.
    """
    f = p.frame
    t = p.text
    tn = p.team_null
    table = js_thousandths_table() if js_numbers else thousandths_table()
    hwp = pc.if_else(pa.array(f.hwp < 0), "null", pc.take(table, pa.array(np.maximum(f.hwp, 0))))
    season = str(f.season)
    fields = [
        ("id", int_text(p.play_id)),
        ("sourceId", quoted(t["sourceId"])),
        ("gameId", int_text(p.gid)),
        ("gameSourceId", quoted(t["gameSourceId"])),
        ("gameStartDate", quoted(t["gameStartDate"])),
        ("season", season),
        ("seasonType", quoted(t["seasonType"])),
        ("gameType", quoted(t["gameType"])),
        ("tournament", quoted(t["tournament"])),
        ("playType", quoted(t["playType"])),
        ("isHomeTeam", bool_text(f.side == 0, tn)),
        ("teamId", int_text(p.team_id, tn)),
        ("team", quoted(t["team"])),
        ("conference", quoted(t["conference"])),
        ("teamSeed", int_text(p.team_seed, p.team_seed < 0)),
        ("opponentId", int_text(p.opp_id, tn)),
        ("opponent", quoted(t["opponent"])),
        ("opponentConference", quoted(t["opponentConference"])),
        ("opponentSeed", int_text(p.opp_seed, p.opp_seed < 0)),
        ("period", int_text(f.period)),
        ("clock", quoted(t["clock"])),
        ("secondsRemaining", int_text(f.sr)),
        ("homeScore", int_text(f.home_score)),
        ("awayScore", int_text(f.away_score)),
        ("homeWinProbability", hwp),
        ("scoringPlay", bool_text(SCORING[f.etype])),
        ("shootingPlay", bool_text(SHOOTING[f.etype])),
        ("scoreValue", int_text(POINTS[f.etype])),
        ("wallclock", quoted(t["wallclock"])),
        ("playText", quoted(t["playText"])),
        ("participants", participants_json(p, PYTHON)),
        ("onFloor", on_floor_json(p, PYTHON)),
        ("shotInfo", pc.fill_null(shot_info_json(p, PYTHON, js_numbers=js_numbers), "null")),
    ]
    return json_obj(PYTHON, fields)


def _person(names: pa.Array, ids: NDArray[np.int64], null: NDArray[np.bool_]) -> pa.StructArray:
    return pa.StructArray.from_arrays([names, pa.array(ids, type=pa.int64(), mask=null)], names=["name", "id"])


def _list(counts: NDArray[np.int64], values: pa.Array) -> pa.Array:
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets, type=pa.int32()), values)


def wire_table(p: PlayPieces) -> pa.Table:
    """The ``PlayInfo`` wire records of the frame as a nested Arrow table (``to_pylist()`` gives them).

    Args:
        p: The pieces.

    Returns:
        A table whose columns are the 33 wire keys in API order, with nested list/struct columns.
    """
    f = p.frame
    t = p.text
    tn = p.team_null
    i64 = pa.int64()
    n = len(f)
    # participants: shooter/actor first, then the assister
    n_part = (f.actor >= 0).astype(np.int64) + (f.assist >= 0)
    first = np.concatenate([[0], np.cumsum(n_part)])[:-1]
    flat = np.zeros(int(n_part.sum()), dtype=np.int64)
    flat[first[n_part >= 1]] = f.actor[n_part >= 1]
    flat[first[n_part == 2] + 1] = f.assist[n_part == 2]
    parts = _list(n_part, _person(athlete_names(p.seed, flat), flat, np.zeros(len(flat), bool)))
    # onFloor: the 10 players of the event's segment
    on = p.floor_on
    floor_aid = f.rotation.seg_aid[f.seg[on]].ravel() if n else np.zeros(0, np.int64)
    floor_team = p.seg_team[f.seg[on]].ravel() if n else np.zeros(0, np.int64)
    floor_vals = pa.StructArray.from_arrays(
        [
            pc.take(p.teams.school_pa, pa.array(floor_team, type=i64)),
            athlete_names(p.seed, floor_aid),
            pa.array(floor_aid, type=i64),
        ],
        names=["team", "name", "id"],
    )
    floor = _list(np.where(on, 10, 0).astype(np.int64), floor_vals)
    loc = pa.StructArray.from_arrays(
        [
            pa.array(f.loc_x10 / 10.0, type=pa.float64(), mask=f.loc_x10 < 0),
            pa.array(f.loc_y10 / 10.0, type=pa.float64(), mask=f.loc_y10 < 0),
        ],
        names=["x", "y"],
    )
    shot = pa.StructArray.from_arrays(
        [
            _person(p.actor_name, f.actor, f.actor < 0),
            pa.array(SCORING[f.etype], type=pa.bool_()),
            pc.take(RANGES, pa.array(f.etype)),
            pa.array(f.assist >= 0, type=pa.bool_()),
            _person(p.assist_name, f.assist, f.assist < 0),
            loc,
        ],
        names=["shooter", "made", "range", "assisted", "assistedBy", "location"],
        mask=pa.array(~p.is_shot),
    )
    cols: dict[str, pa.Array] = {
        "id": pa.array(p.play_id, type=i64),
        "sourceId": t["sourceId"],
        "gameId": pa.array(p.gid, type=i64),
        "gameSourceId": t["gameSourceId"],
        "gameStartDate": t["gameStartDate"],
        "season": pa.array(np.full(n, f.season, dtype=np.int64), type=i64),
        "seasonType": t["seasonType"],
        "gameType": t["gameType"],
        "tournament": t["tournament"],
        "playType": t["playType"],
        "isHomeTeam": pa.array(f.side == 0, type=pa.bool_(), mask=tn),
        "teamId": pa.array(p.team_id, type=i64, mask=tn),
        "team": t["team"],
        "conference": t["conference"],
        "teamSeed": pa.array(p.team_seed, type=i64, mask=p.team_seed < 0),
        "opponentId": pa.array(p.opp_id, type=i64, mask=tn),
        "opponent": t["opponent"],
        "opponentConference": t["opponentConference"],
        "opponentSeed": pa.array(p.opp_seed, type=i64, mask=p.opp_seed < 0),
        "period": pa.array(f.period, type=i64),
        "clock": t["clock"],
        "secondsRemaining": pa.array(f.sr, type=i64),
        "homeScore": pa.array(f.home_score, type=i64),
        "awayScore": pa.array(f.away_score, type=i64),
        "homeWinProbability": pa.array(f.hwp / 1000.0, type=pa.float64(), mask=f.hwp < 0),
        "scoringPlay": pa.array(SCORING[f.etype], type=pa.bool_()),
        "shootingPlay": pa.array(SHOOTING[f.etype], type=pa.bool_()),
        "scoreValue": pa.array(POINTS[f.etype], type=i64),
        "wallclock": t["wallclock"],
        "playText": t["playText"],
        "participants": parts,
        "onFloor": floor,
        "shotInfo": shot,
    }
    return pa.table(cols)
