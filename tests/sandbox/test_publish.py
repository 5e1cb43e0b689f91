"""Publishing a sandbox: its catalog description, the object copy, and the published config."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pytest
import yaml

from reconciler.adapters.factory import catalog_path
from reconciler.adapters.local_catalog import LocalCatalog
from reconciler.adapters.local_store import LocalStore
from reconciler.config import load_profile
from reconciler.errors import LakeError
from reconciler.sandbox import sandbox_settings
from reconciler.sandbox.publish import athena_type, lake_tables, publish_objects, write_published_config

DBS = {"bronze": "cbbd_bronze", "silver": "cbbd_silver"}


@pytest.fixture(scope="module")
def tables(sandbox):
    return {(e.table.database, e.table.name): e for e in lake_tables(LocalStore(sandbox.lake), DBS)}


def test_every_table_with_files_is_described(tables):
    assert set(tables) == {
        ("cbbd_bronze", "games"),
        ("cbbd_bronze", "lineups_game"),
        ("cbbd_bronze", "plays_date"),
        ("cbbd_bronze", "substitutions_game"),
        ("cbbd_silver", "fct_games"),
        ("cbbd_silver", "fct_lineups"),
        ("cbbd_silver", "fct_plays"),
        ("cbbd_silver", "fct_substitutions"),
    }


@pytest.mark.parametrize(
    ("table", "keys"),
    [
        ("fct_plays", ("season", "date")),
        ("fct_substitutions", ("season", "date")),
        ("fct_lineups", ("season", "date")),
        ("fct_games", ("season",)),
    ],
)
def test_partition_keys_are_the_lakes_all_strings(tables, table, keys):
    t = tables[("cbbd_silver", table)].table
    assert tuple(k for k, _ in t.partition_keys) == keys
    assert {typ for _, typ in t.partition_keys} == {"string"}
    assert t.location == f"silver/{table}/"
    assert not {c.lower() for c, _ in t.columns} & set(keys), "partition keys hide the file columns"


def test_bronze_games_use_the_asof_layout(tables):
    assert [k for k, _ in tables[("cbbd_bronze", "games")].table.partition_keys] == ["season", "asof"]


def test_columns_come_from_the_declared_schemas(tables):
    cols = dict(tables[("cbbd_silver", "fct_plays")].table.columns)
    assert cols["id"] == "bigint" and cols["gameId"] == "bigint"
    assert cols["onFloor"] == "string"  # nested values are JSON text


def test_partitions_are_the_directories_of_the_layout(sandbox, tables):
    entry = tables[("cbbd_silver", "fct_plays")]
    dirs = {
        p.parent.relative_to(sandbox.lake).as_posix() + "/"
        for p in (sandbox.lake / "silver/fct_plays").rglob("*.parquet")
        if "/asof=" not in p.as_posix()  # --drift's copy under another layout stays unregistered
    }
    assert {p.location for p in entry.partitions} == dirs
    assert all(p.location == f"silver/fct_plays/season={p.values[0]}/date={p.values[1]}/" for p in entry.partitions)


def test_drift_under_another_layout_is_left_unregistered(sandbox, tables):
    games = tables[("cbbd_silver", "fct_games")]
    drift = sandbox.manifest.drift["fct_games_asof_duplicates"]
    assert games.other_layouts == 1
    assert all(len(p.values) == 1 for p in games.partitions)
    assert drift["layout"] + "/" not in {p.location.removeprefix("silver/fct_games/") for p in games.partitions}
    assert {p.values[0] for p in games.partitions} == {str(s) for s in sandbox.manifest.seasons}


def test_init_sandbox_describes_the_lake_in_its_local_catalog(sandbox, tables):
    """The sandbox's own catalog is the published description, less exactly the catalog drift it injects."""
    drift = sandbox.manifest.drift
    moved = {
        (d["table"], d["partition"])
        for kind in ("catalog_unregistered_partitions", "catalog_orphan_partitions")
        for d in drift.get(kind, {}).get("partitions", [])
    }
    flipped = drift.get("catalog_partition_keys", {}).get("table")
    catalog = LocalCatalog(catalog_path(load_profile(sandbox.dest / "config.yaml")))
    try:
        for (db, name), entry in tables.items():
            got = catalog.get_table(db, name)
            assert got is not None
            assert (got.columns, got.location) == (entry.table.columns, entry.table.location)
            if f"{db}.{name}" == flipped:
                continue
            have = {p.location for p in catalog.list_partitions(db, name)}
            want = {p.location for p in entry.partitions}
            prefix = entry.table.location
            differ = {(f"{db}.{name}", loc[len(prefix) :].rstrip("/")) for loc in have ^ want}
            assert differ <= moved
    finally:
        catalog.close()


@pytest.mark.parametrize(
    ("dtype", "name"),
    [(pa.int64(), "bigint"), (pa.int32(), "int"), (pa.float64(), "double"), (pa.bool_(), "boolean"),
     (pa.timestamp("ms"), "timestamp"), (pa.string(), "string"), (pa.float32(), "string")],
)  # fmt: skip
def test_athena_types_as_cbbd_etl_maps_them(dtype, name):
    assert athena_type(dtype) == name


def test_publish_copies_every_object_and_refuses_a_non_empty_target(tmp_path):
    keys = ("raw/a/x.json.gz", "silver/t/season=1/p.parquet", "deadletter/e/d.json")
    src = LocalStore(tmp_path / "src", create=True)
    for key in keys:
        src.put(key, key.encode())
    dst = LocalStore(tmp_path / "dst", create=True)
    assert publish_objects(src, dst, workers=2) == (3, sum(len(k) for k in keys))
    assert [o.key for o in dst.list_objects("")] == [o.key for o in src.list_objects("")]
    with pytest.raises(LakeError, match=r"already holds objects .*never overwrites"):
        publish_objects(src, dst)
    other = LocalStore(tmp_path / "other", create=True)
    other.put("gold/x", b"unrelated prefixes are not ours")
    assert publish_objects(src, other)[0] == 3


def test_an_object_appearing_mid_copy_is_not_overwritten(tmp_path, monkeypatch):
    src = LocalStore(tmp_path / "src", create=True)
    src.put("silver/t/a.parquet", b"ours")
    dst = LocalStore(tmp_path / "dst", create=True)
    real_put = dst.put

    def racing_put(key, data, *, if_absent=False):
        real_put(key, b"theirs")
        return real_put(key, data, if_absent=if_absent)

    monkeypatch.setattr(dst, "put", racing_put)
    with pytest.raises(LakeError, match="appeared while publishing"):
        publish_objects(src, dst, workers=1)
    assert dst.get("silver/t/a.parquet") == b"theirs"


def test_published_config_keeps_the_api_specs_and_sandbox_section(sandbox, tmp_path):
    dest = tmp_path / "sb"
    shutil.copytree(sandbox.dest, dest, ignore=shutil.ignore_patterns("lake", ".reconcile"))
    (dest / "lake").mkdir()
    target_cfg = tmp_path / "aws.yaml"
    target_cfg.write_text(
        yaml.safe_dump(
            {
                "profiles": {
                    "aws": {
                        "store": {"kind": "s3", "bucket": "hoops-edge", "endpoint_url": "http://127.0.0.1:1"},
                        "catalog": {"kind": "glue", "endpoint_url": "http://127.0.0.1:1"},
                        "state": {"kind": "dynamodb", "endpoint_url": "http://127.0.0.1:1"},
                        "api": {"base_url": "https://api.collegebasketballdata.com"},
                    }
                }
            }
        )
    )
    local_name = write_published_config(dest / "config.yaml", "aws", load_profile(target_cfg, "aws"))
    assert local_name == "local"
    text = (dest / "config.yaml").read_text()
    assert text.startswith("# A sandbox lake written by `reconcile sandbox init`")
    aws = load_profile(dest / "config.yaml")
    assert aws.name == "aws"
    assert aws.store.kind == "s3" and aws.store.endpoint_url == "http://127.0.0.1:1"
    assert aws.catalog.kind == "glue" and aws.state.kind == "dynamodb" and aws.engine.kind == "duckdb"
    assert aws.api.base_url == "http://127.0.0.1:8899"  # the simulator, never the real API
    assert aws.specs_dir == str((dest / "specs").resolve())
    local = load_profile(dest / "config.yaml", "local")
    assert local.store.path == str((dest / "lake").resolve())
    assert sandbox_settings(dest / "config.yaml")["api_port"] == 8899
    assert "&id" not in text, "no YAML anchors"


def test_a_local_sandbox_ignores_the_callers_profile_choice(tmp_path, monkeypatch):
    from reconciler.sandbox import init_sandbox

    monkeypatch.setenv("RECONCILE_PROFILE", "aws")
    init_sandbox(tmp_path / "sb", seasons=[2016], scale=0.005, specs_source=tmp_path / "none")
    assert (tmp_path / "sb" / ".reconcile" / "catalog.sqlite").is_file()


def test_publishing_refuses_a_catalog_that_holds_any_of_its_tables(sandbox, tmp_path):
    from reconciler.ports import CatalogTable
    from reconciler.sandbox.publish import publish_sandbox

    target = tmp_path / "target"
    profile = load_profile(_profile_file(tmp_path, target))
    catalog = LocalCatalog(catalog_path(profile))
    catalog.put_table(CatalogTable("cbbd_silver", "fct_plays", "silver/fct_plays/", (), (("season", "string"),)))
    catalog.close()
    with pytest.raises(LakeError) as info:
        publish_sandbox(sandbox.lake, profile)
    assert str(info.value) == (
        f"cbbd_silver.fct_plays already exists in the profile's catalog and is at {(target / 'lake').resolve()}/"
        "silver/fct_plays/; a sandbox only creates tables, never updates one: drop it, or publish into other "
        "databases (catalog.bronze_database, catalog.silver_database)"
    )
    assert not any((target / "lake").iterdir())  # refused before the first object


def _profile_file(tmp_path, target):
    (target / "lake").mkdir(parents=True)
    path = tmp_path / "target.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "default_profile": "t",
                "profiles": {
                    "t": {
                        "store": {"kind": "local", "path": str(target / "lake")},
                        "state": {"kind": "sqlite", "path": str(target / "state.sqlite")},
                    }
                },
            }
        )
    )
    return path
