"""``substitutions_game`` and ``lineups_game`` in a pipeline sandbox: one object per game and layer.

A ``fanout`` run calls the endpoint for every game (``orchestrate.py:_run_game_fanout``) with
the game's ``/games`` metadata, so ``_write_layers`` files each response under
``season=S/date=<game day>/part-<hash8({"gameId": id})>``:

* lineup records get ``season``, ``date`` and ``gameId`` injected before the raw write;
* raw and bronze hold every record (bronze typed per response, nested values as Python repr);
* silver goes through ``_apply_key_aliases`` and ``dedupe_records`` on the declared key, which the
  records lack (``fct_substitutions``: ``id``; ``fct_lineups``: camelCase names the alias step just
  dropped), so every record's key is ``(None, ...)`` and only the response's first record is kept
  (``cbbd_etl_lake.md`` §6.3): 13 wire columns for substitutions (``subIn``/``subOut`` as
  Python-repr text), 15 lower-case columns for lineups.

Exception: the games the gap plan marks "one team only" keep every unit of the home team, so that
the manifest (``reconciler.sandbox.gaps``) stays true; no cbbd_etl writer produces that file.
"""

from __future__ import annotations

from typing import Any

from reconciler.sandbox.gaps import SeasonPlan
from reconciler.sandbox.pipeline_out import RANK, PipelineOut
from reconciler.sandbox.pipeline_rules import PRIMARY_KEYS, dedupe, normalize, silver_aliases, wire
from reconciler.synth.lineups import lineup_records
from reconciler.synth.playsim import PlayFrame
from reconciler.synth.subs import substitution_records
from reconciler.synth.teams import TeamTable

__all__ = ["PipelineFanout"]

_KINDS = {
    "substitutions": ("substitutions_game", "substitutions/game", "fct_substitutions"),
    "lineups": ("lineups_game", "lineups/game", "fct_lineups"),
}


def _collapsed(table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``dedupe(silver_aliases(records))``, aliasing only the first record when the key is lost.

    The alias step drops (or never had) every column of the declared key, so every record's key
    is ``(None, ...)`` and only the first survives: aliasing the others (JSON text of their
    nested values) would be thrown away.
    """
    keys = PRIMARY_KEYS[table]
    first = silver_aliases(table, records[:1])
    if first and all(first[0].get(k) is None for k in keys):
        return first
    return dedupe(silver_aliases(table, records), keys)


class PipelineFanout:
    """Writes one fan-out endpoint for successive frames of a season."""

    def __init__(
        self, kind: str, out: PipelineOut, plan: SeasonPlan, teams: TeamTable, seed: int, day: str, run: str
    ) -> None:
        """Prepare a writer.

        Args:
            kind: ``substitutions`` or ``lineups``.
            out: Where to write.
            plan: The season's gaps.
            teams: The team table.
            seed: The universe seed.
            day: The ``fanout`` run's day.
            run: Its run id.
        """
        self.kind = kind
        self.endpoint, self.raw_dir, self.silver = _KINDS[kind]
        self.out = out
        self.plan = plan
        self.teams = teams
        self.seed = seed
        self.day = day
        self.run = run
        self.silver_rows = 0
        #: Game → team id of the unit silver kept (lineups).
        self.kept_team: dict[int, int] = {}

    def _records(self, frame: PlayFrame, b: int) -> list[dict[str, Any]]:
        if self.kind == "substitutions":  # ints and strings only: nothing for wire() to change
            return substitution_records(frame, b, self.teams, self.seed)
        return [wire(r) for r in lineup_records(frame, b, self.teams, self.seed)]

    def add(self, frame: PlayFrame) -> None:
        """Write the games of a frame.

        Args:
            frame: The simulated plays (games in API order).
        """
        games, season, rank = frame.games, frame.season, RANK[self.endpoint]
        for b, row in enumerate(frame.rows.tolist()):
            records = self._records(frame, b)
            if not records:
                continue
            gid = int(games.game_id[row])
            date = games.date(row)
            params = {"gameId": gid}
            name = self.out.part(params)
            part = f"season={season}/date={date}"
            self.out.tmp(self.run, self.endpoint, params)
            if self.kind == "lineups":
                records = [{**r, "season": season, "date": date, "gameId": gid} for r in records]
            self.out.raw(self.raw_dir, self.day, params, self.out.lines(records), level=6)
            bronze = normalize(self.endpoint, records)
            self.out.table("bronze", self.endpoint, part, name, bronze, day=self.day, rank=rank)
            if self.kind == "lineups" and gid in self.plan.lineups_one_team:
                home = int(self.teams.team_id[int(games.home[row])])
                rows = [r for r in silver_aliases(self.silver, records) if r["teamid"] == home]
            else:
                rows = _collapsed(self.silver, records)
            if self.kind == "lineups":
                self.kept_team[gid] = int(rows[0]["teamid"])
            self.out.table("silver", self.silver, part, name, normalize(self.silver, rows), day=self.day, rank=rank)
            self.silver_rows += len(rows)

    def deadletter(self, game_id: int) -> None:
        """Record that the API returned ``[]`` for a game.

        Args:
            game_id: The game id.
        """
        params = {"gameId": int(game_id)}
        self.out.tmp(self.run, self.endpoint, params)
        self.out.deadletter(self.endpoint, self.day, params)
