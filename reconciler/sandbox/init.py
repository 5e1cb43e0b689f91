"""``init_sandbox``: write a synthetic lake in the cbbd_etl layout, its config and its manifest."""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import reconciler
from reconciler.adapters.local_store import LocalStore
from reconciler.errors import InputError
from reconciler.sandbox.catalog import catalog_sandbox
from reconciler.sandbox.checkpoints import record_verified_empty
from reconciler.sandbox.config_file import write_config
from reconciler.sandbox.drift import inject_drift
from reconciler.sandbox.gaps import complete_plan, lineups_season, plan_season, plays_missing_seasons, subs_season
from reconciler.sandbox.manifest import Manifest, SeasonCoverage, TargetManifest, season_totals
from reconciler.sandbox.pipeline_init import PipelineBuild, build_pipeline_lake, finish_pipeline_catalog
from reconciler.sandbox.season_task import SeasonJob, SeasonResult, run_season
from reconciler.sandbox.twin import TWIN_NOTES
from reconciler.synth.scale import games_in_season, plays_per_game
from reconciler.synth.twin import FANOUT_ROWS, derivation, outside_audit
from reconciler.synth.universe import Universe

__all__ = ["DEFAULT_SEASONS", "INGEST_DATE", "RAW_PLAYS_MAX_SCALE", "WRITERS", "init_sandbox"]

log = logging.getLogger(__name__)

DEFAULT_SEASONS: tuple[int, ...] = tuple(range(2010, 2027))
#: The UTC day the synthetic lake was "ingested" (raw ``ingested_at``, bronze ``asof``).
INGEST_DATE = "2026-11-24"
#: Above this scale raw plays are skipped unless asked for (they would dominate time and disk).
RAW_PLAYS_MAX_SCALE = 0.5
MAX_SCALE = 10.0
#: ``default``: our declared schemas and conventions; ``pipeline``: cbbd_etl's (:mod:`pipeline_init`).
WRITERS = ("default", "pipeline")
_PIPELINE_NOTES = [
    "Written with --writer pipeline: cbbd_etl's object names, per-batch types, layouts, duplicates and "
    "lagging catalog (see `pipeline`); the gaps are the default writer's.",
    "plays silver_rows count each play in the lake once; the rows of pipeline.duplicates come on top.",
    "lineups: the one-team-only games keep every home unit in silver (no cbbd_etl writer does; the gap "
    "plan wants them); every other game keeps the first unit of its /lineups/game answer.",
]
_TARGETS = {
    "plays": ("gameId", "fct_plays"),
    "substitutions": ("gameId", "fct_substitutions"),
    "lineups": ("gameId:teamId", "fct_lineups"),
}


def _check_complete(complete: bool, drift: bool, writer: str) -> None:
    """A complete lake (no gaps) is the default writer's, without drift."""
    if complete and (drift or writer != "default"):
        raise InputError("--complete: a lake with no gaps is written by the default writer, without --drift")


def _check(dest: Path, seasons: tuple[int, ...], scale: float, api_port: int, writer: str, twin: bool) -> None:
    if writer not in WRITERS:
        raise InputError(f"--writer: {writer!r} is not one of {', '.join(WRITERS)}")
    if twin:
        if writer != "pipeline":
            raise InputError("--twin: the twin is written the pipeline's way; drop --writer default")
        if not 0 < scale <= 1:
            raise InputError(f"--scale: {scale} is outside (0, 1] (the twin is at most the real lake)")
        if outside := outside_audit(seasons):
            raise InputError(f"--seasons: the twin covers the audited seasons 2010-2026 only, not {outside}")
    if not seasons:
        raise InputError("--seasons: no season selected")
    if not 0 < scale <= MAX_SCALE:
        raise InputError(f"--scale: {scale} is outside (0, {MAX_SCALE}]")
    if not 1 <= api_port <= 65535:
        raise InputError(f"--api-port: {api_port} is not a TCP port")
    lake = dest / "lake"
    taken = [p.name for p in (dest / "manifest.json", dest / "config.yaml") if p.exists()]
    if lake.is_dir() and any(lake.iterdir()):
        taken.append("lake/")
    if taken:
        raise InputError(f"{dest}: already holds a sandbox ({', '.join(taken)}); choose an empty directory")


def _default_workers(seasons: tuple[int, ...], scale: float) -> int:
    plays = sum(games_in_season(s, scale) * plays_per_game(s) for s in seasons)
    return 1 if plays < 300_000 else max(1, min(2, os.cpu_count() or 1))


def _run_jobs(jobs: list[SeasonJob], workers: int) -> list[SeasonResult]:
    if workers <= 1 or len(jobs) <= 1:
        return [run_season(j) for j in jobs]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return list(pool.map(run_season, jobs))


def _manifest(
    universe: Universe,
    results: list[SeasonResult],
    *,
    ingest: str,
    raw_plays: bool,
    drift: dict[str, Any],
    complete: bool = False,
) -> Manifest:
    seasons = universe.seasons
    wholly: dict[str, list[int]] = {
        "plays": list(plays_missing_seasons(seasons)),
        "substitutions": [s for s in seasons if s != subs_season(seasons)],
        "lineups": [s for s in seasons if s != lineups_season(seasons)],
    }
    if universe.twin:
        wholly = {
            "plays": [],
            "substitutions": [s for s in seasons if s != FANOUT_ROWS["substitutions"][0]],
            "lineups": [s for s in seasons if s != FANOUT_ROWS["lineups"][0]],
        }
    if complete:
        wholly = {"plays": [], "substitutions": [], "lineups": []}
    targets: dict[str, TargetManifest] = {}
    for name, (unit, table) in _TARGETS.items():
        per = {str(r.season): SeasonCoverage.model_validate(r.targets[name]) for r in results}
        targets[name] = TargetManifest(unit=unit, silver_table=table, seasons=per, totals=season_totals(per))
    files: dict[str, dict[str, int]] = {}
    for r in results:
        for key, (n, size) in r.files.items():
            tally = files.setdefault(key, {"objects": 0, "bytes": 0})
            tally["objects"] += n
            tally["bytes"] += size
    notes = [
        "bronze/plays_date partitions use the CBBD season (cbbd_etl itself files plays_date under the "
        "calendar year of the date).",
        "fct_plays, fct_substitutions and fct_lineups silver files are consolidated per date partition "
        "(named like deduplicate_silver.py: hash8 of table, season, date, rows).",
    ]
    if complete:
        notes.append("complete: no gaps injected; only what the API itself lacks is absent.")
    if not raw_plays:
        notes.append("raw/plays/date was not written (scale above the raw-plays limit); bronze and silver were.")
    return Manifest(
        seed=universe.seed,
        scale=universe.scale,
        seasons=list(seasons),
        ingest_date=ingest,
        raw_plays=raw_plays,
        wholly_missing=wholly,
        games={str(r.season): r.games for r in results},
        targets=targets,
        drift=drift,
        files=dict(sorted(files.items())),
        notes=notes,
    )


def _build_default(
    lake: Path, universe: Universe, complete: bool, ingest_date: str, raw: bool, workers: int
) -> list[SeasonResult]:
    """Write every season with the default writer (busiest seasons first), results in season order."""
    jobs = [
        SeasonJob(
            str(lake),
            universe.seed,
            universe.scale,
            universe.seasons,
            complete_plan(plan_season(universe, s)) if complete else plan_season(universe, s),
            ingest_date,
            raw,
        )
        for s in universe.seasons
    ]
    jobs.sort(key=lambda j: -games_in_season(j.plan.season, universe.scale) * plays_per_game(j.plan.season))
    return sorted(_run_jobs(jobs, workers), key=lambda r: r.season)


def _finish_pipeline(
    dest: Path,
    build: PipelineBuild,
    universe: Universe,
    results: list[SeasonResult],
    raw: bool,
    ingest_date: str,
    drift: dict[str, Any] | None,
) -> Manifest:
    """Catalogue a lake the pipeline writer built and write its manifest."""
    twin = universe.twin
    catalog = finish_pipeline_catalog(dest, build, drift)
    manifest = _manifest(universe, results, ingest=ingest_date, raw_plays=raw, drift=drift or {})
    notes = list(TWIN_NOTES if twin else _PIPELINE_NOTES)
    if not raw:
        notes.append("raw/plays/game and raw/plays/date were not written (scale above the raw-plays limit).")
    pipeline = {**build.info, "catalog": catalog}
    update: dict[str, Any] = {"writer": "pipeline", "pipeline": pipeline, "notes": notes}
    if twin:
        games = {s: universe.season_games(s) for s in universe.seasons}
        update["twin"] = derivation(universe.seed, universe.scale, universe.seasons, games)
    manifest = manifest.model_copy(update=update)
    manifest.save(dest / "manifest.json")
    return manifest


def _finish_default(
    dest: Path,
    store: LocalStore,
    universe: Universe,
    results: list[SeasonResult],
    raw: bool,
    ingest_date: str,
    drift: dict[str, Any] | None,
    complete: bool,
) -> Manifest:
    """Catalogue a lake the default writer built, record a complete lake's empties, write the manifest."""
    catalogued = catalog_sandbox(dest, store, list(universe.seasons), drift)
    manifest = _manifest(universe, results, ingest=ingest_date, raw_plays=raw, drift=drift or {}, complete=complete)
    notes = [
        *manifest.notes,
        f"catalog: {catalogued['tables']} tables and {catalogued['partitions']} partitions registered in "
        ".reconcile/catalog.sqlite (before any catalog drift).",
    ]
    if complete:
        recorded = record_verified_empty(dest, universe.seasons)
        notes.append(
            "checkpoints: every unit the API lacks is recorded empty in .reconcile/state.sqlite, as the "
            "applies that filled the lake would have left it ("
            + ", ".join(f"{t} {n:,}" for t, n in sorted(recorded.items()))
            + ")."
        )
    manifest = manifest.model_copy(update={"notes": notes})
    manifest.save(dest / "manifest.json")
    return manifest


def _write_specs_and_config(
    dest: Path, universe: Universe, specs_source: Path | None, api_port: int, writer: str
) -> None:
    """Copy the specs (the project's by default) into the sandbox and write its ``config.yaml``."""
    src = specs_source if specs_source is not None else Path(reconciler.__file__).resolve().parents[1] / "specs"
    if src.is_dir():
        shutil.copytree(src, dest / "specs", dirs_exist_ok=True)
    write_config(
        dest,
        seed=universe.seed,
        scale=universe.scale,
        seasons=universe.seasons,
        api_port=api_port,
        waivers=(dest / "specs" / "waivers.yaml").is_file(),
        writer=writer,
        twin=universe.twin,
    )


def init_sandbox(
    dest: Path,
    *,
    seasons: Sequence[int] = DEFAULT_SEASONS,
    scale: float = 0.02,
    seed: int = 7,
    api_port: int = 8787,
    drift: bool = False,
    specs_source: Path | None = None,
    raw_plays: bool | None = None,
    workers: int | None = None,
    ingest_date: str = INGEST_DATE,
    writer: str = "default",
    twin: bool = False,
    complete: bool = False,
) -> Manifest:
    """Write a sandbox: ``dest/lake`` (synthetic lake with known gaps), its catalog, ``config.yaml``, ``manifest.json``.

    The lake's bronze and silver tables and partitions are also described in the sandbox's
    embedded catalog (``dest/.reconcile/catalog.sqlite``), as :mod:`reconciler.sandbox.publish`
    describes a published sandbox in Glue.

    Args:
        dest: The sandbox directory (created; must not already hold a sandbox).
        seasons: Seasons to generate.
        scale: Games per season relative to the real lake.
        seed: Universe seed.
        api_port: Port of the simulator on 127.0.0.1 (written into the config).
        drift: Also inject layout, schema and catalog drift (:mod:`reconciler.sandbox.drift`,
            :mod:`reconciler.sandbox.catalog`).
        specs_source: A ``specs/`` directory to copy; default: the project's top-level ``specs/``.
        raw_plays: Write raw plays; default: only at scales up to :data:`RAW_PLAYS_MAX_SCALE`.
        workers: Processes; default: 1 for small lakes, else up to 2.
        ingest_date: The ingest day used for raw ``ingested_at`` and bronze ``asof`` (with the
            ``pipeline`` writer: the day of the last run; earlier runs are dated from it).
        writer: ``default``, or ``pipeline`` to write the lake as cbbd_etl does
            (:mod:`reconciler.sandbox.pipeline_init`); the universe and the gaps are the same.
        twin: Build the twin of the real lake (:mod:`reconciler.sandbox.twin`): the pipeline
            writer over a universe and gaps derived from the real lake's audit (``writer`` must be
            ``pipeline``; seasons within 2010-2026; scale at most 1).
        complete: Inject no gap (:func:`reconciler.sandbox.gaps.complete_plan`): the steady state
            of a filled lake. The default writer only, without drift.

    Returns:
        The manifest (also written to ``dest/manifest.json``).

    Raises:
        InputError: On bad arguments or a destination that already holds a sandbox.
    """
    t0 = time.perf_counter()
    dest = Path(dest)
    season_tuple = tuple(sorted({int(s) for s in seasons}))
    _check(dest, season_tuple, float(scale), int(api_port), writer, twin)
    _check_complete(complete, drift, writer)
    raw = raw_plays if raw_plays is not None else scale <= RAW_PLAYS_MAX_SCALE
    universe = Universe(seed, scale, season_tuple, twin=twin)
    lake = dest / "lake"
    lake.mkdir(parents=True, exist_ok=True)
    n_workers = workers if workers is not None else _default_workers(season_tuple, scale)
    build: PipelineBuild | None = None
    if writer == "pipeline":
        build = build_pipeline_lake(lake, universe, ingest=ingest_date, raw=raw, workers=n_workers)
        results = build.results
    else:
        results = _build_default(lake, universe, complete, ingest_date, raw, n_workers)
    log.info("seasons built: %s", ", ".join(f"{r.season} in {r.seconds:.1f}s" for r in results))
    draft: dict[str, Any] = {"drift": {}}
    store = LocalStore(lake)
    if drift and build is None:  # the object drift kinds assume the default writer's files
        inject_drift(store, universe, draft)
    _write_specs_and_config(dest, universe, specs_source, api_port, writer)
    if build is not None:
        manifest = _finish_pipeline(dest, build, universe, results, raw, ingest_date, draft["drift"] if drift else None)
        log.info("sandbox %s (pipeline writer) written in %.1fs", dest, time.perf_counter() - t0)
        return manifest
    manifest = _finish_default(
        dest, store, universe, results, raw, ingest_date, draft["drift"] if drift else None, complete
    )
    log.info("sandbox %s written in %.1fs (%s workers)", dest, time.perf_counter() - t0, n_workers)
    return manifest
