"""Build one season of a pipeline sandbox (a picklable job, so seasons can run in parallel)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from reconciler.sandbox.coverage import lineups_coverage, plays_coverage, substitutions_coverage
from reconciler.sandbox.gaps import SeasonPlan
from reconciler.sandbox.pipeline_fanout import PipelineFanout
from reconciler.sandbox.pipeline_games import write_pipeline_games
from reconciler.sandbox.pipeline_history import History, SeasonChoices, run_id
from reconciler.sandbox.pipeline_out import PipelineOut, WriteLog
from reconciler.sandbox.pipeline_playwriter import PipelinePlays
from reconciler.sandbox.season_task import SeasonResult, date_chunks
from reconciler.sandbox.sink import Sink
from reconciler.sandbox.twin import lake_rows
from reconciler.synth.schedule import FINAL
from reconciler.synth.universe import Universe

__all__ = ["PipelineJob", "PipelineResult", "run_pipeline_season"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineJob:
    """Everything needed to build one season the pipeline's way.

    Attributes:
        lake: The lake directory.
        seed: Universe seed. scale: Universe scale. seasons: Universe seasons.
        plan: The season's injected gaps.
        choices: The season's layouts and quirks.
        hist: The run days.
        raw_plays: Write the raw layer for plays.
        chunk_plays: Approximate plays simulated at once (bounds memory).
        twin: Build the twin's universe (:mod:`reconciler.sandbox.twin`).
    """

    lake: str
    seed: int
    scale: float
    seasons: tuple[int, ...]
    plan: SeasonPlan
    choices: SeasonChoices
    hist: History
    raw_plays: bool
    chunk_plays: int = 150_000
    twin: bool = False


@dataclass(frozen=True, slots=True)
class PipelineResult:
    """What one pipeline season job wrote.

    Attributes:
        base: The same summary the default writer's jobs return.
        log: Partitions and catalog updates, for the lagging catalog.
        info: The season's entries of the manifest's ``pipeline`` section.
    """

    base: SeasonResult
    log: WriteLog
    info: dict[str, Any] = field(default_factory=dict)


def run_pipeline_season(job: PipelineJob) -> PipelineResult:
    """Write one season: games, plays, and (in their seasons) substitutions and lineups.

    Args:
        job: The job.

    Returns:
        What was written.

    Raises:
        RuntimeError: If the plays written disagree with the manifest's plan.
    """
    t0, cpu0 = time.perf_counter(), time.process_time()
    universe = Universe(job.seed, job.scale, job.seasons, twin=job.twin)
    plan, ch = job.plan, job.choices
    season = plan.season
    wlog = WriteLog(repair=job.hist.repair)
    out = PipelineOut(Sink(Path(job.lake), lean=job.twin), wlog, season)
    games, games_dup = write_pipeline_games(out, universe, ch, job.hist)
    sg = universe.season_games(season)
    plays = None if plan.plays_wholly_missing else PipelinePlays(out, universe, plan, ch, job.hist, raw=job.raw_plays)
    run = run_id(job.seed, f"fanout:{season}")
    fanouts = [
        PipelineFanout(kind, out, plan, universe.team_table, job.seed, ch.fanout_day, run)
        for kind, on in (("lineups", plan.lineups), ("substitutions", plan.substitutions))
        if on
    ]
    if plays is not None or fanouts:
        if job.twin:  # only what the lake holds: the twin's short seasons miss up to 43% of their games
            rows = lake_rows(universe, plan)
        else:
            rows = np.flatnonzero(sg.plays_ok) if plays is not None else np.flatnonzero(sg.has_subs)
        for chunk in date_chunks(sg, rows, job.chunk_plays):
            frame = universe.play_frame(season, chunk)
            for w in fanouts:
                w.add(frame)
            if plays is not None:
                plays.add(frame)
    final = sg.status == FINAL
    for w in fanouts:
        for gid in sg.game_id[final & ~sg.has_subs].tolist():
            w.deadletter(gid)
    if plays is not None:
        for gid in sg.game_id[final & ~sg.plays_ok].tolist():  # the fan-out's empty answers
            out.tmp(run, "plays_game", {"gameId": gid})
            out.deadletter("plays_game", ch.fanout_day, {"gameId": gid})
    silver = {w.kind: w.silver_rows for w in fanouts}
    kept = next((w.kept_team for w in fanouts if w.kind == "lineups"), None)
    targets = {
        "plays": plays_coverage(universe, plan, plays.rows if plays else 0),
        "substitutions": substitutions_coverage(universe, plan, silver.get("substitutions", 0)),
        "lineups": lineups_coverage(universe, plan, silver.get("lineups", 0), kept_team=kept),
    }
    info: dict[str, Any] = {"duplicates": [games_dup] if games_dup else []}
    if plays is not None:
        info["layouts"] = plays.finish()
        info["duplicates"] += plays.duplicates
        info["zero_column_files"] = plays.zero_column_files
        info["unknown_partitions"] = plays.unknown_partitions
        if plays.games_written != set(sg.game_id[final].tolist()) - set(targets["plays"].missing):
            raise RuntimeError(f"season {season}: the plays written do not match the manifest")
    seconds = time.perf_counter() - t0
    log.info(
        "season %s (pipeline writer): %s games in %.1fs (%.1fs CPU)",
        season,
        games["games"],
        seconds,
        time.process_time() - cpu0,
    )
    base = SeasonResult(
        season=season,
        games=games,
        targets={k: v.model_dump(mode="json") for k, v in targets.items()},
        files={k: list(v) for k, v in out.sink.files.items()},
        seconds=seconds,
    )
    return PipelineResult(base=base, log=wlog, info=info)
