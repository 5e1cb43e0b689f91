"""The layout target end to end on a drifted sandbox, through the real CLI.

plan (every injected fault, nothing else) → apply without --allow-delete (everything but the
deletions; the lake never loses an object) → plan (only the deletions) → apply --allow-delete
(the lake ends clean) → plan ("No changes"); row counts read straight from the Parquet files.
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
    "fct_substitutions": ["gameId", "athleteId", "sub_in_period", "sub_in_seconds_remaining"],
    "fct_lineups": ["gameId", "teamid", "idhash"],
}


@pytest.fixture
def drifted(tmp_path: Path):
    return make_sandbox(tmp_path / "sb", seasons=SEASONS, scale=0.005, drift=True)


def _objects(lake: Path) -> set[str]:
    return {p.relative_to(lake).as_posix() for p in lake.rglob("*") if p.is_file()}


def _keys(lake: Path, table: str) -> list[tuple[Any, ...]]:
    """Every row's natural key, reading each object on its own (types drift between objects)."""
    out: list[tuple[Any, ...]] = []
    for path in sorted((lake / "silver" / table).rglob("*.parquet")):
        t = pq.read_table(path, columns=KEYS[table])
        out.extend(zip(*(t.column(c).to_pylist() for c in KEYS[table]), strict=True))
    return out


def _expected(drift: dict[str, Any], dedupe_object: str) -> tuple[set[str], set[str]]:
    """The addresses the first plan must hold: (non-delete actions, delete actions)."""
    objects = [*drift["fct_games_asof_duplicates"]["keys"], drift["fct_games_excitement_int64"]["key"]]
    objects.append(drift["fct_plays_asof_layout"]["key"])
    work = {f"layout.relayout[{k}]" for k in objects} | {f"layout.dedupe[{dedupe_object}]"}
    deletes = {f"layout.delete[{k}]" for k in [*objects, dedupe_object]}
    for p in drift["catalog_unregistered_partitions"]["partitions"]:
        work.add(f"layout.register[{p['table']}][{p['partition']}]")
    for p in drift["catalog_orphan_partitions"]["partitions"]:
        deletes.add(f"layout.delete[{p['table']}][{p['partition']}]")
    work.add(f"layout.register[{drift['catalog_partition_keys']['table']}][partition-keys]")
    return work, deletes


def _layout(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return next(t for t in plan["targets"] if t["target"] == "layout")["actions"]


def _apply(cfg: Path, *extra: str):
    return cli(["apply", "--config", str(cfg), "--seasons", SEASONS, "--auto-approve", *extra])


def test_drift_is_planned_repaired_without_deleting_then_cleaned(drifted):
    cfg, _, manifest = drifted
    lake = cfg.parent / "lake"
    drift = manifest.drift
    before_keys = {t: _keys(lake, t) for t in KEYS}

    first = plan_json(cfg, SEASONS, "--target", "layout")
    actions = _layout(first)
    dedupes = [a for a in actions if a["type"] == "dedupe"]
    assert len(dedupes) == 1
    dup = drift["fct_plays_duplicates"]
    assert dedupes[0]["details"]["object"]["key"] in {dup["key"], *dup["duplicates_of"]}
    work, deletes = _expected(drift, dedupes[0]["details"]["object"]["key"])
    assert {a["address"] for a in actions if a["type"] != "delete"} == work
    assert {a["address"] for a in actions if a["type"] == "delete"} == deletes
    assert first["summary"]["delete"] == len(deletes)
    assert first["summary"]["relayout"] == len(drift["fct_games_asof_duplicates"]["keys"]) + 2

    objects = _objects(lake)
    r = _apply(cfg, "--target", "layout")
    assert r.exit_code == 0, r.output
    assert f"Left {len(deletes)} delete actions" in r.output
    after = _objects(lake)
    assert objects <= after and len(after) > len(objects)  # nothing deleted, replacements added

    second = plan_json(cfg, SEASONS, "--target", "layout")
    assert {a["address"] for a in _layout(second)} == deletes
    assert {a["type"] for a in _layout(second)} == {"delete"}

    # The game whose plays lived only under asof= now has a registered date partition too.
    asof = drift["fct_plays_asof_layout"]
    moved = [k for k in after - objects if k.startswith("silver/fct_plays/") and "/date=" in k]
    assert moved
    catalog = LocalCatalog(cfg.parent / ".reconcile" / "catalog.sqlite")
    registered = {p.location for p in catalog.list_partitions("cbbd_silver", "fct_plays")}
    assert {k.rsplit("/", 1)[0] + "/" for k in moved} <= registered
    assert [k for k, _ in catalog.get_table("cbbd_silver", "fct_lineups").partition_keys] == ["season", "date"]
    catalog.close()

    r = _apply(cfg, "--target", "layout", "--allow-delete")
    assert r.exit_code == 0, r.output
    final = _objects(lake)
    assert not final & {a["address"][len("layout.delete[") : -1] for a in _layout(second)}
    r = cli(["plan", "--config", str(cfg), "--seasons", SEASONS, "--target", "layout"])
    assert r.exit_code == 0 and "No changes" in r.output, r.output

    for table, before in before_keys.items():
        now = _keys(lake, table)
        assert len(now) == len(set(now)), table  # every key once
        assert set(now) == set(before), table  # no key lost, none invented
    only_here = set(asof["only_here_game_ids"])
    canonical = [p for p in (lake / "silver" / "fct_plays").rglob("*.parquet") if "/date=" in p.as_posix()]
    plays = {g for p in canonical for g in pq.read_table(p, columns=["gameId"]).column("gameId").to_pylist()}
    assert only_here <= plays


def test_stale_saved_plan_and_unconfirmed_deletes_change_nothing(drifted, tmp_path):
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
    # Deletions need confirmation: without a terminal and without --auto-approve, nothing happens.
    objects = _objects(cfg.parent / "lake")
    r = cli(["apply", "--config", str(cfg), "--seasons", SEASONS, "--target", "layout", "--allow-delete"])
    assert r.exit_code == 1 and "needs confirmation" in r.output
    assert "deletes the 11 items listed above" in " ".join(r.output.split())
    assert _objects(cfg.parent / "lake") == objects


@pytest.mark.slow
def test_full_plan_with_gaps_and_drift_converges(drifted):
    cfg, port, _ = drifted
    lake = cfg.parent / "lake"
    with simulator(cfg, port):
        r = _apply(cfg)
        assert r.exit_code == 0, r.output
        second = plan_json(cfg, SEASONS)
        assert {a["type"] for t in second["targets"] for a in t["actions"]} == {"delete"}
        r = _apply(cfg, "--allow-delete")
        assert r.exit_code == 0, r.output
        final = plan_json(cfg, SEASONS)
    assert all(t["actions"] == [] for t in final["targets"])
    for table in KEYS:
        keys = _keys(lake, table)
        assert len(keys) == len(set(keys)), table
