"""Derive a target's silver rows from other targets' silver (zero API calls).

Lineups: the server computes a game's ``/lineups/game`` records from that game's substitution
stints and plays; :func:`reconciler.lake.lineups.derive_lineups` does the same from the lake.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

import pyarrow as pa

from reconciler.apply.lakeindex import TableIndex
from reconciler.apply.lakeio import parse_nested
from reconciler.apply.materialize import Outcome, write_silver_rows
from reconciler.core.observed import ExpectedUnit
from reconciler.core.plan import Action
from reconciler.lake.lineups import derive_lineups
from reconciler.lake.schemas import SILVER_TABLES, records_to_table
from reconciler.ports import ObjectStore
from reconciler.spec.models import Spec

__all__ = ["materialize_derive"]

_SUB_FIELDS = (
    "gameId",
    "startDate",
    "teamId",
    "team",
    "conference",
    "athleteId",
    "athlete",
    "position",
    "opponentId",
    "opponent",
    "opponentConference",
)
_PLAY_FIELDS = (
    "id",
    "gameId",
    "teamId",
    "period",
    "secondsRemaining",
    "playType",
    "playText",
    "scoreValue",
    "scoringPlay",
    "shootingPlay",
    "isHomeTeam",
)


def _input_rows(index: TableIndex, games: Mapping[str, ExpectedUnit]) -> list[dict[str, Any]]:
    """Rows of some games from an input table, wherever they are stored, each natural key once.

    A stint or play stored twice (two layouts, or a pipeline file beside ours) would otherwise
    count twice: a duplicated stint doubles ``totalSeconds`` for every lineup that holds it.
    """
    t = index.rows(games)
    if t.num_rows == 0 or "gameId" not in t.column_names:
        return []
    rows: list[dict[str, Any]] = t.to_pylist()
    return rows


def _sub_record(row: Mapping[str, Any]) -> dict[str, Any]:
    rec = {k: row.get(k) for k in _SUB_FIELDS}
    for side, col in (("subIn", "in"), ("subOut", "out")):
        value = parse_nested(row.get(side))
        if not isinstance(value, dict):
            value = {
                "period": row.get(f"sub_{col}_period"),
                "secondsRemaining": row.get(f"sub_{col}_seconds_remaining"),
                "teamPoints": row.get(f"sub_{col}_team_points"),
                "opponentPoints": row.get(f"sub_{col}_opponent_points"),
            }
        rec[side] = value
    return rec


def materialize_derive(
    store: ObjectStore,
    specs: Mapping[str, Spec],
    action: Action,
    units: Mapping[str, ExpectedUnit],
    indexes: Callable[[str], TableIndex],
) -> Outcome:
    """Derive an action's units from its input targets' silver and write them.

    Args:
        store: The object store.
        specs: Every spec by name (the action's and its inputs').
        action: A ``rebuild`` action whose details name a derivation.
        units: Expected units of the action's target, by key.
        indexes: The table index of a target, by target name (the action's and its inputs').

    Returns:
        What was written; units without rows are verified empty (their inputs hold nothing).
    """
    spec = specs[action.target]
    params = dict(action.details.get("params") or {})
    season, date = params.get("season", action.season), params.get("date")
    mine = {k: units[k] for k in action.units if k in units}
    games = {
        str(int(u.cols["game_id"])): ExpectedUnit(str(int(u.cols["game_id"])), u.season, u.date, {})
        for u in mine.values()
    }
    subs: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in _input_rows(indexes("substitutions"), games):
        subs[int(row["gameId"])].append(_sub_record(row))
    plays: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in _input_rows(indexes("plays"), games):
        plays[int(row["gameId"])].append({k: row.get(k) for k in _PLAY_FIELDS})
    schema = SILVER_TABLES[spec.target.silver.table]
    tables = []
    for game in sorted(int(g) for g in games):
        records = derive_lineups(subs.get(game, []), plays.get(game, []))
        if records:
            u = next(u for u in mine.values() if int(u.cols["game_id"]) == game)
            tables.append(records_to_table(schema, records, {"gameId": game, "season": u.season, "date": u.date}))
    out = Outcome()
    if tables:
        key_params = {"derive": str(action.details.get("derive")), "season": season, "date": date}
        write_silver_rows(store, spec, action, pa.concat_tables(tables), units, indexes(action.target), key_params, out)
    return out
