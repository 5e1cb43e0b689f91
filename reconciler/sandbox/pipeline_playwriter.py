"""``fct_plays`` in a pipeline sandbox: per-game objects in three layouts, ``plays_date``, quirks.

Each game's plays (the lake's view: planned-missing games dropped, partial games cut after
period 1) are in exactly one place, chosen by its date's layout
(:mod:`reconciler.sandbox.pipeline_history`):

* ``date``: a ``fanout`` (or, for some dates, ``gap_fill.py``) call per game: raw
  ``raw/plays/game/ingested_at=<run day>/part-<h>``, bronze and silver
  ``season=S/date=<game day>/part-<h>`` with ``h = hash8({"gameId": id})``;
* ``asof``: ``scripts/rebuild_from_raw.py`` (one raw part per game, rebuilt per part): raw of the
  rebuild day, bronze ``season=S/date=<rebuild day>/part-<h>`` (``_bronze_partition`` with no
  date falls back to the ingest day), silver ``season=S/asof=<rebuild day>/part-<h>``;
* ``loose``: the fan-out's silver files merged by ``scripts/deduplicate_silver.py`` into one
  ``season=S/part-<hash8({"table", "season", "rows"})>.parquet`` (files read in key order);
  their raw and bronze stay per game.

The quirks: a game written both ways (``asof`` then again by the gap fill under ``date=``); the
``one`` call's ``season=unknown`` bronze and root ``asof=`` silver; ``plays_date`` objects under
the date's calendar year, one of them a zero-column file (every play already written by the same
run's fan-out: ``_filter_seen_keys`` empties the batch and ``normalize_records([])`` has no
columns), the others duplicating the games' fan-out files.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from reconciler.lake.layout import hash8
from reconciler.sandbox.games_layer import consolidated_key
from reconciler.sandbox.gaps import SeasonPlan
from reconciler.sandbox.pipeline_batches import GameBatches
from reconciler.sandbox.pipeline_history import History, SeasonChoices, _batch_games, run_id
from reconciler.sandbox.pipeline_out import RANK, PipelineOut
from reconciler.sandbox.pipeline_plays import PlaySource, bronze_batch, play_source, silver_batch
from reconciler.sandbox.pipeline_rules import PRIMARY_KEYS, consolidate
from reconciler.sandbox.sink import RAW_GZIP_LEVEL, joined_lines
from reconciler.synth.playrender import play_pieces
from reconciler.synth.playsim import PlayFrame
from reconciler.synth.universe import Universe

__all__ = ["PipelinePlays"]

_RANK = RANK["plays_game"]
#: Stands for the season's consolidated file until its name (which counts its rows) is known.
LOOSE = "<loose>"


class PipelinePlays:
    """Writes one season's plays, frame by frame, then the season's consolidated file and quirks."""

    def __init__(
        self,
        out: PipelineOut,
        universe: Universe,
        plan: SeasonPlan,
        choices: SeasonChoices,
        hist: History,
        *,
        raw: bool,
    ) -> None:
        """Prepare a writer.

        Args:
            out: Where to write.
            universe: The universe.
            plan: The season's gaps.
            choices: The season's layouts and quirks.
            hist: The run days.
            raw: Write the raw layer.
        """
        self.out = out
        self.universe = universe
        self.plan = plan
        self.choices = choices
        self.hist = hist
        self.raw = raw
        seed = universe.seed
        self.fanout_run = run_id(seed, f"fanout:{choices.season}")
        self.rows = 0
        self.games_written: set[int] = set()
        self.layout_games: dict[str, int] = {"loose": 0, "asof": 0, "date": 0}
        self.duplicates: list[dict[str, Any]] = []
        self.zero_column_files: list[dict[str, Any]] = []
        self.unknown_partitions: list[dict[str, Any]] = []
        self.plays_date_files: list[str] = []
        self.home: dict[int, str] = {}  # game → key of the silver object holding it
        self._loose: list[tuple[str, str, pa.Table]] = []
        self._gap_glued: set[str] = set()  # fill_gaps updates each table once per season's run
        self._missing = np.asarray(sorted(plan.plays_missing), dtype=np.int64)
        self._partial = np.asarray(sorted(plan.plays_partial), dtype=np.int64)

    def _source(self, frame: PlayFrame, skip: set[int] | None = None) -> PlaySource:
        pieces = play_pieces(frame, self.universe.team_table, self.universe.seed)
        gid = pieces.gid
        keep = ~np.isin(gid, self._missing) & ~(np.isin(gid, self._partial) & (frame.period > 1))
        if skip:
            keep &= ~np.isin(gid, np.asarray(sorted(skip), dtype=np.int64))
        return play_source(pieces, keep, raw=self.raw)

    def _raw(self, src: PlaySource, lo: int, hi: int, raw_dir: str, day: str, params: dict[str, Any]) -> None:
        if src.lines is not None:
            self.out.raw(raw_dir, day, params, joined_lines(src.lines.slice(lo, hi - lo)), level=RAW_GZIP_LEVEL)

    def _game(
        self, src: PlaySource, lo: int, hi: int, gid: int, date: str, how: str, tables: tuple[pa.Table, pa.Table]
    ) -> str:
        """Write one game's call: ``fanout``/``incremental`` (orchestrator), ``gap_fill``, ``rebuild``, ``one``.

        ``tables`` are the game's bronze and silver batches (:class:`GameBatches`).
        """
        season = self.choices.season
        params = {"gameId": gid}
        name = hash8(params)
        day = {
            "fanout": self.choices.fanout_day,
            "gap_fill": self.hist.gap_fill,
            "rebuild": self.hist.rebuild,
            "one": self.hist.one_call,
            "incremental": self.hist.incremental,
            "early": self.hist.early_fanout,
        }[how]
        if how == "fanout":
            self.out.tmp(self.fanout_run, "plays_game", params)
        elif how in ("incremental", "one", "early"):  # scripts (rebuild, gap fill) leave no tmp marker
            self.out.tmp(run_id(self.universe.seed, f"{how}:{day}"), "plays_game", params)
        self._raw(src, lo, hi, "plays/game", day, params)
        bronze_part = {"rebuild": f"season={season}/date={day}", "one": f"season=unknown/date={day}"}
        silver_part = {"rebuild": f"season={season}/asof={day}", "one": f"asof={day}"}
        b_part = bronze_part.get(how, f"season={season}/date={date}")
        s_part = silver_part.get(how, f"season={season}/date={date}")
        glue = {layer: how != "gap_fill" or layer not in self._gap_glued for layer in ("bronze", "silver")}
        if how == "gap_fill":
            self._gap_glued.update(("bronze", "silver"))
        bronze, silver = tables
        self.out.table("bronze", "plays_game", b_part, name, bronze, day=day, rank=_RANK, glue=glue["bronze"])
        if how == "early":  # consolidated later: only its bronze and raw stay
            self._loose.append((date, name, silver))
            return LOOSE
        return self.out.table("silver", "fct_plays", s_part, name, silver, day=day, rank=_RANK, glue=glue["silver"])

    def add(self, frame: PlayFrame) -> None:
        """Write the plays of a frame (whole dates).

        Args:
            frame: The simulated plays.
        """
        if len(frame) == 0:
            return
        src = self._source(frame)
        batches = GameBatches(src)
        sg = frame.games
        ch = self.choices
        for gi, gid in enumerate(src.game_ids.tolist()):
            lo, hi = int(src.starts[gi]), int(src.starts[gi + 1])
            tables = (batches.bronze(gi), batches.silver(gi))
            date = sg.date(int(sg.index_of(gid) or 0))
            layout = ch.layouts[date]
            how = {"loose": "early", "asof": "rebuild"}.get(layout, "gap_fill" if date in ch.gap_filled else "fanout")
            key = self._game(src, lo, hi, gid, date, how, tables)
            self.home[gid] = key
            self.layout_games[layout] += 1
            self.rows += hi - lo
            self.games_written.add(gid)
            if gid == ch.asof_and_date_game:
                again = self._game(src, lo, hi, gid, date, "gap_fill", tables)
                self.duplicates.append(
                    {
                        "table": "fct_plays",
                        "kind": "asof_and_date",
                        "game_id": gid,
                        "keys": hi - lo,
                        "objects": [key, again],
                    }
                )
            if gid == ch.one_call_game:
                stray = self._game(src, lo, hi, gid, date, "one", tables)
                bronze = (
                    f"bronze/plays_game/season=unknown/date={self.hist.one_call}/part-{hash8({'gameId': gid})}.parquet"
                )
                self.unknown_partitions.append({"game_id": gid, "bronze": bronze, "silver": stray})
                self.duplicates.append(
                    {
                        "table": "fct_plays",
                        "kind": "one_call_root_asof",
                        "game_id": gid,
                        "keys": hi - lo,
                        "objects": [self.home[gid], stray],
                    }
                )

    def _plays_date(self, day: str, run_day: str, seen: set[int]) -> None:
        """One ``/plays/date`` call of an ``incremental`` run, ``seen``: games the run already wrote."""
        season, uni = self.choices.season, self.universe
        games = _batch_games(uni, season, day, set(self.games_written))
        sg = uni.season_games(season)
        rows = np.asarray([sg.index_of(g) for g in games], dtype=np.int64)
        src = self._source(uni.play_frame(season, rows))
        params = {"date": day}
        name = hash8(params)
        part = f"season={day[:4]}/date={day}"
        self.out.tmp(run_id(uni.seed, f"incremental:{run_day}"), "plays_date", params)
        n = len(src.gid)
        self._raw(src, 0, n, "plays/date", run_day, params)
        self.out.table(
            "bronze", "plays_date", part, name, bronze_batch(src, 0, n), day=run_day, rank=RANK["plays_date"]
        )
        fresh = [g for g in games if g not in seen]
        if fresh:
            sel = self._source(uni.play_frame(season, rows), skip=seen)
            silver = silver_batch(sel, 0, len(sel.gid))
        else:
            silver = pa.Table.from_pylist([], schema=pa.schema([]))
        key = self.out.table("silver", "fct_plays", part, name, silver, day=run_day, rank=RANK["plays_date"])
        self.plays_date_files.append(key)
        seen.update(games)
        if not fresh:
            self.zero_column_files.append(
                {"table": "fct_plays", "key": key, "date": day, "reason": "plays_date batch all seen"}
            )
            return
        self.duplicates.append(
            {
                "table": "fct_plays",
                "kind": "plays_date_vs_plays_game",
                "date": day,
                "keys": silver.num_rows,
                "game_ids": fresh,
                "objects": sorted({key, *(self.home[g] for g in fresh)}),
            }
        )

    def finish(self) -> dict[str, Any]:
        """Write the consolidated file and the incremental runs' ``plays_date`` objects.

        Returns:
            The season's layout summary for the manifest.
        """
        ch = self.choices
        summary: dict[str, Any] = {"games": dict(self.layout_games), "asof_day": self.hist.rebuild}
        summary["gap_filled_dates"] = sorted(ch.gap_filled)
        loose = LOOSE
        if self._loose:
            self._loose.sort(key=lambda x: (x[0], x[1]))
            merged = consolidate([t for _, _, t in self._loose], PRIMARY_KEYS["fct_plays"])
            loose = consolidated_key("fct_plays", ch.season, merged.num_rows)
            self.out.sink.put_parquet(loose, merged)
            self.out.log.note("silver", "fct_plays", f"season={ch.season}", self.hist.dedup, 0, ch.season, None)
            summary["loose"] = {"key": loose, "rows": merged.num_rows, "day": self.hist.dedup}
            self._loose.clear()
        self.home = {g: loose if k == LOOSE else k for g, k in self.home.items()}
        for dup in self.duplicates:
            dup["objects"] = sorted(loose if k == LOOSE else k for k in dup["objects"])
        if ch.plays_date_zero is not None:
            # incremental: the fan-out rewrites the day's games (same keys), then plays_date finds them seen
            seen: set[int] = set()
            games = _batch_games(self.universe, ch.season, ch.plays_date_zero, set(self.games_written))
            sg = self.universe.season_games(ch.season)
            rows = np.asarray([sg.index_of(g) for g in games], dtype=np.int64)
            src = self._source(self.universe.play_frame(ch.season, rows))
            batches = GameBatches(src)
            for gi, gid in enumerate(src.game_ids.tolist()):
                date = sg.date(int(sg.index_of(gid) or 0))
                lo, hi = int(src.starts[gi]), int(src.starts[gi + 1])
                self._game(src, lo, hi, gid, date, "incremental", (batches.bronze(gi), batches.silver(gi)))
                seen.add(gid)
            self._plays_date(ch.plays_date_zero, self.hist.incremental, seen)
        seen_skip: set[int] = set()
        for day in ch.plays_date_full:
            self._plays_date(day, self.hist.skip_fanout, seen_skip)
        summary["plays_date"] = self.plays_date_files
        return summary
