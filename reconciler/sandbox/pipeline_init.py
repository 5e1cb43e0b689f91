"""``init_sandbox(..., writer="pipeline")``: the lake written the way cbbd_etl writes it.

The same universe and the same gaps (:func:`reconciler.sandbox.gaps.plan_season`) as the default
writer, so the simulator serves data consistent with the lake and the manifest's coverage holds;
but every object is named, typed, laid out and catalogued as cbbd_etl (commit ``207ade6``) and
its scripts left the real lake (:mod:`pipeline_history` tells which run wrote what):

* per-batch Parquet types and cbbd_etl's column sets (:mod:`pipeline_rules`, :mod:`pipeline_plays`);
* plays in ``date=``, ``asof=`` and consolidated loose files, ``plays_date`` under the calendar
  year, pre-existing duplicates, a zero-column file, a ``season=unknown`` bronze partition
  (:mod:`pipeline_playwriter`), ``fct_games`` in 30-day slices (:mod:`pipeline_games`), collapsed
  substitutions and lineups (:mod:`pipeline_fanout`);
* ``.keep`` and ``tmp/`` markers; a catalog that lags storage (:mod:`pipeline_catalog`).

``manifest.json`` records all of it under ``pipeline``.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.adapters.factory import catalog_path
from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.errors import ReconcilerError
from reconciler.sandbox.catalog import inject_catalog_drift, sandbox_tables
from reconciler.sandbox.gaps import plan_season
from reconciler.sandbox.pipeline_catalog import pipeline_catalog
from reconciler.sandbox.pipeline_history import History, choose, history
from reconciler.sandbox.pipeline_out import WriteLog
from reconciler.sandbox.pipeline_season import PipelineJob, PipelineResult, run_pipeline_season
from reconciler.sandbox.season_task import SeasonResult
from reconciler.sandbox.sink import Sink
from reconciler.sandbox.twin import GAMES_ASOF_SEASON, twin_plan_season
from reconciler.synth.scale import games_in_season, plays_per_game
from reconciler.synth.universe import Universe

__all__ = ["KEEP_PREFIXES", "PipelineBuild", "build_pipeline_lake", "finish_pipeline_catalog"]

log = logging.getLogger(__name__)

#: ``s3_io.py:ensure_prefixes`` writes ``<prefix>/.keep`` for the nine prefixes of ``s3_layout``.
KEEP_PREFIXES = ("raw", "bronze", "silver", "gold", "ref", "meta", "deadletter", "tmp", "athena")


@dataclass(frozen=True, slots=True)
class PipelineBuild:
    """What the season jobs of a pipeline lake wrote, merged.

    Attributes:
        results: Per-season summaries (as the default writer's jobs return).
        log: The merged write log.
        hist: The run days.
        info: The manifest's ``pipeline`` section so far.
    """

    results: list[SeasonResult]
    log: WriteLog
    hist: History
    info: dict[str, Any]


def _run(jobs: list[PipelineJob], workers: int) -> list[PipelineResult]:
    if workers <= 1 or len(jobs) <= 1:
        return [run_pipeline_season(j) for j in jobs]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return list(pool.map(run_pipeline_season, jobs))


def build_pipeline_lake(lake: Path, universe: Universe, *, ingest: str, raw: bool, workers: int) -> PipelineBuild:
    """Write the lake's objects, season by season (in parallel), plus the run markers.

    Args:
        lake: The lake directory.
        universe: The universe (a twin universe builds the twin: :mod:`reconciler.sandbox.twin`).
        ingest: The ingest day (the last run's).
        raw: Write raw plays.
        workers: Processes.

    Returns:
        The build.
    """
    seasons = universe.seasons
    hist = history(universe.seed, ingest)
    if universe.twin:
        plans = {s: twin_plan_season(universe, s) for s in seasons}
        choices = choose(universe, plans, hist, games_asof_season=GAMES_ASOF_SEASON)
    else:
        plans = {s: plan_season(universe, s) for s in seasons}
        choices = choose(universe, plans, hist)
    jobs = [
        PipelineJob(
            str(lake), universe.seed, universe.scale, seasons, plans[s], choices[s], hist, raw, twin=universe.twin
        )
        for s in seasons
    ]
    jobs.sort(key=lambda j: -games_in_season(j.plan.season, universe.scale) * plays_per_game(j.plan.season))
    done = sorted(_run(jobs, workers), key=lambda r: r.base.season)
    sink = Sink(lake)
    for prefix in KEEP_PREFIXES:
        sink.put(f"{prefix}/.keep", b"")
    wlog = WriteLog(repair=hist.repair)
    info: dict[str, Any] = {
        "history": {
            "rebuild_from_raw": hist.rebuild,
            "one_call": hist.one_call,
            "early_fanout": hist.early_fanout,
            "old_games_layout": list(hist.old_games),
            "deduplicate_silver": hist.dedup,
            "games": hist.games,
            "fanout": {str(s): choices[s].fanout_day for s in seasons},
            "repair": hist.repair,
            "gap_fill": hist.gap_fill,
            "incremental": hist.incremental,
            "incremental_skip_fanout": hist.skip_fanout,
        },
        "layouts": {},
        "duplicates": [],
        "zero_column_files": [],
        "unknown_partitions": [],
        "markers": [f"{p}/.keep" for p in KEEP_PREFIXES],
    }
    for r in done:
        wlog.merge(r.log)
        for name in ("duplicates", "zero_column_files", "unknown_partitions"):
            info[name] += r.info.get(name, [])
        if "layouts" in r.info:
            info["layouts"][str(r.base.season)] = r.info["layouts"]
    results = [r.base for r in done]
    for key, (n, size) in sink.files.items():  # the markers, tallied with the first season
        tally = results[0].files.setdefault(key, [0, 0])
        tally[0] += n
        tally[1] += size
    return PipelineBuild(results, wlog, hist, info)


def finish_pipeline_catalog(dest: Path, build: PipelineBuild, drift: dict[str, Any] | None) -> dict[str, Any]:
    """Write the lagging catalog, then (with ``drift``) the catalog drift kinds that fit it.

    Args:
        dest: The sandbox directory (its ``config.yaml`` is written already).
        build: The build.
        drift: The manifest's drift records to extend, or None for no drift.

    Returns:
        The manifest's ``pipeline.catalog`` entry.
    """
    summary = pipeline_catalog(dest, build.log, build.hist.repair)
    if drift is None:
        return summary
    profile, tables = sandbox_tables(dest)
    catalog = LocalCatalog(catalog_path(profile))
    try:
        arity = {t.qualified: len(c.partition_keys) for t in tables if (c := catalog.get_table(t.database, t.table))}
        needed = [t.qualified for t in tables if t.table in ("fct_plays", "fct_substitutions")]
        if all(arity.get(q) == 2 for q in needed):
            inject_catalog_drift(catalog, tables, [r.season for r in build.results], drift)
        else:
            drift["catalog"] = {"kind": "catalog", "skipped": "fct_plays/fct_substitutions lack season/date keys"}
    except ReconcilerError as exc:
        drift["catalog"] = {"kind": "catalog", "skipped": str(exc)}
    finally:
        catalog.close()
    return summary
