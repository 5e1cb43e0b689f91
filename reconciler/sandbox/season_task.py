"""Build one season of the sandbox lake (a picklable job, so seasons can run in parallel)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reconciler.sandbox.coverage import lineups_coverage, plays_coverage, substitutions_coverage
from reconciler.sandbox.fanout_layer import FanoutWriter
from reconciler.sandbox.games_layer import write_games
from reconciler.sandbox.gaps import SeasonPlan
from reconciler.sandbox.plays_layer import PlaysWriter
from reconciler.sandbox.sink import Sink
from reconciler.synth.schedule import FINAL, SeasonGames
from reconciler.synth.universe import Universe

__all__ = ["SeasonJob", "SeasonResult", "date_chunks", "run_season"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SeasonJob:
    """Everything needed to build one season.

    Attributes:
        lake: The lake directory.
        seed: Universe seed. scale: Universe scale. seasons: Universe seasons.
        plan: The season's injected gaps.
        ingest: The ingest date.
        raw_plays: Write the raw layer for plays.
        chunk_plays: Approximate plays simulated at once (bounds memory).
    """

    lake: str
    seed: int
    scale: float
    seasons: tuple[int, ...]
    plan: SeasonPlan
    ingest: str
    raw_plays: bool
    chunk_plays: int = 150_000


@dataclass(frozen=True, slots=True)
class SeasonResult:
    """What one season job wrote.

    Attributes:
        season: The season.
        games: Game counts.
        targets: Target name → ``SeasonCoverage`` as JSON-ready dict.
        files: ``layer/table`` → ``[objects, bytes]``.
        seconds: Wall time of the job.
    """

    season: int
    games: dict[str, int]
    targets: dict[str, dict[str, Any]]
    files: dict[str, list[int]]
    seconds: float


def date_chunks(games: SeasonGames, rows: np.ndarray, budget: int) -> list[np.ndarray]:
    """Split rows (API order) into runs of whole dates holding about ``budget`` plays each.

    Args:
        games: The season.
        rows: Row indexes, in API order.
        budget: Target plays per chunk.

    Returns:
        The chunks.
    """
    if len(rows) == 0:
        return []
    day = games.day[rows]
    ends = np.concatenate([np.flatnonzero(np.diff(day)) + 1, [len(rows)]])
    plays = np.cumsum(games.n_target[rows])
    out: list[np.ndarray] = []
    lo = base = 0
    for e in ends.tolist():
        if int(plays[e - 1]) - base >= budget or e == len(rows):
            out.append(rows[lo:e])
            lo, base = e, int(plays[e - 1])
    return out


def run_season(job: SeasonJob) -> SeasonResult:
    """Write one season: games, plays, and (in their seasons) substitutions and lineups.

    Args:
        job: The job.

    Returns:
        What was written.
    """
    t0 = time.perf_counter()
    universe = Universe(job.seed, job.scale, job.seasons)
    plan = job.plan
    season = plan.season
    sink = Sink(Path(job.lake))
    games = write_games(sink, universe, season, job.ingest)
    sg = universe.season_games(season)
    teams = universe.team_table
    plays = (
        None if plan.plays_wholly_missing else PlaysWriter(sink, plan, teams, job.seed, job.ingest, raw=job.raw_plays)
    )
    fanouts = [
        FanoutWriter(kind, sink, plan, teams, job.seed, job.ingest)
        for kind, on in (("substitutions", plan.substitutions), ("lineups", plan.lineups))
        if on
    ]
    if plays is not None or fanouts:
        rows = np.flatnonzero(sg.plays_ok)
        if plays is None:
            rows = np.flatnonzero(sg.has_subs)
        for chunk in date_chunks(sg, rows, job.chunk_plays):
            frame = universe.play_frame(season, chunk)
            if plays is not None:
                plays.add(frame)
            for w in fanouts:
                w.add(frame)
    final_no_subs = sg.game_id[(sg.status == FINAL) & ~sg.has_subs].tolist()
    for w in fanouts:
        for gid in final_no_subs:
            w.deadletter(gid)
    silver = {w.kind: w.silver_rows for w in fanouts}
    targets = {
        "plays": plays_coverage(universe, plan, plays.rows if plays else 0),
        "substitutions": substitutions_coverage(universe, plan, silver.get("substitutions", 0)),
        "lineups": lineups_coverage(universe, plan, silver.get("lineups", 0)),
    }
    if plays is not None:
        final_ids = set(sg.game_id[sg.status == FINAL].tolist())
        if plays.games_written != final_ids - set(targets["plays"].missing):
            raise RuntimeError(f"season {season}: the plays written do not match the manifest")
    seconds = time.perf_counter() - t0
    log.info(
        "season %s: %s games, %s plays rows in %.1fs",
        season,
        games["games"],
        plays.rows if plays else 0,
        seconds,
    )
    return SeasonResult(
        season=season,
        games=games,
        targets={k: v.model_dump(mode="json") for k, v in targets.items()},
        files={k: list(v) for k, v in sink.files.items()},
        seconds=seconds,
    )
