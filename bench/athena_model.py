"""Bench: a plan through an Athena that DuckDB answers, accounted as Athena would run it.

A test double for cost, not a product mode. ``AthenaEngine`` runs with an injected
``pyathena.connect`` whose cursors answer each query with the profile's DuckDB engine and record
what Athena would have done: one query started, the rows and bytes it returned, and how they
came back (GetQueryResults pages of 1,000 rows for the DB-API cursor; one result file read for
the Arrow cursor; Parquet objects for UNLOAD). Modelled seconds come from the figures below;
scanning is not modelled (DuckDB does not bill; both designs scan the same tables).

Figures, and where they come from:

* ``QUERY_SECONDS = 1.5`` per query: Athena's own statistics for small queries over a
  partitioned table typically show 0.1-0.5 s ``QueryQueueTime`` and 0.5-1 s
  ``EngineExecutionTime`` (planning included), and pyathena polls GetQueryExecution every
  ``poll_interval`` (1 s default), so a finished query is seen 0.5 s late on average.
* ``PAGE_SECONDS = 0.15`` per GetQueryResults call: one HTTPS round trip within a region (about
  30-60 ms) plus Athena serialising up to 1,000 rows as JSON (100-300 kB for these rows);
  ``MaxResults`` is capped at 1,000 (Athena API reference, GetQueryResults).
* ``FILE_SECONDS = 0.1`` plus bytes at ``FILE_BYTES_PER_SECOND = 50 MB/s`` for one result
  file read from S3 (the Arrow cursor's one GET, read ahead in parallel parts).

Queries the observer started ahead (its ``observe-*`` worker threads) run side by side up to
the engine's concurrency; the model schedules them on that many slots (longest first) and adds
the queries run one after another.

``python -m bench.athena_model CONFIG SEASONS [TARGET ...]`` prints the figures as JSON.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import math
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

QUERY_SECONDS = 1.5
PAGE_SECONDS = 0.15
PAGE_ROWS = 1000
FILE_SECONDS = 0.1
FILE_BYTES_PER_SECOND = 50e6


@dataclass
class Query:
    """One query as the model accounts it."""

    rows: int
    bytes: int
    mode: str
    ahead: bool

    @property
    def pages(self) -> int:
        """GetQueryResults calls (the header row comes in the first page)."""
        return math.ceil((self.rows + 1) / PAGE_ROWS) if self.mode == "pages" else 0

    @property
    def seconds(self) -> float:
        """Modelled seconds from start to rows in hand."""
        if self.mode == "pages":
            return QUERY_SECONDS + self.pages * PAGE_SECONDS
        return QUERY_SECONDS + FILE_SECONDS + self.bytes / FILE_BYTES_PER_SECOND


@dataclass
class ModelAthena:
    """Acts as ``pyathena.connect``: DuckDB answers, the queries are recorded.

    Attributes:
        duck: The engine that answers.
        scanned: The bytes each query reports as scanned (scanning is not modelled: 0 by default).
        queries: The queries answered, as the model accounts them.
        lock: Guards ``queries`` (the observer queries from worker threads).
    """

    duck: Any
    scanned: int = 0
    queries: list[Query] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, **kwargs: Any) -> ModelAthena:
        return self

    def cursor(self, on_poll: Any = None, **options: Any) -> Any:
        model = self
        mode = "pages" if "cursor" not in options else ("unload" if options.get("unload") else "arrow")

        class Cursor:
            query_id = "model"
            data_scanned_in_bytes = model.scanned

            def execute(self, sql: str) -> Cursor:
                if on_poll is not None:
                    on_poll(SimpleNamespace(query_id="model", state="SUCCEEDED"))
                self._table = model.duck.query(sql).table
                ahead = threading.current_thread().name.startswith("observe")
                with model.lock:
                    model.queries.append(Query(self._table.num_rows, self._table.nbytes, mode, ahead))
                return self

            def as_arrow(self) -> Any:
                return self._table

            def fetchall(self) -> list[tuple[Any, ...]]:
                cols = [c.to_pylist() for c in self._table.columns]
                return list(zip(*cols, strict=True))

            @property
            def description(self) -> list[tuple[Any, ...]]:
                return [(f.name, _athena_type(f.type), None, None, 0, 0, "UNKNOWN") for f in self._table.schema]

            def cancel(self) -> None:
                pass

        return Cursor()

    def close(self) -> None:
        pass


def _athena_type(t: Any) -> str:
    import pyarrow as pa

    if pa.types.is_int64(t):
        return "bigint"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_boolean(t):
        return "boolean"
    return "varchar"


def _makespan(durations: list[float], slots: int) -> float:
    """Longest-first scheduling of independent queries on ``slots`` parallel slots."""
    ends = [0.0] * max(1, slots)
    for d in sorted(durations, reverse=True):
        i = ends.index(min(ends))
        ends[i] += d
    return max(ends)


def measure(cfg: Path, seasons: str, targets: tuple[str, ...] = ()) -> dict[str, Any]:
    """Plan once through the model and account it.

    Args:
        cfg: A sandbox's config.
        seasons: Seasons (``2010-2026``).
        targets: ``--target`` selectors (empty: all).

    Returns:
        Queries, rows and bytes returned, pages, result files, modelled and wall seconds.
    """
    from reconciler.adapters.athena_engine import AthenaEngine
    from reconciler.config import load_profile
    from reconciler.seasons import parse_seasons
    from reconciler.service import Session

    session = Session.open(load_profile(cfg))
    backends: Any = session.backends
    model = ModelAthena(backends.engine)
    kwargs: dict[str, Any] = {"connect": model}
    concurrency = 1
    if "concurrency" in inspect.signature(AthenaEngine).parameters:
        concurrency = 4
        kwargs["concurrency"] = concurrency
    # The backends are frozen: the session gets a copy whose engine is the model.
    object.__setattr__(session, "backends", dataclasses.replace(backends, engine=AthenaEngine(**kwargs)))
    # A layout plan answered whole from the observation cache (an unchanged lake) starts no query:
    # the model is of the plan that must start them all.
    try:
        import reconciler.observe.layout_plan_cache as plan_cache

        kept = plan_cache.cached_plan
        plan_cache.cached_plan = lambda cache, key: None  # type: ignore[assignment]
    except ImportError:  # code from before the layout plan was kept
        plan_cache, kept = None, None
    t = time.perf_counter()
    try:
        plan, _ = session.plan(parse_seasons(seasons), targets)
    finally:
        wall = time.perf_counter() - t
        if plan_cache is not None:
            plan_cache.cached_plan = kept
        model.duck.close()
        session.close()
    ahead = [q.seconds for q in model.queries if q.ahead]
    serial = sum(q.seconds for q in model.queries if not q.ahead)
    return {
        "queries": len(model.queries),
        "rows_returned": sum(q.rows for q in model.queries),
        "bytes_returned": sum(q.bytes for q in model.queries),
        "pages": sum(q.pages for q in model.queries),
        "result_files": sum(1 for q in model.queries if q.mode != "pages"),
        "concurrency": concurrency,
        "modelled_seconds": round(serial + _makespan(ahead, concurrency), 1),
        "wall_seconds": round(wall, 1),
        "actions": sum(len(t.actions) for t in plan.targets),
        "per_query": [asdict(q) | {"pages": q.pages, "seconds": round(q.seconds, 2)} for q in model.queries],
    }


#: The model's figures for the code just before issue 14's push-down, measured once (the file says how).
BEFORE = Path(__file__).with_name("athena_before.json")


def before() -> dict[str, dict[str, Any]]:
    """The figures of :data:`BEFORE` by lake (``steady``, ``half_gap``), each with its ``commit``.

    Returns:
        Lake → the :func:`measure` figures of that code on the bench's scale-1.0 sandbox (empty
        when the file is absent).
    """
    if not BEFORE.exists():
        return {}
    data = json.loads(BEFORE.read_text(encoding="utf-8"))
    return {k: v | {"commit": data["commit"]} for k, v in data["lakes"].items()}


if __name__ == "__main__":
    out = measure(Path(sys.argv[1]), sys.argv[2], tuple(sys.argv[3:]))
    print(json.dumps({k: v for k, v in out.items() if k != "per_query"}, indent=1))
