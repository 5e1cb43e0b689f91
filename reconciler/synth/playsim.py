"""Vectorised play-by-play simulation: a batch of games becomes one :class:`PlayFrame`.

The events of a game are built from its period scores (so the plays always add up to the
``GameInfo`` points): made shots and free throws that sum exactly to each period's points, plus
misses, rebounds, turnovers and fouls up to the game's target play count, then an ``End Period``
per period and ``End Game`` last. Every draw is keyed by the game id and the event's index within
its game, so a game's plays do not depend on the batch it is simulated in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reconciler.synth.rng import categorical, randint, uniform
from reconciler.synth.rotation import Rotation, build_rotation
from reconciler.synth.schedule import SeasonGames
from reconciler.synth.teams import TeamTable

__all__ = ["END_GAME", "END_PERIOD", "ET", "PlayFrame", "play_counts", "simulate"]


class ET:
    """Event type codes (index into the lookup tables of :mod:`reconciler.synth.playrender`)."""

    J2_MADE, THREE_MADE, LAYUP_MADE, DUNK_MADE, TIP_MADE, FT_MADE = 0, 1, 2, 3, 4, 5
    J2_MISS, THREE_MISS, LAYUP_MISS, TIP_MISS, FT_MISS = 6, 7, 8, 9, 10
    DEF_REB, OFF_REB, TURNOVER, STEAL, BLOCK, FOUL, DEADBALL = 11, 12, 13, 14, 15, 16, 17
    END_PERIOD, END_GAME = 18, 19


END_PERIOD = ET.END_PERIOD
END_GAME = ET.END_GAME
#: Points scored by each event type.
POINTS = np.array([2, 3, 2, 2, 2, 1] + [0] * 14, dtype=np.int64)
#: Event types that carry a ``shotInfo`` (field goals and ``MadeFreeThrow``).
IS_SHOT = np.array([True] * 11 + [False] * 9)
#: Event types without a team.
TEAMLESS = np.array([False] * 18 + [True] * 2)
#: Event types with a player participant (shots may still have an unknown shooter).
HAS_ACTOR = np.array([True] * 17 + [False] * 3)
_FILLER = (
    *(ET.J2_MISS, ET.THREE_MISS, ET.LAYUP_MISS, ET.TIP_MISS, ET.DEF_REB, ET.OFF_REB, ET.TURNOVER),
    *(ET.STEAL, ET.BLOCK, ET.FOUL, ET.DEADBALL),
)
_FILLER_W = (22, 20, 8, 2, 22, 8, 6, 4, 3, 3, 2)
_MADE2 = (ET.J2_MADE, ET.LAYUP_MADE, ET.DUNK_MADE, ET.TIP_MADE)
_MADE2_W = (45, 40, 10, 5)
_S = 600  # stream base


@dataclass(frozen=True, slots=True)
class PlayFrame:
    """The plays of a batch of games of one season, column-wise, in API order.

    Per game (``G`` entries): ``rows`` index the :class:`SeasonGames`; ``off`` are event offsets.
    Per event (``N`` entries): ``-1`` encodes null in the int columns.

    Attributes:
        season: The season.
        games: The season's games.
        rows: Row index in ``games`` of each batch game (only games with plays).
        off: ``(G + 1)`` offsets of each game's events.
        b: Batch position of each event's game.
        seq: Index of the event within its game (API order).
        period: Period (1, 2, 3+ overtime).
        sr: Seconds remaining in the period.
        elapsed: Elapsed game seconds.
        etype: :class:`ET` code.
        side: 0 home, 1 away, -1 none.
        actor: Acting athlete id (shooter, rebounder, ...), or -1.
        assist: Assisting athlete id, or -1.
        home_score: Home score after the event. away_score: Away score after the event.
        hwp: ``homeWinProbability`` in thousandths, or -1.
        wall: ``wallclock`` epoch seconds, or -1.
        loc_x10: Shot x in tenths, or -1. loc_y10: Shot y in tenths, or -1.
        seg: Floor segment of the event (see :class:`Rotation`).
        rotation: The batch's rotation.
    """

    season: int
    games: SeasonGames
    rows: NDArray[np.int64]
    off: NDArray[np.int64]
    b: NDArray[np.int64]
    seq: NDArray[np.int64]
    period: NDArray[np.int64]
    sr: NDArray[np.int64]
    elapsed: NDArray[np.int64]
    etype: NDArray[np.int64]
    side: NDArray[np.int64]
    actor: NDArray[np.int64]
    assist: NDArray[np.int64]
    home_score: NDArray[np.int64]
    away_score: NDArray[np.int64]
    hwp: NDArray[np.int64]
    wall: NDArray[np.int64]
    loc_x10: NDArray[np.int64]
    loc_y10: NDArray[np.int64]
    seg: NDArray[np.int64]
    rotation: Rotation

    def __len__(self) -> int:
        """The number of events."""
        return len(self.b)


def _period_start(period: NDArray[np.int64]) -> NDArray[np.int64]:
    return np.where(period <= 2, (period - 1) * 1200, 2400 + (period - 3) * 300).astype(np.int64)


def _period_len(period: NDArray[np.int64]) -> NDArray[np.int64]:
    return np.where(period <= 2, 1200, 300).astype(np.int64)


def _row_counts(
    seed: int, games: SeasonGames, rows: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Event counts per (game, period, side) row: made twos, threes, made and missed free throws, filler.

    Returns:
        ``(batch position of each row, row index within its game, (rows, 5) counts)``.
    """
    n_games = len(rows)
    gid = games.game_id[rows]
    npd = games.n_periods[rows]
    total = 2400 + 300 * (npd - 2)
    pts = games.points[rows]
    n_rows = 2 * npd
    rg = np.repeat(np.arange(n_games, dtype=np.int64), n_rows)
    r_in = np.arange(len(rg), dtype=np.int64) - np.repeat(np.concatenate([[0], np.cumsum(n_rows)])[:-1], n_rows)
    rp, rs = r_in // 2, r_in % 2
    p_pts = pts[rg, rs, rp]
    plen = _period_len(rp + 1)
    kg = gid[rg]
    f1 = np.round(p_pts * (0.12 + 0.12 * uniform(seed, _S + 1, kg, r_in))).astype(np.int64)
    f1 = np.minimum(f1, p_pts)
    t3 = np.floor((p_pts - f1) * (0.2 + 0.2 * uniform(seed, _S + 2, kg, r_in)) / 3).astype(np.int64)
    rem = p_pts - f1 - 3 * t3
    odd = rem % 2 == 1
    f1, rem = f1 + odd, rem - odd
    t2 = rem // 2
    mft = np.round(f1 * (0.3 + 0.15 * uniform(seed, _S + 3, kg, r_in))).astype(np.int64)
    base = np.bincount(rg, weights=t2 + t3 + f1 + mft, minlength=n_games).astype(np.int64)
    fill_game = np.maximum(games.n_target[rows] - base - npd, 6 * npd)
    fill = np.floor(fill_game[rg] * plen / (2 * total[rg])).astype(np.int64)
    return rg, r_in, np.stack([t2, t3, f1, mft, fill], axis=1)


def play_counts(seed: int, games: SeasonGames, rows: NDArray[np.int64]) -> NDArray[np.int64]:
    """How many plays :func:`simulate` produces for each game, without simulating them.

    Args:
        seed: The universe seed.
        games: The season's games.
        rows: Row indexes of games with plays at the API (``plays_ok``).

    Returns:
        Plays per game, in the order given.
    """
    rows = np.asarray(rows, dtype=np.int64)
    rg, _, counts = _row_counts(seed, games, rows)
    per_row = np.bincount(rg, weights=counts.sum(axis=1), minlength=len(rows)).astype(np.int64)
    return per_row + games.n_periods[rows]


def simulate(seed: int, games: SeasonGames, rows: NDArray[np.int64], teams: TeamTable) -> PlayFrame:
    """Simulate the plays of some games of one season.

    Args:
        seed: The universe seed.
        games: The season's games.
        rows: Row indexes of the games to simulate; games without plays at the API are dropped.
        teams: The team table.

    Returns:
        The batch's plays, games in the order given.
    """
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[games.plays_ok[rows]]
    n_games = len(rows)
    gid = games.game_id[rows]
    npd = games.n_periods[rows]
    total = 2400 + 300 * (npd - 2)
    rg, r_in, counts = _row_counts(seed, games, rows)
    rp, rs = r_in // 2, r_in % 2
    flat = counts.ravel()
    ev_row = np.repeat(np.repeat(np.arange(len(rg), dtype=np.int64), 5), flat)
    ev_cat = np.repeat(np.tile(np.arange(5, dtype=np.int64), len(rg)), flat)
    ev_b = rg[ev_row]
    n_reg = np.bincount(ev_b, minlength=n_games).astype(np.int64)
    reg_off = np.concatenate([[0], np.cumsum(n_reg)])[:-1]
    ev_idx = np.arange(len(ev_b), dtype=np.int64) - reg_off[ev_b]
    ek = gid[ev_b]
    made2 = np.asarray(_MADE2)[categorical(_MADE2_W, uniform(seed, _S + 4, ek, ev_idx))]
    filler = np.asarray(_FILLER)[categorical(_FILLER_W, uniform(seed, _S + 5, ek, ev_idx))]
    etype = np.choose(
        ev_cat,
        [
            made2,
            np.full_like(made2, ET.THREE_MADE),
            np.full_like(made2, ET.FT_MADE),
            np.full_like(made2, ET.FT_MISS),
            filler,
        ],
    )
    ev_p = rp[ev_row] + 1
    ev_side = rs[ev_row]
    ev_sr = randint(seed, _S + 6, 1, _period_len(ev_p), ek, ev_idx)

    # --- one End Period per period, End Game instead for the last one
    eb = np.repeat(np.arange(n_games, dtype=np.int64), npd)
    ep = np.arange(len(eb), dtype=np.int64) - np.repeat(np.concatenate([[0], np.cumsum(npd)])[:-1], npd) + 1
    e_type = np.where(ep == npd[eb], ET.END_GAME, ET.END_PERIOD)
    b_all = np.concatenate([ev_b, eb])
    p_all = np.concatenate([ev_p, ep])
    sr_all = np.concatenate([ev_sr, np.zeros(len(eb), np.int64)])
    t_all = np.concatenate([etype, e_type]).astype(np.int64)
    s_all = np.concatenate([ev_side, np.full(len(eb), -1, np.int64)])
    idx_all = np.concatenate([ev_idx, n_reg[eb] + ep - 1])
    tie = uniform(seed, _S + 7, gid[b_all], idx_all)
    order = np.lexsort((tie, -sr_all, p_all, b_all))
    b, period, sr, etype, side, pre = (
        b_all[order],
        p_all[order],
        sr_all[order],
        t_all[order],
        s_all[order],
        idx_all[order],
    )
    n_ev = np.bincount(b, minlength=n_games).astype(np.int64)
    off = np.concatenate([[0], np.cumsum(n_ev)]).astype(np.int64)
    seq = np.arange(len(b), dtype=np.int64) - off[b]
    elapsed = _period_start(period) + _period_len(period) - sr
    kb = gid[b]

    # --- score after each event
    v = POINTS[etype]
    cum_h = np.cumsum(np.where(side == 0, v, 0))
    cum_a = np.cumsum(np.where(side == 1, v, 0))
    start = off[:-1]
    base_h = np.where(start > 0, cum_h[np.maximum(start - 1, 0)], 0)
    base_a = np.where(start > 0, cum_a[np.maximum(start - 1, 0)], 0)
    home_score = cum_h - base_h[b]
    away_score = cum_a - base_a[b]

    # --- who: players on the floor, shooter and assister
    home_tid = teams.team_id[games.home[rows]]
    away_tid = teams.team_id[games.away[rows]]
    rot = build_rotation(seed, games.season, gid, total, home_tid, away_tid)
    seg = rot.segment_of(b, elapsed)
    slot = randint(seed, _S + 8, 0, 5, kb, pre)
    s_ok = np.maximum(side, 0)
    actor = rot.seg_aid[seg, s_ok * 5 + slot]
    unknown = IS_SHOT[etype] & (uniform(seed, _S + 9, kb, pre) < 0.01)
    actor = np.where(HAS_ACTOR[etype] & ~unknown, actor, -1)
    made_fg = (etype <= ET.TIP_MADE) & (actor >= 0)
    assisted = made_fg & (uniform(seed, _S + 10, kb, pre) < 0.55)
    a_slot = (slot + 1 + randint(seed, _S + 11, 0, 4, kb, pre)) % 5
    assist = rot.seg_aid[seg, s_ok * 5 + a_slot]
    assist = np.where(assisted, assist, -1)

    # --- win probability, wallclock, shot location
    remaining = total[b] - elapsed
    margin = home_score - away_score
    neutral = games.neutral[rows][b]
    z = 0.45 * margin / np.sqrt(remaining / 60.0 + 1.0) + np.where(neutral, 0.0, 0.1)
    prob = 1.0 / (1.0 + np.exp(-z))
    prob = np.where(etype == ET.END_GAME, (margin > 0).astype(np.float64), prob)
    hwp = np.clip(np.rint(prob * 1000.0), 0, 1000).astype(np.int64)
    hwp = np.where((hwp == 0) | (games.season < 2012), -1, hwp)
    start_epoch = games.start_epoch[rows][b]
    wall = start_epoch + np.rint(elapsed * 2.6).astype(np.int64) + np.where(period >= 2, 900, 0)
    wall = wall + np.maximum(period - 2, 0) * 120
    wall = np.where(games.season >= 2014, wall, -1)
    located = IS_SHOT[etype] & (etype != ET.FT_MADE) & (etype != ET.FT_MISS) & (games.season >= 2025)
    located &= uniform(seed, _S + 12, kb, pre) < 0.85
    loc_x10 = np.where(located, randint(seed, _S + 13, 0, 9401, kb, pre), -1)
    loc_y10 = np.where(located, randint(seed, _S + 14, 0, 5001, kb, pre), -1)

    return PlayFrame(
        season=games.season,
        games=games,
        rows=rows,
        off=off,
        b=b,
        seq=seq,
        period=period,
        sr=sr,
        elapsed=elapsed,
        etype=etype,
        side=side,
        actor=actor.astype(np.int64),
        assist=assist.astype(np.int64),
        home_score=home_score.astype(np.int64),
        away_score=away_score.astype(np.int64),
        hwp=hwp,
        wall=wall.astype(np.int64),
        loc_x10=np.asarray(loc_x10, dtype=np.int64),
        loc_y10=np.asarray(loc_y10, dtype=np.int64),
        seg=seg,
        rotation=rot,
    )
