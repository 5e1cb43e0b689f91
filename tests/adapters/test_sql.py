"""The pure SQL helpers: ``:name`` binding and sqlglot rewriting (no engine involved)."""

from __future__ import annotations

import pytest
import sqlglot
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from reconciler.errors import QueryError
from reconciler.sql import (
    TableRef,
    bind_params,
    parse_query,
    placeholders,
    replace_tables,
    sql_literal,
    table_refs,
    to_dialect,
)

PLAN_SQL = """
SELECT gameId AS game_id, season, date
FROM cbbd_silver.fct_games
WHERE season BETWEEN :season_start AND :season_end AND status = 'final'
"""


def test_binds_ints_as_ints_and_strings_quoted():
    sql = "SELECT * FROM t WHERE a = :a AND b = :b AND c IN (:a)"
    assert bind_params(sql, {"a": 2024, "b": "it's"}) == (
        "SELECT * FROM t WHERE a = 2024 AND b = 'it''s' AND c IN (2024)"
    )


def test_binding_the_spec_query_yields_athena_sql():
    bound = bind_params(PLAN_SQL, {"season_start": 2015, "season_end": 2016, "unused": "x"})
    assert "BETWEEN 2015 AND 2016" in bound
    tree = sqlglot.parse_one(bound, read="athena")
    assert tree.find(exp.Between) is not None


def test_placeholders_in_literals_identifiers_and_comments_are_left_alone():
    sql = """SELECT ':a', "x:a", `y:a` -- :a
    /* :a */ FROM t WHERE ts = '12:30:00' AND v = :a"""
    assert placeholders(sql) == ["a"]
    out = bind_params(sql, {"a": 1})
    assert out.endswith("v = 1")
    assert "':a'" in out and '"x:a"' in out and "-- :a" in out and "/* :a */" in out


def test_double_colon_is_not_a_placeholder():
    assert placeholders("SELECT x::int FROM t") == []


def test_missing_parameters_are_named():
    with pytest.raises(QueryError, match=r":season_end, :season_start have no value"):
        bind_params(PLAN_SQL, {})


@pytest.mark.parametrize("value", [True, 1.5, None, [1, 2], b"x", {"a": 1}])
def test_other_types_are_refused(value):
    with pytest.raises(QueryError, match="only int and str can be bound"):
        sql_literal("p", value)


def test_nul_in_a_string_is_refused():
    with pytest.raises(QueryError, match="NUL"):
        sql_literal("p", "a\x00b")


def test_sql_without_placeholders_is_unchanged():
    assert bind_params("SELECT 1", None) == "SELECT 1"


@given(st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",))))
def test_any_bound_string_parses_back_to_the_same_value(value):
    tree = sqlglot.parse_one(bind_params("SELECT :v AS v", {"v": value}), read="athena")
    literal = tree.find(exp.Literal)
    assert literal is not None
    assert literal.is_string
    assert literal.this == value


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_any_bound_int_parses_back_to_the_same_value(value):
    tree = sqlglot.parse_one(bind_params("SELECT :v AS v", {"v": value}), read="athena")
    assert int(tree.selects[0].this.sql()) == value


def test_table_refs_skip_ctes_and_unnest_and_default_unqualified():
    tree = parse_query(
        "WITH g AS (SELECT * FROM cbbd_silver.fct_games) "
        "SELECT * FROM g JOIN awsdatacatalog.CBBD_SILVER.Fct_Plays p ON p.gameid = g.gameid "
        "JOIN fct_lines l ON l.gameid = g.gameid CROSS JOIN UNNEST(ARRAY[1, 2]) AS t(x)"
    )
    assert table_refs(tree, "cbbd_silver") == [
        TableRef("cbbd_silver", "fct_games"),
        TableRef("cbbd_silver", "fct_lines"),
        TableRef("cbbd_silver", "fct_plays"),
    ]
    assert table_refs(tree) == [TableRef("cbbd_silver", "fct_games"), TableRef("cbbd_silver", "fct_plays")]


def test_replace_tables_keeps_aliases_and_qualified_columns():
    tree = parse_query(
        "SELECT fct_games.gameId, cbbd_silver.fct_games.season, p.id "
        "FROM cbbd_silver.fct_games LEFT JOIN cbbd_silver.fct_plays p ON p.gameId = fct_games.gameId"
    )
    out = to_dialect(replace_tables(tree, lambda r: f"v_{r.name}"), "duckdb")
    assert out == (
        'SELECT fct_games.gameId, fct_games.season, p.id FROM "v_fct_games" AS fct_games '
        'LEFT JOIN "v_fct_plays" AS p ON p.gameId = fct_games.gameId'
    )
    # the original tree is untouched
    assert "cbbd_silver.fct_games" in tree.sql(dialect="athena")


def test_athena_functions_are_transpiled_for_duckdb():
    tree = parse_query(
        "SELECT approx_distinct(id), date_format(from_iso8601_timestamp(startDate), '%Y-%m-%d') "
        "FROM cbbd_silver.fct_games"
    )
    out = to_dialect(tree, "duckdb")
    assert "APPROX_COUNT_DISTINCT" in out
    assert "STRFTIME" in out


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELEC 1", "does not parse as Athena SQL"),
        ("SELECT 'open", "does not parse as Athena SQL"),
        ("", "SQL is empty"),
        ("SELECT 1; SELECT 2", "holds 2 statements"),
        ("DROP TABLE cbbd_silver.fct_games", "only SELECT queries can run here, not DROP"),
        ("INSERT INTO t VALUES (1)", "only SELECT queries"),
    ],
)
def test_parse_query_refuses(sql, message):
    with pytest.raises(QueryError, match=message) as info:
        parse_query(sql)
    assert "\n" not in str(info.value)


def test_parse_query_accepts_union_and_with():
    assert isinstance(parse_query("SELECT 1 UNION ALL SELECT 2"), exp.Query)
    assert isinstance(parse_query("WITH a AS (SELECT 1 AS x) SELECT x FROM a"), exp.Query)


def test_queries_that_read_the_clock_chance_or_loose_files_are_not_deterministic():
    from reconciler.sql import deterministic, parse_query

    assert deterministic(parse_query("SELECT a FROM cbbd_silver.t WHERE s BETWEEN 1 AND 2"))
    assert deterministic(parse_query("SELECT s FROM UNNEST(sequence(1, 3)) AS t(s)"))
    for sql in (
        "SELECT a FROM t WHERE d < current_date",
        "SELECT now()",
        "SELECT rand()",
        "SELECT shuffle(a) FROM t",
        "SELECT * FROM t TABLESAMPLE BERNOULLI (10)",
        "SELECT * FROM read_parquet('x.parquet')",
    ):
        assert not deterministic(parse_query(sql)), sql
