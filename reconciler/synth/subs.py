"""``PlayerSubsititution`` wire records (one per player stint) derived from the rotation model."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from reconciler.synth.playsim import PlayFrame
from reconciler.synth.teams import POSITIONS, TeamTable, athlete_ids, athlete_names

__all__ = ["elapsed_to_clock", "game_events", "score_at", "substitution_records"]


def elapsed_to_clock(e: int, total: int, *, at_end: bool) -> tuple[int, int]:
    """Convert elapsed game seconds to ``(period, secondsRemaining)``.

    Args:
        e: Elapsed seconds.
        total: Game length in elapsed seconds.
        at_end: At a period boundary, report the end of the earlier period (a sub-out) rather than
            the start of the next one (a sub-in).

    Returns:
        The period and the seconds remaining in it.
    """
    starts = [0, 1200, *range(2400, total, 300)]
    ends = [*starts[1:], total]
    for p, (lo, hi) in enumerate(zip(starts, ends, strict=True), start=1):
        inside = lo < e <= hi if at_end else lo <= e < hi
        if inside:
            return p, hi - e
    return (1, 1200) if e <= 0 else (len(starts), 0)


def game_events(frame: PlayFrame, b: int) -> slice:
    """The event slice of batch game ``b``.

    Args:
        frame: The plays.
        b: Batch position.

    Returns:
        A slice into the frame's event arrays.
    """
    return slice(int(frame.off[b]), int(frame.off[b + 1]))


def score_at(frame: PlayFrame, b: int, e: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Home and away scores after every event at or before elapsed time ``e``.

    Args:
        frame: The plays.
        b: Batch position.
        e: Elapsed seconds.

    Returns:
        ``(home, away)`` scores.
    """
    ev = game_events(frame, b)
    el = frame.elapsed[ev]
    idx = np.searchsorted(el, e, side="right") - 1
    hs = np.where(idx >= 0, frame.home_score[ev][np.maximum(idx, 0)], 0)
    aw = np.where(idx >= 0, frame.away_score[ev][np.maximum(idx, 0)], 0)
    return hs.astype(np.int64), aw.astype(np.int64)


def substitution_records(frame: PlayFrame, b: int, teams: TeamTable, seed: int) -> list[dict[str, Any]]:
    """The substitution stints of one game, both teams (home first, in time order).

    Args:
        frame: The plays of a batch containing the game.
        b: The game's batch position.
        teams: The team table.
        seed: The universe seed.

    Returns:
        Wire records; empty when the game has no substitution data.
    """
    g = frame.games
    row = int(frame.rows[b])
    if not g.has_subs[row]:
        return []
    rot = frame.rotation
    total = 2400 + 300 * (int(g.n_periods[row]) - 2)
    sel = rot.chg_b == b
    c_slot, c_time = rot.chg_slot[sel], rot.chg_time[sel]
    sides = (int(g.home[row]), int(g.away[row]))
    stints: list[tuple[int, int, int, int, int]] = []  # side, slot j, k, start, end
    for slot10 in range(10):
        times = [0, *np.sort(c_time[c_slot == slot10]).tolist(), total]
        for i in range(len(times) - 1):
            j = slot10 % 5
            stints.append((slot10 // 5, j, j + 5 * (i % 2), times[i], times[i + 1]))
    stints.sort(key=lambda s: (s[0], s[3], s[1]))
    arr = np.asarray(stints, dtype=np.int64)
    tids = teams.team_id[np.asarray(sides)[arr[:, 0]]]
    aids = athlete_ids(g.season, tids, arr[:, 2])
    names = athlete_names(seed, aids).to_pylist()
    h_in, a_in = score_at(frame, b, arr[:, 3])
    h_out, a_out = score_at(frame, b, arr[:, 4])
    start = g.start_str[row]
    out: list[dict[str, Any]] = []
    for k, (side, _j, ros, t_in, t_out) in enumerate(stints):
        team, opp = sides[side], sides[1 - side]
        own_in, opp_in = (h_in[k], a_in[k]) if side == 0 else (a_in[k], h_in[k])
        own_out, opp_out = (h_out[k], a_out[k]) if side == 0 else (a_out[k], h_out[k])
        p_in, sr_in = elapsed_to_clock(t_in, total, at_end=False)
        p_out, sr_out = elapsed_to_clock(t_out, total, at_end=True)
        out.append(
            {
                "gameId": int(g.game_id[row]),
                "startDate": start,
                "teamId": int(teams.team_id[team]),
                "team": teams.school[team],
                "conference": teams.conference(team),
                "athleteId": int(aids[k]),
                "athlete": names[k],
                "position": POSITIONS[ros],
                "opponentId": int(teams.team_id[opp]),
                "opponent": teams.school[opp],
                "opponentConference": teams.conference(opp),
                "subIn": {
                    "opponentPoints": int(opp_in),
                    "teamPoints": int(own_in),
                    "secondsRemaining": sr_in,
                    "period": p_in,
                },
                "subOut": {
                    "opponentPoints": int(opp_out),
                    "teamPoints": int(own_out),
                    "secondsRemaining": sr_out,
                    "period": p_out,
                },
            }
        )
    return out
