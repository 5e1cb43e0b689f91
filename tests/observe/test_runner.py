"""The observation's query runner: each distinct query once, independent ones side by side."""

from __future__ import annotations

import threading

import pyarrow as pa
import pytest

from reconciler.errors import QueryError
from reconciler.observe.runner import QueryRunner
from reconciler.ports import QueryResult


class _Engine:
    def __init__(self, concurrency: int = 1, barrier: threading.Barrier | None = None) -> None:
        self.concurrency = concurrency
        self.barrier = barrier
        self.sent: list[str] = []
        self.lock = threading.Lock()

    def query(self, sql, params=None):
        with self.lock:
            self.sent.append(sql)
        if sql == "SELECT bad":
            raise QueryError("no such column")
        if self.barrier is not None:
            self.barrier.wait()  # every started query in flight at once, or this never passes
        return QueryResult(table=pa.table({"n": [1, 2]}), bytes_scanned=10, engine="athena")

    def close(self):
        pass


def test_a_query_text_runs_once_per_observation():
    engine, other = _Engine(), _Engine()
    runner = QueryRunner()
    p = {"season_start": 2015, "season_end": 2016}
    for _ in range(3):
        assert runner.run(engine, "SELECT 1", p).table.num_rows == 2
    runner.run(engine, "SELECT 1", {"season_start": 2014, "season_end": 2016})
    runner.run(other, "SELECT 1", p)  # another engine (the hidden one) is asked too
    assert engine.sent == ["SELECT 1", "SELECT 1"] and other.sent == ["SELECT 1"]
    assert (runner.queries, runner.bytes_scanned, runner.rows_returned) == (3, 30, 6)
    for _ in range(2):
        with pytest.raises(QueryError, match="no such column"):
            runner.run(engine, "SELECT bad", p)
    assert engine.sent.count("SELECT bad") == 1


def test_started_queries_run_side_by_side():
    engine = _Engine(concurrency=3, barrier=threading.Barrier(3, timeout=60))
    runner = QueryRunner()
    for q in ("SELECT 1", "SELECT 2", "SELECT 3"):
        runner.start(engine, q, {})
    try:
        assert [runner.run(engine, q, {}).table.num_rows for q in ("SELECT 3", "SELECT 1", "SELECT 2")] == [2, 2, 2]
    finally:
        runner.close()
    assert sorted(engine.sent) == ["SELECT 1", "SELECT 2", "SELECT 3"]


def test_an_engine_that_runs_one_query_at_a_time_is_not_started_ahead():
    engine = _Engine(concurrency=1)
    runner = QueryRunner()
    runner.start(engine, "SELECT 1", {})
    assert engine.sent == []
    runner.run(engine, "SELECT 1", {})
    assert engine.sent == ["SELECT 1"]
