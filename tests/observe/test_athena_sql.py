"""The observation SQL is Athena SQL: produced by pure functions, tested on its text, parsed by sqlglot.

Every query the observer can send (the coverage, audit-count and duplicate queries, and each
spec's source query with ``:season_start``/``:season_end`` bound) must parse with
``read="athena"``, and so must the exact text the Athena engine hands to pyathena.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from reconciler.adapters.athena_engine import AthenaEngine
from reconciler.core.empties import SetDigest
from reconciler.lake.keys import key_parts, key_sql
from reconciler.observe.counts import audit_counts_query
from reconciler.observe.gap import gap_query
from reconciler.observe.queries import coverage_query, duplicate_seasons_query, duplicates_query, quote_ident
from reconciler.spec.loader import load_specs
from reconciler.sql import bind_params

SPECS = load_specs(Path(__file__).parents[2] / "specs")
SEASONS = {"season_start": 2015, "season_end": 2016}


def _athena(sql: str) -> exp.Expression:
    """Parse as Athena, refusing anything sqlglot would only warn about."""
    return sqlglot.parse_one(sql, read="athena", error_level=sqlglot.ErrorLevel.RAISE)


def _bound(sql: str) -> str:
    return bind_params(sql, SEASONS)


def _observation_queries() -> list[tuple[str, str]]:
    """(name, SQL) for every query the observer builds from the project's specs."""
    out = []
    for spec in SPECS:
        out.append((f"{spec.name}.source", spec.source.query))
        silver = spec.target.silver
        comp = spec.expect.complete
        out.append(
            (
                f"{spec.name}.coverage",
                coverage_query(
                    silver.database,
                    silver.table,
                    silver.unit_columns,
                    min_rows=comp.min_rows,
                    expression=comp.expression,
                ),
            )
        )
        out.append((f"{spec.name}.gap", gap_query(spec, [2015, 2016], database=silver.database, table=silver.table)))
        # With verified-empty units counted in aggregate (a season with a date bound, one without).
        empties = {2015: (SetDigest(3, 10, 20), "2015-04-01"), 2016: (SetDigest(1, 5, 6), None)}
        sql = gap_query(spec, [2015, 2016], database=silver.database, table=silver.table, empties=empties)
        out.append((f"{spec.name}.gap_empties", sql))
        keys = key_sql(key_parts(silver.table, silver.key))
        out.append(
            (f"{spec.name}.audit_counts", audit_counts_query(silver.database, silver.table, silver.unit_columns, keys))
        )
        out.append((f"{spec.name}.duplicates", duplicates_query(silver.database, silver.table, keys)))
        out.append((f"{spec.name}.duplicate_seasons", duplicate_seasons_query(silver.database, silver.table, keys)))
        for strat in spec.fetch:
            if strat.source == "bronze" and strat.bronze:
                cols = strat.unit_columns or silver.unit_columns
                sql = coverage_query(
                    "cbbd_bronze", strat.bronze, cols, min_rows=comp.min_rows, expression=strat.complete_expression
                )
                out.append((f"{spec.name}.{strat.name}.bronze_coverage", sql))
    return out


QUERIES = _observation_queries()


def test_every_spec_is_covered():
    names = {n.split(".", 1)[0] for n, _ in QUERIES}
    assert names == {"games", "plays", "substitutions", "lineups"}
    assert any(n.endswith("bronze_coverage") for n, _ in QUERIES)


@pytest.mark.parametrize(("name", "sql"), QUERIES, ids=[n for n, _ in QUERIES])
def test_observation_query_parses_as_athena_once_bound(name, sql):
    bound = _bound(sql)
    assert ":season" not in bound
    tree = _athena(bound)
    assert isinstance(tree, exp.Query), name
    # Round trip: what sqlglot writes back as Athena parses to the same tree.
    assert _athena(tree.sql(dialect="athena")) == tree


def test_coverage_query_text():
    sql = coverage_query("cbbd_silver", "fct_plays", ["gameId"], min_rows=20, expression="max(period) >= 2")
    assert sql == (
        'SELECT CAST("gameId" AS varchar) AS u0, count(*) AS n, ((count(*) >= 20) AND (max(period) >= 2)) AS ok\n'
        "FROM cbbd_silver.fct_plays\n"
        'WHERE (TRY_CAST("season" AS integer) BETWEEN :season_start - 1 AND :season_end '
        'OR TRY_CAST("season" AS integer) IS NULL)\n'
        "GROUP BY 1"
    )


def test_coverage_query_with_a_two_column_unit_and_no_expression():
    sql = coverage_query("cbbd_silver", "fct_lineups", ["gameId", "teamid"], min_rows=3)
    assert 'CAST("gameId" AS varchar) AS u0, CAST("teamid" AS varchar) AS u1' in sql
    assert "(count(*) >= 3) AS ok" in sql
    assert sql.endswith("GROUP BY 1, 2")
    tree = _athena(_bound(sql))
    assert [c.alias for c in tree.selects] == ["u0", "u1", "n", "ok"]
    low = tree.find(exp.Between).args["low"]
    assert low.sql() == "2015 - 1"  # the season before: plays_date files the calendar year


def test_audit_counts_query_reads_nested_key_parts():
    keys = key_sql(key_parts("fct_substitutions", ["gameId", "athleteId", "sub_in_period", "sub_in_seconds_remaining"]))
    sql = audit_counts_query("cbbd_silver", "fct_lineups", ["gameId", "teamid"], keys)
    assert 'count(DISTINCT CAST("gameId" AS varchar) || \':\' || CAST("teamid" AS varchar)) AS units' in sql
    assert 'regexp_extract("subIn"' in sql and "TRY_CAST(season AS integer)" in sql
    tree = _athena(_bound(sql))
    assert [c.alias for c in tree.selects] == ["season", "n", "units", "keys"]


def test_duplicates_query_counts_a_key_across_every_folder():
    keys = key_sql(key_parts("fct_substitutions", ["gameId", "athleteId", "sub_in_period", "sub_in_seconds_remaining"]))
    sql = duplicates_query("cbbd_silver", "fct_substitutions", keys)
    tree = _athena(_bound(sql))
    assert [c.alias_or_name for c in tree.selects] == ["season", "dup_rows", "dup_keys"]
    inner = tree.find(exp.Subquery)
    assert inner is not None and inner.find(exp.Having) is not None
    assert "GROUP BY k0, k1, k2, k3" in sql and "min(season) AS season" in sql
    assert "sum(c - 1) AS dup_rows" in sql
    assert ":season_start - 1" in sql and "IS NULL" in sql


def test_identifiers_are_quoted_for_athena():
    assert quote_ident("gameId") == '"gameId"'
    assert quote_ident('we"ird') == '"we""ird"'
    tree = _athena(_bound(coverage_query("cbbd_silver", "t", ['we"ird'])))
    assert tree.find(exp.Column).name == 'we"ird'


class _RecordingConnection:
    """A pyathena-like connection that records the SQL it is given and returns no rows."""

    def __init__(self):
        self.executed: list[str] = []

    def __call__(self, **kwargs):
        return self

    def cursor(self, on_poll, **options):
        conn = self

        class Cursor:
            query_id = "q"
            description = [("x", "integer", None, None, 10, 0, "UNKNOWN")]
            data_scanned_in_bytes = 0

            def execute(self, sql):
                on_poll(SimpleNamespace(query_id="q", state="SUCCEEDED"))
                conn.executed.append(sql)

            def fetchall(self):
                return []

            def as_arrow(self):
                return pa.table({"x": pa.array([], pa.int32())})

        return Cursor()

    def close(self):
        pass


def test_the_athena_engine_sends_bound_athena_text():
    conn = _RecordingConnection()
    engine = AthenaEngine(workgroup="cbbd", connect=conn)
    for _, sql in QUERIES:
        engine.query(sql, SEASONS)
    assert len(conn.executed) == len(QUERIES)
    for (name, sql), sent in zip(QUERIES, conn.executed, strict=True):
        assert sent == _bound(sql), name  # as written, only the parameters bound
        tree = _athena(sent)
        ctes = {c.alias for c in tree.find_all(exp.CTE)}
        tables = {f"{t.db}.{t.name}" for t in tree.find_all(exp.Table) if t.name and t.name not in ctes}
        assert all(t.split(".")[0] in ("cbbd_silver", "cbbd_bronze") for t in tables), (name, tables)
