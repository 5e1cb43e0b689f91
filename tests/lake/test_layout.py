"""Key conventions of the cbbd_etl lake (cbbd_etl_lake.md §3.1 worked values)."""

from __future__ import annotations

import pytest

from reconciler.lake.layout import (
    format_layout,
    hash8,
    layout_keys,
    param_hash,
    parse_partition_path,
    raw_key,
    table_key,
)


@pytest.mark.parametrize(
    ("params", "digest"),
    [
        ({}, "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
        ({"gameId": 1234}, "e6c78d31ea7f63a7fa4640d4d08aca6d6bee2dcf6c8af77350db3e553d9816b3"),
        ({"date": "2026-02-21"}, "cccdc873388f411cda01dcdd7324bddd3c805452ae7e004d60076a54e785fd26"),
        ({"season_param": "season"}, "9cbef6330f29eb425a33ce00597f01b906ebb0856ade5ed2c73831c806c5be52"),
    ],
)
def test_param_hash_matches_cbbd_etl(params, digest):
    assert param_hash(params) == digest
    assert hash8(params) == digest[:8]


def test_string_and_int_ids_hash_differently():
    assert hash8({"gameId": "1234"}) == "40ae3b11"
    assert hash8({"gameId": 1234}) != hash8({"gameId": "1234"})


def test_games_slice_hash():
    p = {"season": 2026, "startDateRange": "2025-08-01T00:00:00Z", "endDateRange": "2025-08-30T23:59:59Z"}
    assert hash8(p) == "6a5dd998"


def test_worked_example_keys():
    assert raw_key("plays/game", "2026-02-23", {"gameId": 1234}) == (
        "raw/plays/game/ingested_at=2026-02-23/part-e6c78d31.json.gz"
    )
    part = format_layout("season={season}/date={date}", {"season": 2025, "date": "2024-12-01"})
    assert table_key("silver", "fct_plays", part, {"gameId": 1234}) == (
        "silver/fct_plays/season=2025/date=2024-12-01/part-e6c78d31.parquet"
    )
    assert layout_keys("season={season}/date={date}") == ("season", "date")
    assert parse_partition_path("silver/fct_plays/season=2025/date=2024-12-01/part-x.parquet") == {
        "season": "2025",
        "date": "2024-12-01",
    }
