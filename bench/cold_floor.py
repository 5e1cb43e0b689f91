"""The engine work a cold plan cannot skip, measured bare: ``python -m bench.cold_floor CONFIG``.

A cold plan (observation cache emptied) must, whatever its code, at least:

* find the gap: the bare anti-joins of :func:`bench.plan_latency.floor_queries` (the floor);
* read bronze for the units bronze can fill at no API call ("the lake as a source"): one
  grouping per bronze table the specs name (without it the plan would fetch what bronze holds,
  another decision);
* count duplicate natural keys, as a full scan of every file sees them (the census the rules
  require before any apply);
* read every Parquet footer of the declared tables (the layout rules: types and partitions).

Each runs once on a fresh engine without the observation cache (views made on first use, the OS
page cache warm), in the order a plan runs them; the sum is a floor under any cold plan that keeps
its decisions, before interpreter start-up and before Python touches a unit.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bench.plan_latency import SEASONS, floor_queries
from reconciler.adapters.duckdb_engine import DuckDBEngine
from reconciler.adapters.local_store import LocalStore
from reconciler.config import load_profile
from reconciler.core.layout_observed import FileObs
from reconciler.errors import QueryError
from reconciler.lake.keys import key_parts, key_sql
from reconciler.observe.layout_files import read_footers
from reconciler.observe.layout_tables import declared_tables
from reconciler.observe.queries import duplicate_seasons_query
from reconciler.seasons import parse_seasons
from reconciler.spec.loader import load_specs

_RANGE = "CAST(season AS integer) BETWEEN :season_start AND :season_end"

#: Bronze per-game tables the shipped specs read as a source, with their completeness grouping.
BRONZE = {
    "substitutions_game": (
        f'SELECT count(*) FROM (SELECT "gameId" FROM cbbd_bronze.substitutions_game WHERE {_RANGE} '
        'GROUP BY 1 HAVING count(*) >= 10 AND count(DISTINCT "teamId") = 2)'
    ),
    "lineups_game": (
        f'SELECT count(*) FROM (SELECT "gameId", "teamId" FROM cbbd_bronze.lineups_game WHERE {_RANGE} GROUP BY 1, 2)'
    ),
}


def measure(cfg: Path) -> dict[str, float]:
    """Time each part of the floor once.

    Args:
        cfg: A sandbox's ``config.yaml`` (an embedded profile).

    Returns:
        Part → seconds (``footers (N objects)`` names the object count).
    """
    prof = load_profile(cfg)
    assert prof.store.path is not None, "an embedded profile (a local lake) is needed"
    seasons = parse_seasons(SEASONS)
    params = {"season_start": min(seasons), "season_end": max(seasons)}
    specs = load_specs(prof.specs_dir)
    tables = declared_tables(specs, prof.catalog.silver_database, prof.catalog.bronze_database)
    out: dict[str, float] = {}
    engine = DuckDBEngine(LocalStore(prof.store.path))
    try:
        for name, sql in [*floor_queries().items(), *(("bronze " + k, v) for k, v in BRONZE.items())]:
            t = time.perf_counter()
            engine.query(sql, params)
            out[name] = time.perf_counter() - t
        for decl in tables:
            if not decl.dedupe or not decl.key:
                continue
            t = time.perf_counter()
            try:
                engine.query(
                    duplicate_seasons_query(decl.database, decl.table, key_sql(key_parts(decl.table, decl.key))), params
                )
            except QueryError:  # a table without files has nothing to count
                continue
            out[f"census {decl.table}"] = time.perf_counter() - t
    finally:
        engine.close()
    store = LocalStore(prof.store.path)
    files = [
        FileObs(key=o.key, size=o.size, mtime=o.mtime, partition=())
        for decl in tables
        for o in store.list_objects(decl.prefix)
        if o.key.endswith(".parquet")
    ]
    t = time.perf_counter()
    read_footers(store, files)
    out[f"footers ({len(files):,} objects)"] = time.perf_counter() - t
    return out


def main() -> None:
    """Print each part and the sums, with and without bronze.

    Bronze is read only for seasons with units silver lacks that are not settled by checkpoints
    (verified empty): a complete lake's plan needs no bronze, a lake with gaps does.
    """
    parts = measure(Path(sys.argv[1]))
    for name, seconds in parts.items():
        print(f"{name:40s} {seconds:6.2f} s")
    total = sum(parts.values())
    bronze = sum(s for n, s in parts.items() if n.startswith("bronze "))
    print(f"{'sum, with bronze (a lake with gaps)':40s} {total:6.2f} s")
    print(f"{'sum, without bronze (a complete lake)':40s} {total - bronze:6.2f} s")
    print("(both before interpreter start-up and before any Python per unit)")


if __name__ == "__main__":
    main()
