"""Drift injected into a sandbox lake on request (``init_sandbox(..., drift=True)``).

Each kind writes extra objects through the object store and records itself under
``manifest["drift"][<name>]``. Kinds so far:

* ``fct_games_asof_duplicates``: one season of ``fct_games`` written again under the old
  orchestrator layout ``season=S/asof=D/`` (one file per 30-day slice), duplicating every game of
  the season, as overlapping runs did in the real lake (``cbbd_etl_lake.md`` §10.1).
* ``fct_games_excitement_int64``: a re-run chunk file for one 30-day slice, written loose under
  ``season=S/`` next to the consolidated file, whose ``excitement`` column is int64 (values
  truncated) instead of the declared double (§5.1, §10.2). Its rows duplicate consolidated rows.

New kinds: add a function ``(store, universe) -> dict`` to :data:`DRIFT_KINDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from reconciler.lake.layout import table_key
from reconciler.lake.schemas import SILVER_TABLES, records_to_table
from reconciler.lake.writer import encode_parquet
from reconciler.ports import ObjectStore
from reconciler.sandbox.games_layer import game_slices
from reconciler.synth.universe import Universe

__all__ = ["DRIFT_ASOF", "DRIFT_KINDS", "inject_drift"]

#: The ``asof`` day of the duplicate copy (the day of the real lake's inventory).
DRIFT_ASOF = "2026-02-21"


def _season_slices(universe: Universe, season: int) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    sg = universe.season_games(season)
    records = [sg.record(i, universe.team_table) for i in range(len(sg))]
    out = []
    for params in game_slices(season):
        lo, hi = params["startDateRange"][:10], params["endDateRange"][:10]
        chunk = [r for r in records if lo <= r["startDate"][:10] <= hi]
        if chunk:
            out.append((params, chunk))
    return out


def _asof_duplicates(store: ObjectStore, universe: Universe) -> dict[str, Any]:
    season = 2025 if 2025 in universe.seasons else universe.seasons[-1]
    keys: list[str] = []
    rows = 0
    for params, chunk in _season_slices(universe, season):
        key = table_key("silver", "fct_games", f"season={season}/asof={DRIFT_ASOF}", params)
        store.put(key, encode_parquet(records_to_table(SILVER_TABLES["fct_games"], chunk)))
        keys.append(key)
        rows += len(chunk)
    return {
        "kind": "duplicates",
        "table": "fct_games",
        "season": season,
        "layout": f"season={season}/asof={DRIFT_ASOF}",
        "keys": keys,
        "rows": rows,
        "duplicate_game_ids": rows,
    }


def _excitement_int64(store: ObjectStore, universe: Universe) -> dict[str, Any]:
    others = [s for s in universe.seasons if s != (2025 if 2025 in universe.seasons else universe.seasons[-1])]
    season = others[-1] if others else universe.seasons[-1]
    params, chunk = _season_slices(universe, season)[0]
    table = records_to_table(SILVER_TABLES["fct_games"], chunk)
    idx = table.schema.get_field_index("excitement")
    ints = pa.array([None if v is None else int(v) for v in table["excitement"].to_pylist()], type=pa.int64())
    table = table.set_column(idx, pa.field("excitement", pa.int64()), ints)
    key = table_key("silver", "fct_games", f"season={season}", params)
    store.put(key, encode_parquet(table))
    return {
        "kind": "schema",
        "table": "fct_games",
        "season": season,
        "key": key,
        "column": "excitement",
        "type": "int64",
        "declared_type": "double",
        "rows": len(chunk),
        "duplicate_game_ids": len(chunk),
    }


DRIFT_KINDS: dict[str, Callable[[ObjectStore, Universe], dict[str, Any]]] = {
    "fct_games_asof_duplicates": _asof_duplicates,
    "fct_games_excitement_int64": _excitement_int64,
}


def inject_drift(store: ObjectStore, universe: Universe, manifest: dict[str, Any]) -> dict[str, Any]:
    """Write every drift kind into the lake and record it in the manifest being built.

    Args:
        store: The sandbox lake.
        universe: The sandbox's universe.
        manifest: The manifest as a mutable dict; ``manifest["drift"]`` is filled in.

    Returns:
        The drift records, by kind name.
    """
    drift: dict[str, Any] = manifest.setdefault("drift", {})
    for name, kind in DRIFT_KINDS.items():
        drift[name] = kind(store, universe)
    return drift
