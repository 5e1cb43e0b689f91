"""GameBatches types each game's plays as the per-batch rules do (every column, every type)."""

from __future__ import annotations

import numpy as np
import pytest

from reconciler.sandbox.pipeline_batches import GameBatches
from reconciler.sandbox.pipeline_plays import bronze_batch, play_source, silver_batch
from reconciler.synth.playrender import play_pieces
from reconciler.synth.universe import Universe


@pytest.mark.parametrize(("season", "twin"), [(2010, False), (2013, True), (2019, False), (2025, True)])
def test_game_batches_equal_the_per_batch_functions(season: int, twin: bool) -> None:
    u = Universe(7, 0.02, [season], twin=twin)
    sg = u.season_games(season)
    frame = u.play_frame(season, np.flatnonzero(sg.plays_ok))
    pieces = play_pieces(frame, u.team_table, u.seed)
    keep = np.ones(len(frame), dtype=bool)
    keep[np.isin(pieces.gid, np.unique(pieces.gid)[::5])] = False  # some games dropped, as the lake's view drops them
    src = play_source(pieces, keep, raw=False)
    batches = GameBatches(src)
    for g in range(len(src.game_ids)):
        lo, hi = int(src.starts[g]), int(src.starts[g + 1])
        pairs = ((batches.bronze(g), bronze_batch(src, lo, hi)), (batches.silver(g), silver_batch(src, lo, hi)))
        for fast, slow in pairs:
            assert fast.schema.equals(slow.schema), g
            assert fast.equals(slow), g
