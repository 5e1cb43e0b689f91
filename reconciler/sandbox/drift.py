"""Drift injected into a sandbox lake on request (``init_sandbox(..., drift=True)``).

Each kind writes extra objects through the object store and records itself under
``manifest["drift"][<name>]``. Kinds so far:

* ``fct_games_asof_duplicates``: one season of ``fct_games`` written again under the old
  orchestrator layout ``season=S/asof=D/`` (one file per 30-day slice), duplicating every game of
  the season, as overlapping runs did in the real lake (``cbbd_etl_lake.md`` §10.1).
* ``fct_games_excitement_int64``: a re-run chunk file for one 30-day slice, written loose under
  ``season=S/`` next to the consolidated file, whose ``excitement`` column is int64 (values
  truncated) instead of the declared double (§5.1, §10.2). Its rows duplicate consolidated rows.
* ``fct_plays_asof_layout``: a fan-out table under the layout ``rebuild_from_raw.py`` produced,
  ``season=S/asof=D/`` (§4.2): one object holding a copy of one date partition's plays
  (duplicates) plus every play of one game missing from the ``date=`` layout (rows that exist only
  there, so a relayout has something to write).
* ``fct_plays_duplicates``: a ``plays_game``-style object for one game written into the date
  partition that already holds the game's plays in its consolidated file (§6.2).

The catalog's drift (unregistered and orphan partitions, a table whose partition keys flipped)
is injected after the catalog is built: :mod:`reconciler.sandbox.catalog`.

New kinds: add a function ``(store, universe) -> dict`` to :data:`DRIFT_KINDS`.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from reconciler.lake.layout import hash8, table_key
from reconciler.lake.schemas import SILVER_TABLES, records_to_table
from reconciler.lake.writer import encode_parquet
from reconciler.ports import ObjectStore
from reconciler.sandbox.games_layer import game_slices
from reconciler.sandbox.gaps import plan_season, plays_missing_seasons
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


def _plays_season(universe: Universe) -> int | None:
    missing = set(plays_missing_seasons(universe.seasons))
    have = [s for s in universe.seasons if s not in missing]
    return have[-1] if have else None


def _date_partitions(store: ObjectStore, season: int) -> list[tuple[str, list[str]]]:
    parts: dict[str, list[str]] = {}
    for o in store.list_objects(f"silver/fct_plays/season={season}/"):
        if "/date=" in o.key and o.key.endswith(".parquet"):
            parts.setdefault(o.key.rsplit("/", 1)[0], []).append(o.key)
    return sorted(parts.items())


def _read(store: ObjectStore, keys: list[str]) -> pa.Table:
    return pa.concat_tables([pq.read_table(io.BytesIO(store.get(k))) for k in keys])


def _plays_asof_layout(store: ObjectStore, universe: Universe) -> dict[str, Any]:
    season = _plays_season(universe)
    parts = _date_partitions(store, season) if season is not None else []
    if season is None or not parts:
        return {"kind": "layout", "table": "fct_plays", "skipped": "no plays in the lake"}
    dup_dir, dup_keys = parts[0]
    copies = _read(store, dup_keys)
    plan = plan_season(universe, season)
    only_here = [g for g in sorted(plan.plays_missing) if universe.plays(g)][:1]
    extra = universe.plays_table(only_here)
    table = pa.concat_tables([copies, extra.cast(copies.schema)])
    key = table_key("silver", "fct_plays", f"season={season}/asof={DRIFT_ASOF}", {"season": season, "asof": DRIFT_ASOF})
    store.put(key, encode_parquet(table))
    return {
        "kind": "layout",
        "table": "fct_plays",
        "season": season,
        "key": key,
        "layout": f"season={season}/asof={DRIFT_ASOF}",
        "declared_layout": "season={season}/date={date}",
        "rows": table.num_rows,
        "duplicate_rows": copies.num_rows,
        "duplicates_of": dup_dir.split("/", 2)[2],
        "only_here_game_ids": only_here,
        "only_here_rows": extra.num_rows,
    }


def _plays_duplicates(store: ObjectStore, universe: Universe) -> dict[str, Any]:
    season = _plays_season(universe)
    parts = _date_partitions(store, season) if season is not None else []
    if season is None or len(parts) < 2:
        return {"kind": "duplicates", "table": "fct_plays", "skipped": "too few date partitions"}
    # A partition with several games, so that the dedupe keeps the other games' rows.
    tables = [(d, k, _read(store, k)) for d, k in parts[1:]]
    part_dir, keys, existing = next(
        ((d, k, t) for d, k, t in tables if len(set(t["gameId"].to_pylist())) > 1), tables[0]
    )
    game = min(existing["gameId"].to_pylist())
    rows = existing.filter(pc.equal(existing["gameId"], game))
    key = f"{part_dir}/part-{hash8({'gameId': game})}.parquet"
    store.put(key, encode_parquet(rows))
    return {
        "kind": "duplicates",
        "table": "fct_plays",
        "season": season,
        "partition": part_dir.split("/", 2)[2],
        "key": key,
        "duplicates_of": keys,
        "game_id": game,
        "duplicate_rows": rows.num_rows,
    }


DRIFT_KINDS: dict[str, Callable[[ObjectStore, Universe], dict[str, Any]]] = {
    "fct_games_asof_duplicates": _asof_duplicates,
    "fct_games_excitement_int64": _excitement_int64,
    "fct_plays_asof_layout": _plays_asof_layout,
    "fct_plays_duplicates": _plays_duplicates,
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
