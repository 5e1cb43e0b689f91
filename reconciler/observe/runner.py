"""The queries of one observation: each distinct text run once, independent ones side by side.

A plan sends the same query text more than once (the plays and substitutions source queries
are one text; the hidden engine's checks are the queries a whole observation runs again), and
on Athena every run costs a round trip and a scan. The runner keeps each (engine, text,
parameters) result for the observation, and can start queries ahead, up to the engine's
``concurrency``, so that independent queries (each target's gap query) run together.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from reconciler.ports import QueryEngine, QueryResult

__all__ = ["QueryRunner"]


@dataclass
class QueryRunner:
    """Runs an observation's queries, each distinct one once.

    Attributes:
        bytes_scanned: Bytes the engines reported scanning (each distinct query counted once).
        rows_returned: Rows the engines returned.
        queries: Queries actually sent.
    """

    bytes_scanned: int = 0
    rows_returned: int = 0
    queries: int = 0
    _results: dict[tuple[int, str, str], Future[QueryResult]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: ThreadPoolExecutor | None = None

    def _key(self, engine: QueryEngine, sql: str, params: Mapping[str, Any]) -> tuple[int, str, str]:
        return (id(engine), sql, json.dumps(dict(params), sort_keys=True, default=str))

    def _execute(self, engine: QueryEngine, sql: str, params: Mapping[str, Any]) -> QueryResult:
        res = engine.query(sql, params)
        with self._lock:
            self.queries += 1
            self.bytes_scanned += res.bytes_scanned
            self.rows_returned += res.table.num_rows
        return res

    def start(self, engine: QueryEngine, sql: str, params: Mapping[str, Any]) -> None:
        """Start a query in the background (when the engine runs several at once).

        Args:
            engine: The engine.
            sql: The query.
            params: Its parameters.
        """
        workers = int(getattr(engine, "concurrency", 1) or 1)
        if workers <= 1:
            return
        key = self._key(engine, sql, params)
        with self._lock:
            if key in self._results:
                return
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="observe")
            self._results[key] = self._pool.submit(self._execute, engine, sql, params)

    def run(self, engine: QueryEngine, sql: str, params: Mapping[str, Any]) -> QueryResult:
        """A query's result: the one already got or started, else run now.

        Args:
            engine: The engine.
            sql: The query.
            params: Its parameters.

        Returns:
            The result.

        Raises:
            QueryError: As the engine raised it (a failed query fails every time it is asked for).
        """
        key = self._key(engine, sql, params)
        with self._lock:
            fut = self._results.get(key)
            if fut is None:
                fut = self._results[key] = Future()
                mine = True
            else:
                mine = False
        if mine:
            try:
                fut.set_result(self._execute(engine, sql, params))
            except BaseException as exc:
                fut.set_exception(exc)
        return fut.result()

    def close(self) -> None:
        """Stop the background workers (queries started and not asked for are waited on)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
