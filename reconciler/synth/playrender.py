"""Render a :class:`PlayFrame` as the declared silver ``fct_plays`` table, column-wise.

The shared per-event pieces (:class:`PlayPieces`) are also used by :mod:`playwire` for the raw
JSON Lines and the nested wire records, so the three forms cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numpy.typing import NDArray

from reconciler.lake.schemas import SILVER_TABLES
from reconciler.synth.jsontext import (
    COMPACT,
    Style,
    bool_text,
    cat,
    clock_table,
    int_text,
    iso_seconds,
    js_tenths_table,
    json_obj,
    quoted,
    tenths_table,
)
from reconciler.synth.playsim import ET, IS_SHOT, POINTS, PlayFrame
from reconciler.synth.teams import TeamTable, athlete_ids, athlete_names

__all__ = ["RANGES", "SCORING", "SHOOTING", "TYPE_NAMES", "PlayPieces", "play_pieces", "silver_table"]

TYPE_NAMES = pa.array(
    [
        *("JumpShot", "JumpShot", "LayUpShot", "DunkShot", "TipShot", "MadeFreeThrow"),
        *("JumpShot", "JumpShot", "LayUpShot", "TipShot", "MadeFreeThrow"),
        *("Defensive Rebound", "Offensive Rebound", "Lost Ball Turnover", "Steal", "Block Shot"),
        *("PersonalFoul", "Dead Ball Rebound", "End Period", "End Game"),
    ]
)
SCORING = np.arange(20) <= ET.FT_MADE
SHOOTING = IS_SHOT & (np.arange(20) != ET.FT_MADE) & (np.arange(20) != ET.FT_MISS)
RANGES = pa.array(
    ["jumper", "three_pointer", "rim", "rim", "rim", "free_throw"]
    + ["jumper", "three_pointer", "rim", "rim", "free_throw"]
    + [None] * 9,
    type=pa.string(),
)
_PREFIX = pa.array([""] * 16 + ["Foul on "] + [""] * 3)
_SUFFIX = pa.array(
    [
        *(" made Jumper.", " made Three Point Jumper.", " made Layup.", " made Dunk.", " made Tip Shot."),
        *(" made Free Throw.", " missed Jumper.", " missed Three Point Jumper.", " missed Layup."),
        *(" missed Tip Shot.", " missed Free Throw.", " Defensive Rebound.", " Offensive Rebound."),
        *(" Turnover.", " Steal.", " Block.", ".", " Deadball Team Rebound.", "", "End of Game"),
    ]
)
_PERIOD_END = pa.array(
    ["", "End of 1st Half", "End of 2nd Half"] + [f"End of {n} Overtime" for n in ("1st", "2nd", "3rd", "4th")]
)
_SILVER = SILVER_TABLES["fct_plays"].schema
LOC_MAX = 9401


@dataclass(frozen=True, slots=True)
class PlayPieces:
    """Per-event values shared by the silver, raw and wire renderings.

    Attributes:
        frame: The simulated plays.
        teams: The team table.
        seed: The universe seed.
        gid: Game id per event.
        play_id: Play id per event (``gameId * 1000 + seq``).
        text: Named string columns (``sourceId``, ``team``, ``playText``, ...), Arrow, nullable.
        team_null: The event has no team.
        team_id: Team id (garbage where ``team_null``). opp_id: Opponent id.
        team_seed: Team seed or -1. opp_seed: Opponent seed or -1.
        is_shot: The event carries a ``shotInfo``.
        floor_on: The event's game has on-floor data.
        actor_name: Actor names (null where no actor). assist_name: Assister names.
        seg_team: ``(n_seg, 10)`` team index of each floor slot's player.
    """

    frame: PlayFrame
    teams: TeamTable
    seed: int
    gid: NDArray[np.int64]
    play_id: NDArray[np.int64]
    text: dict[str, pa.Array]
    team_null: NDArray[np.bool_]
    team_id: NDArray[np.int64]
    opp_id: NDArray[np.int64]
    team_seed: NDArray[np.int64]
    opp_seed: NDArray[np.int64]
    is_shot: NDArray[np.bool_]
    floor_on: NDArray[np.bool_]
    actor_name: pa.Array
    assist_name: pa.Array
    seg_team: NDArray[np.int64]


def _names_or_null(seed: int, aid: NDArray[np.int64]) -> pa.Array:
    names = athlete_names(seed, np.maximum(aid, 0))
    return pc.if_else(pa.array(aid >= 0), names, pa.scalar(None, pa.string()))


def play_pieces(frame: PlayFrame, teams: TeamTable, seed: int) -> PlayPieces:
    """Compute the shared per-event values of a frame.

    Args:
        frame: The simulated plays.
        teams: The team table.
        seed: The universe seed.

    Returns:
        The pieces.
    """
    g = frame.games
    rows, b, side = frame.rows, frame.b, frame.side
    g_gid = g.game_id[rows]
    gid = g_gid[b]
    pb = pa.array(b, type=pa.int64())
    g_src = pc.cast(pa.array(400_000_000 + g_gid), pa.string())
    g_start = pa.array([g.start_str[r] for r in rows.tolist()], type=pa.string())
    g_stype = pa.array(["postseason" if g.postseason[r] else "regular" for r in rows.tolist()], pa.string())
    g_gtype = pa.array([("STD", "TRNMNT", "")[int(g.game_type[r])] for r in rows.tolist()], pa.string())
    g_tourn = pa.array([("NCAA", "NIT", None)[int(g.tournament[r])] for r in rows.tolist()], type=pa.string())
    home, away = g.home[rows][b], g.away[rows][b]
    team_null = side < 0
    tidx = np.where(side == 1, away, home)
    oidx = np.where(side == 1, home, away)
    ptidx = pa.array(tidx, mask=team_null)
    poidx = pa.array(oidx, mask=team_null)
    hseed, aseed = g.home_seed[rows][b], g.away_seed[rows][b]
    team_seed = np.where(team_null, -1, np.where(side == 1, aseed, hseed))
    opp_seed = np.where(team_null, -1, np.where(side == 1, hseed, aseed))
    play_id = gid * 1000 + frame.seq
    seq_text = pc.utf8_lpad(pc.cast(pa.array(frame.seq), pa.string()), 4, "0")
    etype = pa.array(frame.etype)
    actor_name = _names_or_null(seed, frame.actor)
    school = pc.take(teams.school_pa, ptidx)
    shot_like = IS_SHOT[frame.etype] | (frame.etype == ET.DEADBALL)
    who = pc.if_else(
        pa.array(frame.actor >= 0),
        actor_name,
        pc.if_else(pa.array(shot_like), pc.fill_null(school, ""), ""),
    )
    suffix = pc.take(_SUFFIX, etype)
    suffix = pc.if_else(pa.array(frame.etype == ET.END_PERIOD), pc.take(_PERIOD_END, pa.array(frame.period)), suffix)
    assist_name = _names_or_null(seed, frame.assist)
    assist_txt = pc.fill_null(cat(" Assisted by ", assist_name, "."), "")
    rot = frame.rotation
    seg_game = np.repeat(np.arange(len(rows), dtype=np.int64), np.diff(rot.seg_off))
    seg_team = np.where(np.arange(10)[None, :] < 5, g.home[rows][seg_game][:, None], g.away[rows][seg_game][:, None])
    wall = iso_seconds(np.maximum(frame.wall, 0))
    text = {
        "sourceId": cat(pc.take(g_src, pb), seq_text),
        "gameSourceId": pc.take(g_src, pb),
        "gameStartDate": pc.take(g_start, pb),
        "seasonType": pc.take(g_stype, pb),
        "gameType": pc.take(g_gtype, pb),
        "tournament": pc.take(g_tourn, pb),
        "playType": pc.take(TYPE_NAMES, etype),
        "team": school,
        "conference": pc.take(teams.conf_pa, ptidx),
        "opponent": pc.take(teams.school_pa, poidx),
        "opponentConference": pc.take(teams.conf_pa, poidx),
        "clock": pc.take(clock_table(), pa.array(frame.sr)),
        "wallclock": pc.if_else(pa.array(frame.wall >= 0), wall, pa.scalar(None, pa.string())),
        "playText": cat(pc.take(_PREFIX, etype), who, suffix, assist_txt),
    }
    return PlayPieces(
        frame=frame,
        teams=teams,
        seed=seed,
        gid=gid,
        play_id=play_id,
        text=text,
        team_null=team_null,
        team_id=teams.team_id[tidx],
        opp_id=teams.team_id[oidx],
        team_seed=team_seed,
        opp_seed=opp_seed,
        is_shot=IS_SHOT[frame.etype],
        floor_on=g.has_subs[rows][b],
        actor_name=actor_name,
        assist_name=assist_name,
        seg_team=seg_team,
    )


def participants_json(p: PlayPieces, style: Style) -> pa.Array:
    """The ``participants`` arrays as JSON text.

    Args:
        p: The pieces.
        style: Separators.

    Returns:
        JSON text per event.
    """
    f = p.frame
    e1 = json_obj(style, [("name", quoted(p.actor_name)), ("id", int_text(f.actor))])
    e2 = json_obj(style, [("name", quoted(p.assist_name)), ("id", int_text(f.assist))])
    n = (f.actor >= 0).astype(np.int64) + (f.assist >= 0)
    one = cat("[", e1, "]")
    two = cat("[", e1, style.item, e2, "]")
    return pc.if_else(pa.array(n == 2), two, pc.if_else(pa.array(n == 1), one, "[]"))


def on_floor_json(p: PlayPieces, style: Style) -> pa.Array:
    """The ``onFloor`` arrays as JSON text.

    Each game's 20 rotation players are rendered once, each floor segment's array is joined from
    them, and events take their segment's text.

    Args:
        p: The pieces.
        style: Separators.

    Returns:
        JSON text per event.
    """
    f = p.frame
    rot = f.rotation
    n_games = len(f.rows)
    n_seg = rot.seg_aid.shape[0]
    if n_seg == 0:
        return pa.array([], type=pa.string())
    g = f.games
    side = np.repeat(np.tile(np.arange(2, dtype=np.int64), n_games), 10)
    gb = np.repeat(np.arange(n_games, dtype=np.int64), 20)
    team = np.where(side == 0, g.home[f.rows][gb], g.away[f.rows][gb])
    aid = athlete_ids(f.season, p.teams.team_id[team], np.tile(np.arange(10, dtype=np.int64), 2 * n_games))
    entry = json_obj(
        style,
        [
            ("team", quoted(pc.take(p.teams.school_pa, pa.array(team)))),
            ("name", quoted(athlete_names(p.seed, aid))),
            ("id", int_text(aid)),
        ],
    )
    seg_game = np.repeat(np.arange(n_games, dtype=np.int64), np.diff(rot.seg_off))
    slot = np.arange(10, dtype=np.int64)
    idx = (seg_game[:, None] * 2 + slot[None, :] // 5) * 10 + slot[None, :] % 5 + 5 * rot.seg_state
    cols = [pc.take(entry, pa.array(idx[:, k])) for k in range(10)]
    seg_text = cat("[", pc.binary_join_element_wise(*cols, style.item), "]")
    seg_text = pc.if_else(pa.array(g.has_subs[f.rows][seg_game]), seg_text, "[]")
    return pc.take(seg_text, pa.array(f.seg))


def _loc_text(v: NDArray[np.int64], js: bool = False) -> pa.Array:
    table = js_tenths_table(LOC_MAX) if js else tenths_table(LOC_MAX)
    return pc.if_else(pa.array(v < 0), "null", pc.take(table, pa.array(np.maximum(v, 0))))


def shot_info_json(p: PlayPieces, style: Style, *, js_numbers: bool = False) -> pa.Array:
    """The ``shotInfo`` objects as JSON text, null for events without one.

    Args:
        p: The pieces.
        style: Separators.
        js_numbers: Write whole coordinates as the API does (``285``, not ``285.0``).

    Returns:
        JSON text (nullable) per event.
    """
    f = p.frame
    sel = np.flatnonzero(p.is_shot)  # built for shot events only, then spread out with nulls
    at = pa.array(sel)
    actor, assist, etype = f.actor[sel], f.assist[sel], f.etype[sel]
    shooter = json_obj(style, [("name", quoted(pc.take(p.actor_name, at))), ("id", int_text(actor, actor < 0))])
    by = json_obj(style, [("name", quoted(pc.take(p.assist_name, at))), ("id", int_text(assist, assist < 0))])
    loc = json_obj(style, [("x", _loc_text(f.loc_x10[sel], js_numbers)), ("y", _loc_text(f.loc_y10[sel], js_numbers))])
    shot = json_obj(
        style,
        [
            ("shooter", shooter),
            ("made", bool_text(SCORING[etype])),
            ("range", quoted(pc.take(RANGES, pa.array(etype)))),
            ("assisted", bool_text(assist >= 0)),
            ("assistedBy", by),
            ("location", loc),
        ],
    )
    idx = np.full(len(f), -1, dtype=np.int64)
    idx[sel] = np.arange(len(sel), dtype=np.int64)
    return pc.take(shot, pa.array(idx, mask=idx < 0))


def _masked(values: NDArray[np.generic], null: NDArray[np.bool_], typ: pa.DataType) -> pa.Array:
    return pa.array(values, type=typ, mask=null)


def silver_table(p: PlayPieces) -> pa.Table:
    """The silver ``fct_plays`` rows of the frame, in the declared schema.

    Args:
        p: The pieces.

    Returns:
        The table (equal, row for row, to ``records_to_table`` over the wire records).
    """
    f = p.frame
    n = len(f)
    i64, f64, tn = pa.int64(), pa.float64(), p.team_null
    shot = p.is_shot
    t = p.text
    cols: dict[str, pa.Array] = {
        "id": pa.array(p.play_id, type=i64),
        "sourceId": t["sourceId"],
        "gameId": pa.array(p.gid, type=i64),
        "gameSourceId": t["gameSourceId"],
        "gameStartDate": t["gameStartDate"],
        "season": pa.array(np.full(n, f.season, dtype=np.int32), type=pa.int32()),
        "seasonType": t["seasonType"],
        "gameType": t["gameType"],
        "tournament": t["tournament"],
        "playType": t["playType"],
        "isHomeTeam": _masked(f.side == 0, tn, pa.bool_()),
        "teamId": _masked(p.team_id, tn, i64),
        "team": t["team"],
        "conference": t["conference"],
        "teamSeed": _masked(p.team_seed.astype(np.float64), p.team_seed < 0, f64),
        "opponentId": _masked(p.opp_id, tn, i64),
        "opponent": t["opponent"],
        "opponentConference": t["opponentConference"],
        "opponentSeed": _masked(p.opp_seed.astype(np.float64), p.opp_seed < 0, f64),
        "period": pa.array(f.period, type=i64),
        "clock": t["clock"],
        "secondsRemaining": pa.array(f.sr, type=i64),
        "homeScore": pa.array(f.home_score, type=i64),
        "awayScore": pa.array(f.away_score, type=i64),
        "homeWinProbability": _masked(f.hwp / 1000.0, f.hwp < 0, f64),
        "scoringPlay": pa.array(SCORING[f.etype], type=pa.bool_()),
        "shootingPlay": pa.array(SHOOTING[f.etype], type=pa.bool_()),
        "scoreValue": pa.array(POINTS[f.etype].astype(np.float64), type=f64),
        "wallclock": t["wallclock"],
        "playText": t["playText"],
        "participants": participants_json(p, COMPACT),
        "onFloor": on_floor_json(p, COMPACT),
        "shotInfo": shot_info_json(p, COMPACT),
    }
    floor_ids = f.rotation.seg_aid[f.seg] if n else np.zeros((0, 10), dtype=np.int64)
    for k in range(10):
        cols[f"onfloor_player{k + 1}"] = _masked(floor_ids[:, k], ~p.floor_on, i64)
    cols["participant_id"] = _masked(f.actor, f.actor < 0, i64)
    cols["shot_shooter_id"] = _masked(f.actor, (f.actor < 0) | ~shot, i64)
    cols["shot_shooter_name"] = pc.if_else(pa.array(shot), p.actor_name, pa.scalar(None, pa.string()))
    cols["shot_made"] = _masked(SCORING[f.etype], ~shot, pa.bool_())
    cols["shot_range"] = pc.take(RANGES, pa.array(f.etype))
    cols["shot_assisted"] = _masked(f.assist >= 0, ~shot, pa.bool_())
    cols["shot_assisted_by_id"] = _masked(f.assist, f.assist < 0, i64)
    cols["shot_assisted_by_name"] = p.assist_name
    cols["shot_loc_x"] = _masked(f.loc_x10 / 10.0, f.loc_x10 < 0, f64)
    cols["shot_loc_y"] = _masked(f.loc_y10 / 10.0, f.loc_y10 < 0, f64)
    return pa.table([cols[fld.name] for fld in _SILVER], schema=_SILVER)
