"""Write ``fct_plays``: one silver file per date partition, plus bronze and raw as ``/plays/date``.

Silver files are named like cbbd_etl's ``deduplicate_silver.py`` consolidation (hash8 of
``{"table", "season", "date", "rows"}``); bronze ``plays_date`` and raw ``plays/date`` objects are
named by ``hash8({"date": D})`` and hold exactly the rows silver holds for that date.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from reconciler.lake.layout import raw_key, table_key
from reconciler.lake.schemas import BRONZE_TABLES
from reconciler.sandbox.games_layer import consolidated_key
from reconciler.sandbox.gaps import SeasonPlan
from reconciler.sandbox.sink import RAW_GZIP_LEVEL, Sink, joined_lines
from reconciler.synth.playrender import play_pieces, silver_table
from reconciler.synth.playsim import PlayFrame
from reconciler.synth.playwire import raw_lines
from reconciler.synth.scale import date_str
from reconciler.synth.teams import TeamTable

__all__ = ["PlaysWriter"]

_BRONZE = BRONZE_TABLES["plays_date"].schema


class PlaysWriter:
    """Writes the plays of successive frames (whole dates at a time) of one season."""

    def __init__(self, sink: Sink, plan: SeasonPlan, teams: TeamTable, seed: int, ingest: str, *, raw: bool) -> None:
        """Prepare a writer.

        Args:
            sink: Where to write.
            plan: The season's injected gaps.
            teams: The team table.
            seed: The universe seed.
            ingest: The raw ``ingested_at`` date.
            raw: Whether to write the raw layer.
        """
        self.sink = sink
        self.plan = plan
        self.teams = teams
        self.seed = seed
        self.ingest = ingest
        self.raw = raw
        self.rows = 0
        self.games_written: set[int] = set()
        self._missing = np.asarray(sorted(plan.plays_missing), dtype=np.int64)
        self._partial = np.asarray(sorted(plan.plays_partial), dtype=np.int64)

    def add(self, frame: PlayFrame) -> None:
        """Write the plays of a frame that covers whole dates.

        Args:
            frame: The simulated plays (games in API order).
        """
        if len(frame) == 0:
            return
        pieces = play_pieces(frame, self.teams, self.seed)
        gid = pieces.gid
        keep = ~np.isin(gid, self._missing) & ~(np.isin(gid, self._partial) & (frame.period > 1))
        mask = pa.array(keep)
        silver = silver_table(pieces).filter(mask)
        lines = raw_lines(pieces).filter(mask) if self.raw else None
        day = frame.games.day[frame.rows][frame.b][keep]
        if len(day) == 0:
            return
        bounds = np.concatenate([[0], np.flatnonzero(np.diff(day)) + 1, [len(day)]])
        season = frame.season
        for lo, hi in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
            date = date_str(int(day[lo]))
            part = silver.slice(lo, hi - lo)
            self.sink.put_plays_parquet(consolidated_key("fct_plays", season, hi - lo, date), part)
            bronze = part.select(_BRONZE.names)
            params = {"date": date}
            self.sink.put_plays_parquet(
                table_key("bronze", "plays_date", f"season={season}/date={date}", params), bronze
            )
            if lines is not None:
                body = joined_lines(lines.slice(lo, hi - lo))
                self.sink.put_raw_text(raw_key("plays/date", self.ingest, params), body, level=RAW_GZIP_LEVEL)
        self.rows += silver.num_rows
        self.games_written.update(pc.unique(silver["gameId"]).to_pylist())
