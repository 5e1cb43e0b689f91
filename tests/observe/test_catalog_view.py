"""Presence as the lake holds it, on an engine that reads only what the catalog registers.

The DuckDB engine's ``sees: catalog`` mode reads a table as Athena does: registered partitions
only. cbbd_etl never registers what it writes, so on the real lake recent data is invisible to
Athena. Observation then also reads the files the engine misses: their units are present (to
register), never missing (to fetch again, which would spend quota and write duplicates).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reconciler.adapters.catalog_files import catalog_filter
from reconciler.adapters.duckdb_engine import DuckDBEngine
from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.adapters.local_store import LocalStore
from tests.e2e_helpers import cli, make_sandbox, plan_json, plays_units, see_through_catalog, simulator
from tests.invariant import check_apply, lake_keys

SEASONS = "2025"


@pytest.fixture
def lagging(tmp_path: Path) -> Any:
    """A sandbox whose catalog lacks the newest third of fct_plays' partitions."""
    cfg, port, manifest = make_sandbox(tmp_path / "sb", seasons=SEASONS, scale=0.005, seed=3)
    see_through_catalog(cfg)
    catalog = LocalCatalog(cfg.parent / ".reconcile" / "catalog.sqlite")
    parts = sorted(catalog.list_partitions("cbbd_silver", "fct_plays"), key=lambda p: p.values)
    newest = parts[-max(1, len(parts) // 3) :]
    catalog.delete_partitions("cbbd_silver", "fct_plays", newest)
    catalog.close()
    return cfg, port, manifest, newest


def test_units_in_unregistered_partitions_are_registered_not_fetched(lagging):
    cfg, port, _, newest = lagging
    lake = cfg.parent / "lake"
    store = LocalStore(lake)
    catalog = LocalCatalog(cfg.parent / ".reconcile" / "catalog.sqlite")
    athena = DuckDBEngine(store, files_filter=catalog_filter(catalog, "registered"))
    files = DuckDBEngine(store)
    try:
        hidden_units = set(plays_units(files, int(SEASONS))) - set(plays_units(athena, int(SEASONS)))
        assert hidden_units  # the engine alone would call them missing

        plan = plan_json(cfg, SEASONS)
        plays = next(t for t in plan["targets"] if t["target"] == "plays")
        fetched = {u for a in plays["actions"] for u in a["units"]}
        assert not fetched & hidden_units  # 0 fetches for units the lake holds
        registers = {
            a["details"]["location"]
            for t in plan["targets"]
            for a in t["actions"]
            if a["type"] == "register" and a["details"].get("table") == "fct_plays"
        }
        assert {p.location for p in newest} <= registers

        before = lake_keys(lake)
        with simulator(cfg, port):
            r = cli(["apply", "--config", str(cfg), "--seasons", SEASONS, "--auto-approve"])
        assert r.exit_code == 0, r.output[-3000:]
        assert check_apply(before, lake_keys(lake)) == []
        # Athena's view and the files agree: every unit, every row.
        assert plays_units(athena, int(SEASONS)) == plays_units(files, int(SEASONS))
        r = cli(["plan", "--config", str(cfg), "--seasons", SEASONS])
        assert r.exit_code == 0 and "No changes" in r.output, r.output[-3000:]
    finally:
        athena.close()
        files.close()
        catalog.close()
