"""Write ``substitutions_game`` and ``lineups_game`` as cbbd_etl's per-game fan-out did.

Raw and bronze hold every record of every game (one object per game, named ``hash8({"gameId":
id})``). Silver reproduces the key bug of ``cbbd_etl_lake.md`` §6.3: the batch of each API call
collapses to its first record, so silver has one row per game. It is written as one consolidated
file per date partition. Games for which the API returns ``[]`` get an ``empty_response``
deadletter and nothing else.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.lake.layout import raw_key, table_key
from reconciler.lake.schemas import BRONZE_TABLES, SILVER_TABLES, records_to_table
from reconciler.sandbox.games_layer import consolidated_key
from reconciler.sandbox.gaps import SeasonPlan
from reconciler.sandbox.sink import Sink
from reconciler.synth.lineups import lineup_records
from reconciler.synth.playsim import PlayFrame
from reconciler.synth.subs import substitution_records
from reconciler.synth.teams import TeamTable

__all__ = ["FanoutWriter"]

_KINDS = {
    "substitutions": ("substitutions_game", "substitutions/game", "fct_substitutions"),
    "lineups": ("lineups_game", "lineups/game", "fct_lineups"),
}


class FanoutWriter:
    """Writes one fan-out endpoint (``substitutions`` or ``lineups``) for successive frames."""

    def __init__(self, kind: str, sink: Sink, plan: SeasonPlan, teams: TeamTable, seed: int, ingest: str) -> None:
        """Prepare a writer.

        Args:
            kind: ``substitutions`` or ``lineups``.
            sink: Where to write.
            plan: The season's injected gaps.
            teams: The team table.
            seed: The universe seed.
            ingest: The ingest date (raw ``ingested_at``, deadletters).
        """
        self.kind = kind
        self.endpoint, self.raw_dir, self.silver = _KINDS[kind]
        self.sink = sink
        self.plan = plan
        self.teams = teams
        self.seed = seed
        self.ingest = ingest
        self.silver_rows = 0

    def _records(self, frame: PlayFrame, b: int) -> list[dict[str, Any]]:
        if self.kind == "substitutions":
            return substitution_records(frame, b, self.teams, self.seed)
        return lineup_records(frame, b, self.teams, self.seed)

    def add(self, frame: PlayFrame) -> None:
        """Write the games of a frame that covers whole dates.

        Args:
            frame: The simulated plays (games in API order).
        """
        games = frame.games
        season = frame.season
        by_date: dict[str, list[dict[str, Any]]] = {}
        for b, row in enumerate(frame.rows.tolist()):
            records = self._records(frame, b)
            if not records:
                continue
            gid = int(games.game_id[row])
            date = games.date(row)
            params = {"gameId": gid}
            part = f"season={season}/date={date}"
            if self.kind == "lineups":
                # cbbd_etl injects season, date and gameId before the raw write (lake doc §5.6)
                records = [{**r, "season": season, "date": date, "gameId": gid} for r in records]
            bronze = records_to_table(BRONZE_TABLES[self.endpoint], records, {"season": season})
            self.sink.put_parquet(table_key("bronze", self.endpoint, part, params), bronze)
            body = "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")
            self.sink.put_raw_text(raw_key(self.raw_dir, self.ingest, params), body, level=6)
            if self.plan.whole_silver:
                kept = records
            elif self.kind == "lineups":
                # The collapsed row is the home team's first unit, so the away unit is wholly missing.
                home = int(self.teams.team_id[int(games.home[row])])
                home_recs = [r for r in records if r["teamId"] == home]
                kept = home_recs if gid in self.plan.lineups_one_team else home_recs[:1]
            else:
                kept = records[:1]
            by_date.setdefault(date, []).extend(kept)
        for date, rows in by_date.items():
            table = records_to_table(SILVER_TABLES[self.silver], rows, {"season": season})
            self.sink.put_parquet(consolidated_key(self.silver, season, len(rows), date), table)
            self.silver_rows += len(rows)

    def deadletter(self, game_id: int) -> None:
        """Record that the API returned ``[]`` for a game.

        Args:
            game_id: The game id.
        """
        self.sink.put_deadletter(self.endpoint, self.ingest, {"gameId": int(game_id)})
