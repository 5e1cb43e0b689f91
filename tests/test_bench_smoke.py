"""Smoke checks of the benchmark helpers (fast; no timings asserted)."""

from __future__ import annotations

from bench.common import Row, max_in_window
from bench.plan_latency import floor_queries
from bench.run import table


def test_max_in_window_counts_starts_within_one_second():
    assert max_in_window([0.0, 0.3, 0.6, 0.99, 1.0, 1.5]) == 4
    assert max_in_window([0.0, 1.0, 2.0]) == 1


def test_floor_queries_cover_the_fact_targets_in_athena_sql():
    import sqlglot

    qs = floor_queries()
    assert set(qs) == {"plays", "substitutions", "lineups"}
    for sql in qs.values():
        sqlglot.parse_one(sql.replace(":season_start", "2010").replace(":season_end", "2026"), read="athena")


def test_table_marks_unmet_goals():
    md = table([(1, Row("x", "2 s", "1 s", "2.00×", "cmd", "≤1.5×", False))])
    assert "**no**" in md and "`cmd`" in md


def test_the_athena_model_accounts_a_plan(tmp_path):
    from bench.athena_model import PAGE_ROWS, Query, measure
    from tests.e2e_helpers import make_sandbox

    cfg, _, _ = make_sandbox(tmp_path / "sb", seasons="2015-2016")
    got = measure(cfg, "2015-2016")
    assert got["actions"] > 0
    # Results come back through the Arrow cursor: one result file per query, no pages.
    assert got["queries"] == got["result_files"] > 0 and got["pages"] == 0
    assert got["rows_returned"] == sum(q["rows"] for q in got["per_query"])
    assert got["modelled_seconds"] > 0
    # Paged results cost a call per 1,000 rows, the header included.
    assert Query(rows=PAGE_ROWS, bytes=0, mode="pages", ahead=False).pages == 2
    assert Query(rows=10, bytes=0, mode="arrow", ahead=False).pages == 0
