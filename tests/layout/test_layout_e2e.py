"""The layout target end to end on a drifted sandbox, through the real CLI.

plan (every injected fault) → apply without --allow-delete (the catalog is fixed; no rewrite
starts, so no object is added or removed and readers never see two copies) → plan (the
rewrites and deletions) → apply --allow-delete (each rewrite writes its copy and removes its
original in one step; the lake ends clean) → plan ("No changes"); keys read straight from the
Parquet files: each once, none lost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from reconciler.adapters.local_catalog import LocalCatalog
from tests.e2e_helpers import cli, make_sandbox, plan_json, simulator

SEASONS = "2024-2025"
KEYS = {
    "fct_games": ["gameId"],
    "fct_plays": ["id"],
    "fct_substitutions": ["gameId", "athleteId", "subIn"],
    "fct_lineups": ["gameId", "teamid", "idhash"],
}


@pytest.fixture
def drifted(tmp_path: Path):
    return make_sandbox(tmp_path / "sb", seasons=SEASONS, scale=0.005, drift=True)


def _objects(lake: Path) -> set[str]:
    """The lake's objects, but the apply lock's lease objects (``_reconcile/locks/``: not data)."""
    objs = {p.relative_to(lake).as_posix() for p in lake.rglob("*") if p.is_file()}
    return {o for o in objs if not o.startswith("_reconcile/")}


def _keys(lake: Path, table: str) -> list[tuple[Any, ...]]:
    """Every row's natural key, reading each object on its own (types drift between objects)."""
    out: list[tuple[Any, ...]] = []
    for path in sorted((lake / "silver" / table).rglob("*.parquet")):
        t = pq.read_table(path, columns=KEYS[table])
        out.extend(zip(*(t.column(c).to_pylist() for c in KEYS[table]), strict=True))
    return out


def _layout(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return next(t for t in plan["targets"] if t["target"] == "layout")["actions"]


def _apply(cfg: Path, *extra: str):
    return cli(["apply", "--config", str(cfg), "--seasons", SEASONS, "--auto-approve", *extra])


def _rewritten(actions: list[dict[str, Any]]) -> set[str]:
    return {a["details"]["object"]["key"] for a in actions if a["type"] in ("relayout", "dedupe")}


def test_drift_is_planned_and_rewritten_only_with_allow_delete(drifted):
    cfg, _, manifest = drifted
    lake = cfg.parent / "lake"
    drift = manifest.drift
    before_keys = {t: _keys(lake, t) for t in KEYS}

    first = plan_json(cfg, SEASONS, "--target", "layout")
    actions = _layout(first)
    rewritten = _rewritten(actions)
    # Every object outside the declared layout is relaid out; every duplicate is resolved.
    for key in [*drift["fct_games_asof_duplicates"]["keys"], drift["fct_plays_asof_layout"]["key"]]:
        assert any(a["type"] == "relayout" and a["details"]["object"]["key"] == key for a in actions), key
    dup = drift["fct_plays_duplicates"]
    assert rewritten & {dup["key"], *dup["duplicates_of"]}
    excitement = drift["fct_games_excitement_int64"]["key"]
    assert not any(a["type"] == "relayout" and a["details"]["object"]["key"] == excitement for a in actions)
    layout = next(t for t in first["targets"] if t["target"] == "layout")
    assert any("excitement in 1 object" in n and "not rewritten" in n for n in layout["notes"])
    for p in drift["catalog_unregistered_partitions"]["partitions"]:
        assert f"layout.register[{p['table']}][{p['partition']}]" in {a["address"] for a in actions}
    for a in actions:
        if a["type"] in ("relayout", "dedupe"):
            assert "run only with --allow-delete" in a["reason"]

    objects = _objects(lake)
    r = _apply(cfg, "--target", "layout")
    assert r.exit_code == 0, r.output
    removes = sum(1 for a in actions if a["type"] in ("relayout", "dedupe", "delete"))
    assert f"Left {removes} actions that remove data" in " ".join(r.output.split())
    assert _objects(lake) == objects  # no rewrite started: never two visible copies
    assert {t: _keys(lake, t) for t in KEYS} == before_keys

    second = plan_json(cfg, SEASONS, "--target", "layout")
    assert {a["type"] for a in _layout(second)} <= {"relayout", "dedupe", "delete"}  # registered now
    assert _rewritten(_layout(second)) == rewritten
    catalog = LocalCatalog(cfg.parent / ".reconcile" / "catalog.sqlite")
    assert [k for k, _ in catalog.get_table("cbbd_silver", "fct_lineups").partition_keys] == ["season", "date"]
    catalog.close()

    r = _apply(cfg, "--target", "layout", "--allow-delete")
    assert r.exit_code == 0, r.output
    final = _objects(lake)
    assert not final & rewritten
    r = cli(["plan", "--config", str(cfg), "--seasons", SEASONS, "--target", "layout"])
    assert r.exit_code == 0 and "No changes" in r.output, r.output

    for table, before in before_keys.items():
        now = _keys(lake, table)
        assert len(now) == len(set(now)), table  # every key once
        assert set(now) == set(before), table  # no key lost, none invented
    # The game whose plays lived only under asof= is now under its date, registered.
    only_here = set(drift["fct_plays_asof_layout"]["only_here_game_ids"])
    canonical = [p for p in (lake / "silver" / "fct_plays").rglob("*.parquet") if "/date=" in p.as_posix()]
    plays = {g for p in canonical for g in pq.read_table(p, columns=["gameId"]).column("gameId").to_pylist()}
    assert only_here <= plays
    assert not any("/asof=" in k for k in final if k.startswith("silver/fct_plays/"))


def test_stale_saved_plan_and_unconfirmed_rewrites_change_nothing(drifted, tmp_path):
    cfg, _, manifest = drifted
    out = tmp_path / "plan.json"
    r = cli(["plan", "--config", str(cfg), "--seasons", SEASONS, "--target", "layout", "--out", str(out)])
    assert r.exit_code == 0, r.output
    catalog = LocalCatalog(cfg.parent / ".reconcile" / "catalog.sqlite")
    p = manifest.drift["catalog_unregistered_partitions"]["partitions"][0]
    db, table = p["table"].split(".")
    values = tuple(seg.split("=", 1)[1] for seg in p["partition"].split("/"))
    from reconciler.ports import PartitionSpec

    catalog.create_partitions(db, table, [PartitionSpec(values, f"silver/{table}/{p['partition']}/")])
    catalog.close()
    r = cli(["apply", "--config", str(cfg), str(out), "--auto-approve"])
    assert r.exit_code == 1
    assert "layout state changed" in r.output
    # Rewrites and deletions need confirmation: without a terminal and without --auto-approve, nothing happens.
    objects = _objects(cfg.parent / "lake")
    r = cli(["apply", "--config", str(cfg), "--seasons", SEASONS, "--target", "layout", "--allow-delete"])
    assert r.exit_code == 1 and "needs confirmation" in r.output
    assert "removing each original once its new copy is written" in " ".join(r.output.split())
    assert _objects(cfg.parent / "lake") == objects


@pytest.mark.slow
def test_full_plan_with_gaps_and_drift_converges(drifted):
    cfg, port, _ = drifted
    lake = cfg.parent / "lake"
    with simulator(cfg, port):
        r = _apply(cfg)
        assert r.exit_code == 0, r.output
        second = plan_json(cfg, SEASONS)
        assert {a["type"] for t in second["targets"] for a in t["actions"]} <= {"relayout", "dedupe", "delete"}
        r = _apply(cfg, "--allow-delete")
        assert r.exit_code == 0, r.output
        final = plan_json(cfg, SEASONS)
    assert all(t["actions"] == [] for t in final["targets"])
    for table in KEYS:
        keys = _keys(lake, table)
        assert len(keys) == len(set(keys)), table
