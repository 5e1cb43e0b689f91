"""Who is on the floor: the substitution model shared by plays, substitutions and lineups.

Each team has five slots (positions G, G, F, F, C). Slot ``j`` alternates between its starter
(roster index ``j``) and its backup (``j + 5``) at a few random change times, so the five players
on the floor are always distinct. A *segment* is a stretch of game time with no change on either
team; ``onFloor`` is constant within a segment. Elapsed game time runs from 0 to
``2400 + 300 * overtimes`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from reconciler.synth.rng import randint
from reconciler.synth.teams import athlete_ids

__all__ = ["SEG_KEY", "Rotation", "build_rotation"]

#: Multiplier that separates games in sorted ``game * SEG_KEY + elapsed`` keys.
SEG_KEY = 10_000
_S_COUNT = 501
_S_TIME = 502


@dataclass(frozen=True, slots=True)
class Rotation:
    """The slot changes and floor segments of a batch of games.

    Attributes:
        chg_b: Batch position of each change (sorted by game, time, slot).
        chg_slot: Slot of each change, ``side * 5 + j`` (side 0 home, 1 away).
        chg_time: Elapsed seconds of each change.
        seg_off: ``(G + 1)`` offsets of each game's segments.
        seg_start: Start (elapsed seconds) of each segment.
        seg_state: ``(n_seg, 10)``: 0 when the slot's starter is on, 1 for the backup.
        seg_aid: ``(n_seg, 10)`` athlete ids on the floor (home slots 0-4, then away).
    """

    chg_b: NDArray[np.int64]
    chg_slot: NDArray[np.int64]
    chg_time: NDArray[np.int64]
    seg_off: NDArray[np.int64]
    seg_start: NDArray[np.int64]
    seg_state: NDArray[np.int64]
    seg_aid: NDArray[np.int64]

    def segment_of(self, b: NDArray[np.int64], elapsed: NDArray[np.int64]) -> NDArray[np.int64]:
        """The floor segment of events.

        A change at time ``t`` takes effect at ``t``: an event at exactly ``t`` sees the new player.

        Args:
            b: Batch positions of the events' games.
            elapsed: Elapsed seconds of the events.

        Returns:
            Global segment indexes.
        """
        keys = self.chg_b * SEG_KEY + self.chg_time
        idx = np.searchsorted(keys, b * SEG_KEY + elapsed, side="right")
        return (idx + b).astype(np.int64)


def build_rotation(
    seed: int,
    season: int,
    game_id: NDArray[np.int64],
    total_seconds: NDArray[np.int64],
    home_tid: NDArray[np.int64],
    away_tid: NDArray[np.int64],
) -> Rotation:
    """Draw the slot changes of a batch of games.

    Args:
        seed: The universe seed.
        season: The season (for athlete ids).
        game_id: Game ids of the batch (G).
        total_seconds: Game length in elapsed seconds (G).
        home_tid: Home team ids (G).
        away_tid: Away team ids (G).

    Returns:
        The rotation.
    """
    n_games = len(game_id)
    rb = np.repeat(np.arange(n_games, dtype=np.int64), 10)
    slot = np.tile(np.arange(10, dtype=np.int64), n_games)
    m = randint(seed, _S_COUNT, 2, 6, game_id[rb], slot)
    cb = np.repeat(rb, m)
    cs = np.repeat(slot, m)
    grp_off = np.concatenate([[0], np.cumsum(m)])[:-1]
    k = np.arange(len(cb), dtype=np.int64) - np.repeat(grp_off, m)
    m_rep = np.repeat(m, m)
    hi = total_seconds[cb] - 60 - m_rep
    t = randint(seed, _S_TIME, 60, hi, game_id[cb], cs, k)
    t = t[np.lexsort((t, cs, cb))] + k  # sorted within each slot, then strictly increasing
    order = np.lexsort((cs, t, cb))
    cb, cs, t = cb[order], cs[order], t[order]

    n_chg = np.bincount(cb, minlength=n_games).astype(np.int64)
    seg_off = np.concatenate([[0], np.cumsum(n_chg + 1)]).astype(np.int64)
    n_seg = int(seg_off[-1])
    onehot = np.zeros((len(cb), 10), dtype=np.int64)
    onehot[np.arange(len(cb)), cs] = 1
    cum = np.cumsum(onehot, axis=0)
    chg_off = np.concatenate([[0], np.cumsum(n_chg)])[:-1]
    before = np.zeros((n_games, 10), dtype=np.int64)
    has_prev = chg_off > 0
    before[has_prev] = cum[chg_off[has_prev] - 1]
    local = cum - before[cb]
    seg_state = np.zeros((n_seg, 10), dtype=np.int64)
    seg_start = np.zeros(n_seg, dtype=np.int64)
    pos = np.arange(len(cb), dtype=np.int64) + cb + 1
    seg_state[pos] = local % 2
    seg_start[pos] = t
    seg_game = np.repeat(np.arange(n_games, dtype=np.int64), n_chg + 1)
    side = np.arange(10) // 5
    j = np.arange(10) % 5
    tid = np.where(side[None, :] == 0, home_tid[seg_game][:, None], away_tid[seg_game][:, None])
    seg_aid = athlete_ids(season, tid, j[None, :] + 5 * seg_state)
    return Rotation(
        chg_b=cb.astype(np.int64),
        chg_slot=cs.astype(np.int64),
        chg_time=t.astype(np.int64),
        seg_off=seg_off,
        seg_start=seg_start,
        seg_state=seg_state,
        seg_aid=seg_aid.astype(np.int64),
    )
