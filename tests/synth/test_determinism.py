from __future__ import annotations

import numpy as np
import pytest

from reconciler.synth import Universe
from reconciler.synth.rng import hash_u64, uniform


def test_same_inputs_same_data() -> None:
    a = Universe(3, 0.01, [2016, 2020])
    b = Universe(3, 0.01, [2020, 2016])
    assert a.games() == b.games()
    assert a.teams() == b.teams()
    assert a.plays_table(season=2020).equals(b.plays_table(season=2020))
    gid = int(a.season_games(2020).game_id[a.season_games(2020).has_subs][0])
    assert a.substitutions(gid) == b.substitutions(gid)
    assert a.lineups(gid) == b.lineups(gid)


def test_a_season_does_not_depend_on_the_other_seasons() -> None:
    alone = Universe(3, 0.01, [2020])
    many = Universe(3, 0.01, [2015, 2018, 2020, 2022])
    assert [g for g in many.games() if g["season"] == 2020] == list(alone.games())
    assert alone.plays_table(season=2020).equals(many.plays_table(season=2020))


def test_seed_changes_the_data() -> None:
    a = Universe(1, 0.01, [2020])
    b = Universe(2, 0.01, [2020])
    assert a.games() != b.games()


def test_games_per_season_follow_the_scale() -> None:
    u = Universe(3, 0.05, [2021, 2022])
    assert len(u.season_games(2021)) == round(5282 * 0.05)
    assert len(u.season_games(2022)) == round(6387 * 0.05)
    assert len(Universe(3, 0.0001, [2022]).season_games(2022)) == 10


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        Universe(1, 0, [2020])
    with pytest.raises(ValueError):
        Universe(1, 0.1, [])
    with pytest.raises(KeyError):
        Universe(1, 0.1, [2020]).season_games(2019)


def test_counter_rng_is_pure() -> None:
    keys = np.arange(10, dtype=np.int64)
    assert np.array_equal(hash_u64(5, 1, keys), hash_u64(5, 1, keys))
    assert np.array_equal(hash_u64(5, 1, keys)[3:4], hash_u64(5, 1, np.array([3])))
    u = uniform(5, 2, np.arange(100_000))
    assert u.min() >= 0 and u.max() < 1 and abs(u.mean() - 0.5) < 0.01
