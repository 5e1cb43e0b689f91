from __future__ import annotations

import json

import pyarrow as pa
import pytest

from reconciler.lake.schemas import SILVER_TABLES, records_to_table
from reconciler.synth import Universe

SCHEMA = SILVER_TABLES["fct_plays"]


def _sample_ids(universe: Universe, season: int, step: int = 5) -> list[int]:
    sg = universe.season_games(season)
    return [int(g) for g in sg.game_id[::step]]


@pytest.mark.parametrize("season", [2012, 2024, 2025])
def test_plays_table_equals_flattened_records(universe: Universe, season: int) -> None:
    for gid in _sample_ids(universe, season):
        expected = records_to_table(SCHEMA, universe.plays(gid))
        got = universe.plays_table([gid])
        assert got.schema.equals(SCHEMA.schema)
        assert got.equals(expected), gid


def test_plays_table_is_batch_invariant(universe: Universe) -> None:
    ids = _sample_ids(universe, 2025, 3)
    whole = universe.plays_table(ids)
    parts = pa.concat_tables([universe.plays_table([g]) for g in ids])
    assert whole.equals(parts)
    season = universe.plays_table(season=2025)
    assert season.num_rows > whole.num_rows


def test_plays_batch_equals_per_game_records(universe: Universe) -> None:
    ids = _sample_ids(universe, 2024, 4)
    assert universe.plays_batch(ids) == [r for g in ids for r in universe.plays(g)]


def test_raw_lines_equal_json_dumps_of_records(universe: Universe) -> None:
    for season in universe.seasons:
        for gid in _sample_ids(universe, season, 9):
            assert universe.plays_raw([gid]) == [json.dumps(r) for r in universe.plays(gid)]


def test_plays_table_argument_checks(universe: Universe) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        universe.plays_table()
    assert universe.plays_table([1, 2]).num_rows == 0
    assert universe.plays_table([1]).schema.equals(SCHEMA.schema)
