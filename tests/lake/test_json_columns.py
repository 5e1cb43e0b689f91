"""API bodies straight to Arrow: the same tables as the record flatteners, the raw bytes as sent."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa
import pytest

from reconciler.lake.json_columns import BodyError, convert_body
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES, TableSchema, records_to_table
from reconciler.synth.universe import Universe

UNIVERSE = Universe(7, 0.01, (2024, 2025))


def _records(kind: str) -> list[dict[str, Any]]:
    sg = UNIVERSE.season_games(2024)
    games = [int(g) for g in sg.game_id[sg.has_subs][:6]]
    if kind == "plays":
        return UNIVERSE.plays_batch(games)
    if kind == "substitutions":
        return [r for g in games for r in UNIVERSE.substitutions(g)]
    if kind == "lineups":
        return [r for g in games for r in UNIVERSE.lineups(g)]
    return [dict(g) for g in UNIVERSE.games()[:40]]


def _same(got: pa.Table, want: pa.Table) -> None:
    assert got.schema == want.schema
    for name in want.column_names:
        a, b = got.column(name).to_pylist(), want.column(name).to_pylist()
        if a == b:
            continue
        # Nested values are JSON text: compare what they say, not how they are spelled.
        parsed = [[json.loads(x) if isinstance(x, str) else x for x in col] for col in (a, b)]
        assert parsed[0] == parsed[1], name


CASES = [
    ("plays", "fct_plays", "plays_game", {"season": 2024}),
    ("plays", "fct_plays", "plays_date", {"season": 2024, "date": "2023-11-11"}),
    ("substitutions", "fct_substitutions", "substitutions_game", {"season": 2024, "gameId": 1}),
    ("lineups", "fct_lineups", "lineups_game", {"season": 2024, "date": "2023-11-11", "gameId": 2400001}),
    ("games", "fct_games", "games", {"season": 2024}),
]


@pytest.mark.parametrize(("kind", "silver", "bronze", "ctx"), CASES, ids=[c[2] for c in CASES])
def test_a_body_converts_to_the_tables_the_record_flatteners_make(kind, silver, bronze, ctx):
    records = _records(kind)
    assert records
    outputs: list[tuple[TableSchema, dict[str, Any]]] = [(SILVER_TABLES[silver], ctx), (BRONZE_TABLES[bronze], ctx)]
    body = json.dumps(records).encode()
    got = convert_body(body, outputs)
    assert got.rows == len(records)
    for table, (schema, c) in zip(got.tables, outputs, strict=True):
        _same(table, records_to_table(schema, records, c))
    # Raw: each element's bytes as sent, one per line.
    assert got.raw_lines.splitlines() == [json.dumps(r).encode() for r in records]


def test_raw_keeps_the_bytes_the_api_sent():
    body = b'[{"id": 1,"gameId":7, "playText": "caf\\u00e9"} ,\n {"id":2,"gameId":7}]'
    got = convert_body(body, [(SILVER_TABLES["fct_plays"], {})])
    assert got.raw_lines == b'{"id": 1,"gameId":7, "playText": "caf\\u00e9"}\n{"id":2,"gameId":7}\n'
    assert got.tables[0].column("playText").to_pylist() == ["café", None]


def test_an_empty_array_is_empty_tables():
    got = convert_body(b"[]", [(SILVER_TABLES["fct_plays"], {})])
    assert got.rows == 0 and got.raw_lines == b"" and got.tables[0].num_rows == 0
    assert got.tables[0].schema == SILVER_TABLES["fct_plays"].schema


@pytest.mark.parametrize(
    ("body", "structure", "text"),
    [
        (b'{"a": 1}', True, "a JSON object; expected a JSON array of objects"),
        (b"", True, "empty; expected a JSON array"),
        (b'[{"a": 1}, {"b": ', True, "malformed JSON"),
        (b'[{"a": 1}, 3]', True, "element 1 is a JSON number"),
        (b'[{"id": "x"}]', False, "fct_plays: Conversion Error"),
    ],
)
def test_bad_bodies_are_one_line_errors(body, structure, text):
    with pytest.raises(BodyError) as err:
        convert_body(body, [(SILVER_TABLES["fct_plays"], {})])
    assert err.value.structure is structure
    assert text in str(err.value) and "\n" not in str(err.value)
