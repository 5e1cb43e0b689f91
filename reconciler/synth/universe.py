"""The synthetic CBBD universe: teams, games, plays, substitutions and lineups.

A :class:`Universe` is fully determined by ``(seed, scale, seasons)``; a game's data depends only on
the seed, the scale and its own season. Records come out in the exact wire shapes of
``cbbd_api.md``; plays can also be produced column-wise (:meth:`Universe.plays_table`) in the
declared silver ``fct_plays`` schema, equal row for row to flattening :meth:`Universe.plays`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from reconciler.lake.schemas import SILVER_TABLES
from reconciler.synth.lineups import lineup_records
from reconciler.synth.playrender import play_pieces, silver_table
from reconciler.synth.playsim import PlayFrame, simulate
from reconciler.synth.playwire import raw_lines, wire_table
from reconciler.synth.schedule import GAME_ID_BLOCK, SeasonGames, build_season
from reconciler.synth.subs import substitution_records
from reconciler.synth.teams import TeamTable, build_teams
from reconciler.synth.twin import outside_audit, twin_games

__all__ = ["Universe"]

log = logging.getLogger(__name__)


class Universe:
    """A deterministic synthetic CBBD data set (the simulator's and the sandbox's source of truth)."""

    def __init__(self, seed: int, scale: float, seasons: Sequence[int], *, twin: bool = False) -> None:
        """Create a universe (cheap: seasons are generated lazily).

        Args:
            seed: The seed.
            scale: Games per season relative to the real lake (1.0 ≈ 101,000 games over 17 seasons).
            seasons: The seasons (ending years) that exist.
            twin: Shape it as the twin of the real lake (:mod:`reconciler.synth.twin`): play counts
                calibrated on the audited rows, and the audited fan-out data in 2024 and 2025.

        Raises:
            ValueError: If ``scale`` is not positive, no season is given, or a twin season is not
                one the audit covers.
        """
        if not scale > 0:
            raise ValueError(f"scale must be positive, got {scale}")
        if not seasons:
            raise ValueError("a universe needs at least one season")
        self.seed = int(seed)
        self.scale = float(scale)
        self.seasons: tuple[int, ...] = tuple(sorted({int(s) for s in seasons}))
        self.twin = bool(twin)
        if self.twin and (outside := outside_audit(self.seasons)):
            raise ValueError(f"the twin covers the audited seasons 2010-2026 only, not {outside}")
        self.team_table: TeamTable = build_teams(self.seed)
        self._season_games: dict[int, SeasonGames] = {}
        self._games: tuple[dict[str, Any], ...] | None = None

    def __repr__(self) -> str:
        """A short description."""
        twin = ", twin=True" if self.twin else ""
        return f"Universe(seed={self.seed}, scale={self.scale}, seasons={self.seasons}{twin})"

    # ------------------------------------------------------------------ games and teams
    def season_games(self, season: int) -> SeasonGames:
        """The games of one season, column-wise (generated on first use, then cached).

        Args:
            season: A season of the universe.

        Returns:
            The season's games.

        Raises:
            KeyError: If the season is not in the universe.
        """
        if season not in self.seasons:
            raise KeyError(f"season {season} is not in this universe ({self.seasons})")
        got = self._season_games.get(season)
        if got is None:
            got = build_season(self.seed, season, self.scale, self.team_table)
            if self.twin:
                got = twin_games(got, self.seed)
            self._season_games[season] = got
        return got

    def locate(self, game_id: int) -> tuple[SeasonGames, int] | None:
        """Find a game.

        Args:
            game_id: A game id.

        Returns:
            ``(season games, row)``, or None for an unknown id.
        """
        season = int(game_id) // GAME_ID_BLOCK + 2000
        if season not in self.seasons:
            return None
        games = self.season_games(season)
        row = games.index_of(int(game_id))
        return None if row is None else (games, row)

    def games(self) -> Sequence[Mapping[str, Any]]:
        """All ``GameInfo`` records of all seasons, in API order (``startDate``, then ``id``).

        Returns:
            The records (cached; do not mutate).
        """
        if self._games is None:
            out: list[dict[str, Any]] = []
            for season in self.seasons:
                sg = self.season_games(season)
                out.extend(sg.record(i, self.team_table) for i in range(len(sg)))
            self._games = tuple(out)
        return self._games

    def game(self, game_id: int) -> dict[str, Any] | None:
        """One ``GameInfo`` record.

        Args:
            game_id: A game id.

        Returns:
            The record, or None for an unknown id.
        """
        hit = self.locate(game_id)
        return None if hit is None else hit[0].record(hit[1], self.team_table)

    def teams(self) -> Sequence[Mapping[str, Any]]:
        """All ``TeamInfo`` records (D-I teams with a conference, plus a few non-D-I schools).

        Returns:
            The records, ordered by team id.
        """
        order = np.argsort(self.team_table.team_id)
        return [self.team_table.info(int(i)) for i in order]

    # ------------------------------------------------------------------ plays
    def play_frame(self, season: int, rows: Sequence[int] | np.ndarray[Any, Any]) -> PlayFrame:
        """Simulate the plays of some games of a season (games without plays are dropped).

        Args:
            season: The season.
            rows: Row indexes into :meth:`season_games`.

        Returns:
            The frame.
        """
        return simulate(self.seed, self.season_games(season), np.asarray(rows, dtype=np.int64), self.team_table)

    def _frame_for(self, game_id: int) -> PlayFrame | None:
        hit = self.locate(game_id)
        if hit is None or not hit[0].plays_ok[hit[1]]:
            return None
        return self.play_frame(hit[0].season, [hit[1]])

    def plays(self, game_id: int) -> list[dict[str, Any]]:
        """The ``PlayInfo`` records of one game, in API order.

        Args:
            game_id: A game id.

        Returns:
            The records; ``[]`` for an unknown game or one without play-by-play.
        """
        frame = self._frame_for(game_id)
        if frame is None:
            return []
        rows: list[dict[str, Any]] = wire_table(play_pieces(frame, self.team_table, self.seed)).to_pylist()
        return rows

    def plays_batch(self, game_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The ``PlayInfo`` records of several games, simulated together (e.g. for ``/plays/date``).

        Args:
            game_ids: Games, in the order wanted (unknown ids and games without plays add nothing).

        Returns:
            The records, game after game, each game in API order; equal to concatenating
            :meth:`plays` over ``game_ids``.
        """
        out: list[dict[str, Any]] = []
        for s, rows in self._runs(game_ids):
            frame = self.play_frame(s, rows)
            out.extend(wire_table(play_pieces(frame, self.team_table, self.seed)).to_pylist())
        return out

    def _runs(self, game_ids: Sequence[int]) -> list[tuple[int, list[int]]]:
        runs: list[tuple[int, list[int]]] = []
        for gid in game_ids:
            hit = self.locate(int(gid))
            if hit is None:
                continue
            season = hit[0].season
            if runs and runs[-1][0] == season:
                runs[-1][1].append(hit[1])
            else:
                runs.append((season, [hit[1]]))
        return runs

    def plays_table(self, game_ids: Sequence[int] | None = None, *, season: int | None = None) -> pa.Table:
        """Plays in the silver ``fct_plays`` schema, built column-wise.

        Args:
            game_ids: Games, in the order wanted (unknown ids and games without plays add no rows).
            season: Instead of ``game_ids``: every game of the season, in API order.

        Returns:
            A table in exactly ``SILVER_TABLES["fct_plays"].schema``.

        Raises:
            ValueError: Unless exactly one of ``game_ids`` and ``season`` is given.
        """
        if (game_ids is None) == (season is None):
            raise ValueError("give exactly one of game_ids and season")
        if season is not None:
            runs = [(season, list(range(len(self.season_games(season)))))]
        else:
            runs = self._runs(game_ids or [])
        tables = [silver_table(play_pieces(self.play_frame(s, rows), self.team_table, self.seed)) for s, rows in runs]
        if not tables:
            return SILVER_TABLES["fct_plays"].schema.empty_table()
        return pa.concat_tables(tables)

    def plays_raw(self, game_ids: Sequence[int]) -> list[str]:
        """The raw-layer JSON text of the plays of some games (one ``json.dumps(record)`` each).

        Args:
            game_ids: Games, in order.

        Returns:
            One line per play, without newlines.
        """
        out: list[str] = []
        for s, rows in self._runs(game_ids):
            out.extend(raw_lines(play_pieces(self.play_frame(s, rows), self.team_table, self.seed)).to_pylist())
        return out

    # ------------------------------------------------------------------ substitutions and lineups
    def substitutions(self, game_id: int) -> list[dict[str, Any]]:
        """The ``PlayerSubsititution`` records (player stints) of one game, both teams.

        Args:
            game_id: A game id.

        Returns:
            The records; ``[]`` when the API has none for the game.
        """
        frame = self._frame_for(game_id)
        return [] if frame is None else substitution_records(frame, 0, self.team_table, self.seed)

    def lineups(self, game_id: int) -> list[dict[str, Any]]:
        """The ``LineupStats`` records of one game (both D-I teams; no ``gameId``/``season`` keys).

        Args:
            game_id: A game id.

        Returns:
            The records; ``[]`` when the API has none for the game.
        """
        frame = self._frame_for(game_id)
        return [] if frame is None else lineup_records(frame, 0, self.team_table, self.seed)
