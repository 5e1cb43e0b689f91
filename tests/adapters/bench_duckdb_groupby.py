"""Benchmark: the plan's GROUP BY gameId over a synthetic fct_plays at real scale.

Not collected by pytest. Run by hand (the data set is ~1-2 GB; delete it afterwards)::

    uv run --frozen python tests/adapters/bench_duckdb_groupby.py /tmp/bench-lake --files 2500 --rows 28000000

It writes ``silver/fct_plays/season=S/date=D/part-N.parquet`` files (17 seasons, about 320 plays
per game, a physical ``season`` column as the pipeline writes), then times the DuckDB engine.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from reconciler.adapters.duckdb_engine import DuckDBEngine
from reconciler.adapters.local_store import LocalStore

log = logging.getLogger("bench")

PLAY_TYPES = np.array(["JumpShot", "LayUpShot", "Foul", "Substitution", "Timeout", "DefensiveRebound"])
TEXTS = np.array([f"Player {i} made Jumper." for i in range(500)])

QUERY = """
SELECT g.gameId AS game_id, g.season, g.date, COALESCE(p.n, 0) AS plays
FROM cbbd_silver.fct_games g
LEFT JOIN (SELECT gameId, count(*) AS n FROM cbbd_silver.fct_plays
           WHERE season BETWEEN :season_start AND :season_end GROUP BY gameId) p
  ON p.gameId = g.gameId
WHERE g.season BETWEEN :season_start AND :season_end
"""


def generate(root: str, files: int, rows: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    seasons = list(range(2010, 2027))
    per_file = rows // files
    plays_per_game = 320
    games_per_file = max(1, per_file // plays_per_game)
    game_id = 1
    game_rows: list[tuple[int, int, str]] = []
    for i in range(files):
        season = seasons[i % len(seasons)]
        day = 1 + (i // len(seasons)) % 28
        date = f"{season - 1}-12-{day:02d}"
        n = per_file + (1 if i < rows % files else 0)
        gids = np.repeat(np.arange(game_id, game_id + games_per_file, dtype=np.int64), plays_per_game + 1)[:n]
        if len(gids) < n:
            gids = np.concatenate([gids, np.full(n - len(gids), game_id + games_per_file - 1, dtype=np.int64)])
        for g in range(game_id, game_id + games_per_file):
            game_rows.append((g, season, date))
        game_id += games_per_file
        table = pa.table(
            {
                "id": pa.array(np.arange(n, dtype=np.int64) + i * 1_000_000),
                "gameId": pa.array(gids),
                "season": pa.array(np.full(n, season, dtype=np.int32)),
                "period": pa.array(rng.integers(1, 3, n, dtype=np.int32)),
                "secondsRemaining": pa.array(rng.integers(0, 1200, n, dtype=np.int32)),
                "homeScore": pa.array(rng.integers(0, 100, n, dtype=np.int32)),
                "awayScore": pa.array(rng.integers(0, 100, n, dtype=np.int32)),
                "teamId": pa.array(rng.integers(1, 400, n, dtype=np.int64)),
                "playType": pa.array(PLAY_TYPES[rng.integers(0, len(PLAY_TYPES), n)]),
                "playText": pa.array(TEXTS[rng.integers(0, len(TEXTS), n)]),
                "homeWinProbability": pa.array(rng.random(n)),
                "shootingPlay": pa.array(rng.random(n) < 0.4),
            }
        )
        path = os.path.join(root, f"silver/fct_plays/season={season}/date={date}/part-{i:05d}.parquet")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pq.write_table(table, path, compression="snappy")
    games = pa.table(
        {
            "gameId": pa.array([g for g, _, _ in game_rows], pa.int64()),
            "season": pa.array([s for _, s, _ in game_rows], pa.int32()),
            "date": pa.array([d for _, _, d in game_rows], pa.string()),
        }
    )
    for season in seasons:
        part = games.filter(pa.compute.equal(games["season"], season))
        path = os.path.join(root, f"silver/fct_games/season={season}/part-games.parquet")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pq.write_table(part, path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--files", type=int, default=2500)
    ap.add_argument("--rows", type=int, default=28_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not os.path.isdir(os.path.join(args.root, "silver/fct_plays")):
        t0 = time.perf_counter()
        generate(args.root, args.files, args.rows)
        log.info("generated %d files / %d rows in %.1f s", args.files, args.rows, time.perf_counter() - t0)
    engine = DuckDBEngine(LocalStore(args.root), threads=args.threads)
    params = {"season_start": 2010, "season_end": 2026}
    for sql, name in [
        ("SELECT gameId, count(*) AS n FROM cbbd_silver.fct_plays GROUP BY gameId", "group by gameId"),
        ("SELECT count(*) AS n FROM cbbd_silver.fct_plays", "count(*)"),
        (QUERY, "coverage join"),
    ]:
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            res = engine.query(sql, params)
            log.info("%-16s %8d rows out  %.2f s", name, res.table.num_rows, time.perf_counter() - t0)
    engine.close()


if __name__ == "__main__":
    main()
