"""The twin's universe against the real lake's audit (season_scale.csv), without writing a lake.

Play counts are exact before simulation (``play_counts``), so the twin's plays rows per season
can be checked at scale 1.0 in a second.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from reconciler.synth.playsim import play_counts
from reconciler.synth.scale import SEASON_SCALE
from reconciler.synth.twin import (
    FANOUT_ROWS,
    derivation,
    reference_plays_per_game,
    twin_present,
    twin_season,
)
from reconciler.synth.universe import Universe

SEASONS = tuple(range(2010, 2027))
SHARED_CSV = Path(__file__).resolve().parents[3] / "shared" / "reference" / "season_scale.csv"


def lake_rows(u: Universe, season: int) -> int:
    sg = u.season_games(season)
    return int(play_counts(u.seed, sg, np.flatnonzero(twin_present(sg, u.seed))).sum())


@pytest.mark.skipif(not SHARED_CSV.is_file(), reason="the shared reference season_scale.csv is not on this machine")
def test_the_scale_table_is_season_scale_csv() -> None:
    with SHARED_CSV.open(encoding="utf-8") as f:
        table = {int(r["season"]): (int(r["games"]), int(r["plays_rows"])) for r in csv.DictReader(f)}
    assert table == SEASON_SCALE


def test_short_seasons_are_those_well_below_the_median() -> None:
    assert reference_plays_per_game() == pytest.approx(1803296 / 6066)
    assert [s for s in SEASONS if twin_season(s).short] == [2010, 2011, 2012, 2013, 2021]
    assert twin_season(2012).lake_share == pytest.approx(967479 / 5741 / reference_plays_per_game())


def test_at_scale_one_games_are_the_audits_and_plays_rows_within_a_tenth_of_a_percent() -> None:
    u = Universe(7, 1.0, SEASONS, twin=True)
    for s in SEASONS:
        games, plays = SEASON_SCALE[s]
        assert len(u.season_games(s)) == games, s
        assert lake_rows(u, s) == pytest.approx(plays, rel=0.001), s
    for season, rows in FANOUT_ROWS.values():
        assert int(u.season_games(season).has_subs.sum()) == rows


@pytest.mark.parametrize("scale", [0.01, 0.05])
def test_a_smaller_twin_keeps_the_proportions(scale: float) -> None:
    u = Universe(7, scale, SEASONS, twin=True)
    info = derivation(u.seed, scale, SEASONS, {s: u.season_games(s) for s in SEASONS})
    for s in SEASONS:
        games, plays = SEASON_SCALE[s]
        n = len(u.season_games(s))
        assert n == max(10, round(games * scale)), s
        assert lake_rows(u, s) == pytest.approx(plays * n / games, rel=0.02), s
        entry = info["seasons"][str(s)]
        assert entry["games_missing"] == entry["games_with_plays_at_api"] - entry["games_in_lake"]
        assert (entry["games_missing"] > 0) == twin_season(s).short, s


def test_the_twin_and_the_default_universe_share_games_and_differ_in_plays() -> None:
    plain, twin = Universe(7, 0.02, [2012]), Universe(7, 0.02, [2012], twin=True)
    a, b = plain.season_games(2012), twin.season_games(2012)
    assert np.array_equal(a.game_id, b.game_id) and np.array_equal(a.points, b.points)
    assert b.n_target.mean() > a.n_target.mean() * 1.4  # a short season's games with plays are full length
    with pytest.raises(ValueError, match="2009"):
        Universe(7, 0.02, [2009, 2010], twin=True)
