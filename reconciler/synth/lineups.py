"""``LineupStats`` wire records of the synthetic universe: derived from its substitutions and plays.

The API computes a game's lineups from that game's substitution stints and plays; the
universe does the same with :func:`reconciler.lake.lineups.derive_lineups`, the function
apply uses to derive lineups from the lake. The simulator's ``/lineups/game`` and a lake
derivation therefore agree by construction, as they would against the real server.
"""

from __future__ import annotations

from typing import Any

from reconciler.lake.lineups import derive_lineups
from reconciler.synth.playrender import play_pieces
from reconciler.synth.playsim import PlayFrame
from reconciler.synth.playwire import wire_table
from reconciler.synth.subs import substitution_records
from reconciler.synth.teams import TeamTable

__all__ = ["lineup_records"]

# The wire plays of the last frame, grouped by game: the sandbox asks for every game of a frame.
# Only the fields derive_lineups reads (converting every field to Python took half the time).
_DERIVE_FIELDS = [
    "gameId",
    "period",
    "secondsRemaining",
    "teamId",
    "playType",
    "scoringPlay",
    "shootingPlay",
    "scoreValue",
    "playText",
]
_cache: dict[str, Any] = {"frame": None, "plays": {}}


def _game_plays(frame: PlayFrame, game_id: int, teams: TeamTable, seed: int) -> list[dict[str, Any]]:
    if _cache["frame"] is not frame:
        grouped: dict[int, list[dict[str, Any]]] = {}
        for rec in wire_table(play_pieces(frame, teams, seed)).select(_DERIVE_FIELDS).to_pylist():
            grouped.setdefault(int(rec["gameId"]), []).append(rec)
        _cache["frame"], _cache["plays"] = frame, grouped
    plays: list[dict[str, Any]] = _cache["plays"].get(game_id, [])
    return plays


def lineup_records(frame: PlayFrame, b: int, teams: TeamTable, seed: int) -> list[dict[str, Any]]:
    """The ``/lineups/game`` records of one game of a frame (both teams; no gameId/season keys).

    Args:
        frame: The simulated plays of a batch containing the game.
        b: The game's batch position.
        teams: The team table.
        seed: The universe seed.

    Returns:
        The records; empty when the game has no substitution data.
    """
    subs = substitution_records(frame, b, teams, seed)
    if not subs:
        return []
    game_id = int(frame.games.game_id[int(frame.rows[b])])
    return derive_lineups(subs, _game_plays(frame, game_id, teams, seed))
